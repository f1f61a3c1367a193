/** Limits on the instants and windows callers may ask for: pure, so the API only applies them. */
import { ValidationError } from './errors.js';

/** Events may arrive late, but not from the future: a day of clock skew is tolerated. */
export const MAX_FUTURE_SKEW_MS = 24 * 3600 * 1000;
/** Time-only audit queries read one index partition per day; keep them bounded. */
export const MAX_AUDIT_WINDOW_DAYS = 93;

/** Refuses an instant more than the tolerated skew after `now`, naming `field`. */
export const requireNotAhead = (instant: string, now: string, field: string, message: string): void => {
  if (Date.parse(instant) > Date.parse(now) + MAX_FUTURE_SKEW_MS) throw new ValidationError(message, field);
};

/** An audit query needs a subject, a request, or a bounded time window. */
export const requireAuditScope = (query: {
  readonly subjectId?: string | undefined;
  readonly requestId?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}): void => {
  const { from, to } = query;
  if (from !== undefined && to !== undefined && from > to)
    throw new ValidationError('from is after to', 'from');
  if (query.subjectId !== undefined || query.requestId !== undefined) return;
  if (from === undefined || to === undefined) {
    throw new ValidationError('Give subjectId, requestId, or both from and to', 'subjectId');
  }
  if (Date.parse(to) - Date.parse(from) > MAX_AUDIT_WINDOW_DAYS * 24 * 3600 * 1000) {
    throw new ValidationError(`A time-only query covers at most ${MAX_AUDIT_WINDOW_DAYS} days`, 'to');
  }
};
