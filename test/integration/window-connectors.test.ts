/**
 * Window runs of the connectors (rolling windows across every subject) against the emulators:
 * dynamodb-items through a time-ordered GSI on DynamoDB Local, s3-prefix by listing the template's
 * root on fauxqs, and the webhook's one signed call per run on a local HTTP server. What is gone
 * or kept is read again with clients of their own, never taken from the connector's answer.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  DynamoDbItemsTarget,
  HttpWebhookTarget,
  S3PrefixTarget,
  WindowInvocation,
} from '../../domain/connectors/types.js';
import { ConnectorPermanentError } from '../../functions/connectors/errors.js';
import { type ConnectorRegistry, createConnectorRegistry } from '../../functions/connectors/registry.js';
import { verifySignature } from '../../functions/connectors/webhook-signature.js';
import { destroyLocalClients, type LocalClients } from '../../local/aws-clients.js';
import { createBucket, createTable, deleteBucket, deleteTable } from '../../local/resources.js';
import { testClients, uniquePrefix } from '../helpers/emulators.js';

const SECRET = 'whsec-window-0123456789';
const SUBJECTS = 120;
const PARTITIONS = ['0', '1', '2'];

let clients: LocalClients;
let readers: LocalClients;
let registry: ConnectorRegistry;
let table: string;
let bucket: string;
let server: Server;
let webhookUrl: string;
const received: { headers: Record<string, unknown>; body: string }[] = [];

const invocation = (overrides: Partial<WindowInvocation> = {}): WindowInvocation => ({
  runId: 'window:alarm-events:alarm-events:2026-12-01T00:00:00.000Z',
  dataClass: 'alarm-events',
  cutoff: '2026-11-24T00:00:00.000Z',
  subjectCutoffs: {},
  excludedSubjects: [],
  ...overrides,
});

const subject = (index: number) => `subject-${String(index).padStart(4, '0')}`;

beforeAll(async () => {
  clients = testClients();
  readers = testClients();
  const prefix = uniquePrefix('windows');
  table = `${prefix}-alarms`;
  bucket = `${prefix}-video`;
  await Promise.all([
    createTable(clients, {
      tableName: table,
      partitionKey: { name: 'subjectId', type: 'S' },
      sortKey: { name: 'alarmId', type: 'S' },
      globalSecondaryIndexes: [
        {
          indexName: 'byAge',
          partitionKey: { name: 'windowShard', type: 'S' },
          sortKey: { name: 'raisedAt', type: 'S' },
        },
      ],
    }),
    createBucket(clients, bucket),
  ]);
  registry = createConnectorRegistry({
    s3: clients.s3,
    documents: clients.documents,
    secretFor: () => SECRET,
  });
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ deletedCount: 42, heldCount: 3, oldestRemainingAt: '2026-06-02T00:00:00Z' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/erasure`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (clients === undefined) return;
  await Promise.allSettled([deleteTable(clients, table), deleteBucket(clients, bucket)]);
  destroyLocalClients(clients);
  destroyLocalClients(readers);
});

describe('dynamodb-items window runs through a time-ordered GSI (DynamoDB Local)', () => {
  const target = (): DynamoDbItemsTarget => ({
    name: 'alarm-events',
    kind: 'dynamodb-items',
    table,
    subjectAttribute: 'subjectId',
    keyAttributes: ['subjectId', 'alarmId'],
    timestampAttribute: 'raisedAt',
    windowIndex: { indexName: 'byAge', partitionAttribute: 'windowShard', partitions: PARTITIONS },
  });

  const remaining = async () => {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await readers.documents.send(
        new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  };

  beforeAll(async () => {
    // Every subject: one alarm 2 days old; every 4th also one 10 days old (30 expired in all).
    const items = Array.from({ length: SUBJECTS }, (_, index) => [
      { subjectId: subject(index), alarmId: 'new', raisedAt: '2026-11-29T10:00:00.000Z' },
      ...(index % 4 === 0
        ? [{ subjectId: subject(index), alarmId: 'old', raisedAt: '2026-11-21T10:00:00.000Z' }]
        : []),
    ])
      .flat()
      .map((item, position) => ({ ...item, windowShard: PARTITIONS[position % PARTITIONS.length] }));
    // An item without the index attribute is outside the index: never listed, never erased.
    items.push({ subjectId: 'unindexed', alarmId: 'old', raisedAt: '2026-01-01T00:00:00.000Z' } as never);
    for (let i = 0; i < items.length; i += 25) {
      await clients.documents.send(
        new BatchWriteCommand({
          RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
    }
  });

  it('IMOU-2: erases only the items past the cut-off across every subject, excludes held subjects, and verifies', async () => {
    // Act
    const outcome = await registry.expire(
      target(),
      invocation({ excludedSubjects: [subject(0), subject(4)] }),
    );

    // Assess
    expect(outcome).toEqual({
      erased: 28,
      held: 2,
      remainingExpired: 0,
      oldestRemainingAt: '2026-11-21T10:00:00.000Z',
    });
    const left = await remaining();
    const old = left.filter((item) => item.alarmId === 'old').map((item) => item.subjectId);
    expect(old.sort()).toEqual([subject(0), subject(4), 'unindexed']);
    expect(left.filter((item) => item.alarmId === 'new')).toHaveLength(SUBJECTS);
  });

  it('is idempotent: the same run again erases nothing more; the held items go at a run after release', async () => {
    const again = await registry.expire(target(), invocation({ excludedSubjects: [subject(0), subject(4)] }));
    const released = await registry.expire(target(), invocation());

    expect(again).toMatchObject({ erased: 0, held: 2 });
    expect(released).toEqual({
      erased: 2,
      held: 0,
      remainingExpired: 0,
      oldestRemainingAt: '2026-11-29T10:00:00.000Z',
    });
    expect(
      (await remaining()).filter((item) => item.alarmId === 'old').map((item) => item.subjectId),
    ).toEqual(['unindexed']);
  });

  it("honours a subject's own cut-off, later or earlier than the run's", async () => {
    // A subject whose window is 1 day: its 2-day-old alarm has expired for it alone.
    const outcome = await registry.expire(
      target(),
      invocation({ subjectCutoffs: { [subject(1)]: '2026-11-30T00:00:00.000Z' } }),
    );

    expect(outcome.erased).toBe(1);
    const left = await remaining();
    expect(left.some((item) => item.subjectId === subject(1))).toBe(false);
    expect(left.filter((item) => item.alarmId === 'new')).toHaveLength(SUBJECTS - 1);
  });

  it('refuses a target without its time-ordered index', async () => {
    const { windowIndex: _none, ...withoutIndex } = target();
    await expect(registry.expire(withoutIndex, invocation())).rejects.toBeInstanceOf(ConnectorPermanentError);
  });
});

describe('s3-prefix window runs by listing the root of the template (fauxqs)', () => {
  const target = (): S3PrefixTarget => ({
    name: 'cloud-video',
    kind: 's3-prefix',
    bucket,
    prefixTemplate: 'video/{subjectId}/',
  });
  const keys = async (prefix: string) => {
    const page = await readers.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((object) => object.Key).sort();
  };

  beforeAll(async () => {
    const puts = ['a', 'b', 'held', 'own-window'].flatMap((id) =>
      [1, 2].map((clip) => `video/${id}/clip-${clip}.mp4`),
    );
    puts.push('video/loose-file.mp4', 'audio/a/track.mp3');
    await Promise.all(
      puts.map((Key) => clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))),
    );
  });

  it("IMOU-1: deletes what is older than each subject's cut-off, keeps held subjects and keys outside the template", async () => {
    // fauxqs stamps LastModified now: a cut-off in the future makes every object expired.
    const future = new Date(Date.now() + 60_000).toISOString();
    const past = new Date(Date.now() - 86_400_000).toISOString();

    // Act
    const outcome = await registry.expire(
      target(),
      invocation({
        dataClass: 'cloud-video-window',
        cutoff: future,
        subjectCutoffs: { 'own-window': past },
        excludedSubjects: ['held'],
      }),
    );

    // Assess
    expect(outcome).toMatchObject({ erased: 4, held: 2, remainingExpired: 0 });
    expect(outcome.oldestRemainingAt).toBeDefined();
    expect(await keys('video/')).toEqual([
      'video/held/clip-1.mp4',
      'video/held/clip-2.mp4',
      'video/loose-file.mp4',
      'video/own-window/clip-1.mp4',
      'video/own-window/clip-2.mp4',
    ]);
    expect(await keys('audio/')).toEqual(['audio/a/track.mp3']);
  });
});

describe('http-webhook window runs: one signed call per run', () => {
  it('ALE-3: sends the data class, the cut-offs and the excluded subjects once, keyed by the run', async () => {
    // Prepare
    const target: HttpWebhookTarget = {
      name: 'partner-services',
      kind: 'http-webhook',
      url: webhookUrl,
      signingSecretName: 'partner',
    };

    // Act
    const outcome = await registry.expire(
      target,
      invocation({
        runId: 'window:fault-traffic:partner-services:2026-12-01T00:00:00.000Z',
        dataClass: 'fault-traffic',
        cutoff: '2026-06-01T00:00:00.000Z',
        excludedSubjects: ['held-subject'],
      }),
    );

    // Assess
    expect(outcome).toEqual({ erased: 42, held: 3, oldestRemainingAt: '2026-06-02T00:00:00.000Z' });
    expect(received).toHaveLength(1);
    const [call] = received;
    expect(JSON.parse(call?.body ?? '')).toEqual({
      runId: 'window:fault-traffic:partner-services:2026-12-01T00:00:00.000Z',
      scope: 'window',
      dataClass: 'fault-traffic',
      action: 'delete',
      olderThan: '2026-06-01T00:00:00.000Z',
      subjectCutoffs: {},
      excludedSubjects: ['held-subject'],
    });
    expect(call?.headers['idempotency-key']).toBe(
      'window:fault-traffic:partner-services:2026-12-01T00:00:00.000Z',
    );
    expect(
      verifySignature(
        SECRET,
        call?.body ?? '',
        String(call?.headers['x-erasure-signature'] ?? ''),
        Math.floor(Date.now() / 1000),
      ),
    ).toBe(true);
  });
});
