/**
 * Dry runs on the emulators (DynamoDB Local, fauxqs). First each connector's `preview` against a
 * real store: it counts what `execute` then erases, and changes nothing. Then a dry run through
 * the local runtime's API: every orchestrator table, both queues, the anchors folder, the demo
 * stores and the demo partner service are compared before and after; the only difference is the
 * one `request.previewed` audit entry (its marker and its chain's head). Holds (ALM-3) and ALE-2
 * withholding show in the answer as a real request would then meet them.
 *
 * fauxqs has no versioning: the s3-prefix preview takes the unversioned listing, like `execute`.
 */
import { readdir } from 'node:fs/promises';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ConnectorInvocation,
  DynamoDbItemsTarget,
  HttpWebhookTarget,
  S3PrefixTarget,
} from '../../domain/connectors/types.js';
import type { ErasurePreview, ErasureRequestReceipt, HoldReceipt } from '../../functions/api/types.js';
import { type ConnectorRegistry, createConnectorRegistry } from '../../functions/connectors/registry.js';
import { destroyLocalClients, type LocalClients } from '../../local/aws-clients.js';
import { seedDemoSubject } from '../../local/demo.js';
import { type DemoWebhook, startDemoWebhook } from '../../local/demo-webhook.js';
import { connectorInvocation } from '../helpers/connectors.js';
import { type ConnectorStores, createConnectorStores, testClients } from '../helpers/emulators.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const invocation = connectorInvocation;

describe('connector previews on the emulators', () => {
  const SECRET = 'preview-test-secret';
  let clients: LocalClients;
  let registry: ConnectorRegistry;
  let webhook: DemoWebhook;
  let bucket: string;
  let table: string;
  let indexedTable: string;
  let stores: ConnectorStores | undefined;

  const countObjects = async (prefix: string) => {
    let count = 0;
    let token: string | undefined;
    do {
      const page = await clients.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      count += page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return count;
  };

  /** Puts a one-byte object at each key, 100 at a time. */
  const putObjects = async (keys: readonly string[]) => {
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(
        keys
          .slice(i, i + 100)
          .map((Key) => clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))),
      );
    }
  };

  const putItems = async (tableName: string, items: Record<string, unknown>[]) => {
    for (let i = 0; i < items.length; i += 25) {
      const chunk = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      await clients.documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: chunk } }));
    }
  };

  const scan = async (tableName: string) =>
    (
      (await clients.documents.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ??
      []
    )
      .map((item) => JSON.stringify(item))
      .sort();

  beforeAll(async () => {
    clients = testClients();
    stores = await createConnectorStores(clients, 'preview-connectors');
    ({ bucket, table, indexedTable } = stores);
    webhook = await startDemoWebhook({ secret: SECRET });
    registry = createConnectorRegistry({
      s3: clients.s3,
      documents: clients.documents,
      secretFor: () => SECRET,
    });
  });

  afterAll(async () => {
    await webhook?.stop();
    if (clients === undefined) return;
    await stores?.remove();
    destroyLocalClients(clients);
  });

  it('s3-prefix counts every object under the subject prefix across listing pages, and execute then erases exactly that many', async () => {
    const target: S3PrefixTarget = {
      name: 'videos',
      kind: 's3-prefix',
      bucket,
      prefixTemplate: 'video/{subjectId}/',
    };
    const keys = [
      ...Array.from({ length: 1_200 }, (_, i) => `video/cam-1/clip-${String(i).padStart(5, '0')}.mp4`),
      // A subject whose id starts with this one's: the '/' keeps it out of the count.
      ...Array.from({ length: 30 }, (_, i) => `video/cam-10/clip-${i}.mp4`),
    ];
    await putObjects(keys);

    const preview = await registry.connectorFor(target).preview?.(target, invocation('cam-1'));

    expect(preview).toEqual({ status: 'counted', count: 1_200, unit: 'object-versions' });
    expect(await countObjects('video/cam-1/')).toBe(1_200);
    await expect(registry.execute(target, invocation('cam-1'))).resolves.toEqual({
      status: 'done',
      affectedCount: 1_200,
    });
    expect(await countObjects('video/cam-10/')).toBe(30);
    await expect(registry.connectorFor(target).preview?.(target, invocation('cam-1'))).resolves.toMatchObject(
      {
        count: 0,
      },
    );
  });

  it('dynamodb-items counts the subject items (by key: COUNT; with olderThan: as execute selects them) and changes nothing', async () => {
    const target: DynamoDbItemsTarget = {
      name: 'orders',
      kind: 'dynamodb-items',
      table,
      subjectAttribute: 'subjectId',
      keyAttributes: ['subjectId', 'itemId'],
      timestampAttribute: 'createdAt',
      anonymiseAttributes: ['email'],
    };
    const items = (subjectId: string, count: number) =>
      Array.from({ length: count }, (_, i) => ({
        subjectId,
        itemId: `item-${String(i).padStart(4, '0')}`,
        email: `${subjectId}-${i}@example.test`,
        createdAt: i < 40 ? '2025-01-01T00:00:00.000Z' : '2026-06-01T00:00:00.000Z',
      }));
    await putItems(table, [...items('buyer-1', 130), ...items('buyer-2', 7)]);
    const before = await scan(table);
    const preview = (overrides: Partial<ConnectorInvocation>) =>
      registry.connectorFor(target).preview?.(target, invocation('buyer-1', overrides));

    await expect(preview({})).resolves.toEqual({ status: 'counted', count: 130, unit: 'items' });
    await expect(preview({ action: 'anonymise' })).resolves.toMatchObject({ count: 130 });
    await expect(preview({ olderThan: '2026-01-01T00:00:00.000Z' })).resolves.toMatchObject({ count: 40 });
    expect(await scan(table)).toEqual(before);

    await expect(
      registry.execute(target, invocation('buyer-1', { olderThan: '2026-01-01T00:00:00.000Z' })),
    ).resolves.toEqual({
      status: 'done',
      affectedCount: 40,
    });
  });

  it('dynamodb-items through a GSI counts the items the table still holds for the subject', async () => {
    const target: DynamoDbItemsTarget = {
      name: 'events',
      kind: 'dynamodb-items',
      table: indexedTable,
      subjectAttribute: 'userId',
      indexName: 'byUser',
      keyAttributes: ['pk', 'sk'],
    };
    await putItems(indexedTable, [
      ...Array.from({ length: 12 }, (_, i) => ({
        pk: `device-${i % 3}`,
        sk: `event-${i}`,
        userId: 'user-1',
      })),
      ...Array.from({ length: 5 }, (_, i) => ({ pk: `device-${i}`, sk: `other-${i}`, userId: 'user-2' })),
    ]);
    const before = await scan(indexedTable);

    await expect(registry.connectorFor(target).preview?.(target, invocation('user-1'))).resolves.toEqual({
      status: 'counted',
      count: 12,
      unit: 'items',
    });
    expect(await scan(indexedTable)).toEqual(before);
  });

  it('s3-prefix stops listing once the time is up: the page in flight is counted, the answer is a lower bound', async () => {
    const target: S3PrefixTarget = {
      name: 'clips',
      kind: 's3-prefix',
      bucket,
      prefixTemplate: 'clips/{subjectId}/',
    };
    const keys = Array.from(
      { length: 1_500 },
      (_, i) => `clips/cam-7/clip-${String(i).padStart(5, '0')}.mp4`,
    );
    await putObjects(keys);
    const connector = registry.connectorFor(target);

    // A listing page holds 1,000 keys: the first page is counted, the second never asked for.
    await expect(
      connector.preview?.(target, invocation('cam-7'), { signal: AbortSignal.abort() }),
    ).resolves.toEqual({ status: 'counted', count: 1_000, unit: 'object-versions', partial: true });
    await expect(
      connector.preview?.(target, invocation('cam-7'), { signal: AbortSignal.timeout(60_000) }),
    ).resolves.toEqual({ status: 'counted', count: 1_500, unit: 'object-versions' });
    // A listing of one page was read whole when the time ran out: exact, not a lower bound.
    await putObjects(Array.from({ length: 40 }, (_, i) => `clips/cam-8/clip-${i}.mp4`));
    await expect(
      connector.preview?.(target, invocation('cam-8'), { signal: AbortSignal.abort() }),
    ).resolves.toEqual({ status: 'counted', count: 40, unit: 'object-versions' });
  });

  it('dynamodb-items reads no further page once the time is up (by key and as execute selects), and says the count is a lower bound', async () => {
    const target: DynamoDbItemsTarget = {
      name: 'journal',
      kind: 'dynamodb-items',
      table,
      subjectAttribute: 'subjectId',
      keyAttributes: ['subjectId', 'itemId'],
      timestampAttribute: 'createdAt',
    };
    // 600 items of about 2 KB: more than the 1 MB a Query page reads.
    await putItems(
      table,
      Array.from({ length: 600 }, (_, i) => ({
        subjectId: 'journal-1',
        itemId: `entry-${String(i).padStart(4, '0')}`,
        createdAt: '2025-01-01T00:00:00.000Z',
        body: 'x'.repeat(2_000),
      })),
    );
    const connector = registry.connectorFor(target);
    const stopped = { signal: AbortSignal.abort() };
    const olderThan = { olderThan: '2026-01-01T00:00:00.000Z' };

    const byKey = await connector.preview?.(target, invocation('journal-1'), stopped);
    const selected = await connector.preview?.(target, invocation('journal-1', olderThan), stopped);

    for (const result of [byKey, selected]) {
      expect(result).toMatchObject({ status: 'counted', unit: 'items', partial: true });
      expect(result?.status === 'counted' ? result.count : -1).toBeGreaterThan(0);
      expect(result?.status === 'counted' ? result.count : 600).toBeLessThan(600);
    }
    await expect(connector.preview?.(target, invocation('journal-1'), {})).resolves.toEqual({
      status: 'counted',
      count: 600,
      unit: 'items',
    });
    // A subject whose items fit one page was counted whole when the time ran out: exact.
    await putItems(table, [
      { subjectId: 'journal-2', itemId: 'entry-0', createdAt: '2025-01-01T00:00:00.000Z' },
    ]);
    for (const overrides of [{}, olderThan]) {
      await expect(connector.preview?.(target, invocation('journal-2', overrides), stopped)).resolves.toEqual(
        {
          status: 'counted',
          count: 1,
          unit: 'items',
        },
      );
    }
    await expect(connector.preview?.(target, invocation('journal-1', olderThan))).resolves.toEqual({
      status: 'counted',
      count: 600,
      unit: 'items',
    });
  });

  it('http-webhook asks a service that declares preview (signed, action preview) and erases nothing; one that does not is never called', async () => {
    webhook.records.set('partner-1', 6);
    const target: HttpWebhookTarget = {
      name: 'partner',
      kind: 'http-webhook',
      url: webhook.url,
      signingSecretName: 'partner',
    };

    const declaring: HttpWebhookTarget = { ...target, preview: true };
    const undeclared = await registry.connectorFor(target).preview?.(target, invocation('partner-1'));
    const declared = await registry
      .connectorFor(target)
      .preview?.(declaring, invocation('partner-1', { callbackNonce: 'n-1' }));

    expect(undeclared).toEqual({ status: 'unknown', reason: 'not-supported' });
    expect(declared).toEqual({ status: 'counted', count: 6, unit: 'records' });
    expect(webhook.previews).toEqual([
      { taskId: 'task-partner-1', subjectId: 'partner-1', dataClass: 'test-data', erasureAction: 'delete' },
    ]);
    expect(webhook.received).toEqual([]);
    expect(webhook.records.get('partner-1')).toBe(6);
  });
});

describe('a dry run through the API changes nothing', () => {
  let rt: TestRuntime;
  const SUBJECT = 'dry-run-subject-7';

  beforeAll(async () => {
    rt = await startTestRuntime('dry-run', { demoSubjects: 1 });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  const scanAll = async (tableName: string): Promise<Record<string, unknown>[]> => {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await rt.clients.documents.send(
        new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  };
  const rows = (items: readonly Record<string, unknown>[]) =>
    items.map((item) => JSON.stringify(item)).sort();
  const objects = async (bucketName: string) =>
    ((await rt.clients.s3.send(new ListObjectsV2Command({ Bucket: bucketName }))).Contents ?? [])
      .map((object) => `${object.Key}:${object.Size}:${object.ETag}`)
      .sort();
  const queueDepth = async (queueUrl: string) => {
    const { Attributes } = await rt.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Attributes;
  };

  /** Every store the orchestrator and the demo own, as sorted rows. */
  const everything = async () => {
    const { tables } = rt.resources;
    return {
      schedules: rows(await scanAll(tables.schedules)),
      requests: rows(await scanAll(tables.requests)),
      legalHolds: rows(await scanAll(tables.legalHolds)),
      audit: await scanAll(tables.audit),
      customers: rows(await scanAll(rt.stores.customersTable)),
      alarms: rows(await scanAll(rt.stores.alarmEventsTable)),
      videos: await objects(rt.stores.cloudVideoBucket),
      files: await objects(rt.stores.userFilesBucket),
      taskQueue: await queueDepth(rt.resources.taskQueueUrl),
      taskDlq: await queueDepth(rt.resources.taskDeadLetterQueueUrl),
      shardQueue: await queueDepth(rt.resources.sweepShardQueueUrl),
      anchors: (await readdir(rt.proofDir, { recursive: true })).sort(),
      partner: {
        records: [...rt.webhook.records.entries()].sort(),
        received: rt.webhook.received.length,
        windowRuns: rt.webhook.windowRuns.length,
        notices: rt.webhook.notices.length,
      },
    };
  };

  it('ALM-3 and ALE-2 blockers are shown, and every store and table is as it was but for one request.previewed entry', async () => {
    await seedDemoSubject(rt.clients, rt.stores, SUBJECT, rt.clock.now(), { videos: 3, files: 4, alarms: 2 });
    rt.webhook.records.set(SUBJECT, 2);
    const hold = await rt.call<HoldReceipt>('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId: SUBJECT, dataClasses: ['customer-profile'], reason: 'litigation-2026-090' },
    });
    expect(hold.status).toBe(201);
    const invoice = await rt.call('POST', '/v1/lifecycle-events', {
      body: { subjectId: SUBJECT, type: 'invoice.unpaid', occurredAt: '2026-11-20T08:00:00.000Z' },
    });
    expect(invoice.status).toBe(202);
    const body = {
      subjectId: SUBJECT,
      dataClasses: ['suspended-account', 'billing-traffic', 'cookies'],
      reason: 'gdpr-art17-request',
    };
    const before = await everything();

    const dryRun = await rt.call<ErasurePreview>('POST', '/v1/erasure-requests', {
      body: { ...body, dryRun: true },
      headers: { 'Idempotency-Key': 'dry-run-subject-7-key' },
    });
    const retried = await rt.call<ErasurePreview>('POST', '/v1/erasure-requests', {
      body: { ...body, dryRun: true },
      headers: { 'Idempotency-Key': 'dry-run-subject-7-key' },
    });
    const after = await everything();

    // The answer: counts per task, the hold's block and the ALE-2 withholding with their reasons.
    expect(dryRun.status).toBe(200);
    expect(retried.body.previewId).toBe(dryRun.body.previewId);
    const preview = dryRun.body;
    expect(preview.intake).toBe('blocked');
    expect(preview.withheld).toEqual([{ dataClass: 'billing-traffic', reason: 'unpaid-invoice' }]);
    const view = preview.targets.map(({ target, dataClasses, outcome, reason, blockedBy, count }) => ({
      target,
      dataClasses,
      outcome,
      reason,
      blockedBy,
      count,
    }));
    expect(view).toEqual(
      expect.arrayContaining([
        {
          target: 'customer-records',
          dataClasses: ['suspended-account'],
          outcome: 'blocked',
          reason: 'legal-hold',
          blockedBy: [hold.body.holdId],
          count: 1,
        },
        { target: 'user-files', dataClasses: ['suspended-account'], outcome: 'erase', count: 4 },
        // customer-profile also lives in partner-services: the hold protects it there too.
        {
          target: 'partner-services',
          dataClasses: ['cookies'],
          outcome: 'blocked',
          reason: 'legal-hold',
          blockedBy: [hold.body.holdId],
          count: 2,
        },
        {
          target: 'partner-services',
          dataClasses: ['billing-traffic'],
          outcome: 'withheld',
          reason: 'unpaid-invoice',
          count: 2,
        },
      ]),
    );
    expect(view).toHaveLength(4);
    expect(preview.totals).toEqual({ erase: 4, blocked: 3, withheld: 2, unknown: 0, partial: 0 });

    // Nothing changed: every table, queue, bucket, the anchors and the partner service.
    const { audit: auditBefore, ...restBefore } = before;
    const { audit: auditAfter, ...restAfter } = after;
    expect(restAfter).toEqual(restBefore);
    expect(rt.webhook.previews.filter((asked) => asked.subjectId === SUBJECT)).toHaveLength(4);

    // The audit table: one entry (audited once for both calls), its marker, and its chain's head moved.
    const beforeRows = new Set(rows(auditBefore));
    const afterRows = new Set(rows(auditAfter));
    const added = auditAfter.filter((item) => !beforeRows.has(JSON.stringify(item)));
    const removed = auditBefore.filter((item) => !afterRows.has(JSON.stringify(item)));
    const chainId = rt.deps.audit.chainIdFor(SUBJECT);
    const entries = added.filter((item) => item.chainId === chainId && Number(item.seq) > 0);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      type: 'request.previewed',
      detail: expect.objectContaining({ intake: 'blocked' }),
    });
    expect(JSON.stringify(entries[0])).not.toContain(SUBJECT);
    expect(added.filter((item) => String(item.chainId).startsWith('key#'))).toHaveLength(1);
    expect(added.filter((item) => item.chainId === chainId && item.seq === 0)).toHaveLength(1);
    expect(added).toHaveLength(3);
    expect(removed.map((item) => [item.chainId, item.seq])).toEqual([[chainId, 0]]);

    // A real request now meets exactly what the dry run showed.
    const submitted = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body,
      headers: { 'Idempotency-Key': 'dry-run-subject-7-key' },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.status).toBe('blocked');
    expect(submitted.body.withheld).toEqual(preview.withheld);
    expect(
      submitted.body.blockedTasks
        ?.map(({ target, dataClass, blockedBy }) => [target, dataClass, blockedBy])
        .sort(),
    ).toEqual(
      preview.targets
        .filter(({ outcome }) => outcome === 'blocked')
        .map(({ target, dataClasses, blockedBy }) => [target, dataClasses[0], blockedBy])
        .sort(),
    );
  });

  it('a dry run for a subject the stores do not know counts zero everywhere', async () => {
    const answer = await rt.call<ErasurePreview>('POST', '/v1/erasure-requests', {
      body: { subjectId: 'nobody-here-1', reason: 'gdpr-art17-request', dryRun: true },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.intake).toBe('dispatched');
    expect(answer.body.totals).toMatchObject({ erase: 0, blocked: 0, withheld: 0, unknown: 0 });
    const count = await rt.clients.documents.send(
      new QueryCommand({
        TableName: rt.resources.tables.requests,
        IndexName: undefined,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `request#${answer.body.previewId}` },
      }),
    );
    expect(count.Items ?? []).toEqual([]);
  });
});
