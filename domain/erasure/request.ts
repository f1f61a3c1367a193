/**
 * Request transitions: receive, reject (IMOU-6), block (ALM-3), dispatch, count task outcomes and
 * settle, re-drive. The deadline (ALU-3) is in `./deadline.ts`, tasks in `./task.ts`.
 */
import type { AuditEvent } from '../audit/types.js';
import { IllegalTransitionError, ValidationError } from '../errors.js';
import {
  validateIdentifier,
  validateName,
  validateReasonCode,
  validateSubjectId,
} from '../vocabulary/codes.js';
import { deadlineAfter, isAfterDeadline } from './deadline.js';
import { cancelTask } from './task.js';
import {
  type Detail,
  instantMs,
  requestEvent,
  requireCount,
  requireRequestStatus,
  roundSuffix,
  type Transition,
} from './transition.js';
import type { ErasureRequest, ErasureTask, RequestOrigin, RequestStatus } from './types.js';

const FINAL_REQUEST_STATUSES: readonly RequestStatus[] = [
  'rejected',
  'completed',
  'partially_failed',
  'cancelled',
];
/**
 * No automatic transition leaves a final status. `partially_failed` is final too, but an operator
 * can re-drive its failed tasks (`redriveRequest`).
 */
export const isFinal = (status: RequestStatus): boolean => FINAL_REQUEST_STATUSES.includes(status);

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
  /** The subject's identifiers (raw, kept while open) and their keyed hashes. */
  readonly identifiers?: ErasureRequest['identifiers'];
  readonly identifierPseudonyms?: ErasureRequest['identifierPseudonyms'];
  /** Targets keyed by an identifier the request has no value of (`unaddressedTargets`). */
  readonly unaddressed?: ErasureRequest['unaddressed'];
  /** Per identifier name, how many values the identifier resolver gave (audited: names and counts). */
  readonly resolved?: Readonly<Record<string, number>>;
}

/**
 * What the audit trail says of a resolution: the names the resolver gave values of and how many
 * values in all (`resolved: 'deviceId,email'`, `resolvedValues: 3`); `resolved: ''` when it was
 * asked and knew none. Nothing without a resolver.
 */
export const resolvedDetail = (resolved: Readonly<Record<string, number>> | undefined): Detail => {
  if (resolved === undefined) return {};
  const names = Object.keys(resolved).filter((name) => (resolved[name] ?? 0) > 0);
  return {
    resolved: names.join(','),
    resolvedValues: names.reduce((total, name) => total + (resolved[name] ?? 0), 0),
  };
};

/** A new request, due `RESPONSE_PERIOD_DAYS` after receipt (ALU-3). */
export const receiveRequest = (input: ReceiveRequestInput): Transition<ErasureRequest> => {
  const { requestId, subjectId, origin, dataClasses, reason, receivedAt } = input;
  validateSubjectId(subjectId);
  validateIdentifier(requestId, 'requestId', subjectId);
  if (origin !== 'api' && origin !== 'schedule') {
    throw new ValidationError("origin must be 'api' or 'schedule'", 'origin');
  }
  if (dataClasses.length === 0) throw new ValidationError('dataClasses must not be empty', 'dataClasses');
  dataClasses.forEach((dataClass, index) => {
    validateName(dataClass, `dataClasses[${index}]`);
    if (dataClasses.indexOf(dataClass) !== index) {
      throw new ValidationError(`Data class '${dataClass}' is listed twice`, `dataClasses[${index}]`);
    }
  });
  // A scheduled deletion's reason is the orchestrator's own (`retention:ale-1`): a subject id that
  // happens to fold into it must not make that deletion fail at every sweep.
  if (origin === 'schedule') validateReasonCode(reason, 'reason');
  else validateReasonCode(reason, 'reason', subjectId, input.identifiers);
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
    deadline: deadlineAfter(receivedAt),
    taskCount,
    verifiedCount: 0,
    failedCount: 0,
    ...(input.identifiers === undefined || Object.keys(input.identifiers).length === 0
      ? {}
      : { identifiers: input.identifiers }),
    ...(input.identifierPseudonyms === undefined || Object.keys(input.identifierPseudonyms).length === 0
      ? {}
      : { identifierPseudonyms: input.identifierPseudonyms }),
    ...(input.unaddressed === undefined || input.unaddressed.length === 0
      ? {}
      : { unaddressed: input.unaddressed }),
  };
  // Names and counts only: the values are personal data.
  // (The subject id's own hash, kept for suppression, is not an identifier of the request.)
  const named = Object.entries(next.identifierPseudonyms ?? {}).filter(([name]) => name !== 'subjectId');
  const addressing: Detail = {
    ...(named.length === 0
      ? {}
      : {
          identifiers: named.map(([name]) => name).join(','),
          identifierValues: named.reduce((total, [, values]) => total + values.length, 0),
        }),
    ...(next.unaddressed === undefined
      ? {}
      : { unaddressed: next.unaddressed.map((u) => u.target).join(',') }),
    ...resolvedDetail(input.resolved),
  };
  return {
    next,
    audit: requestEvent(next, {
      type: 'received',
      key: 'received',
      at: receivedAt,
      detail: {
        origin,
        reason,
        dataClasses: dataClasses.join(','),
        deadline: next.deadline,
        taskCount,
        ...addressing,
      },
    }),
  };
};

/**
 * IMOU-6: refuses the request for a stated legal reason (a code); final. A blocked request can be
 * refused too, and so can what is left of a partially failed one (data a law obliges the company
 * to keep, which a target refused to erase): its verified tasks stay erased and its failed ones are
 * recorded as not erased, so the request leaves the deadline and failure reports with a reason
 * instead of staying overdue for good.
 */
export const rejectRequest = (
  request: ErasureRequest,
  legalReason: string,
  at: string,
  /** Its pending tasks, which end with it (all of them for a received or blocked request). */
  cancelledTasks = 0,
): Transition<ErasureRequest> => {
  if (request.status === 'rejected' && request.rejection !== undefined) {
    // Rejected again with another reason: say which one stands.
    throw new IllegalTransitionError('request', 'rejected', 'rejected', {
      allowed: `it was rejected already, with legal reason '${request.rejection.legalReason}' at ${request.rejection.rejectedAt}, and a rejection is final`,
    });
  }
  requireRequestStatus(request, ['received', 'blocked', 'partially_failed'], 'rejected');
  validateReasonCode(legalReason, 'legalReason', request.subjectId, request.identifiers);
  instantMs(at, 'at');
  const next: ErasureRequest = { ...request, status: 'rejected', rejection: { legalReason, rejectedAt: at } };
  const ran: Record<string, number> =
    request.status === 'partially_failed'
      ? { verifiedTasks: request.verifiedCount, failedTasks: request.failedCount }
      : {};
  return {
    next,
    audit: requestEvent(next, {
      type: 'rejected',
      key: 'rejected',
      at,
      ruleRef: 'IMOU-6',
      detail: { legalReason, previousStatus: request.status, cancelledTasks, ...ran },
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
  const blockedAt = request.status === 'blocked' ? (request.blockedAt ?? at) : at;
  const next: ErasureRequest = { ...request, status: 'blocked', blockedBy: holds, blockedAt };
  return {
    next,
    audit: requestEvent(next, {
      type: 'blocked',
      // Blocked again on other holds (one released, another placed): a key of its own each time,
      // or holds A, then A and B, then A again would take the first entry's key and go unrecorded.
      key: request.status === 'blocked' ? `blocked:${holds.join(',')}@${at}` : `blocked:${holds.join(',')}`,
      at,
      ruleRef: 'ALM-3',
      detail: { holdIds: holds.join(','), holdCount: holds.length, previousStatus: request.status },
    }),
  };
};

/**
 * The holds that keep the request from running now: its `blockedBy` while it is `blocked`, and
 * none once it runs (the field stays as a record; the trail's `request.blocked` entry has it too).
 */
export const holdingBack = (request: Pick<ErasureRequest, 'status' | 'blockedBy'>): readonly string[] =>
  request.status === 'blocked' ? (request.blockedBy ?? []) : [];

/**
 * Hands the request's tasks to the connectors: from `received`, or from `blocked` once the holds are
 * released (the caller checks them). Keeps `blockedBy` as a record of what held the request back.
 * A scheduled deletion may have no task (every target its class lives in is keyed by an identifier
 * it has no value of, `unaddressed`): dispatched with none, it settles at once.
 */
export const dispatchRequest = (
  request: ErasureRequest,
  taskCount: number,
  at: string,
): Transition<ErasureRequest> => {
  requireRequestStatus(request, ['received', 'blocked'], 'dispatched');
  requireCount(taskCount, 'taskCount', 0);
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

export type TaskOutcome = 'verified' | 'failed';

/** The final transition of a request whose tasks have all reported, given its counts. */
const settled = (
  request: ErasureRequest,
  at: string,
  verifiedCount: number,
  failedCount: number,
  detail: Detail,
): Transition<ErasureRequest> => {
  const withinDeadline = !isAfterDeadline(request, at);
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

/** A request after counting outcomes, and its settling transition if they were the last. */
export interface CountedOutcome {
  readonly next: ErasureRequest;
  /** Present when every task has now reported: `completed` or `partially_failed`, with its event. */
  readonly settled?: Transition<ErasureRequest>;
}

/**
 * Counts tasks' final outcomes (one, or a worker's outcomes of one request that finished together)
 * for a commit that writes them with the tasks (and, with the last task, the request's final
 * status and its entry), so a request settles in the commit of its last outcomes. Only the
 * settling is audited: each task's own entry already carries its outcome, so a count in between
 * would narrate, not prove. `undefined` when the request does not count outcomes now (not
 * `dispatched`), or has fewer tasks left to report than `outcomes` (some were counted already).
 */
export const countOutcomes = (
  request: ErasureRequest,
  outcomes: readonly TaskOutcome[],
  at: string,
): CountedOutcome | undefined => {
  if (request.status !== 'dispatched' || outcomes.length === 0) return undefined;
  instantMs(at, 'at');
  const verifiedCount = request.verifiedCount + outcomes.filter((outcome) => outcome === 'verified').length;
  const failedCount = request.failedCount + outcomes.filter((outcome) => outcome === 'failed').length;
  if (verifiedCount + failedCount > request.taskCount) return undefined;
  if (verifiedCount + failedCount < request.taskCount) {
    return { next: { ...request, verifiedCount, failedCount } };
  }
  const final = settled(request, at, verifiedCount, failedCount, {});
  return { next: final.next, settled: final };
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
  if (!redrivable) {
    throw new IllegalTransitionError('request', request.status, 'dispatched', {
      allowed: 'only a request that is partially_failed, or dispatched with a failed task, can be re-driven',
    });
  }
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

/** A task whose connector has started may have erased: only pending and failed tasks are withdrawn. */
const WITHDRAWABLE: readonly ErasureTask['status'][] = ['pending', 'failed'];

export interface Withdrawal {
  /** The request, `cancelled` (unless it had already completed: then nothing was left to cancel). */
  readonly request?: Transition<ErasureRequest>;
  /** Tasks that had not run, now `cancelled`. */
  readonly cancelled: readonly Transition<ErasureTask>[];
  /** Tasks that had run (or were running): their data is gone, too late to keep it. */
  readonly tooLate: readonly ErasureTask[];
}

/**
 * A cancelling event (a restore) that happened before the deletion was due reached the
 * orchestrator only after the sweep had claimed it. Whatever has not run is withdrawn; whatever
 * has run is named, so the caller is told what could not be kept.
 */
export const withdrawRequest = (
  request: ErasureRequest,
  tasks: readonly ErasureTask[],
  cause: { readonly eventType: string; readonly occurredAt: string },
  at: string,
): Withdrawal => {
  instantMs(at, 'at');
  const cancelled = tasks
    .filter((task) => WITHDRAWABLE.includes(task.status))
    .map((task) => cancelTask(task, at));
  const tooLate = tasks.filter((task) => !WITHDRAWABLE.includes(task.status) && task.status !== 'cancelled');
  if (request.status === 'completed' || request.status === 'cancelled' || request.status === 'rejected') {
    // A rejected request may have run in part (what was left of a partially failed one was refused).
    return { cancelled: [], tooLate: request.status === 'cancelled' ? [] : tooLate };
  }
  const next: ErasureRequest = {
    ...request,
    status: 'cancelled',
    cancellation: { eventType: cause.eventType, occurredAt: cause.occurredAt, cancelledAt: at },
  };
  return {
    request: {
      next,
      audit: requestEvent(next, {
        type: 'cancelled',
        key: 'cancelled',
        at,
        detail: {
          eventType: cause.eventType,
          occurredAt: cause.occurredAt,
          cancelledTasks: cancelled.length,
          erasedTasks: tooLate.length,
        },
      }),
    },
    cancelled,
    tooLate,
  };
};
