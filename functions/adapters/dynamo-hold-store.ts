import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LegalHold } from '../../domain/holds.js';
import { releasedHoldSubject } from '../../domain/holds.js';
import type { Change, HoldStore } from '../../domain/ports/index.js';
import { queryAll, type TransactItem } from './dynamo-helpers.js';

export type HoldChange = Extract<Change, { kind: 'hold.place' | 'hold.release' }>;
export const HOLD_CHANGE_KINDS: readonly HoldChange['kind'][] = ['hold.place', 'hold.release'];

/** The one partition of the `activeHolds` index: holds are few and placed by people. */
const ACTIVE_HOLD = 'active';
/** `activeUntil` of a hold without an end: after every instant. */
const NO_END = '9999-12-31T23:59:59.999Z';

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
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** A released hold keeps the subject's pseudonym, not its id. */
    private readonly pseudonymKey: string,
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
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      IndexName: 'activeHolds',
      KeyConditionExpression: 'activeHold = :active AND activeUntil > :now',
      ExpressionAttributeValues: { ':active': ACTIVE_HOLD, ':now': now },
    });
    return items.map(holdOf).filter((hold) => hold.releasedAt === undefined);
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
    // A released hold blocks nothing and no longer needs whose hold it was: it moves from the
    // subject's partition to its pseudonym's, in one transaction, so the table forgets the id.
    const { hold, releasedAt } = change;
    return [
      {
        Delete: {
          TableName: this.tableName,
          Key: { subjectId: hold.subjectId, holdId: hold.holdId },
          ConditionExpression: 'attribute_exists(holdId) AND attribute_not_exists(releasedAt)',
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
