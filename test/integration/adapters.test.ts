/**
 * The reads of the DynamoDB adapters against DynamoDB Local (keys, indexes, pagination past
 * DynamoDB's 1 MB page) and SqsTaskQueue against fauxqs. What each Change writes, and when it is
 * refused, is in unit-of-work.test.ts; SQS partial batch failures, which no emulator produces on
 * demand, in test/functions/sqs-task-queue.test.ts.
 */
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { pseudonymise, verifyChain } from '../../domain/audit/index.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import type { LegalHold } from '../../domain/holds.js';
import type { AuditRecord, Change, ReviewItem, TaskMessage } from '../../domain/ports/index.js';
import { dueBucket } from '../../domain/schedule/buckets.js';
import type { EventRef, ScheduleEntry } from '../../domain/schedule/types.js';
import type { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import type { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import {
  DynamoRequestStore,
  LEGACY_OPEN_BUCKET,
  OPEN_SHARDS,
} from '../../functions/adapters/dynamo-request-store.js';
import type { DynamoScheduleStore } from '../../functions/adapters/dynamo-schedule-store.js';
import type { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { SqsTaskQueue } from '../../functions/adapters/sqs-task-queue.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, testClients, uniquePrefix } from '../helpers/emulators.js';
import { storedRequest, storedTask } from '../helpers/factories.js';

const PSEUDONYM_KEY = 'adapters-test-pseudonym-key-0123456789';
const SHARDS = 4;
const NOW = '2026-11-21T12:00:00.000Z';
/** ~30 KB: 40 items carrying it fill more than one 1 MB page of a Query. */
const PADDING = 'x'.repeat(30_000);

const clients = testClients();
let resources: OrchestratorResources;
let requests: DynamoRequestStore;
let schedules: DynamoScheduleStore;
let holds: DynamoHoldStore;
let audit: DynamoAuditLog;
let uow: DynamoUnitOfWork;

beforeAll(async () => {
  ({ resources, requests, schedules, holds, audit, uow } = await createTestAdapters(
    'adapters',
    clients,
    PSEUDONYM_KEY,
    SHARDS,
  ));
});

afterAll(async () => {
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

// ---- fixtures and helpers ----------------------------------------------------------------------

let counter = 0;
/** A fresh name per call: the tests of this file share one set of tables. */
const fresh = (name: string): string => `${name}-${String(++counter).padStart(3, '0')}`;

const aRequest = (overrides: Partial<ErasureRequest> = {}) => storedRequest(fresh, NOW, overrides);
const aTask = (request: ErasureRequest, overrides: Partial<ErasureTask> = {}) =>
  storedTask(fresh, request, overrides);

const commitOk = async (changes: readonly Change[], records: readonly AuditRecord[] = []): Promise<void> => {
  expect(await uow.commit(changes, records)).toEqual({ committed: true });
};

/** What `act` answers, and how many Query calls (pages) it took. */
const countingQueries = async <T>(act: () => Promise<T>): Promise<{ result: T; queries: number }> => {
  const send = vi.spyOn(clients.documents, 'send');
  try {
    const result = await act();
    return { result, queries: send.mock.calls.filter(([command]) => command instanceof QueryCommand).length };
  } finally {
    send.mockRestore();
  }
};

const byTaskId = (a: ErasureTask, b: ErasureTask) => a.taskId.localeCompare(b.taskId);

// ---- RequestStore ------------------------------------------------------------------------------

describe('DynamoRequestStore reads', () => {
  it('reads a request with more tasks than fit in one page, every task once', async () => {
    // Prepare: tasks carrying ~30 KB each (a long error text).
    const request = aRequest({ taskCount: 40 });
    const tasks = Array.from({ length: 40 }, () => aTask(request, { error: PADDING }));
    await commitOk([{ kind: 'request.create', request, tasks }]);

    // Act
    const { result, queries } = await countingQueries(() => requests.get(request.requestId));

    // Assess
    expect(queries).toBeGreaterThan(1);
    expect(result?.request).toEqual(request);
    expect(result?.tasks).toEqual([...tasks].sort(byTaskId));
  });

  it('answers undefined for a request, task, task id or Idempotency-Key it does not have', async () => {
    // Prepare: a request with a task, so "not found" is not an empty table.
    const request = aRequest({ taskCount: 1 });
    const task = aTask(request);
    await commitOk([{ kind: 'request.create', request, tasks: [task] }]);

    // Act
    const answers = await Promise.all([
      requests.get(fresh('req')),
      requests.getTask(request.requestId, fresh('task')),
      requests.getTask(fresh('req'), task.taskId),
      requests.requestIdOfTask(fresh('task')),
      requests.idempotencyRecord(fresh('client-key')),
    ]);

    // Assess
    expect(answers).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('reads only the open requests whose review time has come, across pages and shards', async () => {
    // Prepare: 40 open requests (~30 KB each), received 2031-01-01 (review due 2 minutes later),
    // and final ones received at the same time.
    const receivedAt = '2031-01-01T00:00:00.000Z';
    const open = Array.from({ length: 40 }, () => aRequest({ reason: PADDING, receivedAt }));
    for (const request of open) await commitOk([{ kind: 'request.create', request, tasks: [] }]);
    const rejected = aRequest({ status: 'rejected', receivedAt });
    const completed = aRequest({ status: 'dispatched', receivedAt, dispatchedAt: receivedAt });
    await commitOk([
      { kind: 'request.create', request: rejected, tasks: [] },
      { kind: 'request.create', request: completed, tasks: [] },
    ]);
    await commitOk([
      {
        kind: 'request.transition',
        previous: completed,
        next: { ...completed, status: 'completed', completedAt: receivedAt },
        from: ['dispatched'],
      },
    ]);
    const ours = (items: readonly ReviewItem[]) =>
      items.filter((item) => open.some((candidate) => candidate.requestId === item.request.requestId));

    // Act
    const early = await requests.reviewDue('2031-01-01T00:01:59.999Z');
    const { result, queries } = await countingQueries(() => requests.reviewDue('2031-01-01T00:02:00.000Z'));
    const [first, second] = open;
    await requests.deferReview(
      first?.requestId ?? '',
      '2031-01-01T00:02:00.000Z',
      '2031-01-01T01:00:00.000Z',
    );
    // A review time that moved since it was read is left alone.
    await requests.deferReview(
      second?.requestId ?? '',
      '2031-01-01T00:00:00.000Z',
      '2031-01-01T01:00:00.000Z',
    );
    const afterDefer = await requests.reviewDue('2031-01-01T00:02:00.000Z');

    // Assess
    expect(ours(early)).toEqual([]);
    expect(queries).toBeGreaterThanOrEqual(OPEN_SHARDS);
    expect(
      ours(result)
        .map((item) => item.request)
        .sort((a, b) => a.requestId.localeCompare(b.requestId)),
    ).toEqual([...open].sort((a, b) => a.requestId.localeCompare(b.requestId)));
    expect(ours(result).every((item) => item.reviewAt === '2031-01-01T00:02:00.000Z')).toBe(true);
    const ids = result.map((item) => item.request.requestId);
    expect(ids).not.toContain(rejected.requestId);
    expect(ids).not.toContain(completed.requestId);
    expect(
      result.every(
        (item) => !('openBucket' in item.request) && !('reviewAt' in item.request) && !('pk' in item.request),
      ),
    ).toBe(true);
    expect(ours(afterDefer).map((item) => item.request.requestId)).not.toContain(first?.requestId);
    expect(ours(afterDefer).map((item) => item.request.requestId)).toContain(second?.requestId);
  });

  it('moves open requests of the old format (one `open` bucket, no review time) into the shards, so the sweep reviews and counts them', async () => {
    // Prepare: requests as a version before the sharded indexes wrote them, far from other tests.
    const dispatched = aRequest({
      status: 'dispatched',
      taskCount: 2,
      receivedAt: '2040-01-01T00:00:00.000Z',
      dispatchedAt: '2040-01-01T00:00:00.000Z',
      deadline: '2040-01-31T00:00:00.000Z',
    });
    const received = aRequest({
      receivedAt: '2040-01-01T00:00:00.000Z',
      deadline: '2040-01-31T00:00:00.000Z',
    });
    for (const request of [dispatched, received]) {
      await clients.documents.send(
        new PutCommand({
          TableName: resources.tables.requests,
          Item: {
            pk: `request#${request.requestId}`,
            sk: '#request',
            ...request,
            openBucket: LEGACY_OPEN_BUCKET,
          },
        }),
      );
    }
    // A store of its own: the file's store has read the old bucket empty already.
    const upgraded = new DynamoRequestStore(clients.documents, resources.tables.requests, PSEUDONYM_KEY);
    const legacyQueries = (calls: unknown[][]) =>
      calls.filter(
        ([command]) =>
          command instanceof QueryCommand &&
          command.input.ExpressionAttributeValues?.[':legacy'] === LEGACY_OPEN_BUCKET,
      ).length;

    // Act
    const countsBefore = await upgraded.deadlineCounts('2040-01-31T00:00:00.001Z', 0);
    const send = vi.spyOn(clients.documents, 'send');
    const due = await upgraded.reviewDue('2040-01-01T01:00:00.000Z');
    const again = await upgraded.reviewDue('2040-01-01T01:00:00.000Z');
    const third = await upgraded.reviewDue('2040-01-01T01:00:00.000Z');
    const calls = send.mock.calls;
    send.mockRestore();
    const countsAfter = await upgraded.deadlineCounts('2040-01-31T00:00:00.001Z', 0);

    // Assess: both reviewed (the dispatched one 30 minutes after dispatch), and counted as overdue.
    const ids = (items: readonly ReviewItem[]) => items.map((item) => item.request.requestId);
    expect(ids(due)).toEqual(expect.arrayContaining([dispatched.requestId, received.requestId]));
    expect(due.find((item) => item.request.requestId === dispatched.requestId)?.reviewAt).toBe(
      '2040-01-01T00:30:00.000Z',
    );
    expect(ids(again)).toEqual(expect.arrayContaining([dispatched.requestId, received.requestId]));
    expect(countsAfter.overdue - countsBefore.overdue).toBe(2);
    // The old bucket is read until it is empty, then never again by this store.
    expect(legacyQueries(calls)).toBe(2);
    expect(ids(third)).toEqual(expect.arrayContaining([dispatched.requestId]));
  });

  it('counts open requests past and near their deadline with the index, not by reading them', async () => {
    // Prepare: deadlines 0..9 hours after T, far from any other test's requests; one final.
    const at = (hours: number) =>
      new Date(Date.parse('2095-06-01T00:00:00.000Z') + hours * 3_600_000).toISOString();
    for (let hour = 0; hour < 10; hour++) {
      await commitOk([{ kind: 'request.create', request: aRequest({ deadline: at(hour) }), tasks: [] }]);
    }
    await commitOk([
      { kind: 'request.create', request: aRequest({ status: 'rejected', deadline: at(1) }), tasks: [] },
    ]);

    // Act: the deadline instant itself is on time (not overdue) and near.
    const before = await requests.deadlineCounts(at(0), 4 * 3_600_000);
    const later = await requests.deadlineCounts(at(6), 3_600_000);

    // Assess
    expect(before.nearDeadline).toBe(5);
    expect(later.overdue - before.overdue).toBe(6);
    expect(later.nearDeadline).toBe(2);
  });
});

describe('DynamoAuditLog unanchored marks (byUnanchored index)', () => {
  const mark = (subjects: readonly string[], key: string) =>
    commitOk(
      [],
      subjects.map((subjectId, index) => ({
        event: { type: 'hold.placed', at: NOW, idempotencyKey: `${key}-${index}` } as AuditEvent,
        subjectId,
      })),
    );

  it('reads only the heads that moved since they were marked anchored; a moved head keeps its mark', async () => {
    // Prepare: 30 chains, all anchored, then 4 of them move.
    const subjects = Array.from({ length: 30 }, (_, index) => `unanchored-subject-${index}`);
    await mark(subjects, 'first');
    await audit.markAnchored(await audit.unanchoredHeads());
    expect(await audit.unanchoredHeads()).toEqual([]);
    await mark(subjects.slice(0, 4), 'second');

    // Act
    const { result: moved, queries } = await countingQueries(() => audit.unanchoredHeads());
    // One of them moves again before its mark is cleared.
    await mark(subjects.slice(0, 1), 'third');
    await audit.markAnchored(moved);

    // Assess
    expect(queries).toBe(8);
    expect(moved.map((head) => head.chainId).sort()).toEqual(
      subjects
        .slice(0, 4)
        .map((subject) => audit.chainIdFor(subject))
        .sort(),
    );
    expect(moved.every((head) => head.seq === 2)).toBe(true);
    expect(await audit.unanchoredHeads()).toEqual([
      expect.objectContaining({ chainId: audit.chainIdFor(subjects[0]), seq: 3 }),
    ]);
  });
});

// ---- AuditLog ----------------------------------------------------------------------------------

describe('DynamoAuditLog reads', () => {
  /** Day D of the data set: a day no other test of this file writes audit entries on. */
  const DAY = '2031-03-10';
  const SUBJECT = 'audit-reader-subject';
  const OTHER_SUBJECT = 'audit-reader-other';
  const REQUEST = 'req_audit_reader';
  const at = (day: string, minutes: number) =>
    new Date(Date.parse(`${day}T00:00:00.000Z`) + minutes * 60_000).toISOString();
  const event = (key: string, when: string, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
    type: 'task.verified',
    at: when,
    idempotencyKey: key,
    requestId: REQUEST,
    ...overrides,
  });
  /** 40 entries of ~30 KB on day D, one on the days either side, and entries of another subject on D. */
  const big = Array.from({ length: 40 }, (_, index) =>
    event(`big-${index}`, at(DAY, index), { detail: { note: PADDING } }),
  );
  const dayBefore = event('before', at('2031-03-09', 23 * 60));
  const dayAfter = event('after', at('2031-03-11', 60));
  const otherRequest = event('other-request', at(DAY, 12 * 60), { requestId: 'req_audit_other' });
  const sameRequestOtherChain = event('other-chain', at(DAY, 13 * 60));

  beforeAll(async () => {
    await commitOk(
      [],
      big.map((stored) => ({ event: stored, subjectId: SUBJECT })),
    );
    await commitOk(
      [],
      [
        { event: dayBefore, subjectId: SUBJECT },
        { event: dayAfter, subjectId: SUBJECT },
        { event: otherRequest, subjectId: OTHER_SUBJECT },
        { event: sameRequestOtherChain, subjectId: OTHER_SUBJECT },
      ],
    );
  });

  const keysOf = (entries: readonly { idempotencyKey: string }[]) =>
    entries.map((entry) => entry.idempotencyKey);

  it('queries a request across chains and pages, in time order', async () => {
    // Act
    const { result, queries } = await countingQueries(() => audit.query({ requestId: REQUEST }));

    // Assess
    expect(queries).toBeGreaterThan(1);
    expect(keysOf(result)).toEqual(['before', ...keysOf(big), 'other-chain', 'after']);
    expect(result.every((entry) => !('day' in entry))).toBe(true);
  });

  it('narrows a request query to a time window and a limit', async () => {
    // Act
    const window = await audit.query({ requestId: REQUEST, from: at(DAY, 0), to: at(DAY, 10) });
    const limited = await audit.query({ requestId: REQUEST, limit: 5 });

    // Assess
    expect(keysOf(window)).toEqual(keysOf(big.slice(0, 11)));
    expect(keysOf(limited)).toEqual(['before', ...keysOf(big.slice(0, 4))]);
  });

  it("queries a subject's chain in order, one that verifies, narrowed by a window and a limit", async () => {
    // Act
    const { result, queries } = await countingQueries(() => audit.query({ subjectId: SUBJECT }));
    const window = await audit.query({ subjectId: SUBJECT, from: at(DAY, 30), to: at('2031-03-12', 0) });
    const limited = await audit.query({ subjectId: SUBJECT, limit: 3 });

    // Assess
    expect(queries).toBeGreaterThan(1);
    expect(keysOf(result)).toEqual([...keysOf(big), 'before', 'after']);
    expect(result.map((entry) => entry.seq)).toEqual(Array.from({ length: 42 }, (_, index) => index + 1));
    expect(verifyChain(result)).toMatchObject({ ok: true, length: 42 });
    expect(keysOf(window)).toEqual([...keysOf(big.slice(30)), 'after']);
    expect(keysOf(limited)).toEqual(keysOf(big.slice(0, 3)));
  });

  it('queries a time window day by day, across pages, and only that window', async () => {
    // Act
    const { result: oneDay, queries } = await countingQueries(() =>
      audit.query({ from: `${DAY}T00:00:00.000Z`, to: `${DAY}T23:59:59.999Z` }),
    );
    const threeDays = await audit.query({ from: at('2031-03-09', 12 * 60), to: at('2031-03-11', 12 * 60) });
    const limited = await audit.query({ from: at('2031-03-09', 0), to: at('2031-03-11', 12 * 60), limit: 2 });

    // Assess
    expect(queries).toBeGreaterThan(1);
    expect(keysOf(oneDay)).toEqual([...keysOf(big), 'other-request', 'other-chain']);
    expect(keysOf(threeDays)).toEqual(['before', ...keysOf(big), 'other-request', 'other-chain', 'after']);
    expect(keysOf(limited)).toEqual(['before', 'big-0']);
  });

  it('refuses a query without a subject, a request or a whole window', async () => {
    // Act, Assess
    await expect(audit.query({})).rejects.toBeInstanceOf(RangeError);
    await expect(audit.query({ from: at(DAY, 0) })).rejects.toBeInstanceOf(RangeError);
  });

  it('reads a chain never written as empty, without a head', async () => {
    // Act
    const chain = await audit.readChain(fresh('person'));

    // Assess
    expect(chain).toEqual({ entries: [], chainId: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("names a subject's chain by its keyed pseudonym, and events without a subject the system chain", () => {
    // Act, Assess
    expect(audit.chainIdFor(SUBJECT)).toBe(pseudonymise(PSEUDONYM_KEY, SUBJECT));
    expect(audit.chainIdFor(SUBJECT)).not.toBe(pseudonymise('another-key', SUBJECT));
    expect(audit.chainIdFor(undefined)).toBe('system');
  });
});

// ---- ScheduleStore -----------------------------------------------------------------------------

describe('DynamoScheduleStore reads', () => {
  const eventRef = (): EventRef => ({ eventId: fresh('event'), type: 'account.closed', occurredAt: NOW });
  const anEntry = (subjectId: string, overrides: Partial<ScheduleEntry> = {}): ScheduleEntry => {
    const trigger = eventRef();
    return {
      subjectId,
      dataClass: 'closed-account',
      status: 'pending',
      action: 'delete',
      ruleRef: 'ALE-1',
      dueAt: '2027-01-15T00:00:00.000Z',
      trigger,
      lastEvent: trigger,
      lastChange: 'scheduled',
      ...overrides,
    };
  };
  const saveNew = async (subjectId: string, entries: readonly ScheduleEntry[]) =>
    commitOk([
      {
        kind: 'schedule.save',
        previous: await schedules.load(subjectId),
        next: { subjectId, entries },
        event: { eventId: fresh('event'), decisions: [] },
        at: NOW,
      },
    ]);
  const dueOf = async (subjectId: string, bucketAt: string, now: string) =>
    (await schedules.queryDue(dueBucket(bucketAt, subjectId, SHARDS), now)).filter((item) =>
      item.kind === 'entry' ? item.entry.subjectId === subjectId : item.subjectId === subjectId,
    );

  it('answers an empty schedule at version 0, and no recorded event, for a subject it does not know', async () => {
    // Act
    const subjectId = fresh('person');

    // Assess
    expect(await schedules.load(subjectId)).toEqual({ version: 0, schedule: { subjectId, entries: [] } });
    expect(await schedules.recordedEvent(subjectId, fresh('event'))).toBeUndefined();
  });

  it('queries a due bucket across pages, up to and including `now`', async () => {
    // Prepare: 40 entries (~30 KB each) due an hour apart in May 2031.
    const subjectId = fresh('person');
    const entries = Array.from({ length: 40 }, (_, index) =>
      anEntry(subjectId, {
        dataClass: `class-${String(index).padStart(2, '0')}`,
        ruleRef: `ALE-${PADDING}`,
        dueAt: new Date(Date.parse('2031-05-01T00:00:00.000Z') + index * 3_600_000).toISOString(),
      }),
    );
    await saveNew(subjectId, entries);
    const bucket = dueBucket('2031-05-01T00:00:00.000Z', subjectId, SHARDS);

    // Act
    const { result: all, queries } = await countingQueries(() =>
      schedules.queryDue(bucket, '2031-05-31T23:59:59.999Z'),
    );
    const upToTenth = await dueOf(subjectId, '2031-05-01T00:00:00.000Z', entries[9]?.dueAt ?? '');

    // Assess
    expect(queries).toBeGreaterThan(1);
    expect(all.filter((item) => item.kind === 'entry' && item.entry.subjectId === subjectId)).toEqual(
      entries.map((entry) => ({ kind: 'entry', entry })),
    );
    expect(upToTenth).toEqual(entries.slice(0, 10).map((entry) => ({ kind: 'entry', entry })));
  });

  it('indexes due notices and pending deletions, not cancelled ones, and an overdue one at the time it was written', async () => {
    // Prepare
    const subjectId = fresh('person');
    const noticed = anEntry(subjectId, {
      dataClass: 'inactive-account',
      dueAt: '2027-03-01T00:00:00.000Z',
      noticeAt: '2026-12-01T00:00:00.000Z',
    });
    const overdue = anEntry(subjectId, { dataClass: 'cookies', dueAt: '2026-10-01T00:00:00.000Z' });
    const cancelled = anEntry(subjectId, {
      dataClass: 'closed-account',
      status: 'cancelled',
      dueAt: '2026-12-01T00:00:00.000Z',
    });
    await saveNew(subjectId, [noticed, overdue, cancelled]);

    // Act
    const november = await dueOf(subjectId, NOW, '2026-11-30T23:59:59.999Z');
    const october = await dueOf(subjectId, '2026-10-01T00:00:00.000Z', NOW);
    const december = await dueOf(subjectId, '2026-12-01T00:00:00.000Z', '2026-12-31T23:59:59.999Z');
    const march = await dueOf(subjectId, noticed.dueAt, '2027-03-31T23:59:59.999Z');

    // Assess
    expect(november).toEqual([{ kind: 'entry', entry: overdue }]);
    expect(october).toEqual([]);
    expect(december).toEqual([
      {
        kind: 'notice',
        subjectId,
        dataClass: noticed.dataClass,
        noticeAt: noticed.noticeAt,
        dueAt: noticed.dueAt,
        ruleRef: noticed.ruleRef,
      },
    ]);
    expect(march).toEqual([{ kind: 'entry', entry: noticed }]);
  });

  it('moves the sweep watermark only forward', async () => {
    // Act
    const initially = await schedules.sweepWatermark();
    const seen: (string | undefined)[] = [];
    for (const month of ['2026-11', '2026-10', '2026-11', '2026-12']) {
      await schedules.advanceWatermark(month);
      seen.push(await schedules.sweepWatermark());
    }
    // Sweeps finishing at the same time, the newest first to start.
    await Promise.all(['2027-03', '2027-01', '2027-02'].map((month) => schedules.advanceWatermark(month)));

    // Assess
    expect(initially).toBeUndefined();
    expect(seen).toEqual(['2026-11', '2026-11', '2026-11', '2026-12']);
    expect(await schedules.sweepWatermark()).toBe('2027-03');
  });
});

// ---- HoldStore ---------------------------------------------------------------------------------

describe('DynamoHoldStore reads', () => {
  const aHold = (subjectId: string, overrides: Partial<LegalHold> = {}): LegalHold => ({
    holdId: fresh('hold'),
    subjectId,
    reason: 'statutory-bookkeeping',
    createdAt: NOW,
    ...overrides,
  });

  it("finds a hold by id and lists a subject's active holds and no one else's; a released hold keeps only the pseudonym", async () => {
    // Prepare
    const [subjectId, other] = [fresh('person'), fresh('person')];
    const first = aHold(subjectId, { dataClasses: ['closed-account'] });
    const second = aHold(subjectId, { until: '2027-06-01T00:00:00.000Z' });
    const others = aHold(other);
    await commitOk([first, second, others].map((hold): Change => ({ kind: 'hold.place', hold })));
    await commitOk([{ kind: 'hold.release', hold: second, releasedAt: NOW }]);

    // Act
    const found = await holds.find(second.holdId);
    const ofSubject = await holds.forSubject(subjectId);

    // Assess
    const pseudonym = `pseudonym:${pseudonymise(PSEUDONYM_KEY, subjectId)}`;
    expect(found).toEqual({ ...second, subjectId: pseudonym, releasedAt: NOW });
    expect(ofSubject).toEqual([first]);
    expect(JSON.stringify(await holds.forSubject(pseudonym))).not.toContain(subjectId);
  });

  it('answers undefined for an unknown hold id and no holds for a subject without any', async () => {
    // Act, Assess
    expect(await holds.find(fresh('hold'))).toBeUndefined();
    expect(await holds.forSubject(fresh('person'))).toEqual([]);
  });
});

// ---- SqsTaskQueue ------------------------------------------------------------------------------

describe('SqsTaskQueue against fauxqs', () => {
  /** A queue of the test's own, removed afterwards. */
  const withQueue = async (act: (queueUrl: string) => Promise<void>): Promise<void> => {
    const { QueueUrl } = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: `${uniquePrefix('adapters')}-${fresh('q')}` }),
    );
    if (QueueUrl === undefined) throw new Error('no queue url');
    try {
      await act(QueueUrl);
    } finally {
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl }));
    }
  };

  /** Receives until the queue has nothing visible for a second. */
  const receiveAll = async (queueUrl: string) => {
    const received: { body: string; receiptHandle: string; receiveCount: string }[] = [];
    for (;;) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      );
      if (Messages.length === 0) return received;
      received.push(
        ...Messages.map((message) => ({
          body: message.Body ?? '',
          receiptHandle: message.ReceiptHandle ?? '',
          receiveCount: message.Attributes?.ApproximateReceiveCount ?? '',
        })),
      );
    }
  };

  const messages = (count: number): TaskMessage[] =>
    Array.from({ length: count }, (_, index) => ({ taskId: `task_${index}`, requestId: 'req_1' }));

  it('delivers every message once, with only the ids in the body', async () => {
    await withQueue(async (queueUrl) => {
      // Prepare: one message carries more than the port's fields.
      const sent = [...messages(22), { taskId: 'task_22', requestId: 'req_1', subjectId: 'subject-1' }];

      // Act
      await new SqsTaskQueue(clients.sqs, queueUrl).send(sent);

      // Assess
      const bodies = (await receiveAll(queueUrl)).map((message) => message.body);
      expect(bodies.sort()).toEqual(
        messages(23)
          .map((message) => JSON.stringify(message))
          .sort(),
      );
    });
  });

  it('sends nothing for no messages', async () => {
    await withQueue(async (queueUrl) => {
      // Act
      await new SqsTaskQueue(clients.sqs, queueUrl).send([]);

      // Assess
      expect(await receiveAll(queueUrl)).toEqual([]);
    });
  });

  it('throws when SQS refuses the call itself', async () => {
    // Prepare
    const missing = `${resources.taskQueueUrl}-missing`;

    // Act, Assess
    await expect(new SqsTaskQueue(clients.sqs, missing).send(messages(1))).rejects.toThrow();
  });

  it('delays the next delivery of a received message by the given seconds', async () => {
    await withQueue(async (queueUrl) => {
      // Prepare
      const queue = new SqsTaskQueue(clients.sqs, queueUrl);
      await queue.send(messages(1));
      const [first] = await receiveAll(queueUrl);

      // Act: visible again at once, then hidden for a minute.
      await queue.delayRetry(first?.receiptHandle ?? '', 0);
      const again = await receiveAll(queueUrl);
      await queue.delayRetry(again[0]?.receiptHandle ?? '', 60);
      const hidden = await receiveAll(queueUrl);

      // Assess
      expect(again.map((message) => [message.body, message.receiveCount])).toEqual([
        [JSON.stringify(messages(1)[0]), '2'],
      ]);
      expect(hidden).toEqual([]);
    });
  });
});
