/**
 * DynamoAuditLog over a mocked DynamoDBDocumentClient: the races and refusals of an append that the
 * emulator cannot be made to show on demand (a concurrent head move between read and write, a
 * marker written by an earlier delivery, an event carrying the raw subject id).
 */
import { InternalServerError, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chainEntry, GENESIS_HASH, hashEntry } from '../../domain/audit/index.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import { ValidationError } from '../../domain/errors.js';
import { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import { HANDLER_PSEUDONYM_KEY, HANDLER_TABLES, handlerClients } from '../helpers/handler-deps.js';

const ddb = mockClient(DynamoDBDocumentClient);

beforeEach(() => {
  // The append's back-off between attempts is random; no waiting in tests.
  vi.spyOn(Math, 'random').mockReturnValue(0);
});

afterEach(() => {
  ddb.reset();
  vi.restoreAllMocks();
});

const SUBJECT = 'subject-c0ffee';
const TABLE = HANDLER_TABLES.audit;
const log = () => new DynamoAuditLog(handlerClients().documents, TABLE, HANDLER_PSEUDONYM_KEY);
const CHAIN = log().chainIdFor(SUBJECT);

const event = (overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  type: 'task.verified',
  at: '2026-11-21T12:00:00.000Z',
  idempotencyKey: 'task:task_1:verified',
  requestId: 'req_1',
  taskId: 'task_1',
  detail: { affectedCount: 3 },
  ...overrides,
});

const headItem = (seq: number, hash: string) => ({ chainId: CHAIN, seq: 0, headSeq: seq, headHash: hash });

const isMarkerRead = (input: GetCommandInput) => String(input.Key?.chainId).startsWith('key#');
const isHeadRead = (input: GetCommandInput) => input.Key?.chainId === CHAIN && input.Key?.seq === 0;

const cancelled = () =>
  new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
  });

describe('DynamoAuditLog.append', () => {
  it('re-reads the head and appends after it when a concurrent writer moved it first', async () => {
    // Prepare: the head is at seq 3 on the first read and at seq 4 (another writer) on the second.
    const heads = [headItem(3, 'a'.repeat(64)), headItem(4, 'b'.repeat(64))];
    ddb.on(GetCommand).callsFake((input: GetCommandInput) => {
      if (isMarkerRead(input)) return {};
      if (isHeadRead(input)) return { Item: heads.shift() ?? headItem(4, 'b'.repeat(64)) };
      throw new Error(`unexpected read ${JSON.stringify(input.Key)}`);
    });
    ddb.on(TransactWriteCommand).rejectsOnce(cancelled()).resolves({});

    // Act
    const entry = await log().append(event(), SUBJECT);

    // Assess
    expect(entry).toMatchObject({ chainId: CHAIN, seq: 5, prevHash: 'b'.repeat(64) });
    expect(entry.hash).toBe(hashEntry(entry));
    const transactions = ddb.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems);
    expect(transactions).toHaveLength(2);
    const [first, second] = transactions;
    expect(first?.[0]?.Put?.Item).toMatchObject({ seq: 4, prevHash: 'a'.repeat(64) });
    expect(first?.[1]?.Put?.ExpressionAttributeValues).toEqual({ ':expectedSeq': 3 });
    expect(second?.[0]?.Put?.Item).toMatchObject({ seq: 5, prevHash: 'b'.repeat(64), day: '2026-11-21' });
    expect(second?.[1]?.Put).toMatchObject({
      Item: { chainId: CHAIN, seq: 0, headSeq: 5, headHash: entry.hash },
      ConditionExpression: 'headSeq = :expectedSeq',
      ExpressionAttributeValues: { ':expectedSeq': 4 },
    });
    expect(second?.[2]?.Put?.Item).toMatchObject({ seq: 0, entryChainId: CHAIN, entrySeq: 5 });
  });

  it('starts a chain with a head that must not exist yet', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    const entry = await log().append(event(), SUBJECT);

    // Assess
    expect(entry).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, subjectPseudonym: CHAIN });
    const [transaction] = ddb.commandCalls(TransactWriteCommand);
    const head = transaction?.args[0].input.TransactItems?.[1]?.Put;
    expect(head?.ConditionExpression).toBe('attribute_not_exists(chainId)');
    expect(head?.ExpressionAttributeValues).toBeUndefined();
  });

  it('returns the entry an earlier append stored under the same idempotency key, and writes nothing', async () => {
    // Prepare
    const stored = chainEntry({ seq: 6, hash: 'c'.repeat(64) }, event(), CHAIN, CHAIN);
    ddb.on(GetCommand).callsFake((input: GetCommandInput) => {
      if (isMarkerRead(input)) {
        return { Item: { chainId: input.Key?.chainId, seq: 0, entryChainId: CHAIN, entrySeq: stored.seq } };
      }
      if (input.Key?.chainId === CHAIN && input.Key?.seq === stored.seq) {
        return { Item: { ...stored, day: '2026-11-21' } };
      }
      throw new Error(`unexpected read ${JSON.stringify(input.Key)}`);
    });

    // Act
    const entry = await log().append(event({ at: '2026-11-22T08:00:00.000Z' }), SUBJECT);

    // Assess
    expect(entry).toEqual(stored);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('keys the marker by chain, so the same event key on two chains is appended to both', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});
    const audit = log();

    // Act
    await audit.append(event(), SUBJECT);
    await audit.append(event(), 'subject-other');

    // Assess
    const markers = ddb
      .commandCalls(TransactWriteCommand)
      .map((c) => c.args[0].input.TransactItems?.[2]?.Put?.Item?.chainId);
    expect(markers).toHaveLength(2);
    expect(markers[0]).not.toBe(markers[1]);
  });

  it.each([
    ['a detail value', { detail: { note: `erased files/${SUBJECT}/` } }, 'detail.note'],
    ['a request id', { requestId: `req-${SUBJECT}` }, 'requestId'],
    ['the idempotency key', { idempotencyKey: `notice:${SUBJECT.toUpperCase()}` }, 'idempotencyKey'],
  ])(
    'refuses an event with the raw subject id in %s, and writes nothing',
    async (_name, overrides, field) => {
      // Act
      const append = log().append(event(overrides), SUBJECT);

      // Assess
      await expect(append).rejects.toBeInstanceOf(ValidationError);
      await expect(append).rejects.toMatchObject({ field });
      await expect(append).rejects.not.toHaveProperty('message', expect.stringContaining(SUBJECT));
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('does not retry an error that is not a cancelled transaction', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(new InternalServerError({ message: 'boom', $metadata: {} }));

    // Act
    const append = log().append(event(), SUBJECT);

    // Assess
    await expect(append).rejects.toBeInstanceOf(InternalServerError);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up after a bounded number of cancelled attempts', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).rejects(cancelled());

    // Act
    const append = log().append(event(), SUBJECT);

    // Assess
    await expect(append).rejects.toThrow(/did not settle after 8 attempts/);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(8);
  });

  it('appends events without a subject to the system chain, with no pseudonym', async () => {
    // Prepare
    ddb.on(GetCommand).resolves({});
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    const entry = await log().append(event({ type: 'sweep.finished', idempotencyKey: 'sweep:2026-11-21' }));

    // Assess
    expect(entry.chainId).toBe('system');
    expect(entry).not.toHaveProperty('subjectPseudonym');
  });
});
