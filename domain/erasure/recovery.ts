/**
 * Stuck-work recovery: which open requests the sweep must move on, and how. Pure: the sweep loads
 * the requests and tasks, these decide, the sweep acts.
 */
import { heldTasks, type LegalHold } from '../holds.js';
import type { PolicyCatalog } from '../policy/types.js';
import type { ErasureRequest, ErasureTask } from './types.js';

/** How long a request may sit in `received` before the sweep assumes its dispatch was lost. */
export const STUCK_AFTER_MS = 2 * 60 * 1000;
/** Longer than a queue backlog normally lasts, so a busy queue is not flooded with duplicates. */
export const STUCK_DISPATCH_AFTER_MS = 30 * 60 * 1000;
/** How long a service that answered 202 gets to call back before the task is asked again. */
export const CALLBACK_STUCK_AFTER_MS = 24 * 3600 * 1000;
/** ALU-3 reporting: a request is near its deadline within this. */
export const NEAR_DEADLINE_MS = 7 * 24 * 3600 * 1000;

const before = (now: string, ms: number): string => new Date(Date.parse(now) - ms).toISOString();

/**
 * Whether an open request may be stuck at `now` (read from the open-requests index, without its
 * tasks): `received` for a while (its dispatch was lost), `blocked` (its holds may have ended), or
 * `dispatched` long enough ago that a task may have stopped.
 */
export const mayBeStuck = (request: ErasureRequest, now: string): boolean => {
  if (request.status === 'received') return request.receivedAt < before(now, STUCK_AFTER_MS);
  if (request.status === 'dispatched') {
    return (request.dispatchedAt ?? request.receivedAt) < before(now, STUCK_DISPATCH_AFTER_MS);
  }
  return request.status === 'blocked';
};

/** The subject's legal holds and the catalog that says where each class's data lives. */
export interface HoldsInForce {
  readonly holds: readonly LegalHold[];
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
  { holds, catalog }: HoldsInForce,
): ErasureTask[] => {
  const held = new Set(heldTasks(tasks, holds, catalog, now).map(({ task }) => task.taskId));
  return tasks.filter(
    (task) =>
      !held.has(task.taskId) &&
      (task.status === 'pending' ||
        (task.status === 'running' &&
          (task.startedAt ?? '') <
            before(now, task.awaitingCallback === true ? CALLBACK_STUCK_AFTER_MS : STUCK_DISPATCH_AFTER_MS))),
  );
};
