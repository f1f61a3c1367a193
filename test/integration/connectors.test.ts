/**
 * The connectors against the real emulators (fauxqs for S3, DynamoDB Local), through the
 * registry the worker uses. Every assertion about what is gone or kept reads the data again with
 * a client of its own, never from the connector's answer.
 *
 * fauxqs has no versioning: here the s3-prefix connector takes its unversioned path (it detects
 * that ListObjectVersions is not really implemented; see functions/connectors/s3-prefix.ts).
 * Versions and delete markers are covered in test/functions/connectors/s3-prefix.test.ts.
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbItemsTarget, S3PrefixTarget } from '../../domain/connectors/types.js';
import { ANONYMISED_MARKER, RESTRICTED_ATTRIBUTE } from '../../functions/connectors/dynamodb-items.js';
import { type ConnectorRegistry, createConnectorRegistry } from '../../functions/connectors/registry.js';
import { destroyLocalClients, type LocalClients } from '../../local/aws-clients.js';
import { connectorInvocation } from '../helpers/connectors.js';
import { type ConnectorStores, createConnectorStores, testClients } from '../helpers/emulators.js';

const SUBJECT_OBJECTS = 2_500;

let clients: LocalClients;
/** Separate clients for the independent read-back. */
let readers: LocalClients;
let registry: ConnectorRegistry;
let bucket: string;
let table: string;
let indexedTable: string;
let stores: ConnectorStores | undefined;

const invocation = connectorInvocation;

/** Runs `fn` over `items`, `limit` at a time. */
const inParallel = async <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>) => {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
};

const putObjects = (s3: S3Client, keys: readonly string[]) =>
  inParallel(keys, 32, (Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' })));

const countObjects = async (s3: S3Client, prefix: string): Promise<number> => {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    count += page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return count;
};

const putItems = async (
  documents: DynamoDBDocumentClient,
  tableName: string,
  items: Record<string, unknown>[],
) => {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  await inParallel(chunks, 4, async (chunk) => {
    let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
      pending = (result.UnprocessedItems?.[tableName] ?? []).flatMap((w) =>
        w.PutRequest?.Item ? [{ PutRequest: { Item: w.PutRequest.Item } }] : [],
      );
    }
  });
};

const itemsOf = async (documents: DynamoDBDocumentClient, subjectId: string) => {
  const found: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'subjectId = :s',
        ExpressionAttributeValues: { ':s': subjectId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    found.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return found;
};

const seedSubject = (
  subjectId: string,
  count: number,
  createdAt = (_i: number) => '2025-01-01T00:00:00.000Z',
) =>
  Array.from({ length: count }, (_, i) => ({
    subjectId,
    itemId: `item-${String(i).padStart(4, '0')}`,
    email: `${subjectId}-${i}@example.com`,
    address: `${i} Main Street`,
    total: i,
    createdAt: createdAt(i),
  }));

beforeAll(async () => {
  clients = testClients();
  readers = testClients();
  stores = await createConnectorStores(clients, 'connectors');
  ({ bucket, table, indexedTable } = stores);
  registry = createConnectorRegistry({
    s3: clients.s3,
    documents: clients.documents,
    secretFor: () => 'unused',
  });
});

afterAll(async () => {
  if (clients === undefined) return;
  await stores?.remove();
  destroyLocalClients(clients);
  destroyLocalClients(readers);
});

describe('s3-prefix on fauxqs (unversioned)', () => {
  const subject = 'subj-1';
  const target = (): S3PrefixTarget => ({
    name: 'videos',
    kind: 's3-prefix',
    bucket,
    prefixTemplate: 'video/{subjectId}/',
  });

  beforeAll(async () => {
    await putObjects(clients.s3, [
      ...Array.from(
        { length: SUBJECT_OBJECTS },
        (_, i) => `video/${subject}/clip-${String(i).padStart(5, '0')}.mp4`,
      ),
      // Another subject whose id starts with this one's: the trailing '/' must keep it apart.
      ...Array.from({ length: 30 }, (_, i) => `video/${subject}0/clip-${i}.mp4`),
      ...Array.from({ length: 20 }, (_, i) => `video/subj-2/clip-${i}.mp4`),
      // The same subject under another data class's prefix.
      ...Array.from({ length: 10 }, (_, i) => `audio/${subject}/track-${i}.mp3`),
    ]);
  });

  it('verify before execute finds all 2,500 objects (the fallback listing is used, not an empty version list)', async () => {
    await expect(registry.verify(target(), invocation(subject))).resolves.toMatchObject({
      verified: false,
      remaining: SUBJECT_OBJECTS,
    });
  });

  it('olderThan in the past deletes nothing', async () => {
    const outcome = await registry.execute(
      target(),
      invocation(subject, { olderThan: '2000-01-01T00:00:00Z' }),
    );

    expect(outcome).toEqual({ status: 'done', affectedCount: 0 });
    expect(await countObjects(readers.s3, `video/${subject}/`)).toBe(SUBJECT_OBJECTS);
  });

  it("deletes the subject's 2,500 objects and nothing else, verifies, and is idempotent", async () => {
    const outcome = await registry.execute(target(), invocation(subject));

    expect(outcome).toEqual({ status: 'done', affectedCount: SUBJECT_OBJECTS });
    await expect(registry.verify(target(), invocation(subject))).resolves.toEqual({ verified: true });
    expect(await countObjects(readers.s3, `video/${subject}/`)).toBe(0);
    expect(await countObjects(readers.s3, `video/${subject}0/`)).toBe(30);
    expect(await countObjects(readers.s3, 'video/subj-2/')).toBe(20);
    expect(await countObjects(readers.s3, `audio/${subject}/`)).toBe(10);

    await expect(registry.execute(target(), invocation(subject))).resolves.toEqual({
      status: 'done',
      affectedCount: 0,
    });
  });
});

describe('dynamodb-items on DynamoDB Local', () => {
  const target = (): DynamoDbItemsTarget => ({
    name: 'orders',
    kind: 'dynamodb-items',
    table,
    subjectAttribute: 'subjectId',
    keyAttributes: ['subjectId', 'itemId'],
    anonymiseAttributes: ['email', 'address'],
    timestampAttribute: 'createdAt',
  });

  it("delete: removes every item of the subject (several pages of 25) and only the subject's", async () => {
    await putItems(clients.documents, table, [...seedSubject('del-a', 130), ...seedSubject('del-b', 15)]);

    const outcome = await registry.execute(target(), invocation('del-a'));

    expect(outcome).toEqual({ status: 'done', affectedCount: 130 });
    await expect(registry.verify(target(), invocation('del-a'))).resolves.toEqual({ verified: true });
    expect(await itemsOf(readers.documents, 'del-a')).toEqual([]);
    expect(await itemsOf(readers.documents, 'del-b')).toHaveLength(15);
    await expect(registry.execute(target(), invocation('del-a'))).resolves.toEqual({
      status: 'done',
      affectedCount: 0,
    });
  });

  it('delete with olderThan: only items created before it go', async () => {
    await putItems(
      clients.documents,
      table,
      seedSubject('del-window', 40, (i) =>
        i < 25 ? '2024-06-01T00:00:00.000Z' : '2025-06-01T00:00:00.000Z',
      ),
    );
    const inv = invocation('del-window', { olderThan: '2025-01-01T00:00:00.000Z' });

    await expect(registry.execute(target(), inv)).resolves.toEqual({ status: 'done', affectedCount: 25 });
    await expect(registry.verify(target(), inv)).resolves.toEqual({ verified: true });
    const left = await itemsOf(readers.documents, 'del-window');
    expect(left).toHaveLength(15);
    expect(left.every((item) => item.createdAt === '2025-06-01T00:00:00.000Z')).toBe(true);
  });

  it("anonymise: overwrites the listed attributes with the marker, keeps the rest and other subjects' items", async () => {
    await putItems(clients.documents, table, [...seedSubject('anon-a', 40), ...seedSubject('anon-b', 5)]);
    const inv = invocation('anon-a', { action: 'anonymise' });

    expect(await registry.verify(target(), inv)).toMatchObject({ verified: false, remaining: 40 });
    await expect(registry.execute(target(), inv)).resolves.toEqual({ status: 'done', affectedCount: 40 });
    await expect(registry.verify(target(), inv)).resolves.toEqual({ verified: true });

    const items = await itemsOf(readers.documents, 'anon-a');
    expect(items).toHaveLength(40);
    for (const item of items) {
      expect(item).toMatchObject({ email: ANONYMISED_MARKER, address: ANONYMISED_MARKER });
      expect(typeof item.total).toBe('number');
    }
    const other = await itemsOf(readers.documents, 'anon-b');
    expect(other.every((item) => String(item.email).endsWith('@example.com'))).toBe(true);

    // Running again changes nothing it should not.
    await registry.execute(target(), inv);
    expect(await itemsOf(readers.documents, 'anon-a')).toEqual(items);
  });

  it('restrict: marks every item restricted, keeping the first restrictedAt', async () => {
    await putItems(clients.documents, table, seedSubject('restrict-a', 3));
    const inv = invocation('restrict-a', { action: 'restrict' });

    await registry.execute(target(), inv);
    const first = await itemsOf(readers.documents, 'restrict-a');
    await registry.execute(target(), inv);

    await expect(registry.verify(target(), inv)).resolves.toEqual({ verified: true });
    expect(first.every((item) => item[RESTRICTED_ATTRIBUTE] === true)).toBe(true);
    expect(await itemsOf(readers.documents, 'restrict-a')).toEqual(first);
  });

  it('anonymise after delete finds nothing and recreates nothing', async () => {
    await putItems(clients.documents, table, seedSubject('gone', 2));
    await registry.execute(target(), invocation('gone'));

    await registry.execute(target(), invocation('gone', { action: 'anonymise' }));

    const read = await readers.documents.send(
      new GetCommand({
        TableName: table,
        Key: { subjectId: 'gone', itemId: 'item-0000' },
        ConsistentRead: true,
      }),
    );
    expect(read.Item).toBeUndefined();
  });

  it('GSI path: finds items by a non-key attribute and deletes them by the table keys', async () => {
    const events = [
      ...Array.from({ length: 30 }, (_, i) => ({
        pk: `event#${i}`,
        sk: 'v1',
        userId: 'gsi-a',
        ip: '10.0.0.1',
      })),
      ...Array.from({ length: 5 }, (_, i) => ({
        pk: `event#b${i}`,
        sk: 'v1',
        userId: 'gsi-b',
        ip: '10.0.0.2',
      })),
    ];
    await putItems(clients.documents, indexedTable, events);
    const gsiTarget: DynamoDbItemsTarget = {
      name: 'events',
      kind: 'dynamodb-items',
      table: indexedTable,
      subjectAttribute: 'userId',
      indexName: 'byUser',
      keyAttributes: ['pk', 'sk'],
    };

    await expect(registry.execute(gsiTarget, invocation('gsi-a'))).resolves.toEqual({
      status: 'done',
      affectedCount: 30,
    });
    await expect(registry.verify(gsiTarget, invocation('gsi-a'))).resolves.toEqual({ verified: true });

    const remaining = await Promise.all(
      events.map((e) =>
        readers.documents.send(
          new GetCommand({ TableName: indexedTable, Key: { pk: e.pk, sk: e.sk }, ConsistentRead: true }),
        ),
      ),
    );
    expect(remaining.filter((r) => r.Item !== undefined).map((r) => r.Item?.userId)).toEqual(
      Array.from({ length: 5 }, () => 'gsi-b'),
    );
  });
});

describe('identifier-keyed targets (the task fans out one invocation per value)', () => {
  it('s3-prefix keyed by a camera serial erases and verifies each serial, and nothing of another camera', async () => {
    // Prepare
    const target: S3PrefixTarget = {
      name: 'device-video',
      kind: 's3-prefix',
      bucket,
      prefixTemplate: 'devices/{deviceId}/',
    };
    await putObjects(clients.s3, [
      ...['CAM-0A01', 'CAM-0A02'].flatMap((serial) => [`devices/${serial}/1.mp4`, `devices/${serial}/2.mp4`]),
      'devices/CAM-0A0F/1.mp4',
    ]);
    const forSerial = (value: string) => invocation('subject-cams', { address: { name: 'deviceId', value } });

    // Act
    const outcomes = [];
    for (const serial of ['CAM-0A01', 'CAM-0A02'])
      outcomes.push(await registry.execute(target, forSerial(serial)));
    const verified = await Promise.all(
      ['CAM-0A01', 'CAM-0A02'].map((serial) => registry.verify(target, forSerial(serial))),
    );

    // Assess
    expect(outcomes).toEqual([
      { status: 'done', affectedCount: 2 },
      { status: 'done', affectedCount: 2 },
    ]);
    expect(verified).toEqual([{ verified: true }, { verified: true }]);
    expect(await countObjects(readers.s3, 'devices/CAM-0A01/')).toBe(0);
    expect(await countObjects(readers.s3, 'devices/CAM-0A02/')).toBe(0);
    expect(await countObjects(readers.s3, 'devices/CAM-0A0F/')).toBe(1);
  });

  it('dynamodb-items keyed by e-mail finds the item by the address value, not the subject id', async () => {
    // Prepare: the events table's GSI stands in for a list keyed by e-mail.
    await putItems(clients.documents, indexedTable, [
      { pk: 'contact#1', sk: 'v1', userId: 'ana@example.com' },
      { pk: 'contact#2', sk: 'v1', userId: 'bo@example.com' },
    ]);
    const target: DynamoDbItemsTarget = {
      name: 'marketing-list',
      kind: 'dynamodb-items',
      table: indexedTable,
      subjectAttribute: 'userId',
      identifier: 'email',
      indexName: 'byUser',
      keyAttributes: ['pk', 'sk'],
    };
    const byEmail = invocation('subject-ana', { address: { name: 'email', value: 'ana@example.com' } });

    // Act
    const outcome = await registry.execute(target, byEmail);
    const verification = await registry.verify(target, byEmail);

    // Assess
    expect(outcome).toEqual({ status: 'done', affectedCount: 1 });
    expect(verification).toEqual({ verified: true });
    const left = await Promise.all(
      ['contact#1', 'contact#2'].map((pk) =>
        readers.documents.send(
          new GetCommand({ TableName: indexedTable, Key: { pk, sk: 'v1' }, ConsistentRead: true }),
        ),
      ),
    );
    expect(left.map((read) => read.Item?.userId)).toEqual([undefined, 'bo@example.com']);
  });
});
