import { containsSubjectId, redactSubjectId } from '../audit/pseudonym.js';
import type { AuditEvent } from '../audit/types.js';
import { IllegalTransitionError, ValidationError } from '../errors.js';
import type { RetentionAction } from '../policy/types.js';
import { isCanonicalInstant } from '../time.js';
import { taskIdFor } from './ids.js';
import type { ErasureRequest, ErasureTask, RequestOrigin, RequestStatus, TaskStatus } from './types.js';

/**
 * The result of every state change: the new state and the audit event that records it. The event's
 * idempotency key depends only on the state before and the arguments, so a retried transition
 * appends nothing new. Events carry ids, codes and counts, never the subject id.
 */
export interface Transition<T> {
  readonly next: T;
  readonly audit: AuditEvent;
}

type Detail = Record<string, string | number | boolean>;

export const MS_PER_DAY = 24 * 60 * 60 * 1000;
/** ALU-3: requests are answered within 30 days of receipt. */
export const RESPONSE_PERIOD_DAYS = 30;
/** GDPR Art. 12(3): the period may be extended once by up to two further months (taken as 60 days). */
export const MAX_EXTENSION_DAYS = 60;
/** Task errors are operational hints, not logs: long texts tend to carry payloads. */
export const MAX_TASK_ERROR_LENGTH = 500;

/**
 * Reasons (request reasons, legal reasons for a rejection, hold reasons, failure codes) are codes
 * such as `gdpr-art17-3b-legal-obligation`, not free text, because they are copied into the audit
 * trail, which outlives the erasure and must not hold personal data: free text is where names,
 * e-mail addresses and case details end up. No spaces, no `@`, at most 80 characters. Upper case
 * is allowed so that rule refs (`ALE-1`) can be the reason of a scheduled deletion.
 */
export const REASON_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/;

/** Ids (request, task, hold, target) follow the same alphabet; they end up in keys and the audit. */
const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Returns `value` if it is a reason code (see `REASON_CODE_PATTERN`) that does not contain `subjectId`. */
export const validateReasonCode = (value: string, field: string, subjectId?: string): string => {
  if (typeof value !== 'string' || !REASON_CODE_PATTERN.test(value)) {
    throw new ValidationError(
      `${field} must be a code (letters, digits, '.', '_', ':', '-'; at most 80 characters), not free text`,
      field,
    );
  }
  if (subjectId !== undefined && containsSubjectId(value, subjectId)) {
    throw new ValidationError(`${field} must not contain the subject id`, field);
  }
  return value;
};

const validateIdentifier = (value: string, field: string, subjectId: string): string => {
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) {
    throw new ValidationError(`${field} must be an id (letters, digits, '.', '_', ':', '-')`, field);
  }
  if (containsSubjectId(value, subjectId))
    throw new ValidationError(`${field} must not contain the subject id`, field);
  return value;
};

const requireSubjectId = (subjectId: string): void => {
  if (typeof subjectId !== 'string' || subjectId.length === 0) {
    throw new ValidationError('subjectId must not be empty', 'subjectId');
  }
};

const instantMs = (value: string, field: string): number => {
  if (!isCanonicalInstant(value)) {
    throw new ValidationError(`${field} must be a canonical ISO instant (YYYY-MM-DDTHH:mm:ss.sssZ)`, field);
  }
  return Date.parse(value);
};

const requireCount = (value: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}`, field);
  }
  return value;
};

/** Days of exactly 24 hours: UTC has no daylight saving, so 30 days is an exact span. */
const addDays = (instant: string, days: number): string =>
  new Date(Date.parse(instant) + days * MS_PER_DAY).toISOString();

const omit = <T extends object, K extends keyof T>(value: T, keys: readonly K[]): Omit<T, K> =>
  Object.fromEntries(
    Object.entries(value).filter(([key]) => !(keys as readonly PropertyKey[]).includes(key)),
  ) as Omit<T, K>;

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/** Thrown on a second deadline extension: GDPR Art. 12(3) allows one. */
export class DeadlineAlreadyExtendedError extends IllegalTransitionError {
  constructor(from: RequestStatus, options?: { cause?: unknown }) {
    super('request', from, 'deadline-extended', options);
    this.message = 'The deadline of this request was already extended; it can be extended only once.';
  }
}

const FINAL_REQUEST_STATUSES: readonly RequestStatus[] = ['rejected', 'completed', 'partially_failed'];
/** The requester has been answered: erased everything, or told why not (IMOU-6). */
const ANSWERED_REQUEST_STATUSES: readonly RequestStatus[] = ['rejected', 'completed'];

/**
 * No automatic transition leaves a final status. `partially_failed` is final too, but an operator
 * can re-drive its failed tasks (`redriveRequest`).
 */
export const isFinal = (status: RequestStatus): boolean => FINAL_REQUEST_STATUSES.includes(status);

const isAnswered = (request: ErasureRequest): boolean => ANSWERED_REQUEST_STATUSES.includes(request.status);

/**
 * The deadline has passed and the requester is still owed an answer. A `blocked` or
 * `partially_failed` request counts: its data is not erased and nobody has said why (ALU-3).
 * The deadline instant itself is still on time.
 */
export const isOverdue = (request: ErasureRequest, now: string): boolean =>
  !isAnswered(request) && instantMs(now, 'now') > instantMs(request.deadline, 'deadline');

/** The requester is still owed an answer and the deadline falls within `[now, now + windowMs]`. */
export const deadlineWithin = (request: ErasureRequest, now: string, windowMs: number): boolean => {
  if (!Number.isFinite(windowMs) || windowMs < 0) {
    throw new ValidationError('windowMs must be a non-negative number', 'windowMs');
  }
  const remaining = instantMs(request.deadline, 'deadline') - instantMs(now, 'now');
  return !isAnswered(request) && remaining >= 0 && remaining <= windowMs;
};

const requireRequestStatus = (
  request: ErasureRequest,
  allowed: readonly RequestStatus[],
  to: string,
): void => {
  if (!allowed.includes(request.status)) throw new IllegalTransitionError('request', request.status, to);
};

/** Keys of events that can recur after a re-drive get the round, so each round is audited once. */
const roundSuffix = (request: ErasureRequest): string =>
  (request.redriveCount ?? 0) > 0 ? `:r${request.redriveCount}` : '';

const requestEvent = (
  next: ErasureRequest,
  event: { type: string; key: string; at: string; detail: Detail; ruleRef?: string | undefined },
): AuditEvent => ({
  type: `request.${event.type}`,
  at: event.at,
  idempotencyKey: `request:${next.requestId}:${event.key}`,
  requestId: next.requestId,
  ...(event.ruleRef === undefined ? {} : { ruleRef: event.ruleRef }),
  detail: { status: next.status, ...event.detail },
});

export interface ReceiveRequestInput {
  readonly requestId: string;
  readonly subjectId: string;
  readonly origin: RequestOrigin;
  readonly dataClasses: readonly string[];
  /** A reason code; for scheduled deletions one that names the rule (`retention:ale-1`). */
  readonly reason: string;
  readonly receivedAt: string;
  /** Tasks planned at receipt, if known; `dispatchRequest` sets the final count. */
  readonly taskCount?: number;
}

/** A new request, due `RESPONSE_PERIOD_DAYS` after receipt (ALU-3). */
export const receiveRequest = (input: ReceiveRequestInput): Transition<ErasureRequest> => {
  const { requestId, subjectId, origin, dataClasses, reason, receivedAt } = input;
  requireSubjectId(subjectId);
  validateIdentifier(requestId, 'requestId', subjectId);
  if (origin !== 'api' && origin !== 'schedule') {
    throw new ValidationError("origin must be 'api' or 'schedule'", 'origin');
  }
  if (dataClasses.length === 0) throw new ValidationError('dataClasses must not be empty', 'dataClasses');
  dataClasses.forEach((dataClass, index) => {
    validateReasonCode(dataClass, `dataClasses[${index}]`, subjectId);
    if (dataClasses.indexOf(dataClass) !== index) {
      throw new ValidationError(`Data class '${dataClass}' is listed twice`, `dataClasses[${index}]`);
    }
  });
  validateReasonCode(reason, 'reason', subjectId);
  instantMs(receivedAt, 'receivedAt');
  const taskCount = requireCount(input.taskCount ?? 0, 'taskCount', 0);

  const next: ErasureRequest = {
    requestId,
    subjectId,
    origin,
    dataClasses: [...dataClasses],
    reason,
    status: 'received',
    receivedAt,
    deadline: addDays(receivedAt, RESPONSE_PERIOD_DAYS),
    taskCount,
    verifiedCount: 0,
    failedCount: 0,
  };
  return {
    next,
    audit: requestEvent(next, {
      type: 'received',
      key: 'received',
      at: receivedAt,
      detail: { origin, reason, dataClasses: dataClasses.join(','), deadline: next.deadline, taskCount },
    }),
  };
};

/** IMOU-6: refuses the request for a stated legal reason (a code); final. A blocked request can be refused too. */
export const rejectRequest = (
  request: ErasureRequest,
  legalReason: string,
  at: string,
): Transition<ErasureRequest> => {
  requireRequestStatus(request, ['received', 'blocked'], 'rejected');
  validateReasonCode(legalReason, 'legalReason', request.subjectId);
  instantMs(at, 'at');
  const next: ErasureRequest = { ...request, status: 'rejected', rejection: { legalReason, rejectedAt: at } };
  return {
    next,
    audit: requestEvent(next, {
      type: 'rejected',
      key: 'rejected',
      at,
      ruleRef: 'IMOU-6',
      detail: { legalReason, previousStatus: request.status },
    }),
  };
};

/**
 * Holds the request back while legal holds cover it (ALM-3). A blocked request can be blocked again
 * when the set of holds changes; the same set gives the same event, so a retry is not audited twice.
 */
export const blockRequest = (
  request: ErasureRequest,
  holdIds: readonly string[],
  at: string,
): Transition<ErasureRequest> => {
  requireRequestStatus(request, ['received', 'blocked'], 'blocked');
  if (holdIds.length === 0) throw new ValidationError('holdIds must not be empty', 'holdIds');
  holdIds.forEach((holdId, index) => {
    validateIdentifier(holdId, `holdIds[${index}]`, request.subjectId);
  });
  instantMs(at, 'at');
  const holds = [...new Set(holdIds)].sort();
  const next: ErasureRequest = { ...request, status: 'blocked', blockedBy: holds };
  return {
    next,
    audit: requestEvent(next, {
      type: 'blocked',
      key: `blocked:${holds.join(',')}`,
      at,
      ruleRef: 'ALM-3',
      detail: { holdIds: holds.join(','), holdCount: holds.length, previousStatus: request.status },
    }),
  };
};

/**
 * Hands the request's tasks to the connectors: from `received`, or from `blocked` once the holds are
 * released (the caller checks them). Keeps `blockedBy` as a record of what held the request back.
 * A request with no task would never complete, so `taskCount` must be at least 1.
 */
export const dispatchRequest = (
  request: ErasureRequest,
  taskCount: number,
  at: string,
): Transition<ErasureRequest> => {
  requireRequestStatus(request, ['received', 'blocked'], 'dispatched');
  requireCount(taskCount, 'taskCount', 1);
  instantMs(at, 'at');
  const next: ErasureRequest = {
    ...request,
    status: 'dispatched',
    dispatchedAt: at,
    taskCount,
    verifiedCount: 0,
    failedCount: 0,
  };
  return {
    next,
    audit: requestEvent(next, {
      type: 'dispatched',
      key: 'dispatched',
      at,
      detail: { taskCount, previousStatus: request.status },
    }),
  };
};

/**
 * ALU-3 / GDPR Art. 12(3): moves the deadline once, by `extensionDays` (at most 60), for a reason
 * code. The extension must be decided before the deadline passes (the requester must be told within
 * the first period). A second extension throws `DeadlineAlreadyExtendedError`.
 */
export const extendDeadline = (
  request: ErasureRequest,
  reason: string,
  at: string,
  extensionDays: number = MAX_EXTENSION_DAYS,
): Transition<ErasureRequest> => {
  requireRequestStatus(
    request,
    ['received', 'blocked', 'dispatched', 'partially_failed'],
    'deadline-extended',
  );
  if (request.deadlineExtension !== undefined) throw new DeadlineAlreadyExtendedError(request.status);
  validateReasonCode(reason, 'reason', request.subjectId);
  requireCount(extensionDays, 'extensionDays', 1, MAX_EXTENSION_DAYS);
  if (instantMs(at, 'at') > instantMs(request.deadline, 'deadline')) {
    throw new ValidationError('The deadline can only be extended before it passes', 'at');
  }
  const deadline = addDays(request.deadline, extensionDays);
  const next: ErasureRequest = { ...request, deadline, deadlineExtension: { reason, extendedAt: at } };
  return {
    next,
    audit: requestEvent(next, {
      type: 'deadline_extended',
      key: 'deadline-extended',
      at,
      ruleRef: 'ALU-3',
      detail: { reason, extensionDays, previousDeadline: request.deadline, deadline },
    }),
  };
};

export type TaskOutcome = 'verified' | 'failed';

/** The final transition of a request whose tasks have all reported, given its counts. */
const settled = (
  request: ErasureRequest,
  at: string,
  verifiedCount: number,
  failedCount: number,
  detail: Detail,
): Transition<ErasureRequest> => {
  const withinDeadline = instantMs(at, 'at') <= instantMs(request.deadline, 'deadline');
  const next: ErasureRequest =
    failedCount === 0
      ? { ...request, status: 'completed', verifiedCount, failedCount, completedAt: at }
      : { ...request, status: 'partially_failed', verifiedCount, failedCount };
  return {
    next,
    audit: requestEvent(next, {
      type: next.status,
      // `completed` is final for good; `partially_failed` can recur after a re-drive.
      key: next.status === 'completed' ? 'completed' : `partially_failed${roundSuffix(request)}`,
      at,
      detail: { taskCount: request.taskCount, verifiedCount, failedCount, withinDeadline, ...detail },
    }),
  };
};

/**
 * Counts one task's final outcome. When the last task reports, the request becomes `completed`
 * (every task verified) or `partially_failed` (at least one failed). The adapter guarantees each
 * task reports once (a conditional write on the counts), so the counts are exact.
 * `taskId`, if given, only annotates the event.
 */
export const recordTaskOutcome = (
  request: ErasureRequest,
  outcome: TaskOutcome,
  at: string,
  taskId?: string,
): Transition<ErasureRequest> => {
  requireRequestStatus(request, ['dispatched'], 'task-outcome');
  if (outcome !== 'verified' && outcome !== 'failed') {
    throw new ValidationError("outcome must be 'verified' or 'failed'", 'outcome');
  }
  if (taskId !== undefined) validateIdentifier(taskId, 'taskId', request.subjectId);
  instantMs(at, 'at');
  if (request.verifiedCount + request.failedCount >= request.taskCount) {
    throw new IllegalTransitionError('request', request.status, 'task-outcome', {
      cause: new Error(`All ${request.taskCount} tasks have already reported`),
    });
  }
  const verifiedCount = request.verifiedCount + (outcome === 'verified' ? 1 : 0);
  const failedCount = request.failedCount + (outcome === 'failed' ? 1 : 0);
  const annotate = (event: AuditEvent): AuditEvent => (taskId === undefined ? event : { ...event, taskId });
  if (verifiedCount + failedCount === request.taskCount) {
    const final = settled(request, at, verifiedCount, failedCount, { outcome });
    return { next: final.next, audit: annotate(final.audit) };
  }
  const next: ErasureRequest = { ...request, verifiedCount, failedCount };
  return {
    next,
    audit: annotate(
      requestEvent(next, {
        type: 'task_outcome',
        key: `outcome:${verifiedCount}:${failedCount}${roundSuffix(request)}`,
        at,
        detail: { outcome, taskCount: request.taskCount, verifiedCount, failedCount },
      }),
    ),
  };
};

/**
 * For stores that count task outcomes themselves (in the transaction that finishes the task): the
 * final transition once every task has reported, otherwise `undefined`. Also `undefined` when the
 * request is not `dispatched` (e.g. another worker settled it first), so calling it is always safe.
 * Its events share keys with `recordTaskOutcome`'s final ones.
 */
export const settleRequest = (
  request: ErasureRequest,
  at: string,
): Transition<ErasureRequest> | undefined => {
  if (request.status !== 'dispatched') return undefined;
  instantMs(at, 'at');
  const reported = request.verifiedCount + request.failedCount;
  if (reported > request.taskCount) {
    throw new IllegalTransitionError('request', request.status, 'task-outcome', {
      cause: new Error(`${reported} outcomes counted for ${request.taskCount} tasks`),
    });
  }
  if (reported < request.taskCount) return undefined;
  return settled(request, at, request.verifiedCount, request.failedCount, {});
};

/**
 * An operator re-drives `redrivenTaskCount` failed tasks (see `redriveTask`): their failures are
 * taken off the count and the request waits for their new outcomes. Allowed from
 * `partially_failed`, or from `dispatched` when a task failed before the others finished.
 */
export const redriveRequest = (
  request: ErasureRequest,
  redrivenTaskCount: number,
  at: string,
): Transition<ErasureRequest> => {
  const redrivable =
    request.status === 'partially_failed' || (request.status === 'dispatched' && request.failedCount > 0);
  if (!redrivable) throw new IllegalTransitionError('request', request.status, 'dispatched');
  requireCount(redrivenTaskCount, 'redrivenTaskCount', 1, request.failedCount);
  instantMs(at, 'at');
  const redriveCount = (request.redriveCount ?? 0) + 1;
  const next: ErasureRequest = {
    ...request,
    status: 'dispatched',
    failedCount: request.failedCount - redrivenTaskCount,
    redriveCount,
  };
  return {
    next,
    audit: requestEvent(next, {
      type: 'redriven',
      key: `redriven:${redriveCount}`,
      at,
      detail: {
        redrivenTaskCount,
        taskCount: next.taskCount,
        verifiedCount: next.verifiedCount,
        failedCount: next.failedCount,
        previousStatus: request.status,
      },
    }),
  };
};

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

const RETENTION_ACTIONS: readonly RetentionAction[] = ['delete', 'anonymise', 'restrict'];

const requireTaskStatus = (task: ErasureTask, allowed: readonly TaskStatus[], to: TaskStatus): void => {
  if (!allowed.includes(task.status)) throw new IllegalTransitionError('task', task.status, to);
};

/**
 * Task keys carry the attempt number: every start (first, redelivered or re-driven) adds one, so
 * an event that can recur (`failed`, `succeeded`) is keyed apart in each attempt, and a retry of the
 * same transition from the same state gets the same key.
 */
const taskEvent = (
  next: ErasureTask,
  event: { type: string; key: string; at: string; detail?: Detail },
): AuditEvent => ({
  type: `task.${event.type}`,
  at: event.at,
  idempotencyKey: `task:${next.taskId}:${event.key}`,
  requestId: next.requestId,
  taskId: next.taskId,
  dataClass: next.dataClass,
  target: next.target,
  detail: {
    status: next.status,
    attempts: next.attempts,
    action: next.action,
    connector: next.connector,
    // A rolling window's cut-off: what "erased" meant for this task (an instant, not personal data).
    ...(next.olderThan === undefined ? {} : { olderThan: next.olderThan }),
    ...event.detail,
  },
});

export interface CreateTaskInput {
  /** Default: `taskIdFor(requestId, dataClass, target)`. */
  readonly taskId?: string;
  readonly requestId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly action: RetentionAction;
  readonly target: string;
  readonly connector: string;
  readonly olderThan?: string;
}

/**
 * A `pending` task. Creating one is not a state change of anything audited on its own: the request's
 * `received`/`dispatched` events count the tasks, and each task's first transition names its target.
 */
export const createTask = (input: CreateTaskInput): ErasureTask => {
  const { requestId, subjectId, dataClass, action, target, connector, olderThan } = input;
  requireSubjectId(subjectId);
  validateIdentifier(requestId, 'requestId', subjectId);
  validateReasonCode(dataClass, 'dataClass', subjectId);
  validateIdentifier(target, 'target', subjectId);
  validateIdentifier(connector, 'connector', subjectId);
  if (!RETENTION_ACTIONS.includes(action)) {
    throw new ValidationError(`action must be one of ${RETENTION_ACTIONS.join(', ')}`, 'action');
  }
  if (olderThan !== undefined) instantMs(olderThan, 'olderThan');
  const taskId =
    input.taskId === undefined
      ? taskIdFor(requestId, dataClass, target)
      : validateIdentifier(input.taskId, 'taskId', subjectId);
  return {
    taskId,
    requestId,
    subjectId,
    dataClass,
    action,
    target,
    connector,
    status: 'pending',
    attempts: 0,
    affectedCount: 0,
    ...(olderThan === undefined ? {} : { olderThan }),
  };
};

/**
 * A worker starts an attempt. `running → running` is a redelivered message after a crash or a
 * timeout (`task.restarted`); it clears `awaitingCallback`, as the new attempt asks the connector again
 * (with the same idempotency key).
 */
export const startTask = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['pending', 'running'], 'running');
  instantMs(at, 'at');
  const attempts = task.attempts + 1;
  const next: ErasureTask = {
    ...omit(task, ['awaitingCallback']),
    status: 'running',
    attempts,
    startedAt: at,
  };
  return {
    next,
    audit: taskEvent(next, {
      type: task.status === 'pending' ? 'started' : 'restarted',
      key: `${task.status === 'pending' ? 'started' : 'restarted'}:${attempts}`,
      at,
    }),
  };
};

/**
 * The connector accepted the work and will call back (HTTP 202). The task stays `running` with
 * `awaitingCallback`: `succeeded` would need an `affectedCount` nobody knows yet, and verification
 * must not start before the other service is done. Repeating it in the same attempt is a no-op.
 */
export const taskAwaitingCallback = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['running'], 'running');
  instantMs(at, 'at');
  const next: ErasureTask = { ...task, awaitingCallback: true };
  return {
    next,
    audit: taskEvent(next, { type: 'awaiting_callback', key: `awaiting_callback:${task.attempts}`, at }),
  };
};

/** Alias of `taskAwaitingCallback`. */
export const taskPending = taskAwaitingCallback;

/** The connector (or its callback) reports the work done: `affectedCount` items erased. */
export const taskSucceeded = (
  task: ErasureTask,
  affectedCount: number,
  at: string,
): Transition<ErasureTask> => {
  requireTaskStatus(task, ['running'], 'succeeded');
  requireCount(affectedCount, 'affectedCount', 0);
  instantMs(at, 'at');
  const next: ErasureTask = {
    ...omit(task, ['awaitingCallback']),
    status: 'succeeded',
    affectedCount,
    succeededAt: at,
  };
  return {
    next,
    audit: taskEvent(next, {
      type: 'succeeded',
      key: `succeeded:${task.attempts}`,
      at,
      detail: { affectedCount, viaCallback: task.awaitingCallback === true },
    }),
  };
};

/** A check found none of the subject's data left in the target. Final. */
export const taskVerified = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['succeeded'], 'verified');
  instantMs(at, 'at');
  const next: ErasureTask = { ...task, status: 'verified', verifiedAt: at };
  return {
    next,
    audit: taskEvent(next, {
      type: 'verified',
      key: 'verified',
      at,
      detail: { affectedCount: task.affectedCount },
    }),
  };
};

export interface TaskFailure {
  /** Kept on the task for operators, capped and with the subject id redacted; never audited. */
  readonly message: string;
  /** A reason code (`retries-exhausted`, `verification-failed`); audited. */
  readonly code?: string;
}

/**
 * The message kept on a failed task: the subject id redacted, control characters and runs of
 * whitespace collapsed, at most `MAX_TASK_ERROR_LENGTH` characters. Connector errors echo keys and
 * payloads, so this is a last guard, not a licence to pass them in.
 */
export const sanitiseTaskError = (message: string, subjectId: string): string => {
  const cleaned = redactSubjectId(message, subjectId)
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .trim();
  if (cleaned.length === 0) return 'unspecified error';
  const characters = Array.from(cleaned);
  return characters.length <= MAX_TASK_ERROR_LENGTH
    ? cleaned
    : `${characters.slice(0, MAX_TASK_ERROR_LENGTH - 1).join('')}…`;
};

/**
 * The task gave up: retries exhausted, the target refused, or verification found data left. Only the
 * failure's code (if any) is audited, never its message.
 */
export const taskFailed = (
  task: ErasureTask,
  failure: string | TaskFailure,
  at: string,
): Transition<ErasureTask> => {
  requireTaskStatus(task, ['pending', 'running', 'succeeded'], 'failed');
  const { message, code } = typeof failure === 'string' ? { message: failure, code: undefined } : failure;
  if (code !== undefined) validateReasonCode(code, 'failure.code', task.subjectId);
  instantMs(at, 'at');
  const next: ErasureTask = {
    ...omit(task, ['awaitingCallback', 'errorCode']),
    status: 'failed',
    failedAt: at,
    error: sanitiseTaskError(message, task.subjectId),
    ...(code === undefined ? {} : { errorCode: code }),
  };
  return {
    next,
    audit: taskEvent(next, {
      type: 'failed',
      key: `failed:${task.attempts}`,
      at,
      detail: { previousStatus: task.status, ...(code === undefined ? {} : { errorCode: code }) },
    }),
  };
};

/**
 * An operator re-drives a failed task: a new attempt starts (`failed → running`, attempts + 1) and
 * the failure is cleared from the task (the audit keeps it). The only way out of `failed`; pair it
 * with `redriveRequest` so the request counts the task's new outcome.
 */
export const redriveTask = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['failed'], 'running');
  instantMs(at, 'at');
  const attempts = task.attempts + 1;
  const next: ErasureTask = {
    ...omit(task, ['awaitingCallback', 'error', 'errorCode', 'failedAt']),
    status: 'running',
    attempts,
    startedAt: at,
  };
  return { next, audit: taskEvent(next, { type: 'redriven', key: `redriven:${attempts}`, at }) };
};
