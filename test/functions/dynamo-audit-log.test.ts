/**
 * Audit appends (DynamoAuditLog.planAppend, written by DynamoUnitOfWork) over a mocked
 * DynamoDBDocumentClient: the races the emulator cannot be made to show on demand, namely a chain
 * head moved by another writer between the read and the write, and a transaction that keeps being
 * cancelled. Idempotency, the system chain, concurrent writers on one chain and the refusal of raw
 * subject ids run against DynamoDB Local in test/integration/unit-of-work.test.ts.
 */
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { hashEntry, pseudonymise } from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { AuditRecord, Change } from '../../domain/ports/index.js';
import { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import {
  COMMIT_BACKOFF_CAP_MS,
  DynamoUnitOfWork,
  MAX_COMMIT_ATTEMPTS,
} from '../../functions/adapters/dynamo-unit-of-work.js';

const ddb = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  ddb.reset();
});

const PSEUDONYM_KEY = 'test-pseudonym-key-0123456789abcdef';
const AUDIT_TABLE = 'test-audit';
const SUBJECT = 'subject-c0ffee';
const CHAIN = pseudonymise(PSEUDONYM_KEY, SUBJECT);

/** A unit of work over the mocked client; its back-off waits are recorded instead of waited. */
const unitOfWork = () => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const sleeps: number[] = [];
  const counted: string[] = [];
  const uow = new DynamoUnitOfWork(
    documents,
    {
      requests: new DynamoRequestStore(documents, 'test-requests', 'test-pseudonym-key-0123456789'),
      holds: new DynamoHoldStore(documents, 'test-legal-holds', 'test-pseudonym-key-0123456789'),
      audit: new DynamoAuditLog(documents, AUDIT_TABLE, PSEUDONYM_KEY),
    },
    async (ms) => {
      sleeps.push(ms);
    },
    { count: (name, value) => counted.push(...Array<string>(value).fill(name)) },
  );
  return { uow, sleeps, counted };
};

const verified: AuditRecord = {
  event: {
    type: 'task.verified',
    at: '2026-11-21T12:00:00.000Z',
    idempotencyKey: 'task:task_1:verified',
    requestId: 'req_1',
    taskId: 'task_1',
    detail: { affectedCount: 3 },
  },
  subjectId: SUBJECT,
};

const running: ErasureTask = {
  taskId: 'task_1',
  requestId: 'req_1',
  subjectId: SUBJECT,
  dataClass: 'closed-account',
  action: 'delete',
  target: 'user-files',
  connector: 's3-prefix',
  status: 'running',
  attempts: 1,
  affectedCount: 0,
};
const succeeded: Change = {
  kind: 'task.transition',
  next: { ...running, status: 'succeeded', affectedCount: 3 },
  expected: running,
};

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const headItem = (seq: number, hash: string) => ({ chainId: CHAIN, seq: 0, headSeq: seq, headHash: hash });
const isHeadRead = (input: GetCommandInput) => input.Key?.chainId === CHAIN && input.Key?.seq === 0;

const transactions = () =>
  ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems ?? []);

describe('audit appends in a commit', () => {
  it('re-plans from the head another writer moved between its read and its write, keeping the state change', async () => {
    // Prepare: the head is at seq 3 on the first read and at seq 4 (another writer) on the second.
    const heads = [headItem(3, 'a'.repeat(64)), headItem(4, 'b'.repeat(64))];
    ddb.on(GetCommand).callsFake((input: GetCommandInput) => {
      if (isHeadRead(input)) return { Item: heads.shift() ?? headItem(4, 'b'.repeat(64)) };
      throw new Error(`unexpected read ${JSON.stringify(input.Key)}`);
    });
    // Items: the task, then entry, marker and head. The entry's seq is taken, the head moved.
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'ConditionalCheckFailed', 'None', 'ConditionalCheckFailed'))
      .resolves({});
    const { uow, sleeps, counted } = unitOfWork();

    // Act
    const result = await uow.commit([succeeded], [verified]);

    // Assess
    expect(result).toEqual({ committed: true });
    expect(sleeps).toHaveLength(1);
    expect(counted).toEqual(['CommitRetried']);
    const [first, second] = transactions();
    expect(transactions()).toHaveLength(2);
    expect(first?.[1]?.Put?.Item).toMatchObject({ seq: 4, prevHash: 'a'.repeat(64) });
    expect(first?.[3]?.Put?.ExpressionAttributeValues).toEqual({ ':expectedSeq': 3 });
    expect(second?.[0]).toEqual(first?.[0]);
    const { day, ...entry } = (second?.[1]?.Put?.Item ?? {}) as AuditEntry & { day: string };
    expect(entry).toMatchObject({
      chainId: CHAIN,
      seq: 5,
      prevHash: 'b'.repeat(64),
      subjectPseudonym: CHAIN,
    });
    expect(entry.hash).toBe(hashEntry(entry));
    expect(day).toBe('2026-11-21');
    expect(second?.[2]?.Put?.Item).toMatchObject({ seq: 0, entryChainId: CHAIN, entrySeq: 5 });
    expect(second?.[3]?.Put).toMatchObject({
      Item: { chainId: CHAIN, seq: 0, headSeq: 5, headHash: entry.hash },
      ConditionExpression: 'headSeq = :expectedSeq',
      ExpressionAttributeValues: { ':expectedSeq': 4 },
    });
  });

  it('counts a race, not a replay: a record found appended already is dropped and the state change alone is written', async () => {
    // Prepare: the head is read at seq 3; the transaction (task, entry, marker, head) is cancelled
    // on the marker alone: another delivery appended this record. The retry writes the task alone.
    ddb.on(GetCommand).resolves({ Item: headItem(3, 'a'.repeat(64)) });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'None', 'ConditionalCheckFailed', 'None'));
    ddb.on(UpdateCommand).resolves({});
    ddb.on(PutCommand).resolves({});
    const { uow, sleeps, counted } = unitOfWork();

    // Act
    const result = await uow.commit([succeeded], [verified]);

    // Assess
    expect(result).toEqual({ committed: true });
    expect(transactions()).toHaveLength(1);
    // One plain conditional write of the task: nothing left to audit.
    expect([...ddb.commandCalls(PutCommand), ...ddb.commandCalls(UpdateCommand)]).toHaveLength(1);
    expect(sleeps).toHaveLength(1);
    expect(counted).toEqual([]);
  });

  it(`gives up after ${MAX_COMMIT_ATTEMPTS} cancelled attempts, backing off longer each time up to ${COMMIT_BACKOFF_CAP_MS} ms`, async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict', 'None'));
    const { uow, sleeps, counted } = unitOfWork();

    // Act
    const commit = uow.commit([], [verified]);

    // Assess: every lost race and the give-up are counted, for the operators' dashboards and alarm.
    await expect(commit).rejects.toThrow(`A commit did not settle after ${MAX_COMMIT_ATTEMPTS} attempts`);
    expect(transactions()).toHaveLength(MAX_COMMIT_ATTEMPTS);
    expect(counted).toEqual([...Array<string>(MAX_COMMIT_ATTEMPTS).fill('CommitRetried'), 'CommitGaveUp']);
    expect(sleeps).toHaveLength(MAX_COMMIT_ATTEMPTS - 1);
    sleeps.forEach((ms, index) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(Math.min(COMMIT_BACKOFF_CAP_MS, 10 * 2 ** (index + 1)));
    });
  });
});
