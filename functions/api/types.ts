/**
 * What the API answers, route by route (README, "The API"). The route handlers build these and
 * tests read them: neither declares its own copy. Answers produced by a service whole are that
 * service's result type, re-exported here.
 */
import type { Anchor, AnchorChainVerification, PublicKeyInfo } from '../../domain/audit/anchor.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import type { ErasureRequest, ErasureTask, RequestOrigin } from '../../domain/erasure/types.js';
import type { LifecycleEventType } from '../../domain/events.js';
import type { RetentionAction } from '../../domain/policy/types.js';
import type { ScheduleStatus } from '../../domain/schedule/types.js';

export type {
  ClassPreview,
  PreviewIntake,
  PreviewOutcome,
  PreviewReason,
} from '../../domain/erasure/preview.js';
/** `POST /v1/erasure-requests` with `dryRun: true` → 200: what the request would do; nothing changed. */
export type { ErasurePreview, TargetPreview, UnknownCount } from '../services/erasure-preview.js';
/** `POST /v1/erasure-requests` → 202; `blockedTasks` lists the tasks legal holds keep from erasing. */
export type { BlockedTask, ErasureRequestReceipt } from '../services/erasure-requests.js';
export type { ExportSource, SubjectExport } from '../services/exports.js';
/** `POST /v1/lifecycle-events` → 202 `{eventId, decisions}`. */
export type { LifecycleEventResult } from '../services/lifecycle-events.js';
/** `POST /v1/sweeps` → 200: what the sweep dispatched, blocked and noticed. */
export type { SweepReport } from '../services/sweep.js';
/** Every 4xx and 5xx: `{error: {code, message, field?}}`. */
export type { ErrorBody } from '../shared/http-errors.js';

/** `GET /healthz`. */
export interface HealthAnswer {
  readonly status: 'ok';
}

/** One task of a request (`GET /v1/erasure-requests/{requestId}`). */
export interface TaskView {
  readonly taskId: string;
  readonly dataClass: string;
  readonly connector: string;
  readonly target: string;
  readonly action: RetentionAction;
  readonly status: ErasureTask['status'];
  readonly attempts: number;
  /** Items or objects erased (deleted, anonymised or restricted). */
  readonly deletedCount: number;
  readonly olderThan?: string;
  readonly verifiedAt?: string;
  readonly error?: string;
  /** ALM-3: ids of the legal holds that keep this task from erasing now; it runs once they end. */
  readonly blockedBy?: readonly string[];
}

/** A request as the rejection, deadline-extension and redrive routes answer it. */
export interface RequestView {
  readonly requestId: string;
  readonly origin: RequestOrigin;
  readonly status: ErasureRequest['status'];
  readonly dataClasses: readonly string[];
  readonly reason: string;
  readonly receivedAt: string;
  readonly deadline: string;
  readonly deadlineExtension?: ErasureRequest['deadlineExtension'];
  readonly rejection?: ErasureRequest['rejection'];
  readonly cancellation?: ErasureRequest['cancellation'];
  /** ALM-3, while `status` is `blocked`: the legal holds that keep the request from running. */
  readonly blockedBy?: readonly string[];
  readonly withheld?: ErasureRequest['withheld'];
  /** Targets keyed by an identifier the request gave no value of: not erased by it. */
  readonly unaddressed?: ErasureRequest['unaddressed'];
  readonly dispatchedAt?: string;
  readonly completedAt?: string;
}

/** `GET /v1/erasure-requests/{requestId}`: the request with all its tasks. */
export interface RequestDetail extends RequestView {
  readonly tasks: readonly TaskView[];
}

/** One pending (or blocked) deletion of a subject's schedule. */
export interface PendingDeletionView {
  readonly dataClass: string;
  readonly action: RetentionAction;
  readonly status: ScheduleStatus;
  readonly dueAt: string;
  readonly ruleRef: string;
  readonly noticeAt?: string;
  readonly triggeredBy: { readonly type: LifecycleEventType; readonly occurredAt: string };
}

/** `GET /v1/subjects/{subjectId}/schedule`. */
export interface ScheduleView {
  readonly subjectId: string;
  readonly pending: readonly PendingDeletionView[];
  /** ALE-2: since when an invoice is unpaid, while one is. */
  readonly unpaidInvoiceSince?: string;
}

/** `POST /v1/legal-holds` → 201. */
export interface HoldReceipt {
  readonly holdId: string;
  /** A replay (the same Idempotency-Key) of a hold released since: when it was released. */
  readonly releasedAt?: string;
}

/** `GET /v1/audit`: one page; pass `nextCursor` back as `cursor` for the next (absent on the last). */
export interface AuditList {
  readonly entries: readonly AuditEntry[];
  readonly nextCursor?: string;
}

/** `GET /v1/audit/verification`: the chain, checked on its own and against its anchors. */
export type { AuditVerification as VerificationAnswer } from '../services/anchors.js';

/** `GET /v1/audit/anchors`: the anchors in the window, and the check of the whole anchor chain. */
export interface AnchorList {
  readonly anchors: readonly Anchor[];
  readonly verification: AnchorChainVerification;
}

/** `GET /v1/erasure-requests/{requestId}/certificate`: the signed certificate of erasure. */
export type { Certificate } from '../../domain/audit/certificate.js';
/** `POST /v1/audit/anchors`: the anchor written (none when no chain moved since the last one). */
export type { AnchorResult as AnchorReceipt } from '../services/anchors.js';

/** `GET /v1/audit/public-keys`: every key that signs or signed anchors and certificates. */
export interface PublicKeyList {
  readonly keys: readonly PublicKeyInfo[];
}

/** `POST /v1/tasks/{taskId}/callback`: the task's status after the callback. */
export interface CallbackAnswer {
  readonly taskId: string;
  readonly status: string;
}

/** `GET /v1/reports/*` answers (JSON); their CSV columns are in domain/reports/csv.ts. */
export type { DeadlineReport as DeadlinesReportAnswer } from '../../domain/reports/deadlines.js';
export type {
  ErasuresReport as ErasuresReportAnswer,
  FailuresReport as FailuresReportAnswer,
  HoldsReport as HoldsReportAnswer,
  UpcomingReport as UpcomingReportAnswer,
} from '../services/reports.js';

/** `POST /v1/suppressions/check`: the names (`subjectId`, `email`) of what belongs to an erased subject. */
export interface SuppressionCheckAnswer {
  readonly suppressed: readonly string[];
}

/** `POST /v1/suppressions/lift`: the names that were listed and are lifted now. */
export interface SuppressionLiftAnswer {
  readonly lifted: readonly string[];
}
