import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { Change, SuppressionStore } from '../../domain/ports/index.js';
import type { Suppression } from '../../domain/suppression.js';
import type { TransactItem } from './dynamo-helpers.js';

/** The changes this store writes; the unit of work hands it these. */
export type SuppressionChange = Extract<Change, { kind: 'suppression.add' | 'suppression.lift' }>;

export const SUPPRESSION_CHANGE_KINDS: readonly SuppressionChange['kind'][] = [
  'suppression.add',
  'suppression.lift',
];

/** BatchGetItem's limit; a lookup has at most 33 hashes (`MAX_IDENTIFIER_VALUES` + the subject id). */
const BATCH_GET_MAX = 100;
const UNPROCESSED_ROUNDS = 5;

/**
 * Suppressions table: one item per keyed hash (`hash`), with `expiresAt` in epoch seconds (the
 * table's TTL attribute) and the instants as text. Nothing in it is a value.
 */
export class DynamoSuppressionStore implements SuppressionStore {
  /** The table's key, which identifies an item this store writes (see `assertOneOperationPerItem`). */
  readonly keyAttributes: readonly string[] = ['hash'];
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async find(hashes: readonly string[]): Promise<Suppression[]> {
    const found: Suppression[] = [];
    const unique = [...new Set(hashes)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX) {
      let keys: Record<string, unknown>[] | undefined = unique
        .slice(start, start + BATCH_GET_MAX)
        .map((hash) => ({ hash }));
      for (let round = 0; keys !== undefined && keys.length > 0; round++) {
        if (round >= UNPROCESSED_ROUNDS) throw new Error('Suppression lookup left keys unprocessed');
        const answer: BatchGetCommandOutput = await this.documents.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of answer.Responses?.[this.tableName] ?? []) {
          found.push({
            hash: String(item.hash),
            listedAt: String(item.listedAt),
            expiresAt: String(item.expiresAtIso),
          });
        }
        keys = answer.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found;
  }

  /** Puts (a hash listed again gets the later expiry) and deletes; no conditions: both are idempotent. */
  itemsFor(change: SuppressionChange): TransactItem[] {
    if (change.kind === 'suppression.add') {
      return change.entries.map(
        (entry): TransactItem => ({
          Put: {
            TableName: this.tableName,
            Item: {
              hash: entry.hash,
              listedAt: entry.listedAt,
              expiresAtIso: entry.expiresAt,
              expiresAt: Math.floor(Date.parse(entry.expiresAt) / 1000),
            },
          },
        }),
      );
    }
    return change.hashes.map(
      (hash): TransactItem => ({ Delete: { TableName: this.tableName, Key: { hash } } }),
    );
  }
}
