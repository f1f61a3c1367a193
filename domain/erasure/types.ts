import type { SubjectIdentifiers } from '../identifiers/types.js';
import type { RetentionAction } from '../policy/types.js';

export type RequestStatus =
  | 'received'
  /** Refused for a stated legal reason (IMOU-6). Final. */
  | 'rejected'
  /** A legal hold covers (part of) the request; dispatched when released. */
  | 'blocked'
  | 'dispatched'
  /** Every task verified. Final. */
  | 'completed'
  /** At least one task exhausted its retries; the rest are done. Final unless re-driven. */
  | 'partially_failed'
  /**
   * A cancelling event (a restore) that happened before the deletion was due arrived after it was
   * claimed: what had not run was cancelled. Final.
   */
  | 'cancelled';

/** `cancelled`: the request was withdrawn before this task erased anything. Final. */
export type TaskStatus = 'pending' | 'running' | 'succeeded' | 'verified' | 'failed' | 'cancelled';

export type RequestOrigin = 'api' | 'schedule';

export interface ErasureRequest {
  readonly requestId: string;
  readonly subjectId: string;
  /**
   * The subject's identifiers (sent and resolved), raw while the request is open; forgotten with
   * the subject id on completion, when only `identifierPseudonyms` remain.
   */
  readonly identifiers?: SubjectIdentifiers;
  /**
   * Keyed hashes (`identifierHash`) of the identifier values the request addressed, by name: what
   * verification and re-drives used, kept after the raw values are forgotten.
   */
  readonly identifierPseudonyms?: Readonly<Record<string, readonly string[]>>;
  /** Targets of the requested classes keyed by an identifier the request had no value of: not erased. */
  readonly unaddressed?: readonly { readonly target: string; readonly identifier: string }[];
  readonly origin: RequestOrigin;
  readonly dataClasses: readonly string[];
  /** Why the erasure happens: the requester's reason, or the rule ref for scheduled deletions. */
  readonly reason: string;
  readonly status: RequestStatus;
  readonly receivedAt: string;
  /** receivedAt + 30 days (ALU-3); extendable once. */
  readonly deadline: string;
  readonly deadlineExtension?: { readonly reason: string; readonly extendedAt: string };
  readonly rejection?: { readonly legalReason: string; readonly rejectedAt: string };
  readonly blockedBy?: readonly string[];
  /**
   * When legal holds first held the request back (kept when it is blocked again on other holds, and
   * as a record once it runs). Absent for requests blocked before this was recorded.
   */
  readonly blockedAt?: string;
  /** Requested classes that must be kept for now, and why (ALE-2: an unpaid invoice). Not erased. */
  readonly withheld?: readonly { readonly dataClass: string; readonly reason: string }[];
  readonly dispatchedAt?: string;
  readonly completedAt?: string;
  readonly taskCount: number;
  readonly verifiedCount: number;
  readonly failedCount: number;
  /** The late cancelling event that withdrew the request (status `cancelled`). */
  readonly cancellation?: {
    readonly eventType: string;
    readonly occurredAt: string;
    readonly cancelledAt: string;
  };
  /** How often failed tasks were re-driven; keeps the audit keys of each round apart. Absent: 0. */
  readonly redriveCount?: number;
}

export interface ErasureTask {
  readonly taskId: string;
  readonly requestId: string;
  readonly subjectId: string;
  /**
   * The identifier values its target finds data by (one connector invocation each), or that a
   * webhook declares; forgotten with the subject id.
   */
  readonly identifiers?: SubjectIdentifiers;
  readonly dataClass: string;
  /**
   * The rule its request is done under (`requestRuleRef`), on each of its audit entries so that the
   * trail filters by rule as the erasures report counts. Absent on tasks stored before it.
   */
  readonly ruleRef?: string;
  readonly action: RetentionAction;
  /** Connector target name from the catalog. */
  readonly target: string;
  readonly connector: string;
  readonly status: TaskStatus;
  readonly attempts: number;
  readonly affectedCount: number;
  readonly olderThan?: string;
  /** Start of the latest attempt. */
  readonly startedAt?: string;
  /** The connector accepted the work and will call back (HTTP 202); the task stays `running`. */
  readonly awaitingCallback?: boolean;
  readonly succeededAt?: string;
  readonly verifiedAt?: string;
  readonly failedAt?: string;
  /** Why the task failed: capped, with the subject id redacted. Never copied to the audit trail. */
  readonly error?: string;
  /** Reason code of the failure (e.g. `retries-exhausted`); this one is audited. */
  readonly errorCode?: string;
  /** Code of the latest failed attempt that will be retried (audited as `task.attempt_failed`). */
  readonly lastErrorCode?: string;
  readonly lastFailedAt?: string;
  /** `attempts` when an operator last re-drove the task: its attempt budget counts from there. */
  readonly redrivenAtAttempt?: number;
}
