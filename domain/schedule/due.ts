/** What the sweep does with an entry whose time has come, and what it stores afterwards. */

import { ValidationError } from '../errors.js';
import type { LegalHold } from '../holds.js';
import { holdsBlocking } from '../holds.js';
import { resolveRetention } from '../policy/config.js';
import { isRollingWindow } from '../policy/schema.js';
import type { DataClassPolicy, PolicyCatalog } from '../policy/types.js';
import { compareDurations, nextBoundary, subtractDuration } from '../time.js';
import type { ScheduleEntry, SubjectSchedule } from './types.js';

/**
 * Rolling windows run on a fixed grid, ROLLING_WINDOW_ORIGIN + k × interval (P1D: every midnight
 * UTC; P7D: every Saturday 00:00 UTC; P1M: the 1st of each month). Each run erases data older than
 * run time − window, so data lives at most window + interval. Because the run times do not depend on when a trigger
 * arrived, a trigger that comes often (`subject.active` on every login) never pushes the next run
 * further out, and the same events give the same schedule in any arrival order.
 */
export const ROLLING_WINDOW_ORIGIN = '2000-01-01T00:00:00.000Z';

/** The first run on the grid of `interval` strictly after `after`. */
export const nextRollingRun = (after: string, interval: string): string =>
  nextBoundary(after, interval, ROLLING_WINDOW_ORIGIN);

/** How often a rolling window runs: the policy's rollingInterval, but never less often than the window. */
export const rollingIntervalOf = (policy: DataClassPolicy, window: string): string =>
  policy.rollingInterval !== undefined && compareDurations(policy.rollingInterval, window) < 0
    ? policy.rollingInterval
    : window;

export type Blocker =
  | { readonly kind: 'legal-hold'; readonly holdIds: readonly string[] }
  | { readonly kind: 'unpaid-invoice'; readonly since: string };

export type DueEvaluation =
  /** Erase now; rolling windows erase only data older than `olderThan`. */
  | { readonly kind: 'run'; readonly olderThan?: string }
  /** Do not erase yet. `retryAt`: when every blocker ends by itself (holds with `until`). */
  | { readonly kind: 'blocked'; readonly blockers: readonly Blocker[]; readonly retryAt?: string };

export interface DueInput {
  /** Where each class's data lives: a hold on one class protects every target of it (`holdsBlocking`). */
  readonly catalog: PolicyCatalog;
  readonly policy: DataClassPolicy;
  readonly entry: ScheduleEntry;
  readonly schedule: SubjectSchedule;
  /** The subject's holds; holds of other subjects are ignored. */
  readonly holds: readonly LegalHold[];
  readonly now: string;
}

/** The rolling window of an entry: the one its trigger set, else the policy's period. */
const windowOf = (entry: ScheduleEntry, policy: DataClassPolicy): string =>
  entry.rollingWindow ?? resolveRetention(policy, entry.jurisdiction);

/**
 * Decides whether a due entry runs. The entry must be pending or blocked and due at `now`
 * (a ValidationError otherwise: the caller re-reads entries the index returned). A legal hold blocks every data class (ALM-3), whether or not
 * the policy lists `legal-hold`, and protects data, not labels: it blocks an entry whose class
 * erases any target a held class lives in (a hold on `cloud-video` blocks `cloud-video-window` on
 * that prefix). An unpaid invoice blocks the classes that list `unpaid-invoice` (ALE-2) and clears
 * only with `invoice.settled`, so it gives no `retryAt`.
 */
export function evaluateDue({ catalog, policy, entry, schedule, holds, now }: DueInput): DueEvaluation {
  if (entry.dataClass !== policy.dataClass) {
    throw new ValidationError(
      `entry of data class '${entry.dataClass}' evaluated with the policy of '${policy.dataClass}'`,
      'dataClass',
    );
  }
  if (entry.subjectId !== schedule.subjectId) {
    throw new ValidationError('entry and schedule belong to different subjects', 'subjectId');
  }
  if (entry.status !== 'pending' && entry.status !== 'blocked') {
    throw new ValidationError(`a ${entry.status} entry is not due for deletion`, 'status');
  }
  if (entry.dueAt > now)
    throw new ValidationError(`the entry is due at ${entry.dueAt}, not yet at ${now}`, 'dueAt');

  const holdsOfSubject = holds.filter((hold) => hold.subjectId === entry.subjectId);
  const activeHolds = holdsBlocking(holdsOfSubject, catalog, { dataClass: entry.dataClass }, now);
  const blockers: Blocker[] = [];
  if (activeHolds.length > 0)
    blockers.push({ kind: 'legal-hold', holdIds: activeHolds.map((hold) => hold.holdId) });
  if (policy.blockers.includes('unpaid-invoice') && schedule.unpaidInvoiceSince !== undefined) {
    blockers.push({ kind: 'unpaid-invoice', since: schedule.unpaidInvoiceSince });
  }
  if (blockers.length > 0) {
    const ends = activeHolds.map((hold) => hold.until);
    const everyBlockerEnds =
      blockers.every((blocker) => blocker.kind === 'legal-hold') &&
      ends.every((until) => until !== undefined);
    const retryAt = everyBlockerEnds ? ends.filter((until) => until !== undefined).sort()[0] : undefined;
    return retryAt === undefined ? { kind: 'blocked', blockers } : { kind: 'blocked', blockers, retryAt };
  }
  return isRollingWindow(policy)
    ? { kind: 'run', olderThan: subtractDuration(entry.dueAt, windowOf(entry, policy)) }
    : { kind: 'run' };
}

/**
 * The entry to store once the sweep has dispatched it: `dispatched`, or for a (legacy, per-subject)
 * rolling window entry a `windowed` one: the target's window runs take over from its next run.
 */
export function afterDispatch(entry: ScheduleEntry, policy: DataClassPolicy, now: string): ScheduleEntry {
  if (entry.status !== 'pending' && entry.status !== 'blocked') {
    throw new ValidationError(`a ${entry.status} entry cannot be dispatched`, 'status');
  }
  if (!isRollingWindow(policy)) return { ...entry, status: 'dispatched' };
  // A per-subject rolling entry stored before window runs existed runs this once more and then
  // leaves the due index for good: the target's window runs (windows.ts) enforce it from now on.
  const window = windowOf(entry, policy);
  const after = now > entry.dueAt ? now : entry.dueAt;
  const own = window !== resolveRetention(policy, entry.jurisdiction);
  return {
    ...entry,
    status: 'windowed',
    dueAt: nextRollingRun(after, rollingIntervalOf(policy, window)),
    rollingWindow: window,
    ...(own ? { subjectWindow: window } : {}),
  };
}

/**
 * The entry to store when evaluateDue said `blocked`. `invoice.settled` re-arms it (decide); a
 * hold that ends or is released must set it back to `pending` (or the sweep retries at `retryAt`).
 */
export const afterBlocked = (entry: ScheduleEntry): ScheduleEntry => ({ ...entry, status: 'blocked' });
