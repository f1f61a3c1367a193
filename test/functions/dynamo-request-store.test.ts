/**
 * DynamoRequestStore over a mocked DynamoDBDocumentClient: how it reads the answers of conditional
 * writes and transactions (cancelled = someone else got there first), which the emulator shows
 * only with carefully staged races.
 */
import {
  ConditionalCheckFailedException,
  InternalServerError,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import { HANDLER_TABLES, handlerClients } from '../helpers/handler-deps.js';

const ddb = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  ddb.reset();
});

const TABLE = HANDLER_TABLES.requests;
const store = () => new DynamoRequestStore(handlerClients().documents, TABLE);

const running: ErasureTask = {
  taskId: 'task_1',
  requestId: 'req_1',
  subjectId: 'subject-9d',
  dataClass: 'closed-account',
  action: 'delete',
  target: 'user-files',
  connector: 's3-prefix',
  status: 'running',
  attempts: 2,
  affectedCount: 0,
};
const succeeded: ErasureTask = { ...running, status: 'succeeded', affectedCount: 5 };
const verified: ErasureTask = { ...succeeded, status: 'verified', verifiedAt: '2026-11-21T12:00:00.000Z' };
const failed: ErasureTask = { ...running, status: 'failed', error: 'x', errorCode: 'retries-exhausted' };

const request: ErasureRequest = {
  requestId: 'req_1',
  subjectId: 'subject-9d',
  origin: 'api',
  dataClasses: ['closed-account'],
  reason: 'gdpr-art17-request',
  status: 'received',
  receivedAt: '2026-11-21T12:00:00.000Z',
  deadline: '2026-12-21T12:00:00.000Z',
  taskCount: 1,
  verifiedCount: 0,
  failedCount: 0,
};

const cancelled = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('DynamoRequestStore.recordTaskOutcome', () => {
  it('moves the task and counts it on the request in one transaction, guarded by the state read', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    const counted = await store().recordTaskOutcome(verified, succeeded);

    // Assess
    expect(counted).toBe(true);
    const [transaction] = ddb.commandCalls(TransactWriteCommand);
    const [put, update] = transaction?.args[0].input.TransactItems ?? [];
    expect(put?.Put).toMatchObject({
      TableName: TABLE,
      Item: { pk: 'request#req_1', sk: 'task#task_1', status: 'verified' },
      ExpressionAttributeValues: { ':status': 'succeeded', ':attempts': 2 },
    });
    expect(update?.Update).toMatchObject({
      Key: { pk: 'request#req_1', sk: '#request' },
      UpdateExpression: 'ADD #counter :one',
      ExpressionAttributeNames: { '#counter': 'verifiedCount' },
    });
  });

  it('counts a failed task as failed', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    await store().recordTaskOutcome(failed, running);

    // Assess
    const [transaction] = ddb.commandCalls(TransactWriteCommand);
    expect(transaction?.args[0].input.TransactItems?.[1]?.Update?.ExpressionAttributeNames).toEqual({
      '#counter': 'failedCount',
    });
  });

  it('returns false when the transaction is cancelled: another delivery already counted the task', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled());

    // Act
    const counted = await store().recordTaskOutcome(verified, succeeded);

    // Assess
    expect(counted).toBe(false);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it.each([
    [
      'a conflict with another task of the request finishing at the same moment',
      'None',
      'TransactionConflict',
    ],
    ['throttling', 'ThrottlingError', 'None'],
  ])(
    'does not call the task counted when the transaction was cancelled by %s',
    async (_name, taskCode, requestCode) => {
      // Prepare: the counter item (the request) is hot: every task of the request ADDs to it in a
      // transaction, and DynamoDB cancels a transaction that conflicts with one in progress.
      ddb
        .on(TransactWriteCommand)
        .rejectsOnce(
          new TransactionCanceledException({
            message: 'Transaction cancelled',
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: [{ Code: taskCode }, { Code: requestCode }],
          }),
        )
        .resolves({});

      // Act
      const outcome = await store()
        .recordTaskOutcome(verified, succeeded)
        .then(
          (counted) => ({ counted }),
          (error: unknown) => ({ error }),
        );

      // Assess: nothing was written, so `false` ("already counted") would make the worker acknowledge
      // the message with the task left `succeeded` and the request never settled. Retrying (true) or
      // throwing (SQS redelivers) are both fine.
      expect(outcome).not.toEqual({ counted: false });
    },
  );

  it('rethrows any other failure instead of calling the task counted', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));

    // Act
    const outcome = store().recordTaskOutcome(verified, succeeded);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(InternalServerError);
  });
});

describe('DynamoRequestStore conditional writes', () => {
  it('transitionTask returns false when the task is no longer in the state it was read in', async () => {
    // Prepare
    ddb.on(PutCommand).rejects(conditionFailed());

    // Act
    const moved = await store().transitionTask(succeeded, running);

    // Assess
    expect(moved).toBe(false);
  });

  it('transitionRequest returns false on a failed condition and takes a final request out of the open index', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({});
    const completed: ErasureRequest = {
      ...request,
      status: 'completed',
      completedAt: '2026-11-22T00:00:00.000Z',
    };

    // Act
    const lost = await store().transitionRequest(completed, ['dispatched']);
    const won = await store().transitionRequest(completed, ['dispatched']);

    // Assess
    expect([lost, won]).toEqual([false, true]);
    const update = ddb.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(update?.UpdateExpression).toMatch(/ REMOVE openBucket$/);
    expect(update?.ConditionExpression).toBe('#status IN (:from0)');
    // The counters belong to the tasks' transactions; a status change must not overwrite them.
    expect(Object.values(update?.ExpressionAttributeNames ?? {})).not.toContain('verifiedCount');
  });

  it('transitionRequest writes only what the transition changed, so a concurrent deadline extension survives', async () => {
    // Prepare: the request was read before compliance extended its deadline.
    ddb.on(UpdateCommand).resolves({});
    const completed: ErasureRequest = {
      ...request,
      status: 'completed',
      completedAt: '2026-11-22T00:00:00.000Z',
    };

    // Act
    await store().transitionRequest(completed, ['dispatched'], request);

    // Assess
    const names = Object.values(
      ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeNames ?? {},
    );
    expect(names).toContain('completedAt');
    expect(names).not.toContain('deadline');
  });
});

describe('DynamoRequestStore.create', () => {
  const idempotency = {
    key: 'client-key-0001',
    bodyHash: 'hash-1',
    now: new Date('2026-11-21T12:00:00.000Z'),
  };

  it('answers with the stored idempotency record when the key was claimed first', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled());
    ddb.on(GetCommand).resolves({ Item: { requestId: 'req_first', bodyHash: 'hash-1' } });

    // Act
    const outcome = await store().create(request, [], idempotency);

    // Assess
    expect(outcome).toEqual({
      created: false,
      existing: 'idempotency-key',
      record: { requestId: 'req_first', bodyHash: 'hash-1' },
    });
  });

  it('answers `existing: request` when a request with the same id exists (a re-run sweep)', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled());
    ddb.on(QueryCommand).resolves({ Items: [{ pk: 'request#req_1', sk: '#request', ...request }] });

    // Act
    const outcome = await store().create(request, []);

    // Assess
    expect(outcome).toEqual({ created: false, existing: 'request' });
  });

  it('rethrows a cancellation it cannot explain', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled());
    ddb.on(GetCommand).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [] });

    // Act
    const outcome = store().create(request, [], idempotency);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(TransactionCanceledException);
  });

  it('stores the idempotency key hashed, never as the client sent it', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    await store().create(request, [], idempotency);

    // Assess
    const [transaction] = ddb.commandCalls(TransactWriteCommand);
    expect(JSON.stringify(transaction?.args[0].input)).not.toContain(idempotency.key);
    const idem = transaction?.args[0].input.TransactItems?.at(-1)?.Put?.Item;
    expect(idem).toMatchObject({ sk: '#idem', requestId: 'req_1', expiresAt: 1_795_262_400 + 7 * 24 * 3600 });
  });
});
