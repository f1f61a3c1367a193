/**
 * dynamodb-items connector against a mocked DynamoDBDocumentClient, for the paths DynamoDB Local
 * cannot be made to show: throttling, UnprocessedItems/UnprocessedKeys, a GSI lagging behind its
 * table. test/integration/connectors.test.ts runs delete and anonymise against DynamoDB Local.
 */
import { DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConnectorInvocation, DynamoDbItemsTarget } from '../../../domain/connectors/types.js';
import {
  ANONYMISED_MARKER,
  createDynamoDbItemsConnector,
  DEFAULT_DELETE_CONCURRENCY,
  type DynamoDbItemsConnectorDeps,
} from '../../../functions/connectors/dynamodb-items.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../../../functions/connectors/errors.js';

const ddbMock = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  ddbMock.reset();
});

const SUBJECT = 'subj-91c2';
const NOW = new Date('2025-06-01T12:00:00.000Z');
const table: DynamoDbItemsTarget = {
  name: 'orders',
  kind: 'dynamodb-items',
  table: 'Orders',
  subjectAttribute: 'subjectId',
  keyAttributes: ['subjectId', 'itemId'],
  anonymiseAttributes: ['email', 'address'],
  timestampAttribute: 'createdAt',
};
const viaIndex: DynamoDbItemsTarget = {
  name: 'events',
  kind: 'dynamodb-items',
  table: 'Events',
  subjectAttribute: 'userId',
  indexName: 'byUser',
  keyAttributes: ['pk', 'sk'],
  anonymiseAttributes: ['ip'],
};
const invocation = (overrides: Partial<ConnectorInvocation> = {}): ConnectorInvocation => ({
  taskId: 'task-1',
  requestId: 'req-1',
  subjectId: SUBJECT,
  dataClass: 'orders',
  action: 'delete',
  idempotencyKey: 'idem-1',
  ...overrides,
});

const sleeps: number[] = [];
const connector = (overrides: Partial<Omit<DynamoDbItemsConnectorDeps, 'documents'>> = {}) => {
  sleeps.length = 0;
  return createDynamoDbItemsConnector({
    // mockClient intercepts send() of every DynamoDBDocumentClient; nothing reaches the network.
    documents: DynamoDBDocumentClient.from(mockBase()),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    now: () => NOW,
    random: () => 0.5,
    ...overrides,
  });
};
const mockBase = () => new DynamoDBClient({ region: 'us-east-1' });

const ddbError = (name: string, status: number, fault: 'client' | 'server') =>
  new DynamoDBServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name}: ${SUBJECT}`,
  });

const items = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    subjectId: SUBJECT,
    itemId: `item-${String(i + from).padStart(4, '0')}`,
    createdAt: `2025-0${1 + ((i + from) % 5)}-01T00:00:00.000Z`,
  }));

describe('dynamodb-items delete', () => {
  it('queries the table consistently, page by page, and deletes in BatchWriteItem chunks of 25', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({ Items: items(40), LastEvaluatedKey: { subjectId: SUBJECT, itemId: 'item-0039' } })
      .resolvesOnce({ Items: items(20, 40) });
    ddbMock.on(BatchWriteCommand).resolves({});

    const outcome = await connector().execute(table, invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 60 });
    const queries = ddbMock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatchObject({
      TableName: 'Orders',
      KeyConditionExpression: '#subject = :subject',
      ExpressionAttributeNames: expect.objectContaining({ '#subject': 'subjectId' }),
      ExpressionAttributeValues: { ':subject': SUBJECT },
      ConsistentRead: true,
    });
    expect(queries[0]?.IndexName).toBeUndefined();
    expect(queries[1]?.ExclusiveStartKey).toEqual({ subjectId: SUBJECT, itemId: 'item-0039' });
    const writes = ddbMock
      .commandCalls(BatchWriteCommand)
      .map((c) => c.args[0].input.RequestItems?.Orders ?? []);
    expect(writes.map((w) => w.length)).toEqual([25, 25, 10]);
    expect(writes[0]?.[0]).toEqual({ DeleteRequest: { Key: { subjectId: SUBJECT, itemId: 'item-0000' } } });
    // Only key attributes go into a DeleteRequest.
    expect(writes.flat().every((w) => Object.keys(w.DeleteRequest?.Key ?? {}).length === 2)).toBe(true);
  });

  it('retries UnprocessedItems with backoff until none are left', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(10) });
    const leftOver = items(3).map((i) => ({
      DeleteRequest: { Key: { subjectId: i.subjectId, itemId: i.itemId } },
    }));
    ddbMock
      .on(BatchWriteCommand)
      .resolvesOnce({ UnprocessedItems: { Orders: leftOver } })
      .resolvesOnce({ UnprocessedItems: { Orders: leftOver.slice(0, 1) } })
      .resolves({ UnprocessedItems: {} });

    const outcome = await connector().execute(table, invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 10 });
    const writes = ddbMock.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems?.Orders);
    expect(writes.map((w) => w?.length)).toEqual([10, 3, 1]);
    expect(writes[1]).toEqual(leftOver);
    // Full jitter (random() = 0.5) over 50 ms, then 100 ms.
    expect(sleeps).toEqual([25, 50]);
  });

  it('gives up after 8 attempts with a retryable error when items stay unprocessed (bounded)', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(2) });
    ddbMock.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({
      UnprocessedItems: input.RequestItems,
    }));

    const error = await connector()
      .execute(table, invocation())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect((error as Error).message).toContain('2 item(s) still unprocessed after 8 attempts');
    expect((error as Error).message).not.toContain(SUBJECT);
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(8);
    expect(sleeps).toHaveLength(7);
    // Exponential, capped at 2 s.
    expect(sleeps).toEqual([25, 50, 100, 200, 400, 800, 1000]);
  });

  it('honours olderThan with the timestamp attribute; items without a timestamp stay', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { subjectId: SUBJECT, itemId: 'old', createdAt: '2025-01-01T00:00:00Z' },
        { subjectId: SUBJECT, itemId: 'new', createdAt: '2025-05-01T00:00:00Z' },
        { subjectId: SUBJECT, itemId: 'undated' },
      ],
    });
    ddbMock.on(BatchWriteCommand).resolves({});

    const outcome = await connector().execute(table, invocation({ olderThan: '2025-03-01T00:00:00Z' }));

    expect(outcome).toEqual({ status: 'done', affectedCount: 1 });
    const keys = ddbMock
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.Orders ?? [])
      .map((w) => w.DeleteRequest?.Key);
    expect(keys).toEqual([{ subjectId: SUBJECT, itemId: 'old' }]);
    const projection = ddbMock.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(Object.values(projection?.ExpressionAttributeNames ?? {})).toContain('createdAt');
  });

  it('GSI path: finds items through the index, re-reads them from the table and deletes by the table keys', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { pk: 'e#1', sk: '1', userId: SUBJECT },
        { pk: 'e#2', sk: '2', userId: SUBJECT },
        { pk: 'e#3', sk: '3', userId: SUBJECT },
      ],
    });
    // e#2 now belongs to someone else (the index lags); e#3 is already gone.
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        Events: [
          { pk: 'e#1', sk: '1', userId: SUBJECT },
          { pk: 'e#2', sk: '2', userId: 'someone-else' },
        ],
      },
    });
    ddbMock.on(BatchWriteCommand).resolves({});

    const outcome = await connector().execute(viaIndex, invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 1 });
    const query = ddbMock.commandCalls(QueryCommand)[0]?.args[0].input;
    expect(query).toMatchObject({ TableName: 'Events', IndexName: 'byUser' });
    expect(query?.ConsistentRead).toBeUndefined();
    const get = ddbMock.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.Events;
    expect(get?.ConsistentRead).toBe(true);
    expect(get?.Keys).toEqual([
      { pk: 'e#1', sk: '1' },
      { pk: 'e#2', sk: '2' },
      { pk: 'e#3', sk: '3' },
    ]);
    const writes = ddbMock
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems?.Events ?? []);
    expect(writes).toEqual([{ DeleteRequest: { Key: { pk: 'e#1', sk: '1' } } }]);
  });

  it('GSI path: retries UnprocessedKeys of the table read', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [{ pk: 'e#1', sk: '1', userId: SUBJECT }] });
    ddbMock
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { Events: [] },
        UnprocessedKeys: { Events: { Keys: [{ pk: 'e#1', sk: '1' }] } },
      })
      .resolves({ Responses: { Events: [{ pk: 'e#1', sk: '1', userId: SUBJECT }] } });
    ddbMock.on(BatchWriteCommand).resolves({});

    await expect(connector().execute(viaIndex, invocation())).resolves.toEqual({
      status: 'done',
      affectedCount: 1,
    });
    expect(ddbMock.commandCalls(BatchGetCommand)).toHaveLength(2);
  });

  it('is idempotent: nothing found, nothing written, done with 0', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });

    await expect(connector().execute(table, invocation())).resolves.toEqual({
      status: 'done',
      affectedCount: 0,
    });
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });
});

describe('dynamodb-items errors', () => {
  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'])(
    '%s is retryable, and the message names no subject',
    async (name) => {
      ddbMock.on(QueryCommand).rejects(ddbError(name, 400, 'client'));

      const error = await connector()
        .execute(table, invocation())
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ConnectorRetryableError);
      expect((error as ConnectorRetryableError).code).toBe(name);
      expect((error as Error).message).not.toContain(SUBJECT);
    },
  );

  it('a throttled BatchWriteItem is retryable', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(1) });
    ddbMock.on(BatchWriteCommand).rejects(ddbError('ProvisionedThroughputExceededException', 400, 'client'));

    await expect(connector().execute(table, invocation())).rejects.toBeInstanceOf(ConnectorRetryableError);
  });

  it('a 500 is retryable', async () => {
    ddbMock.on(QueryCommand).rejects(ddbError('InternalServerError', 500, 'server'));

    await expect(connector().execute(table, invocation())).rejects.toBeInstanceOf(ConnectorRetryableError);
  });

  it.each([
    ['ResourceNotFoundException', 'a missing table'],
    ['ValidationException', 'a wrong key schema'],
  ])('%s (%s) is permanent', async (name) => {
    ddbMock.on(QueryCommand).rejects(ddbError(name, 400, 'client'));

    await expect(connector().execute(table, invocation())).rejects.toBeInstanceOf(ConnectorPermanentError);
  });

  it.each<[string, DynamoDbItemsTarget, Partial<ConnectorInvocation>]>([
    ['subjectAttribute not a key and no index', { ...table, subjectAttribute: 'email' }, {}],
    ['no keyAttributes', { ...table, keyAttributes: [] }, {}],
    [
      'olderThan without timestampAttribute',
      { ...table, timestampAttribute: undefined },
      { olderThan: NOW.toISOString() },
    ],
    ['anonymise without attributes', { ...table, anonymiseAttributes: [] }, { action: 'anonymise' }],
    ['anonymise of a key attribute', { ...table, anonymiseAttributes: ['itemId'] }, { action: 'anonymise' }],
  ])('bad target config (%s) is permanent and touches nothing', async (_why, badTarget, overrides) => {
    await expect(connector().execute(badTarget, invocation(overrides))).rejects.toBeInstanceOf(
      ConnectorPermanentError,
    );
    expect(ddbMock.calls()).toHaveLength(0);
  });
});

describe('dynamodb-items anonymise and restrict', () => {
  it('anonymise: one conditional UpdateItem per item setting every attribute to the marker', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(3) });
    ddbMock.on(UpdateCommand).resolves({});

    const outcome = await connector().execute(table, invocation({ action: 'anonymise' }));

    expect(outcome).toEqual({ status: 'done', affectedCount: 3 });
    const updates = ddbMock.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(3);
    const update = updates.find((u) => u.Key?.itemId === 'item-0000');
    expect(update).toMatchObject({
      TableName: 'Orders',
      Key: { subjectId: SUBJECT, itemId: 'item-0000' },
      UpdateExpression: 'SET #a0 = :marker, #a1 = :marker',
      // Never recreate an item that was deleted meanwhile.
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeNames: { '#a0': 'email', '#a1': 'address', '#pk': 'subjectId' },
      ExpressionAttributeValues: { ':marker': ANONYMISED_MARKER },
    });
    expect(ANONYMISED_MARKER).toBe('[erased]');
  });

  it('anonymise: an item deleted meanwhile (condition failed) is skipped, not an error', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(2) });
    ddbMock
      .on(UpdateCommand, { Key: { subjectId: SUBJECT, itemId: 'item-0001' } })
      .rejects(ddbError('ConditionalCheckFailedException', 400, 'client'))
      .on(UpdateCommand, { Key: { subjectId: SUBJECT, itemId: 'item-0000' } })
      .resolves({});

    await expect(connector().execute(table, invocation({ action: 'anonymise' }))).resolves.toEqual({
      status: 'done',
      affectedCount: 1,
    });
  });

  it('anonymise through a GSI updates by the table keys', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [{ pk: 'e#1', sk: '1', userId: SUBJECT }] });
    ddbMock
      .on(BatchGetCommand)
      .resolves({ Responses: { Events: [{ pk: 'e#1', sk: '1', userId: SUBJECT }] } });
    ddbMock.on(UpdateCommand).resolves({});

    await connector().execute(viaIndex, invocation({ action: 'anonymise' }));

    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'Events',
      Key: { pk: 'e#1', sk: '1' },
      ExpressionAttributeNames: { '#a0': 'ip', '#pk': 'pk' },
    });
  });

  it('restrict (ALU-4/ALU-5): sets restricted = true and keeps the first restrictedAt', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(2) });
    ddbMock.on(UpdateCommand).resolves({});

    const outcome = await connector().execute(table, invocation({ action: 'restrict' }));

    expect(outcome).toEqual({ status: 'done', affectedCount: 2 });
    expect(ddbMock.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      UpdateExpression: 'SET #restricted = :true, #restrictedAt = if_not_exists(#restrictedAt, :now)',
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeNames: {
        '#restricted': 'restricted',
        '#restrictedAt': 'restrictedAt',
        '#pk': 'subjectId',
      },
      ExpressionAttributeValues: { ':true': true, ':now': NOW.toISOString() },
    });
  });

  it('a throttled UpdateItem is retryable', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(1) });
    ddbMock.on(UpdateCommand).rejects(ddbError('ThrottlingException', 400, 'client'));

    await expect(connector().execute(table, invocation({ action: 'restrict' }))).rejects.toBeInstanceOf(
      ConnectorRetryableError,
    );
  });

  /** A fake answer that takes 1 ms, and the most calls it had in flight at once. */
  const inFlightProbe = <T>(answer: T) => {
    let inFlight = 0;
    const probe = {
      peak: 0,
      answer: async () => {
        inFlight++;
        probe.peak = Math.max(probe.peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        return answer;
      },
    };
    return probe;
  };

  it('runs updates with bounded concurrency', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(20) });
    const probe = inFlightProbe({});
    ddbMock.on(UpdateCommand).callsFake(probe.answer);

    await connector({ updateConcurrency: 4 }).execute(table, invocation({ action: 'restrict' }));

    expect(probe.peak).toBe(4);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(20);
  });

  it.each([
    { deleteConcurrency: undefined, peak: DEFAULT_DELETE_CONCURRENCY },
    { deleteConcurrency: 4, peak: 4 },
  ])("sends a page's delete batches together, at most $peak at once", async ({ deleteConcurrency, peak }) => {
    // 1,000 keys in one page: 40 batches of 25.
    ddbMock.on(QueryCommand).resolves({ Items: items(1000) });
    const probe = inFlightProbe({ UnprocessedItems: {} });
    ddbMock.on(BatchWriteCommand).callsFake(probe.answer);

    const outcome = await connector(deleteConcurrency === undefined ? {} : { deleteConcurrency }).execute(
      table,
      invocation(),
    );

    expect(probe.peak).toBe(peak);
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(40);
    expect(outcome).toEqual({ status: 'done', affectedCount: 1000 });
  });
});

describe('dynamodb-items verify', () => {
  it('delete: items still present fail verification', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(2) });

    const result = await connector().verify(table, invocation());

    expect(result).toMatchObject({ verified: false, remaining: 2 });
    expect(JSON.stringify(result)).not.toContain(SUBJECT);
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('delete: nothing left is verified', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });

    await expect(connector().verify(table, invocation())).resolves.toEqual({ verified: true });
  });

  it('delete through a GSI: a stale index entry whose item is gone from the table is not "remaining"', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [{ pk: 'e#1', sk: '1', userId: SUBJECT }] });
    ddbMock.on(BatchGetCommand).resolves({ Responses: { Events: [] } });

    await expect(connector().verify(viaIndex, invocation())).resolves.toEqual({ verified: true });
  });

  it('anonymise: every attribute of every item must equal the marker', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { subjectId: SUBJECT, itemId: 'a', email: ANONYMISED_MARKER, address: ANONYMISED_MARKER },
        { subjectId: SUBJECT, itemId: 'b', email: ANONYMISED_MARKER, address: '1 Main St' },
        { subjectId: SUBJECT, itemId: 'c', email: ANONYMISED_MARKER },
      ],
    });

    const result = await connector().verify(table, invocation({ action: 'anonymise' }));

    expect(result).toMatchObject({ verified: false, remaining: 2 });
    const names = Object.values(
      ddbMock.commandCalls(QueryCommand)[0]?.args[0].input.ExpressionAttributeNames ?? {},
    );
    expect(names).toEqual(expect.arrayContaining(['email', 'address']));
  });

  it('restrict: every item must have restricted = true', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { subjectId: SUBJECT, itemId: 'a', restricted: true },
        { subjectId: SUBJECT, itemId: 'b', restricted: 'true' },
      ],
    });

    await expect(connector().verify(table, invocation({ action: 'restrict' }))).resolves.toMatchObject({
      verified: false,
      remaining: 1,
    });
  });

  it('respects olderThan: newer items do not fail a delete verification', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [{ subjectId: SUBJECT, itemId: 'new', createdAt: '2025-05-01T00:00:00Z' }],
    });

    await expect(
      connector().verify(table, invocation({ olderThan: '2025-03-01T00:00:00Z' })),
    ).resolves.toEqual({
      verified: true,
    });
  });
});

describe('dynamodb-items defaults', () => {
  it('sleeps for real between retries when no sleep is injected', async () => {
    vi.useFakeTimers();
    try {
      ddbMock.on(QueryCommand).resolves({ Items: items(1) });
      const leftOver = [{ DeleteRequest: { Key: { subjectId: SUBJECT, itemId: 'item-0000' } } }];
      ddbMock
        .on(BatchWriteCommand)
        .resolvesOnce({ UnprocessedItems: { Orders: leftOver } })
        .resolves({});
      const c = createDynamoDbItemsConnector({
        documents: DynamoDBDocumentClient.from(mockBase()),
        random: () => 1,
      });

      const run = c.execute(table, invocation());
      await vi.advanceTimersByTimeAsync(50);

      await expect(run).resolves.toEqual({ status: 'done', affectedCount: 1 });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('dynamodb-items export (ALU-6)', () => {
  const exportInvocation = { exportId: 'exp_1', subjectId: SUBJECT, dataClasses: ['orders'] };

  it('returns every attribute of the subject’s items, paging through the table with consistent reads', async () => {
    ddbMock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [{ subjectId: SUBJECT, itemId: 'item-1', email: 'a@example.test', tags: new Set(['x', 'y']) }],
        LastEvaluatedKey: { subjectId: SUBJECT, itemId: 'item-1' },
      })
      .resolvesOnce({ Items: [{ subjectId: SUBJECT, itemId: 'item-2', blob: new Uint8Array([0, 255]) }] });

    const exported = await connector().export?.(table, exportInvocation);

    expect(exported).toEqual({
      truncated: false,
      records: [
        { subjectId: SUBJECT, itemId: 'item-1', email: 'a@example.test', tags: ['x', 'y'] },
        { subjectId: SUBJECT, itemId: 'item-2', blob: { encoding: 'base64', content: 'AP8=' } },
      ],
    });
    const queries = ddbMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(queries).toHaveLength(2);
    expect(queries[0]).toMatchObject({ TableName: 'Orders', ConsistentRead: true });
    // No projection: the export is every attribute, not only the keys the erasure needs.
    expect(queries[0]?.ProjectionExpression).toBeUndefined();
    expect(queries[1]?.ExclusiveStartKey).toEqual({ subjectId: SUBJECT, itemId: 'item-1' });
    expect(ddbMock.commandCalls(BatchWriteCommand)).toHaveLength(0);
    expect(ddbMock.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('through a GSI, re-reads whole items from the table and leaves out those no longer the subject’s', async () => {
    ddbMock.on(QueryCommand).resolves({
      Items: [
        { pk: 'e#1', sk: '1', userId: SUBJECT },
        { pk: 'e#2', sk: '2', userId: SUBJECT },
      ],
    });
    ddbMock.on(BatchGetCommand).resolves({
      Responses: {
        Events: [
          { pk: 'e#1', sk: '1', userId: SUBJECT, ip: '192.0.2.1' },
          { pk: 'e#2', sk: '2', userId: 'someone-else', ip: '192.0.2.2' },
        ],
      },
    });

    const exported = await connector().export?.(viaIndex, exportInvocation);

    expect(exported).toEqual({
      truncated: false,
      records: [{ pk: 'e#1', sk: '1', userId: SUBJECT, ip: '192.0.2.1' }],
    });
    expect(ddbMock.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'Events',
      IndexName: 'byUser',
    });
    const get = ddbMock.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.Events;
    expect(get?.ConsistentRead).toBe(true);
    expect(get?.ProjectionExpression).toBeUndefined();
    expect(get?.Keys).toEqual([
      { pk: 'e#1', sk: '1' },
      { pk: 'e#2', sk: '2' },
    ]);
  });

  it('stops at exportMaxItems and says the copy is truncated', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: items(5) });

    const exported = await connector({ exportMaxItems: 3 }).export?.(table, exportInvocation);

    expect(exported?.truncated).toBe(true);
    expect(exported?.records).toHaveLength(3);
  });

  it('classifies a throttled query as retryable, like the erasure', async () => {
    ddbMock.on(QueryCommand).rejects(ddbError('ProvisionedThroughputExceededException', 400, 'client'));

    await expect(connector().export?.(table, exportInvocation)).rejects.toBeInstanceOf(
      ConnectorRetryableError,
    );
  });
});
