import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LegalHold } from '../../domain/holds.js';
import type { Change, HoldStore } from '../../domain/ports/index.js';
import { queryAll, type TransactItem } from './dynamo-helpers.js';

export type HoldChange = Extract<Change, { kind: 'hold.place' | 'hold.release' }>;
export const HOLD_CHANGE_KINDS: readonly HoldChange['kind'][] = ['hold.place', 'hold.release'];

/** LegalHolds table: a subject's holds under its id; GSI `byHoldId` to release one by id. */
export class DynamoHoldStore implements HoldStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
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
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: { subjectId: change.hold.subjectId, holdId: change.hold.holdId },
          UpdateExpression: 'SET releasedAt = :releasedAt',
          ConditionExpression: 'attribute_exists(holdId) AND attribute_not_exists(releasedAt)',
          ExpressionAttributeValues: { ':releasedAt': change.releasedAt },
        },
      },
    ];
  }
}
