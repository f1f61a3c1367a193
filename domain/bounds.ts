/**
 * Limits on the instants and durations callers may hand in: pure, so the API only applies them.
 * Each limit is stated here once; the README ("The API") lists them. A value outside its limit is
 * a ValidationError naming its field, before anything is read or written.
 *
 * Instants are canonical (`2026-11-30T00:00:00.000Z`, see `./time.ts`), so they compare as strings.
 */
import { ValidationError } from './errors.js';
import { addDuration, compareDurations, formatDuration, parseDuration } from './time.js';

/**
 * Nothing the orchestrator handles happened before 2000. An earlier instant is a mistake (or an
 * attack): an event of year 1 would make every deletion it triggers due at once.
 */
export const EARLIEST_INSTANT = '2000-01-01T00:00:00.000Z';
/** Queries and sweeps may name a time a day ahead of the clock (clock skew, time zones). */
export const MAX_FUTURE_SKEW = 'PT24H';
/**
 * Lifecycle events may arrive late, but may be ahead of the clock by clock skew only (as AWS
 * request signatures are): events are ordered by when they happened, so a restore dated tomorrow
 * would make a suspension sent in between count as older and be ignored (the account never
 * deleted), and a suspension dated tomorrow would do the same to a restore sent in between (a
 * restored account deleted). ALL-3.
 */
export const MAX_EVENT_SKEW = 'PT5M';
/** How far ahead a legal hold may name its end. A longer hold is a hold without `until`. */
export const MAX_HOLD_AHEAD = 'P100Y';
/**
 * A rolling window that an event sets (IMOU-1 `storagePeriod`): at least a day (shorter would
 * erase recordings almost as soon as they are made) and at most ten years (longer would push
 * the erasure boundary out of the calendar, and the entry would fail every sweep).
 */
export const ROLLING_WINDOW_MIN = 'P1D';
export const ROLLING_WINDOW_MAX = 'P10Y';
/** Time-only audit queries read one index partition per day; keep them bounded. */
export const MAX_AUDIT_WINDOW_DAYS = 93;
/**
 * How far ahead a local sweep may travel: the demo's rules reach 36 months, and a sweep walks
 * every due bucket up to its instant, so centuries ahead would outlast the request.
 */
export const MAX_LOCAL_SWEEP_AHEAD = 'P10Y';

/** Refuses an instant before EARLIEST_INSTANT, naming `field`. */
const requireNotEarly = (instant: string, field: string): void => {
  if (instant < EARLIEST_INSTANT) {
    throw new ValidationError(`${field} must not be before ${EARLIEST_INSTANT}`, field);
  }
};

/** Refuses an instant before EARLIEST_INSTANT or after `latest`, naming `field`. */
const requireBetween = (instant: string, field: string, latest: string, latestRule: string): void => {
  requireNotEarly(instant, field);
  if (instant > latest) throw new ValidationError(`${field} must not be ${latestRule}`, field);
};

/** Refuses an instant more than the tolerated skew after `now`, naming `field`. */
export const requireNotAhead = (instant: string, now: string, field: string, message: string): void => {
  if (instant > addDuration(now, MAX_FUTURE_SKEW)) throw new ValidationError(message, field);
};

/** When a lifecycle event happened (`occurredAt`): from 2000 to 5 minutes after `now` (`MAX_EVENT_SKEW`). */
export const requireEventTime = (occurredAt: string, now: string, field = 'occurredAt'): void =>
  requireBetween(
    occurredAt,
    field,
    addDuration(now, MAX_EVENT_SKEW),
    'more than 5 minutes in the future: events are ordered by when they happened, so an event dated ahead would make one sent in between count as older, and be ignored',
  );

/**
 * The instant a sweep runs for (`now`): from 2000 to a day after the clock. Only the local runtime
 * may sweep ahead, up to 10 years (`mayRunAhead`, the demo travels in time); in a deployment a sweep "for next
 * year" would run next year's deletions now.
 */
export const requireSweepTime = (at: string, clockNow: string, mayRunAhead: boolean, field = 'now'): void => {
  if (mayRunAhead)
    requireBetween(at, field, addDuration(clockNow, MAX_LOCAL_SWEEP_AHEAD), 'more than 10 years ahead');
  // In a deployment not even a minute ahead: a sweep for a later instant runs deletions before
  // they are due, and a restore sent before the due time would find its data gone (ALL-3).
  else requireBetween(at, field, clockNow, 'in the future (a deployment sweeps up to now only)');
};

/**
 * When a legal hold ends by itself (`until`): at most 100 years ahead. That it lies in the future
 * is the hold's own rule (`newHold`).
 */
export const requireHoldEnd = (until: string, now: string, field = 'until'): void =>
  requireBetween(
    until,
    field,
    addDuration(now, MAX_HOLD_AHEAD),
    `more than 100 years ahead (leave ${field} out for a hold without an end)`,
  );

/**
 * An audit query needs a subject, a request, or a bounded time window; `from` and `to` lie between
 * 2000 and a day after `now`.
 */
export const requireAuditScope = (
  query: {
    readonly subjectId?: string | undefined;
    readonly requestId?: string | undefined;
    readonly from?: string | undefined;
    readonly to?: string | undefined;
  },
  now: string,
): void => {
  const { from, to } = query;
  const latest = addDuration(now, MAX_FUTURE_SKEW);
  if (from !== undefined) requireBetween(from, 'from', latest, 'more than 24 hours in the future');
  if (to !== undefined) requireBetween(to, 'to', latest, 'more than 24 hours in the future');
  if (from !== undefined && to !== undefined && from > to)
    throw new ValidationError('from is after to', 'from');
  if (query.subjectId !== undefined || query.requestId !== undefined) return;
  // Name what is missing: half a time window is missing its other half, not a subject.
  if (from !== undefined && to === undefined) {
    throw new ValidationError(
      'A time window needs to as well as from (or give subjectId or requestId)',
      'to',
    );
  }
  if (from === undefined && to !== undefined) {
    throw new ValidationError(
      'A time window needs from as well as to (or give subjectId or requestId)',
      'from',
    );
  }
  if (from === undefined || to === undefined) {
    throw new ValidationError('Give subjectId, requestId, or both from and to', 'subjectId');
  }
  if (Date.parse(to) - Date.parse(from) > MAX_AUDIT_WINDOW_DAYS * 24 * 3600 * 1000) {
    throw new ValidationError(`A time-only query covers at most ${MAX_AUDIT_WINDOW_DAYS} days`, 'to');
  }
};

/**
 * A rolling window an event sets, in its canonical text (`P7D`): an ISO 8601 duration from
 * ROLLING_WINDOW_MIN to ROLLING_WINDOW_MAX (compared from DURATION_REFERENCE_INSTANT, see
 * `compareDurations`), else a ValidationError naming `field`.
 */
export const requireRollingWindow = (value: unknown, field: string): string => {
  const window = parseDuration(value, field);
  const rule = `${field} must be from ${ROLLING_WINDOW_MIN} to ${ROLLING_WINDOW_MAX}`;
  let tooLong: boolean;
  try {
    tooLong = compareDurations(window, ROLLING_WINDOW_MAX) > 0;
  } catch (error) {
    // A duration so long that it leaves the calendar is longer than any bound.
    if (!(error instanceof ValidationError)) throw error;
    tooLong = true;
  }
  if (tooLong || compareDurations(window, ROLLING_WINDOW_MIN) < 0) throw new ValidationError(rule, field);
  return formatDuration(window);
};
