/**
 * Stuck-work recovery: which open requests the sweep must move on, and how, and what the worker
 * does with a task whose callback is late. Pure: the services load, these decide, the services act.
 */
import { ValidationError } from '../errors.js';
import { heldTasks, type LegalHold } from '../holds.js';
import type { PolicyCatalog } from '../policy/types.js';
import { isFinal } from './request.js';
import { attemptsExhausted } from './retry.js';
import type { ErasureRequest, ErasureTask } from './types.js';

/** How long a request may sit in `received` before the sweep assumes its dispatch was lost. */
export const STUCK_AFTER_MS = 2 * 60 * 1000;
/** Longer than a queue backlog normally lasts, so a busy queue is not flooded with duplicates. */
export const STUCK_DISPATCH_AFTER_MS = 30 * 60 * 1000;
/**
 * The callback timeout: how long a service that answered 202 gets to call back before the task is
 * asked again (a new attempt), or failed once its attempts are spent.
 */
export const CALLBACK_TIMEOUT_MS = 24 * 3600 * 1000;
/** ALU-3 reporting: a request is near its deadline within this. */
export const NEAR_DEADLINE_MS = 7 * 24 * 3600 * 1000;

const before = (now: string, ms: number): string => new Date(Date.parse(now) - ms).toISOString();

/** A task awaiting a callback whose attempt started at least the callback timeout before `now`. */
export const callbackTimedOut = (task: ErasureTask, now: string): boolean =>
  task.status === 'running' &&
  task.awaitingCallback === true &&
  (task.startedAt ?? '') <= before(now, CALLBACK_TIMEOUT_MS);

export type AwaitingCallbackDecision =
  /** The callback may still come: leave the task as it is. */
  | { readonly kind: 'wait' }
  /** The timeout passed: start a new attempt, which asks the service again (same idempotency key). */
  | { readonly kind: 'ask-again' }
  /** The timeout passed and the attempts are spent: fail the task, so the request can settle. */
  | { readonly kind: 'give-up'; readonly code: 'callback-timeout'; readonly message: string };

/**
 * What the worker does with a task that is waiting for a service's callback (HTTP 202). A callback
 * that never comes must not keep the request open for ever: after the callback timeout the task is
 * asked again, each time as a new attempt, and once its attempts are spent (`attemptsExhausted`)
 * it fails with `callback-timeout`; the request then ends `partially_failed` and can be re-driven.
 */
export const decideAwaitingCallback = (
  task: ErasureTask,
  now: string,
  maxReceives: number,
): AwaitingCallbackDecision => {
  if (task.status !== 'running' || task.awaitingCallback !== true) {
    throw new ValidationError(`a ${task.status} task is not awaiting a callback`, 'awaitingCallback');
  }
  if (!callbackTimedOut(task, now)) return { kind: 'wait' };
  if (!attemptsExhausted(task, maxReceives)) return { kind: 'ask-again' };
  return {
    kind: 'give-up',
    code: 'callback-timeout',
    message: `No callback within ${CALLBACK_TIMEOUT_MS / 3_600_000} hours of each of ${task.attempts} attempts`,
  };
};

/**
 * Whether an open request may be stuck at `now` (read from the open-requests index, without its
 * tasks): `received` for a while (its dispatch was lost), `blocked` (its holds may have ended), or
 * `dispatched` long enough ago that a task may have stopped.
 */
export const mayBeStuck = (request: ErasureRequest, now: string): boolean => {
  if (request.status === 'received') return request.receivedAt < before(now, STUCK_AFTER_MS);
  // A scheduled deletion with nothing it could address: settled by the next review.
  if (request.status === 'dispatched' && request.taskCount === 0) return true;
  if (request.status === 'dispatched') {
    return (request.dispatchedAt ?? request.receivedAt) < before(now, STUCK_DISPATCH_AFTER_MS);
  }
  return request.status === 'blocked';
};

/**
 * The subject's legal holds, every active hold when a task erases by identifier values
 * (`heldTasks`), and the catalog that says where each class's data lives.
 */
export interface HoldsInForce {
  readonly holds: readonly LegalHold[];
  readonly active?: readonly LegalHold[];
  readonly catalog: PolicyCatalog;
}

/**
 * Tasks of a dispatched request that stopped and must be sent again: never started (message
 * lost, or held back by a legal hold that has ended since), or started long ago without an answer
 * (a timed-out attempt, or a callback that never came). A task a hold still covers waits: it is
 * sent once no hold covers it (ALM-3). Workers skip finished work, so re-sending is always safe; a
 * task's attempt limit bounds it.
 */
export const stoppedTasks = (
  tasks: readonly ErasureTask[],
  now: string,
  { holds, active, catalog }: HoldsInForce,
): ErasureTask[] => {
  const held = new Set(heldTasks(tasks, holds, catalog, now, active).map(({ task }) => task.taskId));
  return tasks.filter(
    (task) =>
      !held.has(task.taskId) &&
      (task.status === 'pending' ||
        (task.status === 'running' &&
          (task.awaitingCallback === true
            ? callbackTimedOut(task, now)
            : (task.startedAt ?? '') < before(now, STUCK_DISPATCH_AFTER_MS)))),
  );
};

const after = (instant: string, ms: number): string => new Date(Date.parse(instant) + ms).toISOString();

/**
 * When an open request may first be stuck, as its state changes set it (the review index's sort
 * key): a `received` request once its dispatch may have been lost, a `dispatched` one once a task
 * may have stopped, a `blocked` one at once (its holds may end at any time). A final
 * request is never reviewed (undefined). A sweep reads only requests whose time has come, so its
 * cost grows with what may be stuck, not with every open request.
 */
export const reviewAtOf = (request: ErasureRequest): string | undefined => {
  if (isFinal(request.status)) return undefined;
  if (request.status === 'received') return after(request.receivedAt, STUCK_AFTER_MS);
  if (request.status === 'dispatched' && request.taskCount === 0) {
    return request.dispatchedAt ?? request.receivedAt;
  }
  if (request.status === 'dispatched') {
    return after(request.dispatchedAt ?? request.receivedAt, STUCK_DISPATCH_AFTER_MS);
  }
  return request.receivedAt;
};

/**
 * When to look at a request again after a review at `now` left it open and no legal hold holds it
 * back (a held one is looked at every sweep: its holds may end at any time): a dispatched one when
 * its first open task may stop (a callback awaited for up to `CALLBACK_TIMEOUT_MS`, a re-sent task
 * after `STUCK_DISPATCH_AFTER_MS`). Always after `now`, so one review never makes the next sweep
 * read the request again.
 */
export const nextReviewAt = (request: ErasureRequest, tasks: readonly ErasureTask[], now: string): string => {
  if (request.status !== 'dispatched') return after(now, STUCK_AFTER_MS);
  const soonest = after(now, STUCK_DISPATCH_AFTER_MS);
  const times = tasks
    .filter((task) => task.status === 'pending' || task.status === 'running')
    .map((task) =>
      task.status === 'running' && task.awaitingCallback === true
        ? after(task.startedAt ?? now, CALLBACK_TIMEOUT_MS)
        : soonest,
    )
    .map((time) => (time < soonest ? soonest : time))
    .sort();
  return times[0] ?? soonest;
};
