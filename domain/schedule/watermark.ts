/**
 * The sweep's watermark: the month bucket from which sweeps read the due index. It trails the
 * clock by a month and never passes the real clock, so entries written now, and sweeps run for a
 * future instant (the local demo travels in time), cannot skip anything.
 */

/** Without a watermark (a new deployment), a sweep looks back this far for due entries. */
export const FIRST_SWEEP_LOOKBACK_MONTHS = 12;

/** `YYYY-MM`, `months` calendar months before the month of `instant`. */
export const monthsBefore = (instant: string, months: number): string => {
  const date = new Date(instant);
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() - months);
  return date.toISOString().slice(0, 7);
};

/** The month a sweep starts from: the stored watermark, or a year back on a new deployment. */
export const sweepStart = (watermark: string | undefined, clockNow: string): string =>
  watermark ?? monthsBefore(clockNow, FIRST_SWEEP_LOOKBACK_MONTHS);

/** The watermark after a sweep for `now` that handled every item: a month behind the earlier of `now` and the clock. */
export const watermarkAfter = (now: string, clockNow: string): string =>
  monthsBefore(now < clockNow ? now : clockNow, 1);
