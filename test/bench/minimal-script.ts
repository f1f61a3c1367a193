/**
 * The yardstick of the end-to-end benchmark: a minimal hand-written script that erases one
 * subject's data from the demo stores with the same batched deletes the connectors use
 * (ListObjectsV2 + DeleteObjects of up to 1,000 keys; Query + BatchWriteItem of 25), no state, no
 * audit, no verification. The four stores are erased at once, as the orchestrator's tasks run.
 */
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LocalClients } from '../../local/aws-clients.js';
import type { DemoStores } from '../../local/demo.js';
import { forEachConcurrently, range } from './stats.js';

const BATCH_WRITE = 25;

type WriteRequests = NonNullable<BatchWriteCommandInput['RequestItems']>[string];

/** BatchWriteItem until DynamoDB has processed every request. */
const batchWrite = async (documents: DynamoDBDocumentClient, table: string, requests: WriteRequests) => {
  let pending = requests;
  while (pending.length > 0) {
    const result = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = result.UnprocessedItems?.[table] ?? [];
  }
};

const erasePrefix = async (s3: S3Client, bucket: string, prefix: string): Promise<number> => {
  let deleted = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const objects = (page.Contents ?? []).flatMap((object) =>
      object.Key === undefined ? [] : [{ Key: object.Key }],
    );
    if (objects.length > 0) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
      deleted += objects.length;
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return deleted;
};

const eraseItems = async (
  documents: DynamoDBDocumentClient,
  table: string,
  subjectId: string,
): Promise<number> => {
  let deleted = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'subjectId = :subject',
        ExpressionAttributeValues: { ':subject': subjectId },
        ProjectionExpression: 'subjectId, alarmId',
        ExclusiveStartKey: startKey,
      }),
    );
    const keys = (page.Items ?? []).map((item) => ({ DeleteRequest: { Key: item } }));
    const batches = range(Math.ceil(keys.length / BATCH_WRITE)).map((index) =>
      keys.slice(index * BATCH_WRITE, (index + 1) * BATCH_WRITE),
    );
    await Promise.all(batches.map((batch) => batchWrite(documents, table, batch)));
    deleted += keys.length;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return deleted;
};

/** Erases the subject's objects, alarm events and customer record; returns how many went. */
export const minimalErase = async (
  clients: LocalClients,
  stores: DemoStores,
  subjectId: string,
): Promise<number> => {
  const counts = await Promise.all([
    erasePrefix(clients.s3, stores.cloudVideoBucket, `video/${subjectId}/`),
    erasePrefix(clients.s3, stores.userFilesBucket, `files/${subjectId}/`),
    eraseItems(clients.documents, stores.alarmEventsTable, subjectId),
    clients.documents
      .send(new DeleteCommand({ TableName: stores.customersTable, Key: { subjectId } }))
      .then(() => 1),
  ]);
  return counts.reduce((sum, count) => sum + count, 0);
};

/** Puts `objects` videos, `items` alarm events and one customer record of the subject in the demo stores. */
export const seedLargeSubject = async (
  clients: LocalClients,
  stores: DemoStores,
  subjectId: string,
  sizes: { readonly objects: number; readonly items: number },
): Promise<void> => {
  await clients.documents.send(
    new PutCommand({
      TableName: stores.customersTable,
      Item: { subjectId, name: 'Bench Customer', email: 'bench@example.test', plan: 'cloud-30d' },
    }),
  );
  const createdAt = new Date().toISOString();
  const batches = range(Math.ceil(sizes.items / BATCH_WRITE));
  await forEachConcurrently(batches, 8, async (batch) => {
    const requests = range(Math.min(BATCH_WRITE, sizes.items - batch * BATCH_WRITE)).map((offset) => ({
      PutRequest: {
        Item: {
          subjectId,
          alarmId: `alarm-${String(batch * BATCH_WRITE + offset).padStart(6, '0')}`,
          createdAt,
          ipAddress: '192.0.2.1',
        },
      },
    }));
    await batchWrite(clients.documents, stores.alarmEventsTable, requests);
  });
  await forEachConcurrently(range(sizes.objects), 32, async (index) => {
    await clients.s3.send(
      new PutObjectCommand({
        Bucket: stores.cloudVideoBucket,
        Key: `video/${subjectId}/clip-${String(index).padStart(6, '0')}.mp4`,
        Body: 'v',
      }),
    );
  });
};
