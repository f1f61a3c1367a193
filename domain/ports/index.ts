/**
 * The ports: what the use cases (functions/services) need from storage, the queue and the audit
 * trail, in the domain's own terms. functions/adapters implements them on DynamoDB and SQS;
 * test/helpers/in-memory.ts implements them in memory, so a service test asserts outcomes (state,
 * audit, messages), never SDK calls.
 *
 * Reads go through the stores. Every state change goes through `UnitOfWork.commit`, together with
 * the audit records that prove it: both are written, or neither.
 */
import type { Anchor, PublicKeyInfo } from '../audit/anchor.js';
import type { AnchoredHead } from '../audit/merkle.js';
import type { AuditEntry, AuditEvent } from '../audit/types.js';
import type { ErasureRequest, ErasureTask, RequestStatus, TaskStatus } from '../erasure/types.js';
import type { LegalHold } from '../holds.js';
import type { ErasureCountRow, ErasureTally } from '../reports/erasures.js';
import type { ScheduleDecision, ScheduleEntry, SubjectSchedule } from '../schedule/types.js';
import type { SweepRun } from '../schedule/watermark.js';
import type { SubjectWindow } from '../schedule/windows.js';
import type { Suppression } from '../suppression.js';

export interface RequestWithTasks {
  readonly request: ErasureRequest;
  readonly tasks: readonly ErasureTask[];
}

export interface IdempotencyRecord {
  readonly requestId: string;
  readonly bodyHash: string;
}

/** What a legal hold's Idempotency-Key placed (`POST /v1/legal-holds`). */
export interface HoldIdempotencyRecord {
  readonly holdId: string;
  readonly bodyHash: string;
}

export interface RequestStore {
  get(requestId: string): Promise<RequestWithTasks | undefined>;
  getTask(requestId: string, taskId: string): Promise<ErasureTask | undefined>;
  /** Callbacks address a task by its id alone. */
  requestIdOfTask(taskId: string): Promise<string | undefined>;
  idempotencyRecord(key: string): Promise<IdempotencyRecord | undefined>;
  /** The hold a legal hold's Idempotency-Key placed: kept beside the requests' keys, apart from them. */
  holdIdempotencyRecord(key: string): Promise<HoldIdempotencyRecord | undefined>;
  /**
   * Open requests whose review time (`reviewAtOf`, or a deferred one) is at or before `now`: only
   * those that may be stuck. Read from a sharded index, so the cost grows with them alone.
   */
  reviewDue(now: string): Promise<ReviewItem[]>;
  /** Moves a request's next review to `next`, if its review time is still `seen`. Bookkeeping: not audited. */
  deferReview(requestId: string, seen: string, next: string): Promise<void>;
  /**
   * ALU-3 counts of open requests: past their deadline at `now`, and due within `nearMs` after
   * it. Counted by the index (no items returned), not read into memory.
   */
  deadlineCounts(now: string, nearMs: number): Promise<{ overdue: number; nearDeadline: number }>;
}

/** An open request that may be stuck, and the review time it was found under. */
export interface ReviewItem {
  readonly request: ErasureRequest;
  readonly reviewAt: string;
}

export interface StoredSchedule {
  readonly schedule: SubjectSchedule;
  /** Optimistic-lock version of the subject's schedule; 0 when nothing is stored yet. */
  readonly version: number;
}

/** The answer given to a lifecycle event, kept so a re-sent event gets the same one. */
export interface RecordedEvent {
  readonly eventId: string;
  readonly decisions: readonly ScheduleDecision[];
}

/** An item of the due index: a deletion (`entry`) or an advance notice (`notice`) that is due. */
export type DueItem =
  | { readonly kind: 'entry'; readonly entry: ScheduleEntry }
  | {
      readonly kind: 'notice';
      readonly subjectId: string;
      readonly dataClass: string;
      readonly noticeAt: string;
      readonly dueAt: string;
      readonly ruleRef: string;
    };

/**
 * The fields of a request that a `request.transition` writes, where they differ from `previous`:
 * a concurrent change to another field (a counter, a deadline extension) is never overwritten by a
 * stale copy. Every store writes exactly these.
 */
export const REQUEST_TRANSITION_FIELDS = [
  'status',
  'deadline',
  'deadlineExtension',
  'rejection',
  'cancellation',
  'blockedBy',
  'blockedAt',
  'dispatchedAt',
  'completedAt',
] as const satisfies readonly (keyof ErasureRequest)[];

export interface ScheduleStore {
  load(subjectId: string): Promise<StoredSchedule>;
  recordedEvent(subjectId: string, eventId: string): Promise<RecordedEvent | undefined>;
  /** Due deletions and notices of one due bucket (`YYYY-MM#shard`) at or before `now`. */
  queryDue(bucket: string, now: string): Promise<DueItem[]>;
  /** Whether one due bucket has anything due at or before `now` (reads at most one index item). */
  hasDue(bucket: string, now: string): Promise<boolean>;
  sweepWatermark(): Promise<string | undefined>;
  /** The latest fan-out of the sweep, if any. */
  sweepRun(): Promise<SweepRun | undefined>;
  /** Replaces the latest fan-out: its buckets are now the ones to acknowledge. */
  startSweepRun(run: SweepRun): Promise<void>;
  /** A shard worker handled every item of `bucket` for `runId`; ignored if a newer run replaced it. */
  acknowledgeShard(runId: string, bucket: string): Promise<void>;
  /** Only moves forward, so an older sweep finishing late cannot rewind it. Bookkeeping: not audited. */
  advanceWatermark(month: string): Promise<void>;
  /** The last grid slot a window run of (data class, target) recorded (`window.run`). */
  lastWindowRun(dataClass: string, target: string): Promise<string | undefined>;
  /**
   * Subjects of a rolling class whose window differs from the policy's (windowed entries with a
   * `subjectWindow`). Cost grows with those subjects, not with every subject of the class.
   */
  subjectWindows(dataClass: string): Promise<SubjectWindow[]>;
}

export interface HoldStore {
  find(holdId: string): Promise<LegalHold | undefined>;
  forSubject(subjectId: string): Promise<LegalHold[]>;
  /** Every hold active at `now`, of any subject (window runs exclude their subjects). */
  active(now: string): Promise<LegalHold[]>;
  /**
   * Holds not released whose end (`until`) is at or before `now`, as stored in their subject's
   * partition: what the sweep forgets (`forgetEndedHolds`).
   */
  ended(now: string): Promise<LegalHold[]>;
}

/**
 * What the compliance reports read (`GET /v1/reports/*`): each from an index or from counters,
 * never a scan, so a report costs what it answers, not what is stored.
 */
export interface ReportStore {
  /** Requests not final (received, blocked, dispatched), by deadline: the sparse `openByDeadline` index. */
  openRequests(): Promise<ErasureRequest[]>;
  /** Partially failed requests with their tasks: the sparse `byFailure` index, then each request. */
  failedRequests(): Promise<RequestWithTasks[]>;
  /** The erasure counters of months `from`..`to` (`YYYY-MM`, inclusive), as stored (per shard). */
  erasureCounts(from: string, to: string): Promise<ErasureCountRow[]>;
  /** Erasures and notices whose due instant lies in [`from`, `to`]: the `byDueBucket` index. */
  dueBetween(from: string, to: string): Promise<DueItem[]>;
}

/** The suppression list: keyed hashes of erased subjects' ids and identifiers. */
export interface SuppressionStore {
  /** The listed entries among `hashes` (expired ones the store has not removed yet included). */
  find(hashes: readonly string[]): Promise<Suppression[]>;
}

/** What goes on the queue: ids only, never personal data. */
export interface TaskMessage {
  readonly taskId: string;
  readonly requestId: string;
}

export interface TaskQueue {
  /** Sends every message or throws; sending twice is harmless (workers skip finished work). */
  send(messages: readonly TaskMessage[]): Promise<void>;
  /** Backoff for a failed attempt: the message becomes visible again after `seconds`. */
  delayRetry(receiptHandle: string, seconds: number): Promise<void>;
}

/** One due bucket for a sweep-shard worker: ids and instants only, never personal data. */
export interface SweepShardMessage {
  readonly runId: string;
  readonly bucket: string;
  /** The instant the coordinator swept for. */
  readonly now: string;
}

/** Where the sweep's coordinator sends one message per due bucket (an SQS queue in AWS and locally). */
export interface SweepShardQueue {
  /** Sends every message or throws; a message handled twice is harmless (the sweep is idempotent). */
  send(messages: readonly SweepShardMessage[]): Promise<void>;
}

export interface AuditQuery {
  readonly subjectId?: string;
  readonly requestId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: number;
}

/** What `GET /v1/audit` may narrow a scope (subject, request or time window) by. */
export interface AuditFilters {
  readonly dataClass?: string;
  readonly ruleRef?: string;
  /** An event type (`request.completed`); the trail's own vocabulary, not checked against a list. */
  readonly type?: string;
}

/**
 * Where the next page of an audit search starts: the store's own position (DynamoDB's
 * LastEvaluatedKey, and the day partition of a time-only search). Opaque outside the store; the
 * API hands it out signed (domain/audit/cursor.ts).
 */
export interface AuditPosition {
  /** The day partition the position lies in (time-only searches). */
  readonly day?: string;
  /** The key to resume after, or none to start at `day`. */
  readonly key?: Readonly<Record<string, string | number>>;
}

export interface AuditPageQuery extends AuditQuery, AuditFilters {
  /** At most this many entries. */
  readonly limit: number;
  readonly after?: AuditPosition;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  /** Absent when the search is exhausted. A page may be short (or empty) and still have a next. */
  readonly next?: AuditPosition;
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Reads of the audit trail. Appends go through `UnitOfWork.commit`. */
export interface AuditLog {
  query(query: AuditQuery): Promise<AuditEntry[]>;
  /**
   * One page of a search: the scope is the request (byRequest index), else the subject's chain,
   * else the time window (byDay index, one partition per day); filters narrow it, never widen it.
   * Each call reads a bounded number of index pages.
   */
  page(query: AuditPageQuery): Promise<AuditPage>;
  /** Every entry of one chain in order, and the head the store says it has. */
  readChain(
    subjectId: string | undefined,
  ): Promise<{ entries: AuditEntry[]; head?: ChainHead; chainId: string }>;
  /** The same, by chain id (a request that forgot its subject keeps only the pseudonym). */
  readChainById(chainId: string): Promise<{ entries: AuditEntry[]; head?: ChainHead; chainId: string }>;
  /** The chain id (keyed pseudonym) of a subject, or the system chain. */
  chainIdFor(subjectId: string | undefined): string;
  /**
   * The heads of the chains that moved since they were last marked anchored: every append sets
   * the chain's mark, so anchoring reads what moved, never every chain.
   */
  unanchoredHeads(): Promise<AnchoredHead[]>;
  /**
   * Clears the mark of each chain whose head is still the one given; a chain that moved again
   * keeps it, for the next anchor.
   */
  markAnchored(heads: readonly AnchoredHead[]): Promise<void>;
}

/**
 * Signs anchors and certificates with an asymmetric key that never leaves its keeper (KMS in AWS,
 * a local key file on a developer's machine). Signatures are ECDSA P-256 over SHA-256, DER, base64.
 */
export interface Signer {
  /** Fingerprint of the key that signs now (`keyFingerprint` of its public key). */
  currentKeyId(): Promise<string>;
  /** Signs `message` (UTF-8) with the current key. */
  sign(message: string): Promise<{ readonly keyId: string; readonly signature: string }>;
  /** The current key and every earlier one, so anchors signed before a rotation stay verifiable. */
  publicKeys(): Promise<PublicKeyInfo[]>;
}

/**
 * Where anchors are kept, outside the audit table: append-only (an S3 bucket with Object Lock in
 * AWS, a folder locally). An anchor is written once and never replaced.
 */
export interface AnchorStore {
  /** Writes the anchor; fails if one with its seq exists. */
  append(anchor: Anchor): Promise<void>;
  /** Every anchor, by seq (auditors' reads; anchoring itself needs only `latest`). */
  list(): Promise<Anchor[]>;
  /** The anchor with the highest seq, without reading the others. */
  latest(): Promise<Anchor | undefined>;
}

/** An audit event and the subject whose chain it goes on (none: the system chain). */
export interface AuditRecord {
  readonly event: AuditEvent;
  readonly subjectId?: string;
  /** A named chain that is no subject's (`window:<target>`); ignored when `subjectId` is set. */
  readonly chain?: string;
}

/**
 * One state change. Each carries the condition it was decided under (the state it was read in);
 * a commit whose condition no longer holds writes nothing.
 */
export type Change =
  /** A new request with its tasks (and the Idempotency-Key of an API request). Fails if either exists. */
  | {
      readonly kind: 'request.create';
      readonly request: ErasureRequest;
      readonly tasks: readonly ErasureTask[];
      readonly idempotency?: { readonly key: string; readonly bodyHash: string; readonly at: string };
    }
  /**
   * The request's own fields (`REQUEST_TRANSITION_FIELDS`, never its task counters), if its
   * status is one of `from`.
   */
  | {
      readonly kind: 'request.transition';
      readonly next: ErasureRequest;
      readonly from: readonly RequestStatus[];
      /** The copy `next` was made from: only the fields that differ are written. */
      readonly previous: ErasureRequest;
      /**
       * The request ends (completed, rejected) and forgets whose it was in the same write, so no
       * crash can leave the subject id behind: as `request.forget-subject`, for `next`'s request.
       */
      readonly forget?: SubjectForgetting;
    }
  /** A task's state, if it is still in the status and attempt it was read in. */
  | { readonly kind: 'task.transition'; readonly next: ErasureTask; readonly expected: TaskExpectation }
  /**
   * A task's final state, counted on its request whatever the request's state; fails if the task
   * was already counted. The fallback when counting against the counts read keeps failing
   * (`settle` finishes the request afterwards).
   */
  | { readonly kind: 'task.outcome'; readonly next: ErasureTask; readonly expected: TaskExpectation }
  /**
   * Final states of tasks of one request (one, or a worker's outcomes that finished together),
   * counted on it in one commit: each task's expectation, the request being `dispatched` and the
   * counts read are conditions, and the request takes `request.next`'s status, so the last
   * outcomes settle the request in the same commit.
   */
  | {
      readonly kind: 'task.outcomes';
      readonly outcomes: readonly { readonly next: ErasureTask; readonly expected: TaskExpectation }[];
      readonly request: OutcomeCount;
    }
  /** A partially failed request and its failed tasks re-opened together. */
  | {
      readonly kind: 'request.redrive';
      readonly previous: ErasureRequest;
      readonly next: ErasureRequest;
      readonly tasks: readonly { readonly previous: ErasureTask; readonly next: ErasureTask }[];
    }
  /**
   * A completed or rejected request forgets whose it was (`SubjectForgetting`): what finishes a
   * rejection stored before both went into one write.
   */
  | ({ readonly kind: 'request.forget-subject'; readonly requestId: string } & SubjectForgetting)
  /** A subject's schedule after a lifecycle event, guarded by the version it was loaded at. */
  | {
      readonly kind: 'schedule.save';
      readonly previous: StoredSchedule;
      readonly next: SubjectSchedule;
      readonly event: RecordedEvent;
      readonly at: string;
    }
  /**
   * The sweep's claim on a due entry: the entry becomes `next` only if it is still exactly the one
   * judged (status, due time, last event), and the subject's version moves, so a concurrent event
   * (a restore) fails its own save and is decided again on the claimed state.
   */
  | {
      readonly kind: 'schedule.claim';
      readonly expected: ScheduleEntry;
      readonly next: ScheduleEntry;
      readonly at: string;
    }
  /** An entry the sweep handled, if still in the status and due time it was read in. */
  | {
      readonly kind: 'schedule.replace';
      readonly expected: ScheduleEntry;
      readonly next: ScheduleEntry;
      readonly at: string;
      /** A blocked entry goes back into the due index at this instant. */
      readonly retryAt?: string;
    }
  /**
   * A window run of (data class, target) recorded for grid slot `slot`: fails if that slot or a
   * later one is recorded already, so a run is audited once however often the sweep runs.
   */
  | {
      readonly kind: 'window.run';
      readonly dataClass: string;
      readonly target: string;
      readonly slot: string;
      readonly at: string;
    }
  /** A notice that went out leaves the due index. */
  | {
      readonly kind: 'notice.sent';
      readonly subjectId: string;
      readonly dataClass: string;
      readonly at: string;
    }
  /**
   * A new hold; fails if the subject has one with its id. Ids are random (122 bits), so one
   * subject's id is never another's; the table is keyed (subjectId, holdId).
   */
  | { readonly kind: 'hold.place'; readonly hold: LegalHold }
  /**
   * The Idempotency-Key of a hold's placement, committed with it; fails if the key has placed a
   * hold already, so two placements with one key leave one hold.
   */
  | {
      readonly kind: 'hold.idempotency';
      readonly key: string;
      readonly holdId: string;
      readonly bodyHash: string;
      readonly at: string;
    }
  /**
   * A verified erasure counted for the erasures report (ALE-5): added to its month's counter, in
   * the commit of the outcome it counts, so a retried outcome (whose own condition fails) never
   * counts twice.
   */
  | { readonly kind: 'erasure.tally'; readonly tally: ErasureTally }
  /**
   * Ends a hold; fails if it was already released, or blocked a deletion since it was read (its
   * `blockCount` moved: the caller reads the deletions it blocked again).
   */
  | { readonly kind: 'hold.release'; readonly hold: LegalHold; readonly releasedAt: string }
  /**
   * A deletion is blocked on the hold: fails if the hold is released (or gone), and counts the
   * block on the hold (`blockCount`), so a release that read the hold before fails too.
   */
  | { readonly kind: 'hold.confirm'; readonly hold: LegalHold }
  /** Lists keyed hashes for suppression; listing one again renews its period. Unconditional. */
  | { readonly kind: 'suppression.add'; readonly entries: readonly Suppression[] }
  /** Takes keyed hashes off the suppression list. Unconditional (lifting twice is harmless). */
  | { readonly kind: 'suppression.lift'; readonly hashes: readonly string[] };

/**
 * A completed or rejected request and its tasks (`taskIds`) keep the subject's pseudonym instead of
 * its id, and lose the raw identifier values (their keyed hashes stay). `cancelTaskIds` (a rejected
 * request's tasks, none of which ran) become `cancelled`, if still `pending`.
 */
export interface SubjectForgetting {
  readonly taskIds: readonly string[];
  readonly pseudonym: string;
  readonly cancelTaskIds?: readonly string[];
}

/** The request task outcomes are counted on, as read and after counting (see `countOutcomes`). */
export interface OutcomeCount {
  readonly previous: ErasureRequest;
  readonly next: ErasureRequest;
  /**
   * The request completes: it and all its tasks (`taskIds`) keep the subject's pseudonym instead of
   * its id from this commit on (data minimisation), as `request.forget-subject` does.
   */
  readonly forget?: { readonly pseudonym: string; readonly taskIds: readonly string[] };
}

export interface TaskExpectation {
  readonly status: TaskStatus;
  readonly attempts: number;
}

export type CommitResult =
  | { readonly committed: true }
  /** The condition of `changes[conflict]` did not hold: nothing was written, audit included. */
  | { readonly committed: false; readonly conflict: number; readonly change: Change['kind'] };

/**
 * Commits state changes and the audit records that prove them atomically. Audit records already
 * in the trail (same idempotency key on the same chain) are not appended again, so a retried use
 * case never double-audits. Passing conflicts between writers (a chain head moved, a transaction
 * conflict) are retried inside; only a failed condition of a change is reported.
 */
export interface UnitOfWork {
  commit(changes: readonly Change[], audit?: readonly AuditRecord[]): Promise<CommitResult>;
  /**
   * A commit auditing on these subjects' chains (`undefined`: the system chain) is coming soon: an
   * adapter may start reading what it needs (the chain heads) now, beside the caller's own reads.
   * Only a hint: a commit without it, or long after it, reads as usual.
   */
  prepare?(subjectIds: readonly (string | undefined)[]): void;
}

/** An advance notice (IMOU-3): the subject is to be told that a deletion is coming. */
export interface RetentionNotice {
  /** Stable per notice, so a retried delivery is recognised by the receiver. */
  readonly noticeId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly noticeAt: string;
  readonly deletionDueAt: string;
}

export interface Notifier {
  /** Resolves once the receiver acknowledged the notice (2xx); throws otherwise. */
  notify(notice: RetentionNotice): Promise<void>;
  /** The target notices go to, for the audit trail. */
  readonly target: string;
}

/**
 * Where intake looks up a subject's identifiers (`identifierResolver` in the config): a lookup
 * table or a signed webhook. Read at intake only: a request keeps what was resolved, so its
 * retries, verification and re-drives use the same set.
 */
export interface IdentifierResolver {
  /** The resolver's name in the config, for errors. */
  readonly name: string;
  /**
   * The subject's identifiers as the source holds them, by declared name (a string or a list of
   * strings each); `{}` when it knows none. The caller checks them (`resolveWith`). Throws a
   * `ResolverError` when the source cannot answer; anything else it throws counts as unavailable.
   */
  resolve(query: {
    readonly subjectId: string;
    readonly requestId: string;
  }): Promise<Readonly<Record<string, unknown>>>;
}
