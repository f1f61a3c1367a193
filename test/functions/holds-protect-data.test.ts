/**
 * ALM-3 at the depth of the data: a hold protects every target its data classes live in, because
 * connectors erase a subject's data per target and targets are shared by classes. The use cases
 * (dispatch, the worker, the sweep and the request view) run on the in-memory ports; the
 * assertions are on what is stored, audited and sent.
 */
import { describe, expect, it, vi } from 'vitest';
import { dispatchRequest, receiveRequest } from '../../domain/erasure/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { LegalHold } from '../../domain/holds.js';
import { makeHandler as makeWorker } from '../../functions/run-connector-task.js';
import { describeErasureRequest, submitErasureRequest } from '../../functions/services/erasure-requests.js';
import { RELEASE_ATTEMPTS, releaseLegalHold } from '../../functions/services/legal-holds.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { HOLDS_LINGER_MS, runConnectorTask } from '../../functions/services/run-task.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import { stubRegistry } from '../helpers/connectors.js';
import {
  HANDLER_NOW,
  type HandlerDeps,
  handlerDeps,
  lambdaContext,
  sqsRecord,
} from '../helpers/handler-deps.js';

const SUBJECT = 'subject-held-7c1';

const hold = (holdId: string, dataClasses?: readonly string[], subjectId = SUBJECT): LegalHold => ({
  holdId,
  subjectId,
  reason: 'litigation-2026-044',
  createdAt: '2026-11-01T00:00:00.000Z',
  ...(dataClasses === undefined ? {} : { dataClasses }),
});

const placed = async (built: HandlerDeps, ...holds: LegalHold[]) => {
  for (const each of holds) {
    expect((await built.ports.uow.commit([{ kind: 'hold.place', hold: each }])).committed).toBe(true);
  }
  return built;
};

const task = (target: string, connector: string, patch: Partial<ErasureTask> = {}): ErasureTask => ({
  taskId: `task_${target}`,
  requestId: 'req_held',
  subjectId: SUBJECT,
  dataClass: 'suspended-account',
  action: 'delete',
  target,
  connector,
  status: 'pending',
  attempts: 0,
  affectedCount: 0,
  ...patch,
});
const CUSTOMER_TASK = task('customer-records', 'dynamodb-items');
const FILES_TASK = task('user-files', 's3-prefix');

/** A dispatched `suspended-account` request with its two tasks. */
const dispatched = async (
  built: HandlerDeps,
  tasks: readonly ErasureTask[] = [CUSTOMER_TASK, FILES_TASK],
) => {
  const { next: received } = receiveRequest({
    requestId: 'req_held',
    subjectId: SUBJECT,
    origin: 'api',
    dataClasses: ['suspended-account'],
    reason: 'gdpr-art17-request',
    receivedAt: HANDLER_NOW,
    taskCount: tasks.length,
  });
  const request = dispatchRequest(received, tasks.length, HANDLER_NOW).next;
  expect((await built.ports.uow.commit([{ kind: 'request.create', request, tasks }])).committed).toBe(true);
  return built;
};

const auditTypes = (built: HandlerDeps) => built.ports.allEntries().map((entry) => entry.type);

describe('ALM-3: a hold on a data class protects the targets that class lives in', () => {
  it('blocks an erasure request whose task erases from a target of a held class, and names the task and the hold', async () => {
    // Prepare: customer-profile lives in customer-records, which suspended-account erases too.
    const built = await placed(handlerDeps(), hold('hold_profile', ['customer-profile']));

    // Act
    const receipt = await submitErasureRequest(
      built.deps,
      { subjectId: SUBJECT, dataClasses: ['suspended-account'], reason: 'gdpr-art17-request' },
      'held-request-0001',
    );

    // Assess
    expect(receipt.status).toBe('blocked');
    expect(built.ports.sent).toEqual([]);
    expect(receipt.blockedTasks).toEqual([
      expect.objectContaining({
        dataClass: 'suspended-account',
        target: 'customer-records',
        blockedBy: ['hold_profile'],
      }),
    ]);
    const view = await describeErasureRequest(built.deps, receipt.requestId);
    expect(view.blockedBy.get(receipt.blockedTasks?.[0]?.taskId ?? '')).toEqual(['hold_profile']);
    expect(view.request.blockedBy).toEqual(['hold_profile']);
  });

  it('dispatches a request none of whose targets a held class uses', async () => {
    // Prepare: billing-traffic lives only with the partner services.
    const built = await placed(handlerDeps(), hold('hold_billing', ['billing-traffic']));

    // Act
    const receipt = await submitErasureRequest(
      built.deps,
      { subjectId: SUBJECT, dataClasses: ['suspended-account'], reason: 'gdpr-art17-request' },
      'held-request-0002',
    );

    // Assess
    expect(receipt.status).toBe('dispatched');
    expect(receipt.blockedTasks).toBeUndefined();
    expect(built.ports.sent).toHaveLength(2);
  });

  it('dispatches a blocked request at the sweep once the hold is released', async () => {
    // Prepare
    const built = await placed(handlerDeps(), hold('hold_profile', ['customer-profile']));
    const receipt = await submitErasureRequest(
      built.deps,
      { subjectId: SUBJECT, dataClasses: ['suspended-account'], reason: 'gdpr-art17-request' },
      'held-request-0003',
    );
    await sweepDueDeletions(built.deps, HANDLER_NOW);
    expect(built.ports.sent).toEqual([]);

    // Act
    await releaseLegalHold(built.deps, 'hold_profile');
    await sweepDueDeletions(built.deps, HANDLER_NOW);

    // Assess
    expect(built.ports.state.requests.get(receipt.requestId)?.status).toBe('dispatched');
    expect(built.ports.sent.map((message) => message.requestId)).toEqual([
      receipt.requestId,
      receipt.requestId,
    ]);
    expect((await describeErasureRequest(built.deps, receipt.requestId)).blockedBy.size).toBe(0);
  });

  it('stops the worker before it starts a task on a target of a held class', async () => {
    // Prepare
    const connectors = stubRegistry();
    const built = await dispatched(
      await placed(handlerDeps({ overrides: { connectors } }), hold('hold_profile', ['customer-profile'])),
    );

    // Act
    const customer = await runConnectorTask(built.deps, CUSTOMER_TASK, 1);
    const files = await runConnectorTask(built.deps, FILES_TASK, 1);

    // Assess
    expect(customer).toEqual({ kind: 'done' });
    expect(files).toEqual({ kind: 'done' });
    expect(connectors.executed).toEqual([FILES_TASK.taskId]);
    expect(built.ports.state.tasks.get(`req_held\u0000${CUSTOMER_TASK.taskId}`)?.status).toBe('pending');
    expect(auditTypes(built)).toContain('task.held');
  });

  it('checks the holds again right before the destructive call: a hold placed while the task starts stops it', async () => {
    // Prepare: the hold lands between the task's start and the connector call.
    const connectors = stubRegistry();
    const built = await dispatched(handlerDeps({ overrides: { connectors } }));
    built.ports.beforeCommit = (changes) => {
      const started = changes.some(
        (change) => change.kind === 'task.transition' && change.next.status === 'running',
      );
      if (started) {
        built.ports.state.holds.set('hold_late', hold('hold_late', ['customer-profile']));
        built.ports.beforeCommit = undefined;
      }
    };

    // Act
    const outcome = await runConnectorTask(built.deps, CUSTOMER_TASK, 1);

    // Assess: nothing erased, the task waits (pending) for the hold to end, and the audit says why.
    expect(outcome).toEqual({ kind: 'done' });
    expect(connectors.executed).toEqual([]);
    const stored = built.ports.state.tasks.get(`req_held\u0000${CUSTOMER_TASK.taskId}`);
    expect(stored).toMatchObject({ status: 'pending', attempts: 1 });
    const held = built.ports.allEntries().filter((entry) => entry.type === 'task.held');
    expect(held).toEqual([
      expect.objectContaining({
        taskId: CUSTOMER_TASK.taskId,
        detail: expect.objectContaining({ holds: 'hold_late' }),
      }),
    ]);
  });

  /**
   * A worker batch with both tasks of the request, whose second lease takes `leaseMs` and lets a
   * hold land while it commits; the first lease is committed at once.
   */
  const batchWithSlowSecondLease = async (leaseMs: number) => {
    const connectors = stubRegistry();
    const built = await dispatched(handlerDeps({ overrides: { connectors } }));
    const { commit } = built.deps.uow;
    let leases = 0;
    Object.assign(built.deps, {
      uow: {
        commit: async (...args: Parameters<typeof commit>) => {
          const [change] = args[0];
          if (change?.kind === 'task.transition' && change.next.status === 'running' && ++leases === 2) {
            await new Promise((resolve) => setTimeout(resolve, leaseMs));
            built.ports.state.holds.set('hold_late', hold('hold_late'));
          }
          return commit(...args);
        },
      },
    });
    const reads = vi.spyOn(built.deps.holds, 'forSubject');
    const worker = makeWorker(() => Promise.resolve(built.deps));
    const records = [CUSTOMER_TASK, FILES_TASK].map((each, index) =>
      sqsRecord(`m-${index}`, JSON.stringify({ taskId: each.taskId, requestId: each.requestId })),
    );
    const { batchItemFailures } = await worker({ Records: records }, lambdaContext('worker'));
    const statusOf = (each: ErasureTask) =>
      built.ports.state.tasks.get(`req_held\u0000${each.taskId}`)?.status;
    return { built, connectors, batchItemFailures, reads, statusOf };
  };

  it('in a batch, a hold placed while a sibling starts stops every sibling: the holds are read after all their leases', async () => {
    // Act: the second lease lands well within the time the first task waits for its siblings.
    const { built, connectors, batchItemFailures, reads, statusOf } = await batchWithSlowSecondLease(
      HOLDS_LINGER_MS / 2,
    );

    // Assess: one read, after both leases; neither task erased anything, both wait for the hold.
    expect(batchItemFailures).toEqual([]);
    expect(reads).toHaveBeenCalledTimes(1);
    expect(connectors.executed).toEqual([]);
    expect([statusOf(CUSTOMER_TASK), statusOf(FILES_TASK)]).toEqual(['pending', 'pending']);
    expect(auditTypes(built).filter((type) => type === 'task.held')).toHaveLength(2);
  });

  it('in a batch, a sibling whose lease is slow holds the others back for a while only, and its own check still follows its lease', async () => {
    // Act: the second lease takes longer than the first task waits for it.
    const { connectors, batchItemFailures, reads, statusOf } = await batchWithSlowSecondLease(
      HOLDS_LINGER_MS * 3,
    );

    // Assess: the first task read the holds without waiting any longer and erased (no hold yet);
    // the second read them after its lease, found the hold and waits for it.
    expect(batchItemFailures).toEqual([]);
    expect(reads).toHaveBeenCalledTimes(2);
    expect(connectors.executed).toEqual([CUSTOMER_TASK.taskId]);
    expect(statusOf(CUSTOMER_TASK)).toBe('verified');
    expect(statusOf(FILES_TASK)).toBe('pending');
  });

  it('lets the sweep re-send a held task only once no hold covers it', async () => {
    // Prepare: dispatched long ago; the customer-records task is held, the files task is done.
    const built = await dispatched(
      await placed(
        handlerDeps({ now: '2026-11-21T13:00:00.000Z' }),
        hold('hold_profile', ['customer-profile']),
      ),
      [CUSTOMER_TASK, { ...FILES_TASK, status: 'verified', attempts: 1 }],
    );

    // Act
    await sweepDueDeletions(built.deps, '2026-11-21T13:00:00.000Z');
    const whileHeld = [...built.ports.sent];
    await releaseLegalHold(built.deps, 'hold_profile');
    await sweepDueDeletions(built.deps, '2026-11-21T13:00:00.000Z');

    // Assess
    expect(whileHeld).toEqual([]);
    expect(built.ports.sent).toEqual([{ taskId: CUSTOMER_TASK.taskId, requestId: 'req_held' }]);
  });
});

describe('ALM-3 at the sweep: scheduled deletions, rolling windows and notices', () => {
  const built = () => handlerDeps({ now: '2026-12-01T00:00:00.000Z' });
  const event = (deps: HandlerDeps, type: string, occurredAt: string, attributes = {}) =>
    recordLifecycleEvent(deps.deps, { subjectId: SUBJECT, type, occurredAt, attributes } as never);

  it('ALL-3: blocks a due suspended-account deletion while customer-profile is held (they share customer-records)', async () => {
    // Prepare
    const deps = await placed(built(), hold('hold_profile', ['customer-profile']));
    await event(deps, 'account.suspended', '2026-11-28T00:00:00.000Z');

    // Act
    const report = await sweepDueDeletions(deps.deps, '2027-03-01T00:00:00.000Z');

    // Assess
    expect(report.dispatched).toEqual([]);
    expect(report.blocked).toEqual([
      expect.objectContaining({ dataClass: 'suspended-account', blockers: ['legal-hold:hold_profile'] }),
    ]);
    expect(deps.ports.sent).toEqual([]);
  });

  it('ALL-3: a release puts the deletion it blocked back in the due index in the same commit, so a release that dies right after still lets it run', async () => {
    // Prepare: a due suspended-account deletion, blocked by the hold (no end, so no retry time).
    const deps = await placed(built(), hold('hold_profile', ['customer-profile']));
    await event(deps, 'account.suspended', '2026-11-28T00:00:00.000Z');
    const whileHeld = await sweepDueDeletions(deps.deps, '2027-03-01T00:00:00.000Z');
    expect(whileHeld.blocked).toHaveLength(1);
    const commit = deps.deps.uow.commit.bind(deps.deps.uow);
    vi.spyOn(deps.deps.uow, 'commit').mockImplementationOnce(async (changes, audit) => {
      await commit(changes, audit);
      throw new Error('the function died after its first commit');
    });

    // Act: the release dies after its first commit; a retried DELETE finds the hold released.
    await expect(releaseLegalHold(deps.deps, 'hold_profile')).rejects.toThrow('the function died');
    await releaseLegalHold(deps.deps, 'hold_profile');
    const report = await sweepDueDeletions(deps.deps, '2027-03-01T00:05:00.000Z');

    // Assess: released once, and the deletion it blocked runs.
    expect(auditTypes(deps).filter((type) => type === 'hold.released')).toHaveLength(1);
    expect(report.dispatched).toEqual([expect.objectContaining({ dataClass: 'suspended-account' })]);
  });

  it('ALL-3: a hold released while the sweep blocks on it: the block does not land, and the same sweep runs the deletion', async () => {
    // Prepare: the sweep reads the hold, and the hold is released before the sweep commits.
    const deps = await placed(built(), hold('hold_profile', ['customer-profile']));
    await event(deps, 'account.suspended', '2026-11-28T00:00:00.000Z');
    const read = deps.deps.holds.forSubject.bind(deps.deps.holds);
    vi.spyOn(deps.deps.holds, 'forSubject').mockImplementationOnce(async (subjectId) => {
      const holds = await read(subjectId);
      await releaseLegalHold(deps.deps, 'hold_profile');
      return holds;
    });

    // Act
    const crossed = await sweepDueDeletions(deps.deps, '2027-03-01T00:00:00.000Z');

    // Assess: nothing was left blocked by a hold that is gone; the entry was judged again at once.
    expect(crossed.blocked).toEqual([]);
    expect(crossed.dispatched).toEqual([expect.objectContaining({ dataClass: 'suspended-account' })]);
  });

  it('ALL-3: a deletion blocked while a release reads the schedule: the release reads again and puts it back in the due index', async () => {
    // Prepare: the release reads the subject's schedule; the sweep blocks the deletion before the
    // release commits.
    const deps = await placed(built(), hold('hold_profile', ['customer-profile']));
    await event(deps, 'account.suspended', '2026-11-28T00:00:00.000Z');
    const load = deps.deps.schedules.load.bind(deps.deps.schedules);
    const blockedMeanwhile: unknown[] = [];
    vi.spyOn(deps.deps.schedules, 'load').mockImplementationOnce(async (subjectId) => {
      const loaded = await load(subjectId);
      blockedMeanwhile.push(...(await sweepDueDeletions(deps.deps, '2027-03-01T00:00:00.000Z')).blocked);
      return loaded;
    });

    // Act
    await releaseLegalHold(deps.deps, 'hold_profile');
    const next = await sweepDueDeletions(deps.deps, '2027-03-01T00:05:00.000Z');

    // Assess: released once, and the deletion blocked in between runs.
    expect(blockedMeanwhile).toHaveLength(1);
    expect(auditTypes(deps).filter((type) => type === 'hold.released')).toHaveLength(1);
    expect(next.dispatched).toEqual([expect.objectContaining({ dataClass: 'suspended-account' })]);
  });

  it('a release outlasts a burst of blocks on its hold: it reads again after each lost commit, up to RELEASE_ATTEMPTS', async () => {
    // Prepare: the first RELEASE_ATTEMPTS - 1 release commits lose (a block moved the hold's count).
    const deps = await placed(built(), hold('hold_profile', ['customer-profile']));
    const commit = deps.deps.uow.commit.bind(deps.deps.uow);
    let lost = 0;
    vi.spyOn(deps.deps.uow, 'commit').mockImplementation(async (changes, audit) => {
      if (changes[0]?.kind === 'hold.release' && lost < RELEASE_ATTEMPTS - 1) {
        lost++;
        return { committed: false, conflict: 0, change: 'hold.release' };
      }
      return commit(changes, audit);
    });

    // Act
    await releaseLegalHold(deps.deps, 'hold_profile');

    // Assess
    expect(lost).toBe(RELEASE_ATTEMPTS - 1);
    expect(auditTypes(deps).filter((type) => type === 'hold.released')).toHaveLength(1);
    expect(await deps.deps.holds.forSubject(SUBJECT)).toEqual([]);
  });

  it('IMOU-1: a hold on cloud-video also excludes its subject from the cloud-video-window run on that prefix', async () => {
    // Prepare
    const connectors = stubRegistry();
    const deps = await placed(built(), hold('hold_video', ['cloud-video']));
    await event(deps, 'plan.renewed', '2026-11-30T12:00:00.000Z');

    // Act
    const report = await sweepDueDeletions(
      { ...deps.deps, connectors, settings: { ...deps.deps.settings, windowRuns: true } },
      '2026-12-01T00:00:00.000Z',
    );

    // Assess
    expect(report.dispatched).toEqual([]);
    expect(report.blocked).toEqual([]);
    expect(connectors.windowRuns.find((run) => run.dataClass === 'cloud-video-window')).toMatchObject({
      target: 'cloud-video',
      excludedSubjects: [SUBJECT],
    });
  });

  it('IMOU-3: does not announce a deletion that a hold blocks; the notice goes out once the hold ends', async () => {
    // Prepare: inactive-account erases everywhere, customer-profile's targets included.
    const deps = await placed(built(), hold('hold_profile', ['customer-profile']));
    const active = await event(deps, 'subject.active', '2025-05-01T00:00:00.000Z');
    const noticeAt = active.decisions.find(
      (d) => d.dataClass === 'inactive-account' && d.change === 'notice',
    );
    expect(noticeAt).toBeDefined();

    // Act
    const held = await sweepDueDeletions(deps.deps, '2027-02-02T00:00:00.000Z');
    await releaseLegalHold(deps.deps, 'hold_profile');
    const released = await sweepDueDeletions(deps.deps, '2027-02-02T00:00:00.000Z');

    // Assess
    expect(held.notices).toEqual([]);
    expect(held.heldNotices).toEqual([
      expect.objectContaining({ dataClass: 'inactive-account', blockers: ['legal-hold:hold_profile'] }),
    ]);
    expect(released.notices.map((notice) => notice.dataClass)).toEqual(['inactive-account']);
  });
});

describe('a hold that ran out (`until` passed) keeps no personal data', () => {
  it('the sweep moves it to the pseudonym and drops its identifiers, as a release does; an active one stays', async () => {
    // Prepare: one hold ended yesterday, one ends next year; both name the subject and an e-mail.
    const built = await placed(
      handlerDeps(),
      {
        ...hold('hold_ended'),
        until: '2026-11-20T00:00:00.000Z',
        identifiers: { email: ['held.person@example.com'] },
      },
      { ...hold('hold_running', undefined, 'subject-held-other'), until: '2027-11-20T00:00:00.000Z' },
    );

    // Act
    await sweepDueDeletions(built.deps, HANDLER_NOW);
    await sweepDueDeletions(built.deps, HANDLER_NOW);

    // Assess
    const holds = [...built.ports.state.holds.values()];
    const ended = holds.find((candidate) => candidate.holdId === 'hold_ended');
    expect(ended?.releasedAt).toBe('2026-11-20T00:00:00.000Z');
    expect(JSON.stringify(holds)).not.toContain(SUBJECT);
    expect(JSON.stringify(holds)).not.toContain('held.person@example.com');
    expect(holds.find((candidate) => candidate.holdId === 'hold_running')).toMatchObject({
      subjectId: 'subject-held-other',
    });
    expect(holds.find((candidate) => candidate.holdId === 'hold_running')?.releasedAt).toBeUndefined();
  });
});
