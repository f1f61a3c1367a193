/**
 * Task transitions: create, start (or restart), await a callback, succeed, verify, fail, re-drive.
 * A task erases one data class's data of one subject from one connector target.
 */
import { redactSubjectId } from '../audit/pseudonym.js';
import type { AuditEvent } from '../audit/types.js';
import type { ConnectorTarget } from '../connectors/types.js';
import { IllegalTransitionError, ValidationError } from '../errors.js';
import { identifiersFor, type SubjectIdentifiers } from '../identifiers/identifiers.js';
import { RETENTION_ACTIONS } from '../policy/schema.js';
import type { RetentionAction } from '../policy/types.js';
import {
  validateErrorCode,
  validateIdentifier,
  validateName,
  validateSubjectId,
} from '../vocabulary/codes.js';
import { taskIdFor } from './ids.js';
import {
  type Detail,
  instantMs,
  omit,
  orList,
  requestRuleRef,
  requireCount,
  type Transition,
} from './transition.js';
import type { ErasureRequest, ErasureTask, TaskStatus } from './types.js';

/** Task errors are operational hints, not logs: long texts tend to carry payloads. */
export const MAX_TASK_ERROR_LENGTH = 500;

const requireTaskStatus = (task: ErasureTask, allowed: readonly TaskStatus[], to: TaskStatus): void => {
  if (!allowed.includes(task.status)) {
    throw new IllegalTransitionError('task', task.status, to, {
      allowed: `only a task that is ${orList(allowed)} can`,
    });
  }
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
  ...(next.ruleRef === undefined ? {} : { ruleRef: next.ruleRef }),
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
  /** The identifier values the task's target addresses (see `ErasureTask.identifiers`). */
  readonly identifiers?: SubjectIdentifiers;
  /** The rule its request is done under (`requestRuleRef`). */
  readonly ruleRef?: string;
}

/** The pending tasks of a request from its plan (`planTasks`): one per planned unit of work, with its id. */
export const tasksFromPlan = (
  planned: readonly {
    readonly dataClass: string;
    readonly action: RetentionAction;
    readonly target: ConnectorTarget;
  }[],
  request: {
    readonly requestId: string;
    readonly subjectId: string;
    /** With `reason`: the rule the tasks' audit entries carry (`requestRuleRef`). */
    readonly origin?: ErasureRequest['origin'];
    readonly reason?: string;
    readonly olderThan?: string;
    readonly identifiers?: SubjectIdentifiers;
  },
): ErasureTask[] =>
  planned.map((task) => {
    const identifiers = identifiersFor(task.target, request.identifiers);
    const { origin, reason } = request;
    return createTask({
      ...(origin === undefined || reason === undefined
        ? {}
        : { ruleRef: requestRuleRef({ origin, reason }) }),
      ...(Object.keys(identifiers).length === 0 ? {} : { identifiers }),
      requestId: request.requestId,
      subjectId: request.subjectId,
      dataClass: task.dataClass,
      action: task.action,
      target: task.target.name,
      connector: task.target.kind,
      ...(request.olderThan === undefined ? {} : { olderThan: request.olderThan }),
    });
  });

/**
 * A `pending` task. Creating one is not a state change of anything audited on its own: the request's
 * `received`/`dispatched` events count the tasks, and each task's first transition names its target.
 */
export const createTask = (input: CreateTaskInput): ErasureTask => {
  const { requestId, subjectId, dataClass, action, target, connector, olderThan, identifiers } = input;
  validateSubjectId(subjectId);
  validateIdentifier(requestId, 'requestId', subjectId);
  validateName(dataClass, 'dataClass');
  validateName(target, 'target');
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
    ...(identifiers === undefined ? {} : { identifiers }),
    ...(input.ruleRef === undefined ? {} : { ruleRef: input.ruleRef }),
  };
};

/**
 * A new attempt of the task (`running`, attempts + 1), audited as `type` under that attempt. It asks
 * the connector again, so `awaitingCallback` is cleared, and so is every field in `cleared`.
 */
const nextAttempt = (
  task: ErasureTask,
  at: string,
  type: 'started' | 'restarted' | 'redriven',
  cleared: readonly ('error' | 'errorCode' | 'failedAt')[],
): Transition<ErasureTask> => {
  instantMs(at, 'at');
  const attempts = task.attempts + 1;
  const next: ErasureTask = {
    ...omit(task, ['awaitingCallback', ...cleared]),
    status: 'running',
    attempts,
    startedAt: at,
  };
  return { next, audit: taskEvent(next, { type, key: `${type}:${attempts}`, at }) };
};

/**
 * A worker starts an attempt. `running → running` is a redelivered message after a crash or a
 * timeout (`task.restarted`); it clears `awaitingCallback`, as the new attempt asks the connector again
 * (with the same idempotency key).
 */
export const startTask = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['pending', 'running'], 'running');
  const type = task.status === 'pending' ? 'started' : 'restarted';
  return nextAttempt(task, at, type, []);
};

/**
 * The same start as `startTask`, without an audit event: the lease a worker takes on the task
 * before its connector runs. It proves nothing about the data, so the trail records it once, in
 * the task's outcome entry (its `attempts` and `startedAt`), not as an entry of its own. A lost
 * race on this write (a duplicate delivery) still stops the loser before it erases.
 */
export const claimAttempt = (task: ErasureTask, at: string): ErasureTask => startTask(task, at).next;

/**
 * An attempt failed and will be retried: the task stays `running` and keeps the failure's code
 * (never its message) until the next attempt. The audit entry is written with this state change.
 */
export const taskAttemptFailed = (
  task: ErasureTask,
  errorCode: string,
  at: string,
): Transition<ErasureTask> => {
  requireTaskStatus(task, ['running'], 'running');
  validateErrorCode(errorCode, 'errorCode', task.subjectId);
  instantMs(at, 'at');
  const next: ErasureTask = { ...task, lastErrorCode: errorCode, lastFailedAt: at };
  return {
    next,
    audit: {
      ...taskEvent(next, { type: 'attempt_failed', key: `attempt:${task.attempts}:failed`, at }),
      detail: { attempt: task.attempts, errorCode },
    },
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

/**
 * ALM-3: a hold placed while the attempt was starting stops it before its connector erased
 * anything (the worker checks the holds again after the start). The task goes back to `pending`
 * (its attempt stays counted) and runs once no hold covers it; the sweep sends it again then.
 */
export const holdTask = (
  task: ErasureTask,
  holdIds: readonly string[],
  at: string,
): Transition<ErasureTask> => {
  requireTaskStatus(task, ['running'], 'pending');
  if (task.awaitingCallback === true)
    throw new IllegalTransitionError('task', 'awaiting callback', 'pending');
  if (holdIds.length === 0) throw new ValidationError('holdIds must not be empty', 'holdIds');
  holdIds.forEach((holdId, index) => {
    validateIdentifier(holdId, `holdIds[${index}]`, task.subjectId);
  });
  instantMs(at, 'at');
  const holds = [...new Set(holdIds)].sort();
  const next: ErasureTask = { ...omit(task, ['startedAt']), status: 'pending' };
  return {
    next,
    audit: taskEvent(next, {
      type: 'held',
      key: `held:${task.attempts}:${holds.join('+')}`,
      at,
      detail: { holds: holds.join(','), previousStatus: task.status },
    }),
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

export interface TaskCompletion {
  /** Items the connector erased (or the service reported erased). */
  readonly affectedCount: number;
  /** When the connector (or the service's callback) reported the work done. */
  readonly executedAt: string;
  /** The other service's signed callback reported it (http-webhook, HTTP 202 first). */
  readonly viaCallback?: boolean;
}

/**
 * The task's work is done and verified, in one step and one audit entry: what was erased (the
 * count), when it ran and when the read-back (or the service's signed answer) found nothing left.
 * The entry keeps the type and key of `taskVerified`, so certificates and their verifier read it
 * as before. From `running`, or from `succeeded` (a task an older worker left between the two).
 */
export const taskCompleted = (
  task: ErasureTask,
  completion: TaskCompletion,
  at: string,
): Transition<ErasureTask> => {
  requireTaskStatus(task, ['running', 'succeeded'], 'verified');
  requireCount(completion.affectedCount, 'affectedCount', 0);
  // A succeeded task ran its connector again before verifying: both runs' items were erased.
  const affectedCount =
    task.status === 'succeeded' ? task.affectedCount + completion.affectedCount : completion.affectedCount;
  instantMs(completion.executedAt, 'executedAt');
  instantMs(at, 'at');
  const executedAt = task.succeededAt ?? completion.executedAt;
  const next: ErasureTask = {
    ...omit(task, ['awaitingCallback', 'lastErrorCode', 'lastFailedAt']),
    status: 'verified',
    affectedCount,
    succeededAt: executedAt,
    verifiedAt: at,
  };
  return {
    next,
    audit: taskEvent(next, {
      type: 'verified',
      key: 'verified',
      at,
      detail: {
        affectedCount,
        ...(task.startedAt === undefined ? {} : { startedAt: task.startedAt }),
        executedAt,
        verifiedAt: at,
        remaining: 0,
        viaCallback: completion.viaCallback === true || task.awaitingCallback === true,
      },
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
  if (code !== undefined) validateErrorCode(code, 'failure.code', task.subjectId);
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
 * with `redriveRequest` so the request counts the task's new outcome. The cause has been fixed, so
 * the task gets its attempt budget afresh (`redrivenAtAttempt`): a task that failed because its
 * attempts were spent would otherwise fail again at once.
 */
export const redriveTask = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['failed'], 'running');
  const { next, audit } = nextAttempt(task, at, 'redriven', ['error', 'errorCode', 'failedAt']);
  return { next: { ...next, redrivenAtAttempt: task.attempts }, audit };
};

/** The task's request was withdrawn before the task erased anything (see `withdrawRequest`). */
export const cancelTask = (task: ErasureTask, at: string): Transition<ErasureTask> => {
  requireTaskStatus(task, ['pending', 'failed'], 'cancelled');
  instantMs(at, 'at');
  const next: ErasureTask = { ...task, status: 'cancelled' };
  return { next, audit: taskEvent(next, { type: 'cancelled', key: 'cancelled', at }) };
};
