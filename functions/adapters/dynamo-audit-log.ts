import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type QueryCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { assertNoSubjectData, chainEntry, pseudonymise } from '../../domain/audit/index.js';
import type { AuditEntry, AuditEvent, AuditLog } from '../../domain/audit/types.js';
import { queryAll } from './dynamo-helpers.js';

export const SYSTEM_CHAIN = 'system';
const HEAD_SEQ = 0;
const MAX_APPEND_ATTEMPTS = 8;

interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export interface AuditQuery {
  readonly subjectId?: string;
  readonly requestId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}

export interface AuditReader {
  query(query: AuditQuery): Promise<AuditEntry[]>;
  /** Every entry of one chain in order, and the head the table says it has. */
  readChain(
    subjectId: string | undefined,
  ): Promise<{ entries: AuditEntry[]; head?: ChainHead; chainId: string }>;
  chainIdFor(subjectId: string | undefined): string;
}

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Append-only audit trail: one hash chain per subject pseudonym. Each append is a transaction
 * that puts the entry (never overwriting), moves the chain head from the sequence number it read,
 * and claims the event's idempotency key, so retries never double-audit and two writers racing on
 * one chain cannot fork it: the loser re-reads the head and tries again.
 */
export class DynamoAuditLog implements AuditLog, AuditReader {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly pseudonymKey: string,
  ) {}

  chainIdFor(subjectId: string | undefined): string {
    return subjectId === undefined ? SYSTEM_CHAIN : pseudonymise(this.pseudonymKey, subjectId);
  }

  async append(event: AuditEvent, subjectId?: string): Promise<AuditEntry> {
    if (subjectId !== undefined) assertNoSubjectData(event, subjectId);
    const chainId = this.chainIdFor(subjectId);
    const markerKey = `key#${sha256(`${chainId}#${event.idempotencyKey}`)}`;
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const existing = await this.appendedUnder(markerKey);
      if (existing) return existing;
      const head = await this.readHead(chainId);
      const entry = chainEntry(head, event, chainId, subjectId === undefined ? undefined : chainId);
      try {
        await this.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...entry, day: entry.at.slice(0, 10) },
                  ConditionExpression: 'attribute_not_exists(chainId)',
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { chainId, seq: HEAD_SEQ, headSeq: entry.seq, headHash: entry.hash },
                  ConditionExpression:
                    head === undefined ? 'attribute_not_exists(chainId)' : 'headSeq = :expectedSeq',
                  ...(head === undefined ? {} : { ExpressionAttributeValues: { ':expectedSeq': head.seq } }),
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: { chainId: markerKey, seq: HEAD_SEQ, entryChainId: chainId, entrySeq: entry.seq },
                  ConditionExpression: 'attribute_not_exists(chainId)',
                },
              },
            ],
          }),
        );
        return entry;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        // Another writer moved the head or appended the same event first: re-read and retry.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
      }
    }
    throw new Error(`Audit chain append did not settle after ${MAX_APPEND_ATTEMPTS} attempts`);
  }

  async query(query: AuditQuery): Promise<AuditEntry[]> {
    const limit = query.limit ?? 1000;
    if (query.requestId !== undefined) {
      const entries = await this.queryAll({
        TableName: this.tableName,
        IndexName: 'byRequest',
        KeyConditionExpression: 'requestId = :requestId',
        ExpressionAttributeValues: { ':requestId': query.requestId },
      });
      return this.withinWindow(entries, query).slice(0, limit);
    }
    if (query.subjectId !== undefined) {
      const { entries } = await this.readChain(query.subjectId);
      return this.withinWindow(entries, query).slice(0, limit);
    }
    if (query.from === undefined || query.to === undefined) {
      throw new RangeError('An audit query needs subjectId, requestId, or both from and to');
    }
    const entries: AuditEntry[] = [];
    for (const day of daysBetween(query.from, query.to)) {
      entries.push(
        ...(await this.queryAll({
          TableName: this.tableName,
          IndexName: 'byDay',
          KeyConditionExpression: '#day = :day AND #at BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#day': 'day', '#at': 'at' },
          ExpressionAttributeValues: { ':day': day, ':from': query.from, ':to': query.to },
        })),
      );
      if (entries.length >= limit) break;
    }
    return entries.slice(0, limit);
  }

  async readChain(subjectId: string | undefined) {
    const chainId = this.chainIdFor(subjectId);
    const [entries, head] = await Promise.all([
      this.queryAll({
        TableName: this.tableName,
        KeyConditionExpression: 'chainId = :chainId AND seq > :head',
        ExpressionAttributeValues: { ':chainId': chainId, ':head': HEAD_SEQ },
        ConsistentRead: true,
      }),
      this.readHead(chainId),
    ]);
    return { entries, chainId, ...(head === undefined ? {} : { head }) };
  }

  private withinWindow(entries: AuditEntry[], query: AuditQuery): AuditEntry[] {
    return entries.filter(
      (entry) =>
        (query.from === undefined || entry.at >= query.from) &&
        (query.to === undefined || entry.at <= query.to),
    );
  }

  private async readHead(chainId: string): Promise<ChainHead | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { chainId, seq: HEAD_SEQ }, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    return { seq: Number(Item.headSeq), hash: String(Item.headHash) };
  }

  private async appendedUnder(markerKey: string): Promise<AuditEntry | undefined> {
    const { Item: marker } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { chainId: markerKey, seq: HEAD_SEQ },
        ConsistentRead: true,
      }),
    );
    if (marker === undefined) return undefined;
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { chainId: marker.entryChainId, seq: marker.entrySeq },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : toEntry(Item);
  }

  private async queryAll(input: QueryCommandInput): Promise<AuditEntry[]> {
    return (await queryAll(this.documents, input)).map(toEntry);
  }
}

/** Strips the storage-only attribute so the entry hashes exactly as it was chained. */
const toEntry = (item: Record<string, unknown>): AuditEntry => {
  const { day: _day, ...entry } = item;
  return entry as unknown as AuditEntry;
};

const daysBetween = (from: string, to: string): string[] => {
  const days: string[] = [];
  const cursor = new Date(`${from.slice(0, 10)}T00:00:00.000Z`);
  const last = to.slice(0, 10);
  while (cursor.toISOString().slice(0, 10) <= last && days.length < 366) {
    days.push(cursor.toISOString().slice(0, 10));
    cursor.setUTCDate(cursor.getUTCDate() + 1);
  }
  return days;
};
