/**
 * The answers the dashboard reads, as the API documents them: the `/v1/reports/*` routes
 * (their contract: field names are fixed, reports may add fields) and the request, audit and
 * verification routes (functions/api/types.ts). Declared here rather than imported so the
 * browser bundle carries no server code; only the fields the page shows are listed.
 */

export type DeadlineBucket = 'overdue' | '0-7' | '8-14' | '15-21' | '22-30' | '31+';
export const DEADLINE_BUCKETS: readonly DeadlineBucket[] = [
  'overdue',
  '0-7',
  '8-14',
  '15-21',
  '22-30',
  '31+',
];

export interface OpenRequestRow {
  readonly requestId: string;
  readonly status: string;
  readonly origin: string;
  readonly dataClasses: readonly string[];
  readonly receivedAt: string;
  readonly deadline: string;
  /** Whole days left (floor), negative when overdue. */
  readonly daysToDeadline: number;
  readonly overdue: boolean;
  readonly extended: boolean;
  readonly blockedBy?: readonly string[];
  /** Since when holds have held it back (absent from an older API, or for an older request). */
  readonly blockedSince?: string;
}

/** `GET /v1/reports/deadlines` (ALU-3). */
export interface DeadlinesReport {
  readonly asOf: string;
  readonly summary: {
    readonly open: number;
    readonly overdue: number;
    readonly dueWithin7Days: number;
    readonly extended: number;
  };
  readonly byDaysToDeadline: readonly { readonly bucket: DeadlineBucket; readonly count: number }[];
  readonly requests: readonly OpenRequestRow[];
}

export interface FailedTaskRow {
  readonly taskId: string;
  readonly target: string;
  readonly dataClass: string;
  readonly action: string;
  readonly attempts: number;
  readonly errorCode: string;
  readonly failedAt: string;
}

/** `GET /v1/reports/failures`: requests in status partially_failed. */
export interface FailuresReport {
  readonly asOf: string;
  readonly requests: readonly {
    readonly requestId: string;
    readonly origin: string;
    readonly dataClasses: readonly string[];
    readonly receivedAt: string;
    readonly deadline: string;
    readonly redriveCount: number;
    readonly failedTasks: readonly FailedTaskRow[];
  }[];
}

export interface HoldRow {
  readonly holdId: string;
  readonly subjectId: string;
  readonly dataClasses: readonly string[];
  readonly reason: string;
  readonly placedAt: string;
  readonly until?: string;
  readonly targets: readonly string[];
  /** Names of the identifiers whose values the hold names (absent from an older API). */
  readonly identifiers?: readonly string[];
  readonly blockedRequests: readonly { readonly requestId: string; readonly status: string }[];
  /** Scheduled deletions the hold keeps from running (absent from an older API). */
  readonly heldDeletions?: readonly HeldDeletion[];
}

/** A scheduled deletion a hold stops: due now (`due`) or due before the hold ends. */
export interface HeldDeletion {
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly action: string;
  readonly dueAt: string;
  readonly due: boolean;
}

/** `GET /v1/reports/holds`. */
export interface HoldsReport {
  readonly asOf: string;
  readonly holds: readonly HoldRow[];
}

export interface ErasureCountRow {
  readonly month: string;
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly deletions: number;
  readonly anonymisations: number;
  readonly restrictions: number;
  readonly items: number;
}

/** `GET /v1/reports/erasures` (ALE-5). */
export interface ErasuresReport {
  readonly from: string;
  readonly to: string;
  readonly rows: readonly ErasureCountRow[];
}

export interface UpcomingRow {
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly deletions: number;
  readonly notices: number;
  readonly firstDueAt: string;
}

/** `GET /v1/reports/upcoming`: erasures and advance notices due from `asOf` to `until`. */
export interface UpcomingReport {
  readonly asOf: string;
  readonly until: string;
  readonly rows: readonly UpcomingRow[];
}

/** One task of `GET /v1/erasure-requests/{requestId}`. */
export interface TaskView {
  readonly taskId: string;
  readonly dataClass: string;
  readonly connector: string;
  readonly target: string;
  readonly action: string;
  readonly status: string;
  readonly attempts: number;
  readonly deletedCount: number;
  readonly verifiedAt?: string;
  readonly error?: string;
  readonly blockedBy?: readonly string[];
}

/** `GET /v1/erasure-requests/{requestId}`. */
export interface RequestDetail {
  readonly requestId: string;
  readonly origin: string;
  readonly status: string;
  readonly dataClasses: readonly string[];
  readonly reason: string;
  readonly receivedAt: string;
  readonly deadline: string;
  readonly deadlineExtension?: { readonly reason: string; readonly extendedAt: string };
  readonly rejection?: { readonly legalReason: string; readonly rejectedAt: string };
  /** Only while `status` is `blocked`. */
  readonly blockedBy?: readonly string[];
  readonly dispatchedAt?: string;
  readonly completedAt?: string;
  readonly tasks: readonly TaskView[];
}

/** One entry of `GET /v1/audit`. */
export interface AuditEntry {
  readonly chainId: string;
  readonly seq: number;
  readonly type: string;
  readonly at: string;
  readonly requestId?: string;
  readonly taskId?: string;
  readonly dataClass?: string;
  readonly ruleRef?: string;
  readonly target?: string;
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
  readonly hash: string;
}

export interface AuditPage {
  readonly entries: readonly AuditEntry[];
  readonly nextCursor?: string;
}

/** `GET /v1/audit/verification?subjectId=`. */
export interface VerificationAnswer {
  readonly chainId: string;
  readonly verification:
    | {
        readonly ok: true;
        readonly length: number;
        readonly headHash: string;
        readonly anchor?: { readonly anchorSeq: number };
        readonly unanchored: number;
      }
    | { readonly ok: false; readonly seq?: number; readonly problem: string; readonly message: string };
  readonly anchors: { readonly ok: boolean; readonly count?: number; readonly message?: string };
}

/** What a previewed task would have done: erased, withheld (ALE-2) or blocked by holds (ALM-3). */
export type PreviewOutcome = 'erase' | 'withheld' | 'blocked';

/** One task of an erasure preview: what the target holds for the subject and what would happen to it. */
export interface TargetPreview {
  readonly target: string;
  readonly connector: string;
  readonly action: string;
  readonly dataClasses: readonly string[];
  readonly outcome: PreviewOutcome;
  readonly reason?: string;
  readonly blockedBy?: readonly string[];
  /** null when the target cannot tell (`unknown` says why). */
  readonly count: number | null;
  readonly unit?: string;
  /** Counting stopped at the dry run's time limit: there are at least `count`. */
  readonly partial?: true;
  readonly unknown?: { readonly reason: string; readonly code?: string };
}

/** `POST /v1/erasure-previews`: what an erasure request would do now; nothing was changed. */
export interface ErasurePreview {
  readonly dryRun: true;
  readonly previewId: string;
  readonly generatedAt: string;
  readonly intake: 'dispatched' | 'blocked' | 'refused';
  readonly targets: readonly TargetPreview[];
  /** Targets keyed by an identifier the request has no value of: a real request would not reach them. */
  readonly unaddressed?: readonly { readonly target: string; readonly identifier: string }[];
  readonly totals: {
    readonly erase: number;
    readonly blocked: number;
    readonly withheld: number;
    readonly unknown: number;
    /** Tasks counted only in part: the sums are lower bounds. Absent from an API before it. */
    readonly partial?: number;
  };
}

/** Every 4xx and 5xx of the API. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}
