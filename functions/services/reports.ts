/**
 * The compliance reports (`GET /v1/reports/*`): each reads an index or the erasure counters through
 * `ReportStore` (never a scan) and shapes the answer in domain/reports.
 */
import type { ReportStore } from '../../domain/ports/index.js';
import {
  type DeadlineReport,
  deadlineReport,
  type ErasureCountRow,
  type FailedRequestRow,
  failureRows,
  type HoldReportRow,
  holdRows,
  reportMonths,
  sumErasureCounts,
  type UpcomingRow,
  upcomingRows,
  upcomingUntil,
} from '../../domain/reports/index.js';
import type { SubjectSchedule } from '../../domain/schedule/types.js';
import { nowIso, type ServiceDeps } from './deps.js';

export type ReportDeps = Pick<ServiceDeps, 'config' | 'holds' | 'schedules' | 'clock'> & {
  readonly reports: ReportStore;
};

/** ALU-3: open requests against their deadlines. */
export const deadlinesReport = async (deps: ReportDeps): Promise<DeadlineReport> =>
  deadlineReport(await deps.reports.openRequests(), nowIso(deps));

/** Schedules the holds report reads at once. */
const SCHEDULE_READS_AT_ONCE = 16;

export interface HoldsReport {
  readonly asOf: string;
  readonly holds: readonly HoldReportRow[];
}

/**
 * Active holds, the targets they protect, the open requests they hold back and the scheduled
 * deletions they keep from running: one schedule read per held subject (holds are few).
 */
export const holdsReport = async (deps: ReportDeps): Promise<HoldsReport> => {
  const asOf = nowIso(deps);
  const [holds, open] = await Promise.all([deps.holds.active(asOf), deps.reports.openRequests()]);
  const subjects = [...new Set(holds.map((hold) => hold.subjectId))];
  const schedules: SubjectSchedule[] = [];
  for (let index = 0; index < subjects.length; index += SCHEDULE_READS_AT_ONCE) {
    const batch = subjects.slice(index, index + SCHEDULE_READS_AT_ONCE);
    schedules.push(
      ...(await Promise.all(batch.map(async (subject) => (await deps.schedules.load(subject)).schedule))),
    );
  }
  return { asOf, holds: holdRows(holds, deps.config.catalog, open, schedules, asOf) };
};

export interface FailuresReport {
  readonly asOf: string;
  readonly requests: readonly FailedRequestRow[];
}

/** Partially failed requests and their failed tasks, ready to re-drive. */
export const failuresReport = async (deps: ReportDeps): Promise<FailuresReport> => ({
  asOf: nowIso(deps),
  requests: failureRows(await deps.reports.failedRequests()),
});

export interface ErasuresReport {
  readonly from: string;
  readonly to: string;
  readonly rows: readonly ErasureCountRow[];
}

/** ALE-5: verified erasures per month, data class and rule; `from`/`to` are checked first (400). */
export const erasuresReport = async (
  deps: ReportDeps,
  query: { readonly from?: string; readonly to?: string },
): Promise<ErasuresReport> => {
  const { from, to } = reportMonths(query, nowIso(deps));
  return { from, to, rows: sumErasureCounts(await deps.reports.erasureCounts(from, to)) };
};

export interface UpcomingReport {
  readonly asOf: string;
  readonly until: string;
  readonly rows: readonly UpcomingRow[];
}

/** Erasures and notices due from now to `days` days ahead, per data class and rule. */
export const upcomingReport = async (deps: ReportDeps, days: number): Promise<UpcomingReport> => {
  const asOf = nowIso(deps);
  const until = upcomingUntil(asOf, days);
  return { asOf, until, rows: upcomingRows(await deps.reports.dueBetween(asOf, until), asOf, until) };
};
