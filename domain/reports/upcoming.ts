/**
 * What is coming: erasures and advance notices (IMOU-3) due in the next days, per data class and
 * rule. Pure: the caller reads the due items of the window from the `byDueBucket` index.
 */
import { MS_PER_DAY } from '../erasure/deadline.js';
import { ValidationError } from '../errors.js';
import type { DueItem } from '../ports/index.js';
import { requireCanonicalInstant } from '../time.js';

export const UPCOMING_DEFAULT_DAYS = 30;
export const UPCOMING_MAX_DAYS = 366;

export interface UpcomingRow {
  readonly dataClass: string;
  readonly ruleRef: string;
  /** Scheduled erasures due (whatever their action: delete, anonymise, restrict). */
  readonly deletions: number;
  readonly notices: number;
  /** The earliest due time among them: an erasure's due time or a notice's send time. */
  readonly firstDueAt: string;
}

/** `days` as given (a whole number from 1 to 366), or a 400 naming `days`. */
export const upcomingDays = (days: string | undefined): number => {
  if (days === undefined) return UPCOMING_DEFAULT_DAYS;
  const value = /^\d{1,3}$/.test(days) ? Number(days) : Number.NaN;
  if (!Number.isInteger(value) || value < 1 || value > UPCOMING_MAX_DAYS) {
    throw new ValidationError(`days must be a whole number from 1 to ${UPCOMING_MAX_DAYS}`, 'days');
  }
  return value;
};

/** The end of the window: `days` days of 24 hours after `now`. */
export const upcomingUntil = (now: string, days: number): string =>
  new Date(Date.parse(requireCanonicalInstant(now, 'now')) + days * MS_PER_DAY).toISOString();

/** The due items whose instant lies in [`now`, `until`], per data class and rule, sorted by both. */
export const upcomingRows = (items: readonly DueItem[], now: string, until: string): UpcomingRow[] => {
  const rows = new Map<string, UpcomingRow>();
  for (const item of items) {
    const { dataClass, ruleRef } = item.kind === 'entry' ? item.entry : item;
    const at = item.kind === 'entry' ? item.entry.dueAt : item.noticeAt;
    if (at < now || at > until) continue;
    const key = `${dataClass}\u0000${ruleRef}`;
    const row = rows.get(key) ?? { dataClass, ruleRef, deletions: 0, notices: 0, firstDueAt: at };
    rows.set(key, {
      ...row,
      deletions: row.deletions + (item.kind === 'entry' ? 1 : 0),
      notices: row.notices + (item.kind === 'notice' ? 1 : 0),
      firstDueAt: at < row.firstDueAt ? at : row.firstDueAt,
    });
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...rows.values()].sort((a, b) => order(a.dataClass, b.dataClass) || order(a.ruleRef, b.ruleRef));
};
