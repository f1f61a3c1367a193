import { pseudonymise } from '../../domain/audit/index.js';
import {
  blockRequest,
  createTask,
  dispatchRequest,
  extendDeadline,
  newRequestId,
  receiveRequest,
  redriveRequest,
  redriveTask,
  rejectRequest,
  taskIdFor,
} from '../../domain/erasure/index.js';
import { planTasks, requestedDataClasses } from '../../domain/erasure/plan.js';
import type { Transition } from '../../domain/erasure/state-machine.js';
import type { ErasureRequest, ErasureTask, RequestOrigin } from '../../domain/erasure/types.js';
import {
  ConcurrentModificationError,
  IdempotencyConflictError,
  NotFoundError,
  RetentionRequiredError,
  ValidationError,
} from '../../domain/errors.js';
import { blockingHolds } from '../../domain/holds.js';
import type { TransactItem } from '../adapters/dynamo-helpers.js';
import type { RequestWithTasks } from '../adapters/dynamo-request-store.js';
import { nowIso, type ServiceDeps } from './deps.js';

export interface ErasureRequestInput {
  readonly subjectId: string;
  readonly dataClasses?: readonly string[];
  readonly reason: string;
}

export interface ErasureRequestReceipt {
  readonly requestId: string;
  readonly status: ErasureRequest['status'];
  readonly deadline: string;
  readonly withheld?: ErasureRequest['withheld'];
}

/** Keyed, like every value derived from a subject id that the orchestrator keeps. */
const bodyHash = (key: string, input: ErasureRequestInput): string =>
  pseudonymise(
    key,
    JSON.stringify({
      subjectId: input.subjectId,
      dataClasses: input.dataClasses === undefined ? null : [...input.dataClasses].sort(),
      reason: input.reason,
    }),
  );

const receipt = (request: ErasureRequest): ErasureRequestReceipt => ({
  requestId: request.requestId,
  status: request.status,
  deadline: request.deadline,
  ...(request.withheld === undefined ? {} : { withheld: request.withheld }),
});

/**
 * An erasure request from a product service. The same idempotency key always answers with the
 * same request; reusing it for a different body is refused. A request is stored with all its tasks
 * before anything is dispatched, so a crash after the write loses nothing: the sweep re-dispatches
 * requests left in `received`.
 */
export const submitErasureRequest = async (
  deps: ServiceDeps,
  input: ErasureRequestInput,
  idempotencyKey: string,
): Promise<ErasureRequestReceipt> => {
  const hash = bodyHash(deps.settings.idKey, input);
  const replay = await replayed(deps, idempotencyKey, hash);
  if (replay !== undefined) return replay;

  const requested = requestedDataClasses(deps.config, input.dataClasses);
  const { erasable, withheld } = await withholdRetained(deps, input.subjectId, requested);
  const requestId = newRequestId(deps.randomId());
  const created = await createRequest(deps, {
    requestId,
    subjectId: input.subjectId,
    origin: 'api',
    dataClasses: erasable,
    reason: input.reason,
    idempotency: { key: idempotencyKey, bodyHash: hash },
    withheld,
  });
  if (created === undefined) {
    const winner = await replayed(deps, idempotencyKey, hash);
    if (winner !== undefined) return winner;
    throw new Error('Erasure request creation raced and left no request');
  }
  return receipt(await dispatchOrBlock(deps, created.request, created.tasks));
};

/**
 * ALE-2: while an invoice is unpaid, classes blocked by `unpaid-invoice` are kept (GDPR Art. 17(3)(e):
 * needed for a legal claim). They are left out of the request and named on it, so the requester is
 * told; a request for nothing but such classes is refused.
 */
const withholdRetained = async (deps: ServiceDeps, subjectId: string, requested: readonly string[]) => {
  const { schedule } = await deps.schedules.load(subjectId);
  const retained = (dataClass: string) =>
    schedule.unpaidInvoiceSince !== undefined &&
    deps.config.catalog.dataClasses.some(
      (policy) => policy.dataClass === dataClass && policy.blockers.includes('unpaid-invoice'),
    );
  const withheld = requested.filter(retained).map((dataClass) => ({ dataClass, reason: 'unpaid-invoice' }));
  const erasable = requested.filter((dataClass) => !retained(dataClass));
  if (erasable.length === 0) {
    throw new RetentionRequiredError(
      'Every requested data class must be kept while an invoice is unpaid (ALE-2)',
      'dataClasses',
    );
  }
  return { erasable, withheld };
};

const replayed = async (
  deps: ServiceDeps,
  idempotencyKey: string,
  hash: string,
): Promise<ErasureRequestReceipt | undefined> => {
  const record = await deps.requests.idempotencyRecord(idempotencyKey);
  if (record === undefined) return undefined;
  if (record.bodyHash !== hash) {
    throw new IdempotencyConflictError('This Idempotency-Key was already used for a different request body');
  }
  const existing = await deps.requests.get(record.requestId);
  if (existing === undefined) throw new NotFoundError(`Erasure request ${record.requestId} not found`);
  return receipt(existing.request);
};

/**
 * A request is written with all its tasks in one DynamoDB transaction (100 items: the request, two
 * items per task, the idempotency key and the sweep's claim), so this many tasks fit with room.
 */
const MAX_TASKS_PER_REQUEST = 45;

export interface NewRequest {
  readonly requestId: string;
  readonly subjectId: string;
  readonly origin: RequestOrigin;
  readonly dataClasses: readonly string[];
  readonly reason: string;
  readonly olderThan?: string;
  readonly idempotency?: { readonly key: string; readonly bodyHash: string };
  readonly withheld?: ErasureRequest['withheld'];
}

/**
 * Stores a request and its tasks; returns undefined when a request with that id (or key) already
 * exists, which makes scheduled requests (deterministic ids) safe to create twice.
 */
export const createRequest = async (
  deps: ServiceDeps,
  spec: NewRequest,
  alongside: readonly TransactItem[] = [],
): Promise<RequestWithTasks | undefined> => {
  const receivedAt = nowIso(deps);
  const planned = planTasks(deps.config, spec.dataClasses);
  if (planned.length > MAX_TASKS_PER_REQUEST) {
    throw new ValidationError(
      `These data classes need ${planned.length} tasks; one request takes at most ${MAX_TASKS_PER_REQUEST}: split it by dataClasses`,
      'dataClasses',
    );
  }
  const tasks: ErasureTask[] = planned.map((task) =>
    createTask({
      taskId: taskIdFor(spec.requestId, task.dataClass, task.target.name),
      requestId: spec.requestId,
      subjectId: spec.subjectId,
      dataClass: task.dataClass,
      action: task.action,
      target: task.target.name,
      connector: task.target.kind,
      ...(spec.olderThan === undefined ? {} : { olderThan: spec.olderThan }),
    }),
  );
  const { next: received, audit } = receiveRequest({
    requestId: spec.requestId,
    subjectId: spec.subjectId,
    origin: spec.origin,
    dataClasses: spec.dataClasses,
    reason: spec.reason,
    receivedAt,
    taskCount: tasks.length,
  });
  const request: ErasureRequest =
    spec.withheld === undefined || spec.withheld.length === 0
      ? received
      : { ...received, withheld: spec.withheld };
  const outcome = await deps.requests.create(
    request,
    tasks,
    spec.idempotency === undefined ? undefined : { ...spec.idempotency, now: deps.clock() },
    alongside,
  );
  if (!outcome.created) return undefined;
  await deps.audit.append(audit, spec.subjectId);
  if (request.withheld !== undefined) {
    await deps.audit.append(
      {
        type: 'request.withheld',
        at: receivedAt,
        idempotencyKey: `request:${request.requestId}:withheld`,
        requestId: request.requestId,
        detail: {
          dataClasses: request.withheld.map((item) => item.dataClass).join(','),
          reasons: [...new Set(request.withheld.map((item) => item.reason))].join(','),
        },
      },
      spec.subjectId,
    );
  }
  return { request, tasks };
};

/** Blocks the request if a legal hold covers any of its classes (ALM-3), otherwise dispatches it. */
export const dispatchOrBlock = async (
  deps: ServiceDeps,
  request: ErasureRequest,
  tasks: readonly ErasureTask[],
): Promise<ErasureRequest> => {
  const at = nowIso(deps);
  const holds = await deps.holds.forSubject(request.subjectId);
  const holdIds = [
    ...new Set(
      request.dataClasses.flatMap((dataClass) => blockingHolds(holds, dataClass, at).map((h) => h.holdId)),
    ),
  ];
  if (holdIds.length > 0) {
    if (request.status === 'blocked') return request;
    const { next, audit } = blockRequest(request, holdIds, at);
    if (await deps.requests.transitionRequest(next, ['received'], request)) {
      await deps.audit.append(audit, request.subjectId);
      return next;
    }
    return currentState(deps, request);
  }
  // Marked dispatched before the messages go out: a fast worker must find the request dispatched,
  // or it could not settle it. Messages lost to a crash in between are re-sent by the sweep.
  let next = request;
  if (request.status !== 'dispatched') {
    const dispatched = dispatchRequest(request, tasks.length, at);
    if (await deps.requests.transitionRequest(dispatched.next, ['received', 'blocked'], request)) {
      await deps.audit.append(dispatched.audit, request.subjectId);
      next = dispatched.next;
    } else {
      // Someone changed it first. Only a request that is dispatched now may have its tasks sent:
      // one rejected (IMOU-6) or blocked in the meantime must erase nothing.
      next = await currentState(deps, request);
      if (next.status !== 'dispatched') return next;
    }
  }
  await sendUnfinished(deps, tasks);
  return next;
};

const currentState = async (deps: ServiceDeps, request: ErasureRequest): Promise<ErasureRequest> =>
  (await deps.requests.get(request.requestId))?.request ?? request;

/** Queues the tasks that have not started; safe to repeat (workers skip tasks already done). */
export const sendUnfinished = async (deps: ServiceDeps, tasks: readonly ErasureTask[]): Promise<number> => {
  const unfinished = tasks.filter((task) => task.status === 'pending');
  await deps.queue.send(unfinished.map((task) => ({ taskId: task.taskId, requestId: task.requestId })));
  return unfinished.length;
};

export const getErasureRequest = async (deps: ServiceDeps, requestId: string): Promise<RequestWithTasks> => {
  const found = await deps.requests.get(requestId);
  if (found === undefined) throw new NotFoundError(`Erasure request '${requestId}' not found`);
  return found;
};

/**
 * Applies a compliance decision to a request from the state it has now. A concurrent change makes
 * the conditional write fail; the decision is then re-made on the fresh state (which may refuse it).
 */
const applyDecision = async (
  deps: ServiceDeps,
  requestId: string,
  decide: (request: ErasureRequest, at: string) => Transition<ErasureRequest>,
): Promise<ErasureRequest> => {
  for (let attempt = 1; attempt <= DECISION_ATTEMPTS; attempt++) {
    const { request } = await getErasureRequest(deps, requestId);
    const { next, audit } = decide(request, nowIso(deps));
    if (await deps.requests.transitionRequest(next, [request.status], request)) {
      await deps.audit.append(audit, request.subjectId);
      return next;
    }
  }
  throw new ConcurrentModificationError(`Erasure request '${requestId}' kept changing; try again`);
};

const DECISION_ATTEMPTS = 3;

/** IMOU-6: refuse a request for a stated legal reason; the requester reads it on the request. */
export const rejectErasureRequest = (deps: ServiceDeps, requestId: string, legalReason: string) =>
  applyDecision(deps, requestId, (request, at) => rejectRequest(request, legalReason, at));

/**
 * Runs a partially failed request's failed tasks again, once an operator has fixed the cause (a
 * permission, a partner service that was down). Their messages in the dead-letter queue can then
 * be purged: the tasks are queued afresh here.
 */
export const redriveErasureRequest = async (
  deps: ServiceDeps,
  requestId: string,
): Promise<ErasureRequest> => {
  const { request, tasks } = await getErasureRequest(deps, requestId);
  const at = nowIso(deps);
  const failed = tasks.filter((task) => task.status === 'failed');
  const reopened = redriveRequest(request, failed.length, at);
  const redriven = failed.map((task) => ({ previous: task, ...redriveTask(task, at) }));
  if (!(await deps.requests.redrive(request, reopened.next, redriven))) {
    throw new ConcurrentModificationError(
      `Erasure request '${requestId}' changed while it was re-driven; try again`,
    );
  }
  await deps.audit.append(reopened.audit, request.subjectId);
  for (const task of redriven) await deps.audit.append(task.audit, request.subjectId);
  await deps.queue.send(redriven.map(({ next }) => ({ taskId: next.taskId, requestId: next.requestId })));
  return reopened.next;
};

/** ALU-3: the 30-day deadline may be extended once, with a reason. */
export const extendErasureDeadline = (deps: ServiceDeps, requestId: string, reason: string) =>
  applyDecision(deps, requestId, (request, at) => extendDeadline(request, reason, at));
