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

/**
 * One fan-out of the sweep: the coordinator sent one message per due bucket (`pending`), and each
 * shard worker removes its bucket once it handled every item in it. Bookkeeping, not audited.
 */
export interface SweepRun {
  readonly runId: string;
  /** The instant the run swept for, and the clock when it started. */
  readonly now: string;
  readonly clockNow: string;
  /** Buckets sent and not yet acknowledged. */
  readonly pending: readonly string[];
}

/**
 * The watermark a run allows once every bucket it sent was acknowledged; undefined while any is
 * pending (failed, or still in flight): those buckets are read again by the next run.
 */
export const watermarkAfterRun = (run: SweepRun | undefined): string | undefined =>
  run === undefined || run.pending.length > 0 ? undefined : watermarkAfter(run.now, run.clockNow);

/** The later of two watermarks (months compare as text). */
export const laterMonth = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : a < b ? b : a;
