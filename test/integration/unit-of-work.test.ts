/**
 * DynamoUnitOfWork against DynamoDB Local: every Change kind commits while its condition holds and,
 * when it does not, reports `{ committed: false, conflict }` with NOTHING written (state and audit:
 * every table is compared before and after). State and audit commit in one transaction; audit
 * records are appended once per idempotency key and chain; concurrent writers on one chain leave a
 * single chain that verifies. The passing conflicts an emulator cannot stage on demand (a
 * TransactionConflict cancellation, throttling) are in test/functions/dynamo-*.test.ts.
 */
import { GetCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson, pseudonymise, verifyChain } from '../../domain/audit/index.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import { blockRequest } from '../../domain/erasure/index.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { ValidationError } from '../../domain/errors.js';
import type { LegalHold } from '../../domain/holds.js';
import type { AuditRecord, Change, StoredSchedule } from '../../domain/ports/index.js';
import { erasureTally } from '../../domain/reports/erasures.js';
import { dueBucket } from '../../domain/schedule/buckets.js';
import type { EventRef, ScheduleEntry } from '../../domain/schedule/types.js';
import { DynamoAuditLog, PREFETCHED_HEAD_TTL_MS } from '../../functions/adapters/dynamo-audit-log.js';
import type { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import type { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import type { DynamoScheduleStore } from '../../functions/adapters/dynamo-schedule-store.js';
import { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { dynamoStorage } from '../../functions/shared/dependencies.js';
import type { TableKey } from '../../infra/resources.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, testClients } from '../helpers/emulators.js';
import { storedRequest, storedTask } from '../helpers/factories.js';
import { InMemoryPorts } from '../helpers/in-memory.js';

const PSEUDONYM_KEY = 'unit-of-work-test-pseudonym-key-0123456789';
const SHARDS = 4;
const NOW = '2026-11-21T12:00:00.000Z';
const LATER = '2026-11-22T08:00:00.000Z';

const clients = testClients();
let resources: OrchestratorResources;
let requests: DynamoRequestStore;
let schedules: DynamoScheduleStore;
let holds: DynamoHoldStore;
let audit: DynamoAuditLog;
/** Every open request: those the review index holds, whatever their review time. */
const openRequests = async () =>
  (await requests.reviewDue('9999-12-31T23:59:59.999Z')).map((item) => item.request);
let uow: DynamoUnitOfWork;

beforeAll(async () => {
  ({ resources, requests, schedules, holds, audit, uow } = await createTestAdapters(
    'unit-of-work',
    clients,
    PSEUDONYM_KEY,
    SHARDS,
  ));
});

afterAll(async () => {
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

// ---- fixtures ----------------------------------------------------------------------------------

let counter = 0;
/** A fresh name per call: the tests of this file share one set of tables. */
const fresh = (name: string): string => `${name}-${++counter}`;

const aRequest = (overrides: Partial<ErasureRequest> = {}) => storedRequest(fresh, NOW, overrides);
const aTask = (request: ErasureRequest, overrides: Partial<ErasureTask> = {}) =>
  storedTask(fresh, request, overrides);

/** A request with `count` tasks, as `request.create` takes them. */
const requestWithTasks = (count: number, overrides: Partial<ErasureRequest> = {}) => {
  const request = aRequest({ taskCount: count, ...overrides });
  const tasks = Array.from({ length: count }, () => aTask(request));
  return { request, tasks };
};

const create = (
  request: ErasureRequest,
  tasks: readonly ErasureTask[] = [],
): Extract<Change, { kind: 'request.create' }> => ({
  kind: 'request.create',
  request,
  tasks,
});

const auditEvent = (idempotencyKey: string, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  type: 'task.verified',
  at: NOW,
  idempotencyKey,
  detail: { affectedCount: 3 },
  ...overrides,
});

/** An audit record on the subject's chain (none: the system chain), with a key of its own. */
const record = (subjectId: string | undefined, overrides: Partial<AuditEvent> = {}): AuditRecord => ({
  event: auditEvent(fresh('key'), overrides),
  ...(subjectId === undefined ? {} : { subjectId }),
});

const eventRef = (eventId: string, occurredAt = '2026-11-01T00:00:00.000Z'): EventRef => ({
  eventId,
  type: 'account.closed',
  occurredAt,
});

const anEntry = (subjectId: string, overrides: Partial<ScheduleEntry> = {}): ScheduleEntry => {
  const trigger = eventRef(fresh('event'));
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

/** The `schedule.save` of `entries` after the schedule was loaded as `previous`. */
const save = (
  previous: StoredSchedule,
  entries: readonly ScheduleEntry[],
  eventId = entries[0]?.lastEvent.eventId ?? fresh('event'),
): Extract<Change, { kind: 'schedule.save' }> => ({
  kind: 'schedule.save',
  previous,
  next: { subjectId: previous.schedule.subjectId, entries },
  event: {
    eventId,
    decisions: entries.map((entry) => ({
      change: 'scheduled',
      dataClass: entry.dataClass,
      action: entry.action,
      dueAt: entry.dueAt,
      ruleRef: entry.ruleRef,
    })),
  },
  at: NOW,
});

const aHold = (overrides: Partial<LegalHold> = {}): LegalHold => ({
  holdId: fresh('hold'),
  subjectId: fresh('person'),
  reason: 'statutory-bookkeeping',
  createdAt: NOW,
  ...overrides,
});

// ---- helpers -----------------------------------------------------------------------------------

/** Every item of every table, in a stable order: equal snapshots mean nothing was written. */
const snapshot = async (): Promise<Record<TableKey, string[]>> => {
  const scan = async (TableName: string): Promise<string[]> => {
    const items: string[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await clients.documents.send(
        new ScanCommand({ TableName, ExclusiveStartKey, ConsistentRead: true }),
      );
      items.push(...(page.Items ?? []).map((item) => canonicalJson(item)));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey !== undefined);
    return items.sort();
  };
  const keys = Object.keys(resources.tables) as TableKey[];
  const scanned = await Promise.all(keys.map((key) => scan(resources.tables[key])));
  return Object.fromEntries(keys.map((key, index) => [key, scanned[index]])) as Record<TableKey, string[]>;
};

const commitOk = async (changes: readonly Change[], records: readonly AuditRecord[] = []): Promise<void> => {
  expect(await uow.commit(changes, records)).toEqual({ committed: true });
};

/**
 * Commits `changes` with an audit record of the subject, expects `changes[conflict]` to be
 * reported, and proves that nothing at all was written, the audit record included.
 */
const expectConflict = async (changes: readonly Change[], conflict: number, subjectId?: string) => {
  const before = await snapshot();

  const result = await uow.commit(changes, [record(subjectId ?? fresh('person'))]);

  expect(result).toEqual({ committed: false, conflict, change: changes[conflict]?.kind });
  expect(await snapshot()).toEqual(before);
};

/** A subject's chain as stored, and what the domain's verifier says of it against the stored head. */
/**
 * The unit of work of another function (another Lambda): an audit log and queues of its own; the
 * metrics it counts go to `counted`.
 */
const anotherFunction = (counted: string[] = []) =>
  // Built as the functions build theirs (functions/shared/dependencies.ts), metrics sink included.
  dynamoStorage(
    clients.documents,
    resources.tables,
    PSEUDONYM_KEY,
    undefined,
    {},
    {
      count: (name, value) => counted.push(...Array<string>(value).fill(name)),
    },
  ).uow;

const chainOf = async (subjectId: string | undefined) => {
  const { entries, head, chainId } = await audit.readChain(subjectId);
  const verification = verifyChain(entries, {
    chainId,
    ...(head === undefined ? {} : { expectedHead: head }),
  });
  return { entries, head, chainId, verification };
};

// ---- request changes ---------------------------------------------------------------------------

describe('request.create', () => {
  it('writes the request, its tasks, the task lookups and the Idempotency-Key, with the audit entry', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(2);
    const received = record(request.subjectId, { type: 'request.received', requestId: request.requestId });

    // Act
    await commitOk(
      [{ ...create(request, tasks), idempotency: { key: fresh('client-key'), bodyHash: 'hash-1', at: NOW } }],
      [received],
    );

    // Assess
    const stored = await requests.get(request.requestId);
    expect(stored?.request).toEqual(request);
    expect(stored?.tasks).toEqual([...tasks].sort((a, b) => a.taskId.localeCompare(b.taskId)));
    expect(await requests.getTask(request.requestId, tasks[1]?.taskId ?? '')).toEqual(tasks[1]);
    expect(await requests.requestIdOfTask(tasks[0]?.taskId ?? '')).toBe(request.requestId);
    expect((await chainOf(request.subjectId)).entries).toMatchObject([received.event]);
  });

  it('stores the Idempotency-Key hashed, never as the client sent it, with an expiry for TTL', async () => {
    // Prepare
    const request = aRequest();
    const key = fresh('client-key-0001');

    // Act
    await commitOk([{ ...create(request), idempotency: { key, bodyHash: 'hash-1', at: NOW } }]);

    // Assess
    expect(await requests.idempotencyRecord(key)).toEqual({
      requestId: request.requestId,
      bodyHash: 'hash-1',
    });
    const items = (await snapshot()).requests;
    expect(items.filter((item) => item.includes(key))).toEqual([]);
    const idem = items
      .map((item) => JSON.parse(item))
      .find((item) => item.requestId === request.requestId && item.sk === '#idem');
    expect(idem?.expiresAt).toBe(Date.parse(NOW) / 1000 + 7 * 24 * 3600);
  });

  it('fails when a request with the same id exists (a re-run sweep), and rolls back the changes before it', async () => {
    // Prepare
    const request = aRequest();
    await commitOk([create(request)]);

    // Act, Assess: the hold placed first in the same commit is not kept either.
    await expectConflict([{ kind: 'hold.place', hold: aHold() }, create({ ...request, reason: 'other' })], 1);
  });

  it('fails when the Idempotency-Key was claimed by another request, and creates nothing', async () => {
    // Prepare
    const key = fresh('client-key');
    await commitOk([{ ...create(aRequest()), idempotency: { key, bodyHash: 'hash-1', at: NOW } }]);
    const second = requestWithTasks(2);

    // Act, Assess
    await expectConflict(
      [{ ...create(second.request, second.tasks), idempotency: { key, bodyHash: 'hash-2', at: NOW } }],
      0,
    );
    expect(await requests.get(second.request.requestId)).toBeUndefined();
  });
});

describe('request.transition', () => {
  const dispatched = (request: ErasureRequest): ErasureRequest => ({
    ...request,
    status: 'dispatched',
    dispatchedAt: NOW,
  });
  const completed = (request: ErasureRequest): ErasureRequest => ({
    ...request,
    status: 'completed',
    completedAt: LATER,
  });

  it('writes every field a transition may change: a block keeps its holds and since when', async () => {
    // Prepare
    const request = aRequest();
    await commitOk([create(request)]);
    const blocked = blockRequest(request, ['hold-b', 'hold-a'], LATER).next;

    // Act
    await commitOk([{ kind: 'request.transition', previous: request, next: blocked, from: ['received'] }]);

    // Assess
    expect((await requests.get(request.requestId))?.request).toEqual(blocked);
    expect(blocked).toMatchObject({ blockedBy: ['hold-a', 'hold-b'], blockedAt: LATER });
  });

  it('moves a request whose status is one of `from`; a final status takes it out of the open list', async () => {
    // Prepare
    const request = aRequest();
    await commitOk([create(request)]);

    // Act
    await commitOk([
      {
        kind: 'request.transition',
        previous: request,
        next: dispatched(request),
        from: ['received', 'blocked'],
      },
    ]);
    const wasOpen = (await openRequests()).some((open) => open.requestId === request.requestId);
    await commitOk([
      {
        kind: 'request.transition',
        previous: dispatched(request),
        next: completed(dispatched(request)),
        from: ['dispatched'],
      },
    ]);

    // Assess
    expect(wasOpen).toBe(true);
    expect((await requests.get(request.requestId))?.request).toEqual(completed(dispatched(request)));
    expect((await openRequests()).map((open) => open.requestId)).not.toContain(request.requestId);
  });

  it.each([
    ['received', ['dispatched']],
    ['rejected', ['received', 'blocked']],
  ] as const)('fails when the request is %s and `from` is %j', async (status, from) => {
    // Prepare
    const request = aRequest({ status });
    await commitOk([create(request)]);

    // Act, Assess
    await expectConflict(
      [{ kind: 'request.transition', previous: request, next: dispatched(request), from }],
      0,
      request.subjectId,
    );
  });

  it('fails for a request that does not exist, and creates nothing', async () => {
    // Prepare
    const request = aRequest();

    // Act, Assess
    await expectConflict(
      [{ kind: 'request.transition', previous: request, next: dispatched(request), from: ['received'] }],
      0,
    );
  });

  it('ends a request and forgets whose it was in the same write: a rejection cancels its pending tasks; a task that moved on fails it all', async () => {
    // Prepare: two blocked requests, one with a task that has started meanwhile.
    const { request, tasks } = requestWithTasks(2, { status: 'blocked' });
    const moved = requestWithTasks(1, { status: 'blocked' });
    const running = { ...(moved.tasks[0] as ErasureTask), status: 'running' as const };
    await commitOk([create(request, tasks), create(moved.request, [running])]);
    const reject = (of: ErasureRequest, ids: readonly string[]): Change => ({
      kind: 'request.transition',
      previous: of,
      next: { ...of, status: 'rejected', rejection: { legalReason: 'legal-claims', rejectedAt: NOW } },
      from: ['blocked'],
      forget: { taskIds: ids, pseudonym: audit.chainIdFor(of.subjectId), cancelTaskIds: ids },
    });

    // Act
    await commitOk([
      reject(
        request,
        tasks.map((task) => task.taskId),
      ),
    ]);

    // Assess
    const after = await requests.get(request.requestId);
    expect(after?.request.status).toBe('rejected');
    expect(after?.request.subjectId).toBe(`pseudonym:${audit.chainIdFor(request.subjectId)}`);
    expect(after?.tasks.map((task) => [task.status, task.subjectId.startsWith('pseudonym:')])).toEqual([
      ['cancelled', true],
      ['cancelled', true],
    ]);
    expect((await openRequests()).map((open) => open.requestId)).not.toContain(request.requestId);
    await expectConflict([reject(moved.request, [running.taskId])], 0, moved.request.subjectId);
    expect((await requests.get(moved.request.requestId))?.request).toMatchObject({
      status: 'blocked',
      subjectId: moved.request.subjectId,
    });
  });

  it('writes only what the transition changed, so a concurrent deadline extension survives', async () => {
    // Prepare: the request was read before compliance extended its deadline.
    const request = dispatched(aRequest());
    await commitOk([create(request)]);
    const extended: ErasureRequest = {
      ...request,
      deadline: '2027-02-19T12:00:00.000Z',
      deadlineExtension: { reason: 'complex-request', extendedAt: LATER },
    };
    await commitOk([{ kind: 'request.transition', previous: request, next: extended, from: ['dispatched'] }]);

    // Act: a stale copy completes it.
    await commitOk([
      { kind: 'request.transition', previous: request, next: completed(request), from: ['dispatched'] },
    ]);

    // Assess
    expect((await requests.get(request.requestId))?.request).toEqual({
      ...completed(request),
      deadline: extended.deadline,
      deadlineExtension: extended.deadlineExtension,
    });
  });

  it('never writes the task counters: outcomes counted after the request was read survive', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(2, { status: 'dispatched' });
    const [task] = tasks as [ErasureTask];
    await commitOk([create(request, tasks)]);
    await commitOk([
      { kind: 'task.outcome', next: { ...task, status: 'verified', verifiedAt: NOW }, expected: task },
    ]);

    // Act: a transition decided on the copy read before the outcome was counted.
    await commitOk([
      {
        kind: 'request.transition',
        previous: request,
        next: { ...request, status: 'partially_failed', completedAt: LATER },
        from: ['dispatched'],
      },
    ]);

    // Assess
    expect((await requests.get(request.requestId))?.request).toMatchObject({
      status: 'partially_failed',
      verifiedCount: 1,
      failedCount: 0,
    });
  });
});

describe('task.transition', () => {
  it('moves a task that is still in the status and attempt it was read in', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(1);
    const [task] = tasks as [ErasureTask];
    await commitOk([create(request, tasks)]);
    const running: ErasureTask = { ...task, status: 'running', attempts: 1, startedAt: NOW };

    // Act
    await commitOk([{ kind: 'task.transition', next: running, expected: task }], [record(request.subjectId)]);

    // Assess
    expect(await requests.getTask(request.requestId, task.taskId)).toEqual(running);
  });

  it.each([
    ['in another status', { status: 'succeeded', attempts: 1 }],
    ['in another attempt', { status: 'running', attempts: 2 }],
  ] as const)('fails when the task is %s than it was read in', async (_name, expected) => {
    // Prepare
    const { request, tasks } = requestWithTasks(1);
    const [task] = tasks as [ErasureTask];
    const running: ErasureTask = { ...task, status: 'running', attempts: 1 };
    await commitOk([create(request, [running])]);

    // Act, Assess
    await expectConflict(
      [{ kind: 'task.transition', next: { ...running, status: 'succeeded', affectedCount: 5 }, expected }],
      0,
      request.subjectId,
    );
  });

  it('fails for a task that does not exist, and creates nothing', async () => {
    // Prepare
    const request = aRequest();
    await commitOk([create(request)]);
    const task = aTask(request);

    // Act, Assess
    await expectConflict(
      [{ kind: 'task.transition', next: { ...task, status: 'running', attempts: 1 }, expected: task }],
      0,
    );
    expect((await requests.get(request.requestId))?.tasks).toEqual([]);
  });
});

describe('one item twice in one commit', () => {
  it('is refused before it is sent (DynamoDB would refuse it, DynamoDB Local cancels it as a failed condition), with nothing written, and by the in-memory fake the service tests use', async () => {
    // Prepare: a task, and a commit that would move it twice (the same item, two operations).
    const { request, tasks } = requestWithTasks(1);
    const [task] = tasks as [ErasureTask];
    await commitOk([create(request, tasks)]);
    const running: ErasureTask = { ...task, status: 'running', attempts: 1, startedAt: NOW };
    const twice: Change[] = [
      { kind: 'task.transition', next: running, expected: task },
      { kind: 'task.transition', next: { ...running, attempts: 2 }, expected: task },
    ];
    const fake = new InMemoryPorts({ pseudonymKey: PSEUDONYM_KEY, dueBucketShards: 4 });
    await fake.uow.commit([create(request, tasks)]);
    const before = await snapshot();

    // Act, Assess
    await expect(uow.commit(twice, [record(request.subjectId)])).rejects.toThrow(
      /multiple operations on one item/,
    );
    expect(await snapshot()).toEqual(before);
    await expect(fake.uow.commit(twice)).rejects.toThrow(/multiple operations on one item/);
    expect((await fake.requests.getTask(request.requestId, task.taskId))?.status).toBe('pending');
  });
});

describe('task.outcome', () => {
  it.each([
    ['verified', { verifiedCount: 1, failedCount: 0 }],
    ['failed', { verifiedCount: 0, failedCount: 1 }],
  ] as const)('moves the task and counts it %s on its request in the same commit', async (status, counts) => {
    // Prepare
    const { request, tasks } = requestWithTasks(2, { status: 'dispatched' });
    const succeeded: ErasureTask = {
      ...(tasks[0] as ErasureTask),
      status: 'succeeded',
      attempts: 2,
      affectedCount: 5,
    };
    await commitOk([create(request, [succeeded, ...tasks.slice(1)])]);
    const next: ErasureTask = {
      ...succeeded,
      status,
      ...(status === 'failed' ? { errorCode: 'retries-exhausted' } : {}),
    };

    // Act
    await commitOk([{ kind: 'task.outcome', next, expected: succeeded }], [record(request.subjectId)]);

    // Assess
    const stored = await requests.get(request.requestId);
    expect(stored?.request).toEqual({ ...request, ...counts });
    expect(stored?.tasks.find((task) => task.taskId === next.taskId)).toEqual(next);
  });

  it('counts a task once: a second delivery of the same outcome fails and writes nothing', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(1, { status: 'dispatched' });
    const [task] = tasks as [ErasureTask];
    const succeeded: ErasureTask = { ...task, status: 'succeeded', attempts: 1 };
    await commitOk([create(request, [succeeded])]);
    const outcome: Change = {
      kind: 'task.outcome',
      next: { ...succeeded, status: 'verified', verifiedAt: NOW },
      expected: succeeded,
    };
    await commitOk([outcome], [record(request.subjectId)]);

    // Act, Assess
    await expectConflict([outcome], 0, request.subjectId);
    expect((await requests.get(request.requestId))?.request.verifiedCount).toBe(1);
  });
});

describe('task.outcomes of one task, counted against the counts read', () => {
  it('settles the request in the commit of its last outcome, and the request forgets whose it was', async () => {
    // Prepare: two running tasks; the first has reported.
    const { request, tasks } = requestWithTasks(2, { status: 'dispatched', dispatchedAt: NOW });
    const [first, second] = tasks.map((task) => ({ ...task, status: 'running' as const, attempts: 1 })) as [
      ErasureTask,
      ErasureTask,
    ];
    await commitOk([create(request, [first, second])]);
    const afterFirst: ErasureRequest = { ...request, verifiedCount: 1 };
    await commitOk(
      [
        {
          kind: 'task.outcomes',
          outcomes: [{ next: { ...first, status: 'verified', verifiedAt: NOW }, expected: first }],
          request: { previous: request, next: afterFirst },
        },
      ],
      [record(request.subjectId)],
    );
    const pseudonym = pseudonymise(PSEUDONYM_KEY, request.subjectId);
    const completed: ErasureRequest = {
      ...afterFirst,
      verifiedCount: 2,
      status: 'completed',
      completedAt: LATER,
    };

    // Act
    await commitOk(
      [
        {
          kind: 'task.outcomes',
          outcomes: [{ next: { ...second, status: 'verified', verifiedAt: LATER }, expected: second }],
          request: {
            previous: afterFirst,
            next: completed,
            forget: { pseudonym, taskIds: [first.taskId, second.taskId] },
          },
        },
      ],
      [record(request.subjectId), record(request.subjectId)],
    );

    // Assess
    const stored = await requests.get(request.requestId);
    expect(stored?.request).toEqual({ ...completed, subjectId: `pseudonym:${pseudonym}` });
    expect(stored?.tasks.map((task) => [task.status, task.subjectId])).toEqual([
      ['verified', `pseudonym:${pseudonym}`],
      ['verified', `pseudonym:${pseudonym}`],
    ]);
    // Settled: it left the review index, so no sweep reviews it again.
    expect(
      (await requests.reviewDue('2099-01-01T00:00:00.000Z')).map((due) => due.request.requestId),
    ).not.toContain(request.requestId);
  });

  it('fails and writes nothing when another outcome was counted since the counts were read', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(2, { status: 'dispatched', verifiedCount: 1 });
    const [, second] = tasks.map((task) => ({ ...task, status: 'running' as const, attempts: 1 })) as [
      ErasureTask,
      ErasureTask,
    ];
    await commitOk([
      create(
        request,
        tasks.map((task) => ({ ...task, status: 'running' as const, attempts: 1 })),
      ),
    ]);
    const stale: ErasureRequest = { ...request, verifiedCount: 0 };

    // Act, Assess
    await expectConflict(
      [
        {
          kind: 'task.outcomes',
          outcomes: [{ next: { ...second, status: 'verified', verifiedAt: NOW }, expected: second }],
          request: { previous: stale, next: { ...stale, verifiedCount: 1 } },
        },
      ],
      0,
      request.subjectId,
    );
  });
});

describe('task.outcomes: outcomes of one request counted together', () => {
  const running = (tasks: readonly ErasureTask[]) =>
    tasks.map((task) => ({ ...task, status: 'running' as const, attempts: 1 }));

  it('counts each outcome on the request in one commit; the last ones settle it', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(4, { status: 'dispatched', dispatchedAt: NOW });
    const [first, second, third, fourth] = running(tasks) as [
      ErasureTask,
      ErasureTask,
      ErasureTask,
      ErasureTask,
    ];
    await commitOk([create(request, [first, second, third, fourth])]);
    const afterThree: ErasureRequest = { ...request, verifiedCount: 2, failedCount: 1 };

    // Act
    await commitOk(
      [
        {
          kind: 'task.outcomes',
          outcomes: [
            { next: { ...first, status: 'verified', verifiedAt: NOW }, expected: first },
            {
              next: { ...second, status: 'failed', failedAt: NOW, errorCode: 'permanent:x' },
              expected: second,
            },
            { next: { ...third, status: 'verified', verifiedAt: NOW }, expected: third },
          ],
          request: { previous: request, next: afterThree },
        },
      ],
      [record(request.subjectId), record(request.subjectId), record(request.subjectId)],
    );
    const counted = await requests.get(request.requestId);
    await commitOk(
      [
        {
          kind: 'task.outcomes',
          outcomes: [{ next: { ...fourth, status: 'verified', verifiedAt: LATER }, expected: fourth }],
          request: {
            previous: afterThree,
            next: { ...afterThree, verifiedCount: 3, status: 'partially_failed' },
          },
        },
      ],
      [record(request.subjectId)],
    );

    // Assess
    expect(counted?.request).toEqual(afterThree);
    expect(counted?.tasks.map((task) => task.status)).toEqual(['verified', 'failed', 'verified', 'running']);
    const settled = await requests.get(request.requestId);
    expect(settled?.request).toMatchObject({ status: 'partially_failed', verifiedCount: 3, failedCount: 1 });
  });

  it('fails and writes nothing when one task of the group had moved on', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(2, { status: 'dispatched' });
    const [first, second] = running(tasks) as [ErasureTask, ErasureTask];
    await commitOk([create(request, [first, { ...second, status: 'verified' }])]);

    // Act, Assess
    await expectConflict(
      [
        {
          kind: 'task.outcomes',
          outcomes: [
            { next: { ...first, status: 'verified', verifiedAt: NOW }, expected: first },
            { next: { ...second, status: 'verified', verifiedAt: NOW }, expected: second },
          ],
          request: { previous: request, next: { ...request, verifiedCount: 2, status: 'completed' } },
        },
      ],
      0,
      request.subjectId,
    );
  });

  it('the largest settling commit fits one transaction: 8 outcomes of 32 tasks, 33 suppressions', async () => {
    // Prepare: 24 of 32 tasks reported; the other 8 report together and complete the request.
    const { request: fresh32, tasks } = requestWithTasks(32, { status: 'dispatched', dispatchedAt: NOW });
    const request: ErasureRequest = { ...fresh32, verifiedCount: 24 };
    const stored = [
      ...tasks.slice(0, 24).map((task) => ({ ...task, status: 'verified' as const, attempts: 1 })),
      ...running(tasks.slice(24)),
    ];
    await commitOk([create(request, stored)]);
    const last = stored.slice(24);
    const completed: ErasureRequest = {
      ...request,
      verifiedCount: 32,
      status: 'completed',
      completedAt: LATER,
    };
    const pseudonym = pseudonymise(PSEUDONYM_KEY, request.subjectId);

    // Act
    const result = await uow.commit(
      [
        {
          kind: 'task.outcomes',
          outcomes: last.map((task) => ({
            next: { ...task, status: 'verified', verifiedAt: LATER },
            expected: task,
          })),
          request: {
            previous: request,
            next: completed,
            forget: { pseudonym, taskIds: stored.map((t) => t.taskId) },
          },
        },
        // Each on its own counter item: eight classes.
        ...last.map(
          (task, index): Change => ({
            kind: 'erasure.tally',
            tally: erasureTally({
              at: LATER,
              dataClass: `class-${index}`,
              ruleRef: 'ALU-3',
              action: 'delete',
              items: 1,
              key: task.taskId,
            }),
          }),
        ),
        {
          kind: 'suppression.add',
          entries: Array.from({ length: 33 }, (_, index) => ({
            hash: fresh(`hash-${index}`),
            listedAt: LATER,
            expiresAt: '2030-01-01T00:00:00.000Z',
          })),
        },
      ],
      [...last.map(() => record(request.subjectId)), record(request.subjectId)],
    );

    // Assess
    expect(result).toEqual({ committed: true });
    const settled = await requests.get(request.requestId);
    expect(settled?.request).toMatchObject({ status: 'completed', verifiedCount: 32 });
    expect(settled?.tasks.every((task) => task.subjectId === `pseudonym:${pseudonym}`)).toBe(true);
  });
});

describe('request.redrive', () => {
  /** A partially failed request with two failed tasks and one verified. */
  const partiallyFailed = async () => {
    const { request, tasks } = requestWithTasks(3, {
      status: 'partially_failed',
      dispatchedAt: NOW,
      completedAt: NOW,
      verifiedCount: 1,
      failedCount: 2,
    });
    const [first, second, third] = tasks as [ErasureTask, ErasureTask, ErasureTask];
    const failed = (task: ErasureTask): ErasureTask => ({
      ...task,
      status: 'failed',
      attempts: 5,
      errorCode: 'retries-exhausted',
      failedAt: NOW,
    });
    const stored = [
      failed(first),
      failed(second),
      { ...third, status: 'verified', attempts: 1 } as ErasureTask,
    ];
    await commitOk([create(request, stored)]);
    const redriven = (task: ErasureTask): ErasureTask => ({
      ...task,
      status: 'running',
      attempts: task.attempts + 1,
      startedAt: LATER,
      errorCode: undefined,
      failedAt: undefined,
    });
    const change = {
      kind: 'request.redrive',
      previous: request,
      next: { ...request, status: 'dispatched', failedCount: 0, redriveCount: 1 },
      tasks: stored.slice(0, 2).map((task) => ({ previous: task, next: redriven(task) })),
    } satisfies Change;
    return { request, stored, change };
  };

  it('re-opens the request and its failed tasks together, taking the failures off the count', async () => {
    // Prepare
    const { request, stored, change } = await partiallyFailed();

    // Act
    await commitOk([change], [record(request.subjectId)]);

    // Assess
    const after = await requests.get(request.requestId);
    const { completedAt: _completedAt, ...open } = request;
    expect(after?.request).toEqual({ ...open, status: 'dispatched', failedCount: 0, redriveCount: 1 });
    expect(
      after?.tasks
        .filter((task) => task.status === 'running')
        .map((task) => task.taskId)
        .sort(),
    ).toEqual(
      stored
        .slice(0, 2)
        .map((task) => task.taskId)
        .sort(),
    );
    expect(after?.tasks.find((task) => task.status === 'running')).not.toHaveProperty('errorCode');
    expect((await openRequests()).map((candidate) => candidate.requestId)).toContain(request.requestId);
  });

  it('fails when the failures were counted differently than read (another re-drive), and writes nothing', async () => {
    // Prepare
    const { request, change } = await partiallyFailed();

    // Act, Assess
    await expectConflict([{ ...change, previous: { ...request, failedCount: 1 } }], 0, request.subjectId);
  });

  it('fails when one of the tasks moved on, and leaves the request as it was', async () => {
    // Prepare
    const { request, stored, change } = await partiallyFailed();
    const [first] = stored as [ErasureTask];
    await commitOk([
      { kind: 'task.transition', next: { ...first, status: 'running', attempts: 6 }, expected: first },
    ]);

    // Act, Assess
    await expectConflict([change], 0, request.subjectId);
    expect((await requests.get(request.requestId))?.request).toEqual(request);
  });
});

describe('request.forget-subject', () => {
  it('replaces the subject id of a completed request and of its tasks with the pseudonym', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(2, { status: 'completed', completedAt: NOW });
    await commitOk([create(request, tasks)]);
    const pseudonym = audit.chainIdFor(request.subjectId);

    // Act
    await commitOk([
      {
        kind: 'request.forget-subject',
        requestId: request.requestId,
        taskIds: tasks.map((task) => task.taskId),
        pseudonym,
      },
    ]);

    // Assess
    const after = await requests.get(request.requestId);
    expect(after?.request.subjectId).toBe(`pseudonym:${pseudonym}`);
    expect(after?.tasks.map((task) => task.subjectId)).toEqual([
      `pseudonym:${pseudonym}`,
      `pseudonym:${pseudonym}`,
    ]);
    expect(JSON.stringify(await snapshot())).not.toContain(`"${request.subjectId}"`);
  });

  it('fails for a request that is not completed: a re-drive would still need the id', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(1, {
      status: 'partially_failed',
      completedAt: NOW,
      failedCount: 1,
    });
    await commitOk([create(request, tasks)]);

    // Act, Assess
    await expectConflict(
      [
        {
          kind: 'request.forget-subject',
          requestId: request.requestId,
          taskIds: tasks.map((task) => task.taskId),
          pseudonym: 'p',
        },
      ],
      0,
    );
  });

  it("cancels a rejected request's pending tasks with it; a task that has moved on fails the whole commit", async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(2, { status: 'rejected' });
    const [first, second] = tasks;
    const moved = requestWithTasks(1, { status: 'rejected' });
    const running = { ...(moved.tasks[0] as ErasureTask), status: 'running' as const };
    await commitOk([create(request, tasks), create(moved.request, [running])]);
    const forget = (of: ErasureRequest, ids: string[]): Change => ({
      kind: 'request.forget-subject',
      requestId: of.requestId,
      taskIds: ids,
      pseudonym: audit.chainIdFor(of.subjectId),
      cancelTaskIds: ids,
    });

    // Act
    await commitOk([forget(request, [first?.taskId ?? '', second?.taskId ?? ''])]);

    // Assess
    const after = await requests.get(request.requestId);
    expect(after?.tasks.map((task) => task.status)).toEqual(['cancelled', 'cancelled']);
    expect(after?.tasks.every((task) => task.subjectId.startsWith('pseudonym:'))).toBe(true);
    await expectConflict([forget(moved.request, [running.taskId])], 0);
  });

  it('fails when a task does not exist, and leaves the request with its subject id', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(1, { status: 'completed', completedAt: NOW });
    await commitOk([create(request, tasks)]);

    // Act, Assess
    await expectConflict(
      [
        {
          kind: 'request.forget-subject',
          requestId: request.requestId,
          taskIds: [tasks[0]?.taskId ?? '', fresh('task')],
          pseudonym: 'p',
        },
      ],
      0,
    );
    expect((await requests.get(request.requestId))?.request.subjectId).toBe(request.subjectId);
  });
});

// ---- schedule changes --------------------------------------------------------------------------

describe('schedule.save', () => {
  it("writes a new subject's schedule at version 1, its entries into the due index and the event's answer", async () => {
    // Prepare
    const subjectId = fresh('person');
    const entry = anEntry(subjectId, { noticeAt: '2027-01-01T00:00:00.000Z' });
    const empty = await schedules.load(subjectId);
    const change = save(empty, [entry]);

    // Act
    await commitOk([change], [record(subjectId, { type: 'lifecycle.recorded' })]);

    // Assess
    expect(empty).toEqual({ version: 0, schedule: { subjectId, entries: [] } });
    expect(await schedules.load(subjectId)).toEqual({
      version: 1,
      schedule: { subjectId, entries: [entry] },
    });
    expect(await schedules.recordedEvent(subjectId, entry.lastEvent.eventId)).toEqual(change.event);
    const due = await schedules.queryDue(dueBucket(entry.dueAt, subjectId, SHARDS), entry.dueAt);
    expect(due.filter((item) => item.kind === 'entry')).toContainEqual({ kind: 'entry', entry });
  });

  it('keeps the invoice state of the subject', async () => {
    // Prepare
    const subjectId = fresh('person');
    const lastInvoiceEvent: EventRef = { eventId: fresh('event'), type: 'invoice.unpaid', occurredAt: NOW };

    // Act
    await commitOk([
      {
        kind: 'schedule.save',
        previous: await schedules.load(subjectId),
        next: { subjectId, entries: [], unpaidInvoiceSince: NOW, lastInvoiceEvent },
        event: { eventId: lastInvoiceEvent.eventId, decisions: [] },
        at: NOW,
      },
    ]);

    // Assess
    expect(await schedules.load(subjectId)).toEqual({
      version: 1,
      schedule: { subjectId, entries: [], unpaidInvoiceSince: NOW, lastInvoiceEvent },
    });
  });

  it('fails when another event saved the subject since it was loaded, and writes nothing', async () => {
    // Prepare
    const subjectId = fresh('person');
    const loaded = await schedules.load(subjectId);
    await commitOk([save(loaded, [anEntry(subjectId)])]);

    // Act, Assess: the stale load (version 0) and a stale version 1 after a second save.
    await expectConflict([save(loaded, [anEntry(subjectId, { dataClass: 'cookies' })])], 0, subjectId);
    const first = await schedules.load(subjectId);
    await commitOk([save(first, [anEntry(subjectId, { dataClass: 'cookies' })])]);
    await expectConflict(
      [save(first, [anEntry(subjectId, { dataClass: 'marketing-contact' })])],
      0,
      subjectId,
    );
  });

  it('fails when the event was recorded already', async () => {
    // Prepare
    const subjectId = fresh('person');
    const entry = anEntry(subjectId);
    await commitOk([save(await schedules.load(subjectId), [entry])]);

    // Act, Assess: the current version, but an event that already has its answer.
    await expectConflict(
      [
        save(
          await schedules.load(subjectId),
          [anEntry(subjectId, { dataClass: 'cookies' })],
          entry.lastEvent.eventId,
        ),
      ],
      0,
      subjectId,
    );
  });
});

describe('schedule.claim', () => {
  const saved = async () => {
    const subjectId = fresh('person');
    const entry = anEntry(subjectId, { dueAt: '2026-11-20T00:00:00.000Z' });
    await commitOk([save(await schedules.load(subjectId), [entry])]);
    const claimed: ScheduleEntry = { ...entry, status: 'dispatched' };
    return { subjectId, entry, claimed };
  };

  it('claims an entry still as judged and moves the subject version, so a concurrent save fails', async () => {
    // Prepare
    const { subjectId, entry, claimed } = await saved();
    const loadedBeforeClaim = await schedules.load(subjectId);

    // Act
    await commitOk(
      [{ kind: 'schedule.claim', expected: entry, next: claimed, at: NOW }],
      [record(subjectId)],
    );

    // Assess
    expect(await schedules.load(subjectId)).toEqual({
      version: 2,
      schedule: { subjectId, entries: [claimed] },
    });
    const due = await schedules.queryDue(dueBucket(NOW, subjectId, SHARDS), NOW);
    expect(due.some((item) => item.kind === 'entry' && item.entry.subjectId === subjectId)).toBe(false);
    await expectConflict(
      [save(loadedBeforeClaim, [{ ...entry, status: 'cancelled', lastEvent: eventRef(fresh('event')) }])],
      0,
      subjectId,
    );
  });

  it("IMOU-3: a claimed entry's notice item keeps no subject id, sent or not (a notice whose delivery kept failing is read no more)", async () => {
    // Prepare: an entry announced in advance; its notice never went out.
    const subjectId = fresh('person');
    const entry = anEntry(subjectId, {
      dataClass: 'inactive-account',
      dueAt: '2026-11-20T00:00:00.000Z',
      noticeAt: '2026-10-20T00:00:00.000Z',
    });
    await commitOk([save(await schedules.load(subjectId), [entry])]);

    // Act
    await commitOk(
      [{ kind: 'schedule.claim', expected: entry, next: { ...entry, status: 'dispatched' }, at: NOW }],
      [record(subjectId)],
    );

    // Assess
    const { Items } = await clients.documents.send(
      new ScanCommand({ TableName: resources.tables.schedules, ConsistentRead: true }),
    );
    const named = (Items ?? []).filter((item) =>
      new RegExp(`${subjectId}(?![0-9])`).test(JSON.stringify(item)),
    );
    expect(named).toEqual([]);
  });

  it.each([
    [
      'another event was applied to it',
      (entry: ScheduleEntry) => ({ ...entry, lastEvent: eventRef(fresh('event')) }),
    ],
    [
      'it is due at another time',
      (entry: ScheduleEntry) => ({ ...entry, dueAt: '2026-11-19T00:00:00.000Z' }),
    ],
    ['it is in another status', (entry: ScheduleEntry) => ({ ...entry, status: 'blocked' as const })],
  ])('fails when %s', async (_name, judged) => {
    // Prepare
    const { subjectId, entry, claimed } = await saved();

    // Act, Assess
    await expectConflict(
      [{ kind: 'schedule.claim', expected: judged(entry), next: claimed, at: NOW }],
      0,
      subjectId,
    );
  });
});

describe('schedule.replace', () => {
  it('puts a blocked entry back into the due index at its retry time', async () => {
    // Prepare
    const subjectId = fresh('person');
    const entry = anEntry(subjectId, { dueAt: '2026-11-20T00:00:00.000Z' });
    await commitOk([save(await schedules.load(subjectId), [entry])]);
    const blocked: ScheduleEntry = { ...entry, status: 'blocked' };
    const retryAt = '2026-12-03T00:00:00.000Z';

    // Act
    await commitOk(
      [{ kind: 'schedule.replace', expected: entry, next: blocked, at: NOW, retryAt }],
      [record(subjectId)],
    );

    // Assess
    expect((await schedules.load(subjectId)).schedule.entries).toEqual([blocked]);
    const ofSubject = async (now: string) =>
      (await schedules.queryDue(dueBucket(retryAt, subjectId, SHARDS), now)).filter(
        (item) => item.kind === 'entry' && item.entry.subjectId === subjectId,
      );
    expect(await ofSubject('2026-12-02T23:59:59.999Z')).toEqual([]);
    expect(await ofSubject(retryAt)).toEqual([{ kind: 'entry', entry: blocked }]);
  });

  it.each([
    ['in another status', { status: 'blocked' as const }],
    ['due at another time', { dueAt: '2026-11-19T00:00:00.000Z' }],
  ])('fails when the entry is %s than read', async (_name, judged) => {
    // Prepare
    const subjectId = fresh('person');
    const entry = anEntry(subjectId);
    await commitOk([save(await schedules.load(subjectId), [entry])]);

    // Act, Assess
    await expectConflict(
      [
        {
          kind: 'schedule.replace',
          expected: { ...entry, ...judged },
          next: { ...entry, status: 'dispatched' },
          at: NOW,
        },
      ],
      0,
      subjectId,
    );
  });

  it('fails for an entry that does not exist, and creates nothing', async () => {
    // Prepare
    const entry = anEntry(fresh('person'));

    // Act, Assess
    await expectConflict(
      [{ kind: 'schedule.replace', expected: entry, next: entry, at: NOW, retryAt: NOW }],
      0,
    );
  });
});

describe('notice.sent', () => {
  it('takes a notice that went out out of the due index', async () => {
    // Prepare
    const subjectId = fresh('person');
    const entry = anEntry(subjectId, { dataClass: 'inactive-account', noticeAt: '2026-11-20T00:00:00.000Z' });
    await commitOk([save(await schedules.load(subjectId), [entry])]);
    const notices = async () =>
      (await schedules.queryDue(dueBucket(NOW, subjectId, SHARDS), NOW)).filter(
        (item) => item.kind === 'notice' && item.subjectId === subjectId,
      );
    const before = await notices();

    // Act
    await commitOk(
      [{ kind: 'notice.sent', subjectId, dataClass: entry.dataClass, at: NOW }],
      [record(subjectId, { type: 'notice.sent' })],
    );

    // Assess: due at NOW because it was overdue when written.
    expect(before).toEqual([
      {
        kind: 'notice',
        subjectId,
        dataClass: entry.dataClass,
        noticeAt: entry.noticeAt,
        dueAt: entry.dueAt,
        ruleRef: entry.ruleRef,
      },
    ]);
    expect(await notices()).toEqual([]);
  });

  it('fails when the subject has no notice for that class, and creates nothing', async () => {
    // Prepare: an entry without advance notice.
    const subjectId = fresh('person');
    await commitOk([save(await schedules.load(subjectId), [anEntry(subjectId)])]);

    // Act, Assess
    await expectConflict(
      [{ kind: 'notice.sent', subjectId, dataClass: 'closed-account', at: NOW }],
      0,
      subjectId,
    );
  });
});

// ---- hold changes ------------------------------------------------------------------------------

describe('hold.place and hold.release', () => {
  it('places a hold that can be found by id and by subject', async () => {
    // Prepare
    const hold = aHold({ dataClasses: ['closed-account'], until: '2027-11-21T12:00:00.000Z' });

    // Act
    await commitOk([{ kind: 'hold.place', hold }], [record(hold.subjectId, { type: 'hold.placed' })]);

    // Assess
    expect(await holds.find(hold.holdId)).toEqual(hold);
    expect(await holds.forSubject(hold.subjectId)).toEqual([hold]);
  });

  it('fails to place a hold whose id exists, and writes nothing', async () => {
    // Prepare
    const hold = aHold();
    await commitOk([{ kind: 'hold.place', hold }]);

    // Act, Assess
    await expectConflict(
      [{ kind: 'hold.place', hold: { ...hold, reason: 'litigation' } }],
      0,
      hold.subjectId,
    );
  });

  // The port: "A new hold; fails if one with its id exists". Hold ids are looked up alone (find,
  // release by id), so a second hold under the same id, of another subject, must not be placed.
  it('releases a hold once: a second release fails and appends no second audit entry', async () => {
    // Prepare
    const hold = aHold();
    await commitOk([{ kind: 'hold.place', hold }]);
    const released = { kind: 'hold.release', hold, releasedAt: LATER } satisfies Change;

    // Act
    await commitOk([released], [record(hold.subjectId, { type: 'hold.released' })]);

    // Assess
    const forgotten = {
      ...hold,
      subjectId: `pseudonym:${pseudonymise(PSEUDONYM_KEY, hold.subjectId)}`,
      releasedAt: LATER,
    };
    expect(await holds.find(hold.holdId)).toEqual(forgotten);
    await expectConflict([{ ...released, releasedAt: '2026-11-23T00:00:00.000Z' }], 0, hold.subjectId);
    expect(await holds.find(hold.holdId)).toEqual(forgotten);
  });

  it("records a hold's Idempotency-Key with it; a second placement with the key fails whole, whatever its subject", async () => {
    // Prepare
    const key = fresh('hold-key');
    const first = aHold();
    const second = aHold();
    const placing = (hold: LegalHold): Change[] => [
      { kind: 'hold.place', hold },
      { kind: 'hold.idempotency', key, holdId: hold.holdId, bodyHash: 'body-hash', at: NOW },
    ];

    // Act
    await commitOk(placing(first));

    // Assess: the key answers the first hold; the second is not written, nor its audit record.
    expect(await requests.holdIdempotencyRecord(key)).toEqual({
      holdId: first.holdId,
      bodyHash: 'body-hash',
    });
    await expectConflict(placing(second), 1, second.subjectId);
    expect(await holds.find(second.holdId)).toBeUndefined();
    // A request's key of the same text is another record.
    expect(await requests.idempotencyRecord(key)).toBeUndefined();
  });

  it('fails to release a hold that does not exist, and creates nothing', async () => {
    // Act, Assess
    await expectConflict([{ kind: 'hold.release', hold: aHold(), releasedAt: LATER }], 0);
  });

  it('counts each deletion blocked on a hold; a release that read the hold before a block fails, one that read it after succeeds', async () => {
    // Prepare
    const hold = aHold();
    await commitOk([{ kind: 'hold.place', hold }]);

    // Act: blocked twice, then released with the hold as read before the blocks, then as read now.
    await commitOk([{ kind: 'hold.confirm', hold }]);
    await commitOk([{ kind: 'hold.confirm', hold }]);
    const afterBlocks = await holds.find(hold.holdId);
    await expectConflict([{ kind: 'hold.release', hold, releasedAt: LATER }], 0, hold.subjectId);
    await commitOk(
      [{ kind: 'hold.release', hold: afterBlocks ?? hold, releasedAt: LATER }],
      [record(hold.subjectId, { type: 'hold.released' })],
    );

    // Assess: the released copy keeps no count; a block on a released hold fails.
    expect(afterBlocks).toEqual({ ...hold, blockCount: 2 });
    expect(await holds.find(hold.holdId)).toEqual({
      ...hold,
      subjectId: `pseudonym:${pseudonymise(PSEUDONYM_KEY, hold.subjectId)}`,
      releasedAt: LATER,
    });
    await expectConflict([{ kind: 'hold.confirm', hold }], 0, hold.subjectId);
  });
});

// ---- atomicity and limits ----------------------------------------------------------------------

describe('one commit, one transaction', () => {
  it('writes changes of every store and audit entries on several chains together', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(1);
    const hold = aHold({ subjectId: request.subjectId });
    const entry = anEntry(request.subjectId);
    const records = [record(request.subjectId), record(request.subjectId), record(undefined)];

    // Act
    await commitOk(
      [
        create(request, tasks),
        { kind: 'hold.place', hold },
        save(await schedules.load(request.subjectId), [entry]),
      ],
      records,
    );

    // Assess
    expect((await requests.get(request.requestId))?.tasks).toEqual(tasks);
    expect(await holds.find(hold.holdId)).toEqual(hold);
    expect((await schedules.load(request.subjectId)).schedule.entries).toEqual([entry]);
    expect((await chainOf(request.subjectId)).entries.map((stored) => stored.idempotencyKey)).toEqual(
      records.slice(0, 2).map((stored) => stored.event.idempotencyKey),
    );
    expect((await chainOf(undefined)).entries.map((stored) => stored.idempotencyKey)).toContain(
      records[2]?.event.idempotencyKey,
    );
  });

  it('reports the change whose condition failed by its index, with the changes of other stores rolled back', async () => {
    // Prepare: the third change's request is not in `received`.
    const { request, tasks } = requestWithTasks(3);
    const other = aRequest({ status: 'rejected' });
    await commitOk([create(other)]);

    // Act, Assess
    await expectConflict(
      [
        create(request, tasks),
        save(await schedules.load(request.subjectId), [anEntry(request.subjectId)]),
        {
          kind: 'request.transition',
          previous: other,
          next: { ...other, status: 'dispatched' },
          from: ['received'],
        },
        { kind: 'hold.place', hold: aHold() },
      ],
      2,
      request.subjectId,
    );
  });

  it('refuses an audit event holding the raw subject id before anything is written', async () => {
    // Prepare
    const request = aRequest();
    const before = await snapshot();

    // Act
    const commit = uow.commit(
      [create(request)],
      [record(request.subjectId, { detail: { note: `erased files/${request.subjectId}/` } })],
    );

    // Assess
    await expect(commit).rejects.toBeInstanceOf(ValidationError);
    await expect(commit).rejects.toMatchObject({ field: 'detail.note' });
    await expect(commit).rejects.not.toHaveProperty('message', expect.stringContaining(request.subjectId));
    expect(await snapshot()).toEqual(before);
  });

  it('a transaction whose answer was lost is re-sent by the SDK and counts once, not as a conflict', async () => {
    // Prepare: the first TransactWriteItems reaches DynamoDB Local and is applied, but its answer
    // is lost on the way back (a timeout): the SDK sends it again, with the ClientRequestToken it
    // generated for the call (an idempotency token), so DynamoDB answers it as the first and does
    // not refuse it on the conditions the first already met.
    const { request, tasks } = requestWithTasks(2);
    const entry = record(request.subjectId);
    const counted: string[] = [];
    const worker = anotherFunction(counted);
    let lost = 0;
    clients.dynamodb.middlewareStack.add(
      (next, context) => async (args) => {
        const answer = await next(args);
        if (context.commandName === 'TransactWriteItemsCommand' && lost++ === 0) {
          throw Object.assign(new Error('the answer was lost'), { name: 'TimeoutError', $retryable: {} });
        }
        return answer;
      },
      { step: 'deserialize', name: 'loseFirstAnswer' },
    );

    // Act
    let result: unknown;
    try {
      result = await worker.commit([create(request, tasks)], [entry]);
    } finally {
      clients.dynamodb.middlewareStack.remove('loseFirstAnswer');
    }

    // Assess: sent twice, applied once, answered as committed, and no cancellation counted.
    expect(lost).toBe(2);
    expect(result).toEqual({ committed: true });
    expect(counted).toEqual([]);
    expect((await requests.get(request.requestId))?.tasks).toHaveLength(2);
    const chain = await chainOf(request.subjectId);
    expect(chain.verification).toMatchObject({ ok: true, length: 1 });
    expect(chain.entries[0]?.idempotencyKey).toBe(entry.event.idempotencyKey);
  });

  it('commits nothing at all for no changes and no records', async () => {
    // Prepare
    const before = await snapshot();

    // Act
    const result = await uow.commit([], []);

    // Assess
    expect(result).toEqual({ committed: true });
    expect(await snapshot()).toEqual(before);
  });

  it("commits DynamoDB's maximum of 100 items in one transaction", async () => {
    // Prepare: 1 request + 48 x (task + lookup) = 97 items, and 3 for the record on a new chain.
    const { request, tasks } = requestWithTasks(48);

    // Act
    await commitOk([create(request, tasks)], [record(request.subjectId)]);

    // Assess
    expect((await requests.get(request.requestId))?.tasks).toHaveLength(48);
    expect((await chainOf(request.subjectId)).entries).toHaveLength(1);
  });

  it('refuses a commit of more than 100 items with a RangeError, and writes nothing', async () => {
    // Prepare: 98 items with the Idempotency-Key, and 3 for the record.
    const { request, tasks } = requestWithTasks(48);
    const before = await snapshot();

    // Act
    const commit = uow.commit(
      [{ ...create(request, tasks), idempotency: { key: fresh('client-key'), bodyHash: 'h', at: NOW } }],
      [record(request.subjectId)],
    );

    // Assess
    await expect(commit).rejects.toThrow(new RangeError("A commit of 101 items exceeds DynamoDB's 100"));
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a schedule change in a function without the Schedules table, and writes nothing', async () => {
    // Prepare: the worker's unit of work.
    const worker = new DynamoUnitOfWork(clients.documents, { requests, holds, audit });
    const subjectId = fresh('person');
    const before = await snapshot();

    // Act
    const commit = worker.commit(
      [{ kind: 'hold.place', hold: aHold() }, save(await schedules.load(subjectId), [anEntry(subjectId)])],
      [record(subjectId)],
    );

    // Assess
    await expect(commit).rejects.toThrow(new TypeError("No store writes 'schedule.save'"));
    expect(await snapshot()).toEqual(before);
  });
});

// ---- the audit trail ---------------------------------------------------------------------------

describe('audit appends', () => {
  it('chains several records of one commit in order, on one chain that verifies against its head', async () => {
    // Prepare
    const subjectId = fresh('person');
    const records = [record(subjectId), record(subjectId), record(subjectId)];

    // Act
    await commitOk([], records.slice(0, 1));
    await commitOk([], records.slice(1));

    // Assess
    const chain = await chainOf(subjectId);
    expect(chain.verification).toEqual({ ok: true, length: 3, headHash: chain.entries[2]?.hash });
    expect(chain.head).toEqual({ seq: 3, hash: chain.entries[2]?.hash });
    expect(chain.entries.map((entry) => [entry.seq, entry.idempotencyKey])).toEqual(
      records.map((stored, index) => [index + 1, stored.event.idempotencyKey]),
    );
    const pseudonym = pseudonymise(PSEUDONYM_KEY, subjectId);
    expect(chain.chainId).toBe(pseudonym);
    expect(
      chain.entries.every((entry) => entry.chainId === pseudonym && entry.subjectPseudonym === pseudonym),
    ).toBe(true);
    // Stored as chained: no storage attribute (the byDay index key) in what a reader gets.
    expect(chain.entries[0]).not.toHaveProperty('day');
  });

  it('appends an idempotency key once: a repeated commit adds no entry but still writes its state change', async () => {
    // Prepare
    const { request, tasks } = requestWithTasks(1);
    const [task] = tasks as [ErasureTask];
    await commitOk([create(request, tasks)]);
    const started = record(request.subjectId, { type: 'task.started' });
    await commitOk([], [started]);

    // Act: the same event again, alone and beside a state change; and twice within one commit.
    await commitOk([], [started]);
    const running: ErasureTask = { ...task, status: 'running', attempts: 1 };
    await commitOk([{ kind: 'task.transition', next: running, expected: task }], [started]);
    const twice = record(request.subjectId);
    await commitOk([], [twice, twice]);

    // Assess
    expect(await requests.getTask(request.requestId, task.taskId)).toEqual(running);
    const chain = await chainOf(request.subjectId);
    expect(chain.verification).toMatchObject({ ok: true, length: 2 });
    expect(chain.entries.map((entry) => entry.idempotencyKey)).toEqual([
      started.event.idempotencyKey,
      twice.event.idempotencyKey,
    ]);
  });

  it('keys idempotency by chain: the same event key on two subjects is appended to both', async () => {
    // Prepare
    const [first, second] = [fresh('person'), fresh('person')];
    const event = auditEvent(fresh('key'));

    // Act
    await commitOk([], [{ event, subjectId: first }]);
    await commitOk([], [{ event, subjectId: second }]);

    // Assess
    for (const subjectId of [first, second]) {
      expect((await chainOf(subjectId)).entries).toMatchObject([
        { idempotencyKey: event.idempotencyKey, seq: 1 },
      ]);
    }
  });

  it('appends events without a subject to the system chain, with no pseudonym', async () => {
    // Prepare
    const records = [record(undefined), record(undefined)];

    // Act
    await commitOk([], records);

    // Assess
    const chain = await chainOf(undefined);
    expect(chain.chainId).toBe('system');
    expect(chain.verification.ok).toBe(true);
    const appended = chain.entries.filter((entry) =>
      records.some((stored) => stored.event.idempotencyKey === entry.idempotencyKey),
    );
    expect(appended).toHaveLength(2);
    for (const entry of appended) {
      expect(entry.chainId).toBe('system');
      expect(entry).not.toHaveProperty('subjectPseudonym');
    }
  });

  it('settles concurrent commits of several functions on one chain into a single chain without a fork', async () => {
    // Prepare: a request whose tasks start and succeed at the same time in three functions (three
    // Lambdas: a unit of work each), on a chain not started yet.
    const { request, tasks } = requestWithTasks(6);
    await commitOk([create(request, tasks)]);
    const counted: string[] = [];
    const functions = [anotherFunction(counted), anotherFunction(counted), anotherFunction(counted)];
    const running = tasks.map((task): ErasureTask => ({ ...task, status: 'running', attempts: 1 }));
    const keys: string[] = [];
    const step = (from: readonly ErasureTask[], to: readonly ErasureTask[]) =>
      Promise.all(
        from.map((task, index) => {
          const started = record(request.subjectId, { taskId: task.taskId });
          keys.push(started.event.idempotencyKey);
          return (functions[index % functions.length] as DynamoUnitOfWork).commit(
            [{ kind: 'task.transition', next: to[index] as ErasureTask, expected: task }],
            [started],
          );
        }),
      );

    const send = vi.spyOn(clients.documents, 'send');

    // Act
    const first = await step(tasks, running);
    const second = await step(
      running,
      running.map((task) => ({ ...task, status: 'succeeded', affectedCount: 1 })),
    );
    const transactions = send.mock.calls.filter(
      ([command]) => command instanceof TransactWriteCommand,
    ).length;
    send.mockRestore();

    // Assess
    expect([...first, ...second]).toEqual(Array(12).fill({ committed: true }));
    // The writers did race: some lost on the chain head and were retried, each loss counted.
    expect(transactions).toBeGreaterThan(12);
    expect(counted).toEqual(Array(transactions - 12).fill('CommitRetried'));
    const chain = await chainOf(request.subjectId);
    expect(chain.verification).toMatchObject({ ok: true, length: 12 });
    expect(chain.entries.map((entry) => entry.seq)).toEqual(
      Array.from({ length: 12 }, (_, index) => index + 1),
    );
    expect(chain.entries.map((entry) => entry.idempotencyKey).sort()).toEqual([...keys].sort());
    expect((await requests.get(request.requestId))?.tasks.every((task) => task.status === 'succeeded')).toBe(
      true,
    );
  });

  it('queues the commits of one function on one chain: none loses a race, each takes one transaction', async () => {
    // Prepare: twelve commits at once on a chain, through one unit of work (one Lambda's).
    const subjectId = fresh('person');
    const records = Array.from({ length: 12 }, () => record(subjectId));
    const send = vi.spyOn(clients.documents, 'send');

    // Act
    const results = await Promise.all(records.map((one) => uow.commit([], [one])));
    const transactions = send.mock.calls.filter(
      ([command]) => command instanceof TransactWriteCommand,
    ).length;
    send.mockRestore();

    // Assess
    expect(results).toEqual(Array(12).fill({ committed: true }));
    expect(transactions).toBe(12);
    const chain = await chainOf(subjectId);
    expect(chain.verification).toMatchObject({ ok: true, length: 12 });
    expect(chain.entries.map((entry) => entry.idempotencyKey).sort()).toEqual(
      records.map((one) => one.event.idempotencyKey).sort(),
    );
  });

  it('queues by chain only: a commit on another chain does not wait for one in flight', async () => {
    // Prepare: the transaction on the first chain is held until the second chain's commit is done.
    const [held, free] = [fresh('person'), fresh('person')];
    const heldChain = audit.chainIdFor(held);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const send = clients.documents.send.bind(clients.documents);
    const spy = vi.spyOn(clients.documents, 'send').mockImplementation((async (command: unknown) => {
      if (command instanceof TransactWriteCommand && JSON.stringify(command.input).includes(heldChain)) {
        await gate;
      }
      return send(command as TransactWriteCommand);
    }) as typeof clients.documents.send);

    // Act
    const first = uow.commit([], [record(held)]);
    const second = await uow.commit([], [record(free), record(free)]);
    release();
    const results = [await first, second];
    spy.mockRestore();

    // Assess
    expect(results).toEqual([{ committed: true }, { committed: true }]);
    expect((await chainOf(held)).verification).toMatchObject({ ok: true, length: 1 });
    expect((await chainOf(free)).verification).toMatchObject({ ok: true, length: 2 });
  });

  it('appends a record committed by concurrent deliveries once', async () => {
    // Prepare
    const subjectId = fresh('person');
    await commitOk([], [record(subjectId)]);
    const delivered = record(subjectId);
    const counted: string[] = [];
    const worker = anotherFunction(counted);

    // Act
    const results = await Promise.all(Array.from({ length: 4 }, () => worker.commit([], [delivered])));

    // Assess: the replays found the entry there: no race counted.
    expect(results).toEqual(Array(4).fill({ committed: true }));
    expect(counted).toEqual([]);
    const chain = await chainOf(subjectId);
    expect(chain.verification).toMatchObject({ ok: true, length: 2 });
    expect(chain.entries[1]?.idempotencyKey).toBe(delivered.event.idempotencyKey);
  });
});

describe('chain heads read ahead (`prepare`)', () => {
  interface Calls {
    /** The calls so far: heads read and transactions sent. */
    count(): { headReads: number; transactions: number };
    /** Resolves once every call so far has been answered. */
    answered(): Promise<void>;
  }
  /** The documents client's calls while `act` runs. */
  const callsDuring = async (act: (calls: Calls) => Promise<void>) => {
    const send = vi.spyOn(clients.documents, 'send');
    const calls: Calls = {
      count: () => {
        const commands = send.mock.calls.map(([command]) => command);
        return {
          headReads: commands.filter((command) => command instanceof GetCommand).length,
          transactions: commands.filter((command) => command instanceof TransactWriteCommand).length,
        };
      },
      answered: async () => {
        await Promise.allSettled(send.mock.results.map((result) => result.value));
      },
    };
    try {
      await act(calls);
      return calls.count();
    } finally {
      send.mockRestore();
    }
  };

  it('lets the commit use the head read beside the caller’s reads, not a read of its own', async () => {
    // Prepare
    const subjectId = fresh('person');
    await commitOk([], [record(subjectId)]);

    // Act
    let whenPrepared: unknown;
    const calls = await callsDuring(async ({ count }) => {
      uow.prepare([subjectId]);
      whenPrepared = count();
      await commitOk([], [record(subjectId)]);
    });

    // Assess: the head was read as `prepare` was called, and only then.
    expect(whenPrepared).toEqual({ headReads: 1, transactions: 0 });
    expect(calls).toEqual({ headReads: 1, transactions: 1 });
    expect((await chainOf(subjectId)).verification).toMatchObject({ ok: true, length: 2 });
  });

  it('a head another writer moved since it was read ahead: the head’s condition refuses it, the retry reads afresh at once, the chain verifies', async () => {
    // Prepare: another writer (another Lambda) appends once the head was read ahead.
    const subjectId = fresh('person');
    await commitOk([], [record(subjectId)]);
    const otherUow = new DynamoUnitOfWork(clients.documents, {
      requests,
      holds,
      audit: new DynamoAuditLog(clients.documents, resources.tables.audit, PSEUDONYM_KEY),
    });
    const sleeps: number[] = [];
    const ownUow = new DynamoUnitOfWork(
      clients.documents,
      {
        requests,
        holds,
        audit: new DynamoAuditLog(clients.documents, resources.tables.audit, PSEUDONYM_KEY),
      },
      async (ms) => {
        sleeps.push(ms);
      },
    );

    // Act
    const calls = await callsDuring(async ({ answered }) => {
      ownUow.prepare([subjectId]);
      await answered();
      expect(await otherUow.commit([], [record(subjectId)])).toEqual({ committed: true });
      expect(await ownUow.commit([], [record(subjectId)])).toEqual({ committed: true });
    });

    // Assess: the read ahead, the other writer's read, the retry's read; a refused transaction,
    // retried without a backoff (the head was this writer's own stale read, not a crowd).
    expect(calls).toEqual({ headReads: 3, transactions: 3 });
    expect(sleeps).toEqual([]);
    const chain = await chainOf(subjectId);
    expect(chain.verification).toMatchObject({ ok: true, length: 3 });
  });

  it('a commit on the chain drops a head read ahead before it landed, so the next commit is not refused', async () => {
    // Prepare: the first commit's transaction waits until the head read ahead has answered.
    const subjectId = fresh('person');
    await commitOk([], [record(subjectId)]);
    const send = clients.documents.send.bind(clients.documents);
    let readAhead: Promise<unknown> | undefined;
    let headReads = 0;
    let transactions = 0;
    const spy = vi.spyOn(clients.documents, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof GetCommand && ++headReads === 2) {
        readAhead = send(command as GetCommand);
        return readAhead;
      }
      if (command instanceof TransactWriteCommand && ++transactions === 1) {
        return (async () => {
          await vi.waitFor(() => expect(readAhead).toBeDefined());
          await readAhead;
          return await send(command);
        })();
      }
      return send(command as GetCommand);
    }) as typeof clients.documents.send);

    // Act
    try {
      const first = uow.commit([], [record(subjectId)]);
      uow.prepare([subjectId]);
      expect(await first).toEqual({ committed: true });
      await commitOk([], [record(subjectId)]);
    } finally {
      spy.mockRestore();
    }

    // Assess: the second commit read the head again and went through at its first transaction.
    expect({ headReads, transactions }).toEqual({ headReads: 3, transactions: 2 });
    expect((await chainOf(subjectId)).verification).toMatchObject({ ok: true, length: 3 });
  });

  it(`reads the head again when the one read ahead is older than ${PREFETCHED_HEAD_TTL_MS} ms, or its read failed`, async () => {
    // Prepare
    const subjectId = fresh('person');
    await commitOk([], [record(subjectId)]);

    // Act
    const stale = await callsDuring(async () => {
      audit.prefetchHeads([subjectId], Date.now() - PREFETCHED_HEAD_TTL_MS - 1);
      await commitOk([], [record(subjectId)]);
    });
    const failed = await callsDuring(async () => {
      vi.mocked(clients.documents.send).mockRejectedValueOnce(new Error('connection reset'));
      uow.prepare([subjectId]);
      await commitOk([], [record(subjectId)]);
    });

    // Assess
    expect(stale).toEqual({ headReads: 2, transactions: 1 });
    expect(failed).toEqual({ headReads: 2, transactions: 1 });
    expect((await chainOf(subjectId)).verification).toMatchObject({ ok: true, length: 3 });
  });
});
