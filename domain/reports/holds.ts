/** The holds report: each active hold, where it protects data, and the open requests it holds back. */
import { holdingBack } from '../erasure/request.js';
import type { ErasureRequest, RequestStatus } from '../erasure/types.js';
import { holdTargets, type LegalHold } from '../holds.js';
import type { PolicyCatalog } from '../policy/types.js';

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
}

/**
 * One row per hold, sorted by placement then id. `dataClasses` is empty for a hold of every class;
 * `blockedRequests` are the open requests whose `blockedBy` names the hold.
 */
export const holdRows = (
  holds: readonly LegalHold[],
  catalog: PolicyCatalog,
  openRequests: readonly ErasureRequest[],
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
    }));
