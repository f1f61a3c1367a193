/**
 * ALU-3 deadline report: where each open request stands against its deadline. Pure: the caller
 * passes the open requests (read from the `openByDeadline` index) and the instant.
 */
import { deadlineWithin, isOverdue, MS_PER_DAY } from '../erasure/deadline.js';
import { holdingBack } from '../erasure/request.js';
import { instantMs } from '../erasure/transition.js';
import type { ErasureRequest, RequestStatus } from '../erasure/types.js';

/** ALU-3: requests due within this window are flagged (the sweep's near-deadline count uses it too). */
export const DUE_SOON_DAYS = 7;

/** Whole days before the deadline, rounded down: negative once it has passed, 0 on its last day. */
export const daysToDeadline = (deadline: string, now: string): number =>
  Math.floor((instantMs(deadline, 'deadline') - instantMs(now, 'now')) / MS_PER_DAY);

export const DEADLINE_BUCKETS = ['overdue', '0-7', '8-14', '15-21', '22-30', '31+'] as const;
export type DeadlineBucket = (typeof DEADLINE_BUCKETS)[number];

/** The bucket of a request `days` whole days before its deadline (`daysToDeadline`). */
export const deadlineBucket = (days: number): DeadlineBucket => {
  if (days < 0) return 'overdue';
  if (days <= 7) return '0-7';
  if (days <= 14) return '8-14';
  if (days <= 21) return '15-21';
  if (days <= 30) return '22-30';
  return '31+';
};

/**
 * Requests the requester still waits on, which the deadline report lists and counts: the open ones,
 * and partially failed ones (ALU-3: not fulfilled until a re-drive completes them).
 */
export const UNFULFILLED_STATUSES: readonly RequestStatus[] = [
  'received',
  'blocked',
  'dispatched',
  'partially_failed',
];

export interface DeadlineRow {
  readonly requestId: string;
  readonly status: RequestStatus;
  readonly origin: ErasureRequest['origin'];
  readonly dataClasses: readonly string[];
  readonly receivedAt: string;
  readonly deadline: string;
  readonly daysToDeadline: number;
  readonly overdue: boolean;
  readonly extended: boolean;
  readonly blockedBy?: readonly string[];
  /** Since when holds have held it back (requests blocked by an earlier version: unknown, absent). */
  readonly blockedSince?: string;
}

export interface DeadlineReport {
  readonly asOf: string;
  readonly summary: {
    readonly open: number;
    readonly overdue: number;
    readonly dueWithin7Days: number;
    readonly extended: number;
  };
  readonly byDaysToDeadline: readonly { readonly bucket: DeadlineBucket; readonly count: number }[];
  readonly requests: readonly DeadlineRow[];
}

/**
 * The report of `requests` at `now`: only unfulfilled ones count (a request completed, rejected or
 * cancelled that an index still showed is left out), sorted by deadline then id. `dueWithin7Days` is ALU-3's exact window
 * (`deadlineWithin`: deadline in [now, now + 7 days]); the `0-7` bucket counts whole days.
 */
export const deadlineReport = (requests: readonly ErasureRequest[], now: string): DeadlineReport => {
  const open = requests
    .filter((request) => UNFULFILLED_STATUSES.includes(request.status))
    .slice()
    .sort((a, b) =>
      a.deadline === b.deadline
        ? a.requestId.localeCompare(b.requestId)
        : instantMs(a.deadline, 'deadline') - instantMs(b.deadline, 'deadline'),
    );
  const rows = open.map((request): DeadlineRow => {
    const days = daysToDeadline(request.deadline, now);
    return {
      requestId: request.requestId,
      status: request.status,
      origin: request.origin,
      dataClasses: request.dataClasses,
      receivedAt: request.receivedAt,
      deadline: request.deadline,
      daysToDeadline: days,
      overdue: isOverdue(request, now),
      extended: request.deadlineExtension !== undefined,
      ...(holdingBack(request).length === 0 ? {} : { blockedBy: holdingBack(request) }),
      ...(holdingBack(request).length === 0 || request.blockedAt === undefined
        ? {}
        : { blockedSince: request.blockedAt }),
    };
  });
  const counts = new Map<DeadlineBucket, number>(DEADLINE_BUCKETS.map((bucket) => [bucket, 0]));
  for (const row of rows) {
    const bucket = deadlineBucket(row.daysToDeadline);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return {
    asOf: now,
    summary: {
      open: rows.length,
      overdue: rows.filter((row) => row.overdue).length,
      dueWithin7Days: open.filter((request) => deadlineWithin(request, now, DUE_SOON_DAYS * MS_PER_DAY))
        .length,
      extended: rows.filter((row) => row.extended).length,
    },
    byDaysToDeadline: DEADLINE_BUCKETS.map((bucket) => ({ bucket, count: counts.get(bucket) ?? 0 })),
    requests: rows,
  };
};
