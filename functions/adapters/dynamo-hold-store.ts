import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LegalHold } from '../../domain/holds.js';
import { releasedHoldSubject } from '../../domain/holds.js';
import type { Change, HoldStore } from '../../domain/ports/index.js';
import { isConditionFailure, queryAll, type TransactItem } from './dynamo-helpers.js';

export type HoldChange = Extract<Change, { kind: 'hold.place' | 'hold.release' | 'hold.confirm' }>;
export const HOLD_CHANGE_KINDS: readonly HoldChange['kind'][] = [
  'hold.place',
  'hold.release',
  'hold.confirm',
];

/** The one partition of the `activeHolds` index: holds are few and placed by people. */
const ACTIVE_HOLD = 'active';
/** `activeUntil` of a hold without an end: after every instant. */
const NO_END = '9999-12-31T23:59:59.999Z';

/**
 * Written once every hold placed before the `activeHolds` index existed carries its attributes
 * (`indexActiveHolds`). A subject id has no spaces, so no subject's partition is this one.
 */
const INDEXED_MARKER = { subjectId: '#index active-holds', holdId: '#indexed' } as const;

/** The hold as the domain knows it: without the index attributes. */
const holdOf = (item: Record<string, unknown>): LegalHold => {
  const { activeHold: _active, activeUntil: _until, ...hold } = item;
  return hold as unknown as LegalHold;
};

/**
 * LegalHolds table: a subject's holds under its id; GSI `byHoldId` to release one by id; sparse GSI
 * `activeHolds` of the holds not released.
 */
export class DynamoHoldStore implements HoldStore {
  /** The table's key, which identifies an item this store writes (see `assertOneOperationPerItem`). */
  readonly keyAttributes: readonly string[] = ['subjectId', 'holdId'];
  /** Whether the index is known to hold every active hold (the marker was read once). */
  private indexed = false;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    /** A released hold keeps the subject's pseudonym, not its id. */
    private readonly pseudonymKey: string,
    private readonly options: {
      /**
       * A function that may write the table indexes holds placed before the index existed, the
       * first time it reads the active holds (an upgrade); the others read by a scan until then.
       */
      readonly indexOlderHolds?: boolean;
      /**
       * A function that may not scan the table (the worker) reads the active holds from the index
       * alone: holds placed before the index existed are missed here until the API indexes them.
       */
      readonly activeFromIndexOnly?: boolean;
    } = {},
  ) {}

  async find(holdId: string): Promise<LegalHold | undefined> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byHoldId',
        KeyConditionExpression: 'holdId = :holdId',
        ExpressionAttributeValues: { ':holdId': holdId },
      }),
    );
    const item = Items?.[0];
    return item === undefined ? undefined : holdOf(item);
  }

  async forSubject(subjectId: string): Promise<LegalHold[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'subjectId = :subjectId',
      ExpressionAttributeValues: { ':subjectId': subjectId },
      ConsistentRead: true,
    });
    return items.map(holdOf);
  }

  /**
   * Every hold active at `now`: the sparse `activeHolds` index past `now` (released holds left it
   * when released, holds that ran out sort before `now`), so the cost grows with active holds only.
   */
  async active(now: string): Promise<LegalHold[]> {
    if (!this.indexed) {
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: INDEXED_MARKER, ConsistentRead: true }),
      );
      if (Item === undefined && this.options.activeFromIndexOnly !== true) {
        // A table from before the index: holds placed then are not in it. Never miss a hold.
        if (this.options.indexOlderHolds !== true) return this.activeByScan(now);
        await this.indexActiveHolds();
      }
      if (Item !== undefined || this.options.indexOlderHolds === true) this.indexed = true;
    }
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      IndexName: 'activeHolds',
      KeyConditionExpression: 'activeHold = :active AND activeUntil > :now',
      ExpressionAttributeValues: { ':active': ACTIVE_HOLD, ':now': now },
    });
    return items.map(holdOf).filter((hold) => hold.releasedAt === undefined);
  }

  /**
   * Puts every hold not released that lacks the index attributes into `activeHolds`, then writes
   * the marker. One scan, once per table (after an upgrade); safe to run again or concurrently.
   */
  async indexActiveHolds(): Promise<number> {
    let indexed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'attribute_not_exists(releasedAt) AND attribute_not_exists(activeHold)',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.subjectId === INDEXED_MARKER.subjectId) continue;
        try {
          await this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { subjectId: item.subjectId, holdId: item.holdId },
              UpdateExpression: 'SET activeHold = :active, activeUntil = :until',
              // A hold released meanwhile moved away: nothing to index.
              ConditionExpression: 'attribute_exists(holdId) AND attribute_not_exists(releasedAt)',
              ExpressionAttributeValues: { ':active': ACTIVE_HOLD, ':until': item.until ?? NO_END },
            }),
          );
          indexed++;
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...INDEXED_MARKER } }));
    return indexed;
  }

  /** What `active` read before the index: every item, filtered. */
  private async activeByScan(now: string): Promise<LegalHold[]> {
    const holds: LegalHold[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression:
            'attribute_not_exists(releasedAt) AND (attribute_not_exists(#until) OR #until > :now) AND subjectId <> :marker',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now, ':marker': INDEXED_MARKER.subjectId },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      holds.push(...(page.Items ?? []).map(holdOf));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return holds;
  }

  itemsFor(change: HoldChange): TransactItem[] {
    if (change.kind === 'hold.place') {
      return [
        {
          Put: {
            TableName: this.tableName,
            Item: { ...change.hold, activeHold: ACTIVE_HOLD, activeUntil: change.hold.until ?? NO_END },
            ConditionExpression: 'attribute_not_exists(holdId)',
          },
        },
      ];
    }
    if (change.kind === 'hold.confirm') {
      return [
        {
          Update: {
            TableName: this.tableName,
            Key: { subjectId: change.hold.subjectId, holdId: change.hold.holdId },
            UpdateExpression: 'ADD blockCount :one',
            ConditionExpression: 'attribute_exists(holdId) AND attribute_not_exists(releasedAt)',
            ExpressionAttributeValues: { ':one': 1 },
          },
        },
      ];
    }
    // A released hold blocks nothing and no longer needs whose hold it was: it moves from the
    // subject's partition to its pseudonym's, in one transaction, so the table forgets the id.
    const { identifiers: _identifiers, blockCount, ...hold } = change.hold;
    const { releasedAt } = change;
    return [
      {
        Delete: {
          TableName: this.tableName,
          Key: { subjectId: hold.subjectId, holdId: hold.holdId },
          // Unchanged since it was read: a block in between fails this, and the release reads again.
          ConditionExpression: `attribute_exists(holdId) AND attribute_not_exists(releasedAt) AND ${
            blockCount === undefined ? 'attribute_not_exists(blockCount)' : 'blockCount = :blockCount'
          }`,
          ...(blockCount === undefined ? {} : { ExpressionAttributeValues: { ':blockCount': blockCount } }),
        },
      },
      {
        Put: {
          TableName: this.tableName,
          // Without activeHold: the released copy is not in the index of active holds.
          Item: {
            ...holdOf({ ...hold }),
            subjectId: releasedHoldSubject(this.pseudonymKey, hold.subjectId),
            releasedAt,
          },
          ConditionExpression: 'attribute_not_exists(holdId)',
        },
      },
    ];
  }
}
