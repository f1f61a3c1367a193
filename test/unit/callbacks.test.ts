/**
 * Tasks a webhook answers later with a signed callback: when a late callback is given up on, and
 * the nonce that binds a callback to the attempt that asked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { callbackNonceFor, redriveTask, startTask, taskFailed } from '../../domain/erasure/index.js';
import {
  CALLBACK_TIMEOUT_MS,
  callbackTimedOut,
  decideAwaitingCallback,
  stoppedTasks,
} from '../../domain/erasure/recovery.js';
import { attemptsExhausted, MAX_ROUNDS } from '../../domain/erasure/retry.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { ValidationError } from '../../domain/errors.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';

const NOW = '2027-03-15T06:00:00.000Z';
const MAX_RECEIVES = 5;
const ago = (ms: number) => new Date(Date.parse(NOW) - ms).toISOString();

const awaiting = (patch: Partial<ErasureTask> = {}): ErasureTask => ({
  taskId: 'task_webhook',
  requestId: 'req_1',
  subjectId: 'subject-1',
  dataClass: 'marketing-contact',
  action: 'delete',
  target: 'partner-services',
  connector: 'http-webhook',
  status: 'running',
  attempts: 1,
  affectedCount: 0,
  startedAt: ago(CALLBACK_TIMEOUT_MS + 1),
  awaitingCallback: true,
  ...patch,
});

describe('a callback that never comes', () => {
  it('waits for the callback until the timeout', () => {
    expect(
      decideAwaitingCallback(awaiting({ startedAt: ago(CALLBACK_TIMEOUT_MS - 1) }), NOW, MAX_RECEIVES),
    ).toEqual({ kind: 'wait' });
  });

  it('asks again once the timeout has passed, while attempts are left', () => {
    expect(
      decideAwaitingCallback(awaiting({ startedAt: ago(CALLBACK_TIMEOUT_MS) }), NOW, MAX_RECEIVES),
    ).toEqual({
      kind: 'ask-again',
    });
  });

  it('gives up with callback-timeout once the attempts are spent', () => {
    const decision = decideAwaitingCallback(
      awaiting({ attempts: MAX_RECEIVES * MAX_ROUNDS }),
      NOW,
      MAX_RECEIVES,
    );
    expect(decision).toMatchObject({ kind: 'give-up', code: 'callback-timeout' });
  });

  it('ends every wait: any timed-out task is asked again or given up on, and asking again spends an attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 96 }), (attempts, hours) => {
        const task = awaiting({ attempts, startedAt: ago(hours * 3_600_000) });
        const decision = decideAwaitingCallback(task, NOW, MAX_RECEIVES);
        if (hours < 24) expect(decision.kind).toBe('wait');
        else expect(decision.kind).toBe(attempts >= MAX_RECEIVES * MAX_ROUNDS ? 'give-up' : 'ask-again');
      }),
    );
  });

  it('refuses a task that is not awaiting a callback', () => {
    expect(() =>
      decideAwaitingCallback(
        { ...awaiting(), awaitingCallback: undefined } as ErasureTask,
        NOW,
        MAX_RECEIVES,
      ),
    ).toThrow(ValidationError);
  });

  it('the sweep re-sends a waiting task exactly when the worker will act on it', () => {
    const tasks = [
      awaiting({ taskId: 'early', startedAt: ago(CALLBACK_TIMEOUT_MS - 1) }),
      awaiting({ taskId: 'due', startedAt: ago(CALLBACK_TIMEOUT_MS) }),
    ];
    const resent = stoppedTasks(tasks, NOW, { holds: [], catalog: BUILT_IN_CATALOG });
    expect(resent.map((task) => task.taskId)).toEqual(['due']);
    expect(tasks.map((task) => callbackTimedOut(task, NOW))).toEqual([false, true]);
  });

  it('a re-drive gives a task that spent its attempts a fresh budget, so it is asked again instead of failing at once', () => {
    const spent = awaiting({ attempts: MAX_RECEIVES * MAX_ROUNDS });
    const failed = taskFailed(spent, { message: 'no callback', code: 'callback-timeout' }, NOW).next;

    const redriven = redriveTask(failed, NOW).next;

    expect(attemptsExhausted(failed, MAX_RECEIVES)).toBe(true);
    expect(redriven).toMatchObject({
      attempts: MAX_RECEIVES * MAX_ROUNDS + 1,
      redrivenAtAttempt: MAX_RECEIVES * MAX_ROUNDS,
    });
    expect(attemptsExhausted(redriven, MAX_RECEIVES)).toBe(false);
    expect(attemptsExhausted({ ...redriven, attempts: 2 * MAX_RECEIVES * MAX_ROUNDS }, MAX_RECEIVES)).toBe(
      true,
    );
  });
});

describe('the nonce of an attempt', () => {
  it('is the same for the same attempt and differs for every other attempt and task', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (a, b) => {
        const nonce = (taskId: string, attempts: number) => callbackNonceFor({ taskId, attempts });
        expect(nonce('task_a', a)).toBe(nonce('task_a', a));
        expect(nonce('task_a', a) === nonce('task_a', b)).toBe(a === b);
        expect(nonce('task_a', a)).not.toBe(nonce('task_b', a));
      }),
    );
  });

  it('changes with every new attempt: a restart, a re-ask, a re-drive', () => {
    const first = awaiting();
    const restarted = startTask(first, NOW).next;
    const failed = taskFailed(restarted, 'no callback', NOW).next;
    const redriven = redriveTask(failed, NOW).next;
    const nonces = [first, restarted, redriven].map(callbackNonceFor);
    expect(new Set(nonces).size).toBe(3);
    expect(callbackNonceFor(failed)).toBe(callbackNonceFor(restarted));
  });
});
