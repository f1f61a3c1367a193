/**
 * ALM-3: a legal hold protects data, not labels. Connectors erase a subject's data per target and
 * targets are shared by classes, so a hold covers its classes and every target they live in.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { holdTask, startTask } from '../../domain/erasure/index.js';
import { stoppedTasks } from '../../domain/erasure/recovery.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { IllegalTransitionError } from '../../domain/errors.js';
import { heldTasks, holdsBlocking, type LegalHold, needsActiveHolds } from '../../domain/holds.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { evaluateDue } from '../../domain/schedule/due.js';
import { scheduleApply, scheduleEntry, scheduleEvent, scheduleHold } from '../helpers/factories.js';

const catalog = BUILT_IN_CATALOG;
const NOW = '2027-03-01T00:00:00.000Z';
const ids = (holds: readonly LegalHold[]) => holds.map((hold) => hold.holdId);
const held = (dataClasses?: readonly string[], patch: Partial<LegalHold> = {}) =>
  scheduleHold({ ...(dataClasses === undefined ? {} : { dataClasses }), ...patch });

const task = (dataClass: string, target: string, patch: Partial<ErasureTask> = {}): ErasureTask => ({
  taskId: `task_${dataClass}_${target}`,
  requestId: 'req_1',
  subjectId: 'subject-1',
  dataClass,
  action: 'delete',
  target,
  connector: 'dynamodb-items',
  status: 'pending',
  attempts: 0,
  affectedCount: 0,
  ...patch,
});

describe('holdsBlocking', () => {
  it('ALM-3: a hold on customer-profile blocks a suspended-account task on customer-records, not on user-files', () => {
    const holds = [held(['customer-profile'])];
    const on = (target: string) =>
      ids(holdsBlocking(holds, catalog, { dataClass: 'suspended-account', target }, NOW));

    expect(on('customer-records')).toEqual(['hold-1']);
    expect(on('user-files')).toEqual([]);
  });

  it('ALM-3: blocks a whole class when any of its targets holds held data (a due entry, a notice)', () => {
    const holds = [held(['customer-profile'])];
    const of = (dataClass: string) => ids(holdsBlocking(holds, catalog, { dataClass }, NOW));

    expect(of('suspended-account')).toEqual(['hold-1']);
    expect(of('inactive-account')).toEqual(['hold-1']);
    expect(of('cloud-video')).toEqual([]);
  });

  it('IMOU-1: a hold on cloud-video also blocks cloud-video-window on that prefix', () => {
    expect(
      ids(holdsBlocking([held(['cloud-video'])], catalog, { dataClass: 'cloud-video-window' }, NOW)),
    ).toEqual(['hold-1']);
  });

  it('a hold without classes covers everything; released and ended holds cover nothing', () => {
    const holds = [
      held(undefined, { holdId: 'all' }),
      held(undefined, { holdId: 'released', releasedAt: '2027-02-01T00:00:00.000Z' }),
      held(undefined, { holdId: 'ended', until: NOW }),
    ];
    expect(
      ids(holdsBlocking(holds, catalog, { dataClass: 'cookies', target: 'partner-services' }, NOW)),
    ).toEqual(['all']);
  });

  it('never lets a task erase a target that a class of an active hold names', () => {
    const classes = catalog.dataClasses.map((policy) => policy.dataClass);
    fc.assert(
      fc.property(
        fc.subarray(classes, { minLength: 1 }),
        fc.constantFrom(...catalog.dataClasses),
        (heldClasses, policy) => {
          const holds = [held(heldClasses)];
          const heldTargets = new Set(
            catalog.dataClasses
              .filter((candidate) => heldClasses.includes(candidate.dataClass))
              .flatMap((candidate) => candidate.targets),
          );
          for (const target of policy.targets) {
            const blocked = holdsBlocking(holds, catalog, { dataClass: policy.dataClass, target }, NOW);
            expect(blocked.length > 0).toBe(
              heldTargets.has(target) || heldClasses.includes(policy.dataClass),
            );
          }
        },
      ),
    );
  });
});

describe('heldTasks', () => {
  it('lists the tasks that have not erased yet and the holds that keep them, sorted', () => {
    const tasks = [
      task('suspended-account', 'customer-records'),
      task('suspended-account', 'user-files'),
      task('suspended-account', 'customer-records', { taskId: 'running', status: 'running', attempts: 1 }),
      task('suspended-account', 'customer-records', { taskId: 'done', status: 'verified', attempts: 1 }),
    ];
    const holds = [
      held(['customer-profile'], { holdId: 'hold-b' }),
      held(undefined, { holdId: 'hold-a', subjectId: 'subject-1' }),
    ];

    const result = heldTasks(tasks, holds, catalog, NOW);

    expect(result.map(({ task: t, holdIds }) => [t.taskId, holdIds])).toEqual([
      ['task_suspended-account_customer-records', ['hold-a', 'hold-b']],
      ['task_suspended-account_user-files', ['hold-a']],
      ['running', ['hold-a', 'hold-b']],
    ]);
  });
});

describe("heldTasks with every active hold: another subject's hold naming a task's identifier values", () => {
  const EMAIL = 'ana.lindqvist@example.com';
  const byEmail = task('closed-account', 'partner-services', {
    taskId: 'by-email',
    identifiers: { email: [EMAIL] },
  });
  const byId = task('closed-account', 'customer-records', { taskId: 'by-id' });
  const others = (patch: Partial<LegalHold> = {}) =>
    held(undefined, {
      holdId: 'hold-other',
      subjectId: 'subject-2',
      identifiers: { email: [EMAIL] },
      ...patch,
    });
  const judged = (active: readonly LegalHold[], own: readonly LegalHold[] = []) =>
    heldTasks([byEmail, byId], own, catalog, NOW, active).map(({ task: t, holdIds }) => [t.taskId, holdIds]);

  it('ALM-3: holds the task erasing by a value the hold names, not the task keyed by the subject id', () => {
    expect(judged([others()])).toEqual([['by-email', ['hold-other']]]);
  });

  it('ALM-3: a value that differs from the held one only in case is held too (Ana@ and ana@ reach one mailbox)', () => {
    expect(judged([others({ identifiers: { email: [EMAIL.toUpperCase()] } })])).toEqual([
      ['by-email', ['hold-other']],
    ]);
  });

  it('a hold naming another value, or another identifier with the same value, holds nothing', () => {
    expect(judged([others({ identifiers: { email: ['someone@example.com'] } })])).toEqual([]);
    expect(judged([others({ identifiers: { deviceId: [EMAIL] } })])).toEqual([]);
  });

  it("the other subject's hold must still cover the task's class or target; released and ended ones hold nothing", () => {
    expect(judged([others({ dataClasses: ['cloud-video'] })])).toEqual([]);
    expect(judged([others({ dataClasses: ['marketing-contact'] })])).toEqual([['by-email', ['hold-other']]]);
    expect(
      judged([others({ releasedAt: '2027-02-01T00:00:00.000Z' }), others({ holdId: 'ended', until: NOW })]),
    ).toEqual([]);
  });

  it("the subject's own hold, also among the active ones, is named once", () => {
    const own = held(undefined, {
      holdId: 'hold-own',
      subjectId: 'subject-1',
      identifiers: { email: [EMAIL] },
    });
    expect(judged([own, others()], [own])).toEqual([
      ['by-email', ['hold-other', 'hold-own']],
      ['by-id', ['hold-own']],
    ]);
  });

  it('needsActiveHolds: only tasks that erase by identifier values need them read', () => {
    expect(needsActiveHolds([byId])).toBe(false);
    expect(needsActiveHolds([byId, byEmail])).toBe(true);
  });
});

describe('evaluateDue with holds on other classes', () => {
  it('ALL-3: a suspended-account deletion waits while customer-profile is held (they share customer-records)', () => {
    const { schedule } = scheduleApply(catalog, [scheduleEvent('account.suspended', '2026-11-30')]);
    const policy = catalog.dataClasses.find((candidate) => candidate.dataClass === 'suspended-account');
    if (policy === undefined) throw new Error('no policy');

    const verdict = evaluateDue({
      catalog,
      policy,
      entry: scheduleEntry(schedule, 'suspended-account'),
      schedule,
      holds: [held(['customer-profile'])],
      now: NOW,
    });

    expect(verdict).toEqual({ kind: 'blocked', blockers: [{ kind: 'legal-hold', holdIds: ['hold-1'] }] });
  });
});

describe('holdTask', () => {
  it('puts a started attempt back to pending, keeps its attempt counted, and audits the holds once per attempt', () => {
    const started = startTask(task('suspended-account', 'customer-records'), NOW).next;

    const { next, audit } = holdTask(started, ['hold-b', 'hold-a'], NOW);

    expect(next).toMatchObject({ status: 'pending', attempts: 1 });
    expect(next.startedAt).toBeUndefined();
    expect(audit).toMatchObject({
      type: 'task.held',
      idempotencyKey: `task:${started.taskId}:held:1:hold-a+hold-b`,
      detail: expect.objectContaining({ holds: 'hold-a,hold-b', previousStatus: 'running' }),
    });
    // The next attempt is a new one.
    expect(startTask(next, NOW).next.attempts).toBe(2);
  });

  it('refuses a task that is not running, or whose work another service already has', () => {
    expect(() => holdTask(task('cookies', 'partner-services'), ['hold-1'], NOW)).toThrow(
      IllegalTransitionError,
    );
    const awaiting = { ...startTask(task('cookies', 'partner-services'), NOW).next, awaitingCallback: true };
    expect(() => holdTask(awaiting, ['hold-1'], NOW)).toThrow(IllegalTransitionError);
  });
});

describe('stoppedTasks and holds', () => {
  it('ALM-3: does not re-send a task a hold covers; sends it once the hold is released', () => {
    const tasks = [task('suspended-account', 'customer-records'), task('suspended-account', 'user-files')];
    const holds = [held(['customer-profile'])];

    const whileHeld = stoppedTasks(tasks, NOW, { holds, catalog });
    const released = stoppedTasks(tasks, NOW, {
      holds: [{ ...held(['customer-profile']), releasedAt: NOW }],
      catalog,
    });

    expect(whileHeld.map((t) => t.target)).toEqual(['user-files']);
    expect(released.map((t) => t.target)).toEqual(['customer-records', 'user-files']);
  });

  it('a task awaiting a callback is not held (the other service has the work): once its callback is late it is sent again, for the worker to ask again or give up', () => {
    const awaiting = task('suspended-account', 'customer-records', {
      status: 'running',
      attempts: 1,
      awaitingCallback: true,
      startedAt: '2027-02-01T00:00:00.000Z',
    });
    const holds = [held(['customer-profile'])];

    expect(heldTasks([awaiting], holds, catalog, NOW)).toEqual([]);
    expect(stoppedTasks([awaiting], NOW, { holds, catalog }).map((t) => t.taskId)).toEqual([awaiting.taskId]);
  });
});
