/**
 * A task's outcome (DynamoRequestStore's `task.outcome` items, written by DynamoUnitOfWork) over a
 * mocked DynamoDBDocumentClient: the cancellations the emulator cannot be made to show on demand.
 * The request item is hot (every task of the request counts itself on it), so DynamoDB cancels a
 * transaction that meets another in progress; that must be retried, never reported as "already
 * counted". The conditions themselves run against DynamoDB Local in
 * test/integration/unit-of-work.test.ts.
 */
import { DynamoDBClient, InternalServerError, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { AuditRecord, Change } from '../../domain/ports/index.js';
import { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';

const ddb = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  ddb.reset();
});

const REQUESTS_TABLE = 'test-requests';

/** A unit of work over the mocked client; its back-off waits are recorded instead of waited. */
const unitOfWork = () => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const sleeps: number[] = [];
  const uow = new DynamoUnitOfWork(
    documents,
    {
      requests: new DynamoRequestStore(documents, REQUESTS_TABLE, 'test-pseudonym-key-0123456789'),
      holds: new DynamoHoldStore(documents, 'test-legal-holds', 'test-pseudonym-key-0123456789'),
      audit: new DynamoAuditLog(documents, 'test-audit', 'test-pseudonym-key-0123456789abcdef'),
    },
    async (ms) => {
      sleeps.push(ms);
    },
  );
  return { uow, sleeps };
};

const succeeded: ErasureTask = {
  taskId: 'task_1',
  requestId: 'req_1',
  subjectId: 'subject-9d0b1e',
  dataClass: 'closed-account',
  action: 'delete',
  target: 'user-files',
  connector: 's3-prefix',
  status: 'succeeded',
  attempts: 2,
  affectedCount: 5,
};
const outcome: Change = {
  kind: 'task.outcome',
  next: { ...succeeded, status: 'verified', verifiedAt: '2026-11-21T12:00:00.000Z' },
  expected: succeeded,
};
const audit: AuditRecord = {
  event: {
    type: 'task.verified',
    at: '2026-11-21T12:00:00.000Z',
    idempotencyKey: 'task:task_1:verified:2',
    requestId: 'req_1',
    taskId: 'task_1',
  },
  subjectId: succeeded.subjectId,
};

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const transactions = () =>
  ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);

describe('task.outcome when DynamoDB cancels the transaction', () => {
  // Items: the task, the request's counter, then the audit entry, its marker and the chain head.
  it.each([
    [
      'a conflict with another task of the request finishing at the same moment',
      ['None', 'TransactionConflict', 'None', 'None', 'None'],
    ],
    ['throttling', ['ThrottlingError', 'None', 'None', 'None', 'None']],
    ['a conflict on the chain head', ['None', 'None', 'None', 'None', 'TransactionConflict']],
  ])('retries a transaction cancelled by %s, and counts the task', async (_name, codes) => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(...codes))
      .resolves({});
    const { uow, sleeps } = unitOfWork();

    // Act
    const result = await uow.commit([outcome], [audit]);

    // Assess: nothing was written by the cancelled attempt, so `committed: false` ("already
    // counted") would leave the task `succeeded` and the request never settled.
    expect(result).toEqual({ committed: true });
    const [first, second] = transactions();
    expect(transactions()).toHaveLength(2);
    expect(second).toEqual(first);
    expect(second?.[1]?.Update).toMatchObject({
      TableName: REQUESTS_TABLE,
      Key: { pk: 'request#req_1', sk: '#request' },
      UpdateExpression: 'ADD #counter :one',
      ExpressionAttributeNames: { '#counter': 'verifiedCount' },
    });
    expect(sleeps).toHaveLength(1);
  });

  it('rethrows any other failure at once instead of calling the task counted', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));
    const { uow, sleeps } = unitOfWork();

    // Act
    const commit = uow.commit([outcome], [audit]);

    // Assess
    await expect(commit).rejects.toBeInstanceOf(InternalServerError);
    expect(transactions()).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});
