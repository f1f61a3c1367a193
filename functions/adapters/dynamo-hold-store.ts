import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LegalHold } from '../../domain/holds.js';
import { isConditionFailure, queryAll } from './dynamo-helpers.js';

export class DynamoHoldStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async place(hold: LegalHold): Promise<void> {
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...hold },
        ConditionExpression: 'attribute_not_exists(holdId)',
      }),
    );
  }

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

  /** Returns false when the hold was already released (releasing is idempotent). */
  async release(hold: LegalHold, releasedAt: string): Promise<boolean> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { subjectId: hold.subjectId, holdId: hold.holdId },
          UpdateExpression: 'SET releasedAt = :releasedAt',
          ConditionExpression: 'attribute_exists(holdId) AND attribute_not_exists(releasedAt)',
          ExpressionAttributeValues: { ':releasedAt': releasedAt },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
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
}
