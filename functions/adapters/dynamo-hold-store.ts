import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LegalHold } from '../../domain/holds.js';
import { releasedHoldSubject } from '../../domain/holds.js';
import type { Change, HoldStore } from '../../domain/ports/index.js';
import { queryAll, type TransactItem } from './dynamo-helpers.js';

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
 * (`listActiveHolds`). A subject id has no spaces, so no subject's partition is this one.
 */
const INDEXED_MARKER = { subjectId: '#index active-holds', holdId: '#indexed' } as const;

/**
 * The list of active holds in the table itself, read consistently (a GSI can lag the table, and a
 * hold acknowledged to its placer must stop every erasure that reads holds after it): one item per
 * hold not released, keyed `<activeUntil>#<holdId>` so a Query past `now` skips holds that ran out.
 * Written and deleted in the transactions that place and release the hold.
 */
const ACTIVE_LIST = '#active holds';
/** Written once every hold placed before the list existed is on it (`listActiveHolds`). */
const LISTED_MARKER = { subjectId: '#index active-holds', holdId: '#listed' } as const;
const listKey = (hold: Pick<LegalHold, 'holdId' | 'until'>) => ({
  subjectId: ACTIVE_LIST,
  holdId: `${hold.until ?? NO_END}#${hold.holdId}`,
});
/** Items of the table's own bookkeeping: partitions with a space, which no subject id has. */
const isBookkeeping = (item: Record<string, unknown>): boolean =>
  item.subjectId === ACTIVE_LIST || item.subjectId === INDEXED_MARKER.subjectId;

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
  /** Whether the list is known to hold every active hold (its marker was read once). */
  private listed = false;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    /** A released hold keeps the subject's pseudonym, not its id. */
    private readonly pseudonymKey: string,
    private readonly options: {
      /**
       * The sweep's coordinator lists holds placed before the list of active holds existed
       * (`listActiveHolds`), the first time it reads holds (an upgrade); the other functions read
       * the `activeHolds` index, or scan where they may, until then.
       */
      readonly indexOlderHolds?: boolean;
      /**
       * A function that may not scan the table (the worker, the sweep's shards): until the older
       * holds are listed, it reads the active holds from the index alone, where holds placed
       * before the index existed are missed until the sweep's coordinator lists them.
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
    const item = Items?.find((candidate) => !isBookkeeping(candidate));
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
   * Every hold active at `now`, read consistently: the list of active holds past `now` (released
   * holds left it when released, holds that ran out sort before `now`), so the cost grows with
   * active holds only. On a table from before the list (an upgrade), until a function that may
   * write the table has listed the older holds: the sparse `activeHolds` index, or a scan.
   */
  async active(now: string): Promise<LegalHold[]> {
    if (!(await this.isListed())) return this.activeFromIndex(now);
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      // Past `now`: a hold stops covering at its `until` (`isHoldActive`).
      KeyConditionExpression: 'subjectId = :list AND holdId > :bound',
      ExpressionAttributeValues: { ':list': ACTIVE_LIST, ':bound': `${now}#~` },
      ConsistentRead: true,
    });
    return items.map((item) => item.hold as LegalHold);
  }

  /**
   * Whether the list holds every hold not released: its marker was read (once per store), or this
   * store lists the older holds now (`indexOlderHolds`: the sweep's coordinator, once after an
   * upgrade, in a 15-minute invocation rather than an API call). Until then it is read again at
   * each call, so a store switches to the list as soon as the marker is written.
   */
  private async isListed(): Promise<boolean> {
    if (this.listed) return true;
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: LISTED_MARKER, ConsistentRead: true }),
    );
    if (Item === undefined && this.options.indexOlderHolds === true) await this.listActiveHolds();
    this.listed = Item !== undefined || this.options.indexOlderHolds === true;
    return this.listed;
  }

  /**
   * Holds not released whose `until` is at or before `now`: the list below `now`, each read again
   * from its subject's partition (the list keeps the hold as placed; a block since has counted on
   * the one there). On a table from before the list, only once the older holds are listed.
   */
  async ended(now: string): Promise<LegalHold[]> {
    // On a table from before the list, holds that ran out before it are found once they are listed.
    await this.isListed();
    const listed = await queryAll(this.documents, {
      TableName: this.tableName,
      // `<until>#<holdId>` up to `now` itself: a hold stops covering at its `until`.
      KeyConditionExpression: 'subjectId = :list AND holdId <= :bound',
      ExpressionAttributeValues: { ':list': ACTIVE_LIST, ':bound': `${now}#~` },
      ConsistentRead: true,
    });
    const ended: LegalHold[] = [];
    for (const { hold } of listed as { hold: LegalHold }[]) {
      const { Item } = await this.documents.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { subjectId: hold.subjectId, holdId: hold.holdId },
          ConsistentRead: true,
        }),
      );
      if (Item !== undefined && Item.releasedAt === undefined) ended.push(holdOf(Item));
    }
    return ended;
  }

  /**
   * `active` before the list is complete: the `activeHolds` index (which may lag the table), or,
   * on a table from before the index too, a scan (never miss a hold) where the function may scan.
   */
  private async activeFromIndex(now: string): Promise<LegalHold[]> {
    if (!this.indexed) {
      const { Item } = await this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: INDEXED_MARKER, ConsistentRead: true }),
      );
      if (Item === undefined && this.options.activeFromIndexOnly !== true) return this.activeByScan(now);
      this.indexed = Item !== undefined;
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
   * Puts every hold not released on the list of active holds (with the `activeHolds` index
   * attributes it may lack), then writes the list's marker. One scan, once per table (after an
   * upgrade); safe to run again or concurrently, and a hold released meanwhile is not listed (the
   * write is conditional on the hold, unreleased, in its subject's partition).
   */
  async listActiveHolds(): Promise<number> {
    let listed = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'attribute_not_exists(releasedAt)',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        if (isBookkeeping(item)) continue;
        const hold = holdOf(item);
        try {
          await this.documents.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: this.tableName,
                    Key: { subjectId: hold.subjectId, holdId: hold.holdId },
                    UpdateExpression: 'SET activeHold = :active, activeUntil = :until',
                    ConditionExpression: 'attribute_exists(holdId) AND attribute_not_exists(releasedAt)',
                    ExpressionAttributeValues: { ':active': ACTIVE_HOLD, ':until': hold.until ?? NO_END },
                  },
                },
                { Put: { TableName: this.tableName, Item: { ...listKey(hold), hold } } },
              ],
            }),
          );
          listed++;
        } catch (error) {
          // Released meanwhile (its condition failed): nothing to list. Anything else (a
          // conflicting write, throttling) fails the listing, which runs again whole next time:
          // a hold skipped here would be missing from the list for good.
          const released =
            error instanceof TransactionCanceledException &&
            error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed';
          if (!released) throw error;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...INDEXED_MARKER } }));
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { ...LISTED_MARKER } }));
    return listed;
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
            'attribute_not_exists(releasedAt) AND (attribute_not_exists(#until) OR #until > :now) AND subjectId <> :marker AND subjectId <> :list',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: {
            ':now': now,
            ':marker': INDEXED_MARKER.subjectId,
            ':list': ACTIVE_LIST,
          },
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
        {
          Put: {
            TableName: this.tableName,
            Item: { ...listKey(change.hold), hold: change.hold },
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
      // Off the list of active holds (unconditional: a hold placed before the list may not be on it).
      { Delete: { TableName: this.tableName, Key: listKey(hold) } },
    ];
  }
}
