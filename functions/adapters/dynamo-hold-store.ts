import { type DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LegalHold } from '../../domain/holds.js';
import { releasedHoldSubject } from '../../domain/holds.js';
import type { Change, HoldStore } from '../../domain/ports/index.js';
import { queryAll, type TransactItem } from './dynamo-helpers.js';

export type HoldChange = Extract<Change, { kind: 'hold.place' | 'hold.release' }>;
export const HOLD_CHANGE_KINDS: readonly HoldChange['kind'][] = ['hold.place', 'hold.release'];

/** LegalHolds table: a subject's holds under its id; GSI `byHoldId` to release one by id. */
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
    return item === undefined ? undefined : (item as LegalHold);
  }

  async forSubject(subjectId: string): Promise<LegalHold[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'subjectId = :subjectId',
      ExpressionAttributeValues: { ':subjectId': subjectId },
      ConsistentRead: true,
    });
    return items as unknown as LegalHold[];
  }

  /**
   * Every hold active at `now`. A scan: its cost grows with the holds table (released holds
   * included), which stays small next to the subjects; window runs read it once per run.
   */
  async active(now: string): Promise<LegalHold[]> {
    const holds: LegalHold[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression:
            'attribute_not_exists(releasedAt) AND (attribute_not_exists(#until) OR #until > :now)',
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: { ':now': now },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      holds.push(...((page.Items ?? []) as LegalHold[]));
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
            Item: { ...change.hold },
            ConditionExpression: 'attribute_not_exists(holdId)',
          },
        },
      ];
    }
    // A released hold blocks nothing and no longer needs whose hold it was: it moves from the
    // subject's partition to its pseudonym's, in one transaction, so the table forgets the id.
    const { identifiers: _identifiers, ...hold } = change.hold;
    const { releasedAt } = change;
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
          Item: { ...hold, subjectId: releasedHoldSubject(this.pseudonymKey, hold.subjectId), releasedAt },
          ConditionExpression: 'attribute_not_exists(holdId)',
        },
      },
    ];
  }
}
