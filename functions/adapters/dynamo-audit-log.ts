import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { assertNoSubjectData, chainEntry, pseudonymise, SYSTEM_CHAIN_ID } from '../../domain/audit/index.js';
import type { AnchoredHead } from '../../domain/audit/merkle.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import type {
  AuditLog,
  AuditPage,
  AuditPageQuery,
  AuditPosition,
  AuditQuery,
  AuditRecord,
  ChainHead,
} from '../../domain/ports/index.js';
import { isConditionFailure, queryAll, type TransactItem } from './dynamo-helpers.js';

const HEAD_SEQ = 0;
/** DynamoDB queries one search page may make: a sparse filter or many empty days end a page early. */
const MAX_QUERIES_PER_PAGE = 25;

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');

/**
 * Partitions of the sparse `byUnanchored` index: a moved head carries `unanchored = <shard>`, so
 * busy chains spread over several index partitions instead of one hot key.
 */
export const UNANCHORED_SHARDS = 8;
/** Mark updates (clears of anchored marks, marks of older heads) in flight at once. */
const MARK_CONCURRENCY = 16;

/**
 * Says whether every head written before the `byUnanchored` index carries its mark
 * (`markOlderHeads`): `progress` while the scan runs, `done` once it went through the table. Chain
 * ids are pseudonyms (hex), `system`, `window:<target>` or `key#<hash>`: none starts with `#`.
 */
const MARKED_MARKER = { chainId: '#index unanchored-heads', seq: HEAD_SEQ } as const;
/** Scan pages (up to 1 MB each) one run of `markOlderHeads` reads before anchoring goes on. */
const MARK_PAGES_PER_RUN = 50;

export interface AuditLogOptions {
  /**
   * The function that anchors on a schedule (the sweep) marks the heads written before the
   * `byUnanchored` index, a bounded part at each read of the unanchored heads until it went through
   * the table once (an upgrade). Needs dynamodb:Scan on the table. @default false
   */
  readonly markOlderHeads?: boolean;
  /** Scan pages one run reads. @default 50 */
  readonly markPagesPerRun?: number;
  /** Items one Scan page reads (tests make pages small). @default DynamoDB's 1 MB page */
  readonly markPageItems?: number;
}

/** What one run of `markOlderHeads` did. */
export interface OlderHeadsRun {
  /** Heads without a mark that this run marked. */
  readonly marked: number;
  /** Scan pages read. */
  readonly pages: number;
  /** The scan went through the whole table: the marker says so and no run scans again. */
  readonly done: boolean;
}

/** `00`…`07`: the shard of a chain's mark, stable for the chain. */
export const unanchoredShard = (chainId: string): string =>
  String(Number.parseInt(sha256(chainId).slice(0, 8), 16) % UNANCHORED_SHARDS).padStart(2, '0');

type HeadRead = { readonly read: ChainHead | undefined } | { readonly failed: true };

/** Transaction items that append audit records, and which item claims which record's key. */
export interface AuditAppendPlan {
  readonly items: TransactItem[];
  /** The chains the items append to. */
  readonly chains: readonly string[];
  /** Whether a head read ahead (`prefetchHeads`) was used, rather than one read by this plan. */
  readonly readAhead: boolean;
  /** Item index (within `items`) → index of the record whose idempotency marker it puts. */
  readonly markers: ReadonlyMap<number, number>;
}

/**
 * Append-only audit trail: one hash chain per subject pseudonym. Appends are planned here and
 * written by the unit of work in the transaction of the state change they prove: each entry is put
 * (never overwriting), the chain head moves from the sequence number read, and a marker claims
 * the event's idempotency key, so retries never double-audit and two writers racing on one chain
 * cannot fork it: the loser re-reads the head and tries again.
 */
/**
 * The indexes sort by `at` alone: entries written in the same millisecond (a request's `received`
 * and `dispatched`) come back in any order. Within a page they are put in (at, chain, seq) order;
 * the page holds the same entries, so the cursor (the index position) is unchanged.
 */
const inTimeOrder = (entries: AuditEntry[]): AuditEntry[] =>
  entries.sort((a, b) => a.at.localeCompare(b.at) || a.chainId.localeCompare(b.chainId) || a.seq - b.seq);

/** How long a head read ahead of its commit may serve it; an older one is read again. */
export const PREFETCHED_HEAD_TTL_MS = 1000;

export class DynamoAuditLog implements AuditLog {
  /** Whether every older head is known to be marked (the marker said `done` once). */
  private olderHeadsMarked = false;
  /** Heads read ahead of a commit (`prefetchHeads`), each for the next plan on its chain. */
  private readonly prefetched = new Map<string, { readonly at: number; readonly head: Promise<HeadRead> }>();

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly pseudonymKey: string,
    private readonly options: AuditLogOptions = {},
  ) {}

  chainIdFor(subjectId: string | undefined): string {
    return subjectId === undefined ? SYSTEM_CHAIN_ID : pseudonymise(this.pseudonymKey, subjectId);
  }

  /** The chain a record is appended to. */
  chainOf(record: AuditRecord): string {
    // A named chain (`window:<target>`) is no subject's: its ids cannot be pseudonyms (hex).
    return record.subjectId === undefined && record.chain !== undefined
      ? record.chain
      : this.chainIdFor(record.subjectId);
  }

  /** Reads each chain's head and chains the records onto it, in order. */
  async planAppend(records: readonly AuditRecord[]): Promise<AuditAppendPlan> {
    const byChain = new Map<string, { subjectId: string | undefined; indexes: number[] }>();
    records.forEach((record, index) => {
      if (record.subjectId !== undefined) assertNoSubjectData(record.event, record.subjectId);
      const chainId = this.chainOf(record);
      const chain = byChain.get(chainId) ?? { subjectId: record.subjectId, indexes: [] };
      // The same event twice in one commit is appended once.
      const key = record.event.idempotencyKey;
      if (!chain.indexes.some((other) => records[other]?.event.idempotencyKey === key))
        chain.indexes.push(index);
      byChain.set(chainId, chain);
    });
    const items: TransactItem[] = [];
    const markers = new Map<number, number>();
    let readAhead = false;
    for (const [chainId, chain] of byChain) {
      const { read, ahead } = await this.headForPlan(chainId);
      readAhead ||= ahead;
      let head = read;
      for (const index of chain.indexes) {
        const event = (records[index] as AuditRecord).event;
        const entry = chainEntry(head, event, chainId, chain.subjectId === undefined ? undefined : chainId);
        items.push({
          Put: {
            TableName: this.tableName,
            Item: { ...entry, day: entry.at.slice(0, 10) },
            ConditionExpression: 'attribute_not_exists(chainId)',
          },
        });
        markers.set(items.length, index);
        items.push({
          Put: {
            TableName: this.tableName,
            Item: {
              chainId: `key#${sha256(`${chainId}#${event.idempotencyKey}`)}`,
              seq: HEAD_SEQ,
              entryChainId: chainId,
              entrySeq: entry.seq,
            },
            ConditionExpression: 'attribute_not_exists(chainId)',
          },
        });
        head = { seq: entry.seq, hash: entry.hash };
      }
      if (head === undefined) continue;
      items.push({
        Put: {
          TableName: this.tableName,
          // The mark puts the head in the sparse byUnanchored index until an anchor holds it.
          Item: {
            chainId,
            seq: HEAD_SEQ,
            headSeq: head.seq,
            headHash: head.hash,
            unanchored: unanchoredShard(chainId),
          },
          ConditionExpression:
            read === undefined ? 'attribute_not_exists(chainId)' : 'headSeq = :expectedSeq',
          ...(read === undefined ? {} : { ExpressionAttributeValues: { ':expectedSeq': read.seq } }),
        },
      });
    }
    return { items, markers, chains: [...byChain.keys()], readAhead };
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

  async page(query: AuditPageQuery): Promise<AuditPage> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const filters: string[] = [];
    const filter = (attribute: string, value: string | undefined) => {
      if (value === undefined) return;
      names[`#f_${attribute}`] = attribute;
      values[`:f_${attribute}`] = value;
      filters.push(`#f_${attribute} = :f_${attribute}`);
    };
    filter('dataClass', query.dataClass);
    filter('ruleRef', query.ruleRef);
    filter('type', query.type);
    const window = () => {
      names['#at'] = 'at';
      values[':from'] = query.from ?? '0';
      values[':to'] = query.to ?? '\uffff';
      return '#at BETWEEN :from AND :to';
    };
    // One partition of one index per scope; filters narrow it, so no search is a table scan.
    let scope: { readonly IndexName?: string; readonly KeyConditionExpression: string };
    if (query.requestId !== undefined) {
      if (query.subjectId !== undefined) filter('chainId', this.chainIdFor(query.subjectId));
      values[':scope'] = query.requestId;
      scope = { IndexName: 'byRequest', KeyConditionExpression: `requestId = :scope AND ${window()}` };
    } else if (query.subjectId !== undefined) {
      if (query.from !== undefined || query.to !== undefined) filters.push(window());
      values[':scope'] = this.chainIdFor(query.subjectId);
      values[':head'] = HEAD_SEQ;
      scope = { KeyConditionExpression: 'chainId = :scope AND seq > :head' };
    } else {
      if (query.from === undefined || query.to === undefined) {
        throw new RangeError('An audit search needs subjectId, requestId, or both from and to');
      }
      names['#day'] = 'day';
      scope = { IndexName: 'byDay', KeyConditionExpression: `#day = :day AND ${window()}` };
    }
    const days = query.requestId === undefined && query.subjectId === undefined;
    const dayList: (string | undefined)[] = days
      ? daysBetween(query.from as string, query.to as string)
      : [undefined];
    // A chain is read in seq order; the indexes' pages are put in time order.
    const ordered = (found: AuditEntry[]) => (scope.IndexName === undefined ? found : inTimeOrder(found));
    let dayIndex = Math.max(0, query.after?.day === undefined ? 0 : dayList.indexOf(query.after.day));
    let startKey: Record<string, unknown> | undefined = query.after?.key;
    const entries: AuditEntry[] = [];
    for (let queries = 0; queries < MAX_QUERIES_PER_PAGE && entries.length < query.limit; queries++) {
      const day = dayList[dayIndex];
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          ...scope,
          ...(filters.length === 0 ? {} : { FilterExpression: filters.join(' AND ') }),
          ...(Object.keys(names).length === 0 ? {} : { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: day === undefined ? values : { ...values, ':day': day },
          // Limit counts items read before the filter: never more than the page still needs.
          Limit: query.limit - entries.length,
          ExclusiveStartKey: startKey,
        }),
      );
      entries.push(...(page.Items ?? []).map(toEntry));
      startKey = page.LastEvaluatedKey;
      if (startKey === undefined) {
        dayIndex += 1;
        if (dayIndex >= dayList.length) return { entries: ordered(entries) };
      }
    }
    const next: AuditPosition = {
      ...(days ? { day: dayList[dayIndex] as string } : {}),
      ...(startKey === undefined ? {} : { key: startKey as Record<string, string | number> }),
    };
    return { entries: ordered(entries), next };
  }

  readChain(subjectId: string | undefined) {
    return this.readChainById(this.chainIdFor(subjectId));
  }

  async readChainById(chainId: string) {
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

  /**
   * The heads that carry the unanchored mark: one query per shard of the sparse byUnanchored
   * index, so the items read are the chains that moved since they were last anchored. The index is
   * eventually consistent: a head it does not show yet goes into the next anchor, and one it still
   * shows after its mark was cleared is one the latest anchor already holds (anchoring drops it).
   */
  async unanchoredHeads(): Promise<AnchoredHead[]> {
    // The heads marked so far are anchored now: anchoring never waits for the end of the scan.
    if (this.options.markOlderHeads === true && !this.olderHeadsMarked) await this.markOlderHeads();
    const shards = Array.from({ length: UNANCHORED_SHARDS }, (_, shard) => String(shard).padStart(2, '0'));
    const pages = await Promise.all(
      shards.map((shard) =>
        queryAll(this.documents, {
          TableName: this.tableName,
          IndexName: 'byUnanchored',
          KeyConditionExpression: 'unanchored = :shard',
          ExpressionAttributeValues: { ':shard': shard },
          ProjectionExpression: 'chainId, headSeq, headHash',
        }),
      ),
    );
    return pages.flat().map((item) => ({
      chainId: String(item.chainId),
      seq: Number(item.headSeq),
      hash: String(item.headHash),
    }));
  }

  /**
   * Marks heads written before the `byUnanchored` index existed, which an upgrade leaves without
   * `unanchored`: otherwise a chain that never moves again is never anchored (or only as the last
   * anchor before the upgrade holds it). One bounded run: at most `markPagesPerRun` Scan pages from
   * the progress the marker keeps, then the progress (or `done`) is written, so a large table is
   * gone through over several sweeps. Safe to run again or concurrently: each mark is conditional
   * and the progress only moves on from the one this run read.
   *
   * A head that the latest anchor already holds as it is gets marked too: harmless, anchoring drops
   * it (`changedHeads`) and clears its mark (`markAnchored`).
   */
  async markOlderHeads(): Promise<OlderHeadsRun> {
    const { Item: marker } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: MARKED_MARKER, ConsistentRead: true }),
    );
    if (marker?.done !== undefined) {
      this.olderHeadsMarked = true;
      return { marked: 0, pages: 0, done: true };
    }
    const progress = typeof marker?.progress === 'string' ? marker.progress : undefined;
    let startKey = progress === undefined ? undefined : (JSON.parse(progress) as Record<string, unknown>);
    let marked = 0;
    let pages = 0;
    const pagesPerRun = this.options.markPagesPerRun ?? MARK_PAGES_PER_RUN;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          // seq 0 holds heads, idempotency markers (`key#…`) and the marker; heads alone have
          // headSeq. A head an append moved since carries its mark already.
          FilterExpression: 'seq = :head AND attribute_exists(headSeq) AND attribute_not_exists(unanchored)',
          ExpressionAttributeValues: { ':head': HEAD_SEQ },
          ProjectionExpression: 'chainId, headSeq',
          // Eventually consistent (half the reads): a head written since the upgrade has its mark.
          ExclusiveStartKey: startKey,
          ...(this.options.markPageItems === undefined ? {} : { Limit: this.options.markPageItems }),
        }),
      );
      pages++;
      marked += await this.markHeads(page.Items ?? []);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined && pages < pagesPerRun);
    const done = startKey === undefined;
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: MARKED_MARKER,
          UpdateExpression: done ? 'SET done = :true REMOVE progress' : 'SET progress = :next',
          // Another run that went further, or through the table, wins: progress never goes back.
          ConditionExpression:
            progress === undefined
              ? 'attribute_not_exists(done) AND attribute_not_exists(progress)'
              : 'attribute_not_exists(done) AND progress = :read',
          ExpressionAttributeValues: {
            ...(done ? { ':true': true } : { ':next': JSON.stringify(startKey) }),
            ...(progress === undefined ? {} : { ':read': progress }),
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    if (done) this.olderHeadsMarked = true;
    return { marked, pages, done };
  }

  /** Sets each head's mark while it still has none at the seq the scan read. */
  private async markHeads(items: readonly Record<string, unknown>[]): Promise<number> {
    const queue = [...items];
    let marked = 0;
    const mark = async (): Promise<void> => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
        const chainId = String(item.chainId);
        await this.documents
          .send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { chainId, seq: HEAD_SEQ },
              UpdateExpression: 'SET unanchored = :shard',
              // A head moved meanwhile carries the mark of its append (and may be anchored since).
              ConditionExpression: 'headSeq = :seq AND attribute_not_exists(unanchored)',
              ExpressionAttributeValues: { ':shard': unanchoredShard(chainId), ':seq': item.headSeq },
            }),
          )
          .then(
            () => {
              marked++;
            },
            (error: unknown) => {
              if (!isConditionFailure(error)) throw error;
            },
          );
      }
    };
    await Promise.all(Array.from({ length: Math.min(MARK_CONCURRENCY, queue.length) }, mark));
    return marked;
  }

  /** Removes each head's mark while its seq is still the one anchored; a moved head keeps it. */
  async markAnchored(heads: readonly AnchoredHead[]): Promise<void> {
    const queue = [...heads];
    const clear = async (): Promise<void> => {
      for (let head = queue.shift(); head !== undefined; head = queue.shift()) {
        await this.documents
          .send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { chainId: head.chainId, seq: HEAD_SEQ },
              UpdateExpression: 'REMOVE unanchored',
              ConditionExpression: 'headSeq = :seq',
              ExpressionAttributeValues: { ':seq': head.seq },
            }),
          )
          .catch((error: unknown) => {
            if (!isConditionFailure(error)) throw error;
          });
      }
    };
    await Promise.all(Array.from({ length: Math.min(MARK_CONCURRENCY, queue.length) }, clear));
  }

  private withinWindow(entries: AuditEntry[], query: AuditQuery): AuditEntry[] {
    return entries.filter(
      (entry) =>
        (query.from === undefined || entry.at >= query.from) &&
        (query.to === undefined || entry.at <= query.to),
    );
  }

  /**
   * Starts reading the heads of these subjects' chains for the next plan on each, so the read runs
   * beside the caller's own instead of after them. A head read ahead may be stale by the time it
   * is used; the head's condition then cancels the transaction and the retry reads afresh.
   */
  prefetchHeads(subjectIds: readonly (string | undefined)[], now = Date.now()): void {
    for (const [chainId, ahead] of this.prefetched) {
      if (now - ahead.at > PREFETCHED_HEAD_TTL_MS) this.prefetched.delete(chainId);
    }
    for (const subjectId of subjectIds) {
      const chainId = this.chainIdFor(subjectId);
      if (this.prefetched.has(chainId)) continue;
      const head = this.readHead(chainId).then(
        (read): HeadRead => ({ read }),
        // A failed read ahead is no answer: the plan reads again and meets the error itself.
        (): HeadRead => ({ failed: true }),
      );
      this.prefetched.set(chainId, { at: now, head });
    }
  }

  /** Drops heads read ahead on chains a commit just wrote (or tried to): they are older now. */
  forgetPrefetchedHeads(chainIds: Iterable<string>): void {
    for (const chainId of chainIds) this.prefetched.delete(chainId);
  }

  /** The head read ahead for this chain if there is a recent one (used once), else a fresh read. */
  private async headForPlan(chainId: string): Promise<{ read: ChainHead | undefined; ahead: boolean }> {
    const ahead = this.prefetched.get(chainId);
    if (ahead !== undefined) {
      this.prefetched.delete(chainId);
      if (Date.now() - ahead.at <= PREFETCHED_HEAD_TTL_MS) {
        const result = await ahead.head;
        if (!('failed' in result)) return { read: result.read, ahead: true };
      }
    }
    return { read: await this.readHead(chainId), ahead: false };
  }

  private async readHead(chainId: string): Promise<ChainHead | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { chainId, seq: HEAD_SEQ }, ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    return { seq: Number(Item.headSeq), hash: String(Item.headHash) };
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
