/** The holds report: each active hold, where it protects data, and the open requests it holds back. */
import { holdingBack } from '../erasure/request.js';
import type { ErasureRequest, RequestStatus } from '../erasure/types.js';
import { holdCovers, holdTargets, type LegalHold } from '../holds.js';
import type { PolicyCatalog, RetentionAction } from '../policy/types.js';
import type { SubjectSchedule } from '../schedule/types.js';

/** A scheduled deletion of the hold's subject that the hold keeps from running. */
export interface HeldDeletion {
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly action: RetentionAction;
  readonly dueAt: string;
  /** Due at the report's time: the hold is what stops it now; otherwise it will when it falls due. */
  readonly due: boolean;
}

export interface HoldReportRow {
  readonly holdId: string;
  readonly subjectId: string;
  readonly dataClasses: readonly string[];
  readonly reason: string;
  readonly placedAt: string;
  readonly until?: string;
  readonly targets: readonly string[];
  /**
   * The identifiers whose values the hold names (names only, sorted; empty for none): data keyed by
   * them is protected from any subject's request. Without, `targets` keyed by an identifier are
   * protected from this subject's own requests only.
   */
  readonly identifiers: readonly string[];
  readonly blockedRequests: readonly { readonly requestId: string; readonly status: RequestStatus }[];
  /**
   * The subject's scheduled deletions the hold covers and that fall due while it stands (before
   * `until`), sorted by due time: due ones it is stopping now, later ones it will stop.
   */
  readonly heldDeletions: readonly HeldDeletion[];
}

/** The entries of `schedule` that `hold` keeps from running, as of `asOf`. */
const heldDeletionsOf = (
  hold: LegalHold,
  catalog: PolicyCatalog,
  schedule: SubjectSchedule | undefined,
  asOf: string,
): HeldDeletion[] =>
  (schedule?.entries ?? [])
    .filter(
      (entry) =>
        (entry.status === 'pending' || entry.status === 'blocked') &&
        (hold.until === undefined || entry.dueAt < hold.until) &&
        holdCovers(hold, catalog, { dataClass: entry.dataClass }),
    )
    .map((entry) => ({
      dataClass: entry.dataClass,
      ruleRef: entry.ruleRef,
      action: entry.action,
      dueAt: entry.dueAt,
      due: entry.dueAt <= asOf,
    }))
    .sort((a, b) =>
      a.dueAt === b.dueAt ? a.dataClass.localeCompare(b.dataClass) : a.dueAt < b.dueAt ? -1 : 1,
    );

/**
 * One row per hold, sorted by placement then id. `dataClasses` is empty for a hold of every class;
 * `blockedRequests` are the open requests whose `blockedBy` names the hold; `heldDeletions` the
 * scheduled deletions of its subject it keeps from running (`schedules`: the holds' subjects').
 */
export const holdRows = (
  holds: readonly LegalHold[],
  catalog: PolicyCatalog,
  openRequests: readonly ErasureRequest[],
  schedules: readonly SubjectSchedule[],
  asOf: string,
): HoldReportRow[] =>
  holds
    .slice()
    .sort((a, b) =>
      a.createdAt === b.createdAt ? a.holdId.localeCompare(b.holdId) : a.createdAt < b.createdAt ? -1 : 1,
    )
    .map((hold) => ({
      holdId: hold.holdId,
      subjectId: hold.subjectId,
      dataClasses: hold.dataClasses ?? [],
      reason: hold.reason,
      placedAt: hold.createdAt,
      ...(hold.until === undefined ? {} : { until: hold.until }),
      targets: holdTargets(hold, catalog),
      identifiers: Object.entries(hold.identifiers ?? {})
        .filter(([, values]) => values.length > 0)
        .map(([name]) => name)
        .sort(),
      blockedRequests: openRequests
        .filter((request) => holdingBack(request).includes(hold.holdId))
        .map((request) => ({ requestId: request.requestId, status: request.status }))
        .sort((a, b) => a.requestId.localeCompare(b.requestId)),
      heldDeletions: heldDeletionsOf(
        hold,
        catalog,
        schedules.find((schedule) => schedule.subjectId === hold.subjectId),
        asOf,
      ),
    }));
