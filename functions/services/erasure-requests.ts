import { requestWithheld } from '../../domain/audit/events.js';
import { FORGOTTEN_PREFIX, pseudonymise } from '../../domain/audit/index.js';
import {
  blockRequest,
  dispatchRequest,
  extendDeadline,
  newRequestId,
  receiveRequest,
  redriveRequest,
  redriveTask,
  rejectRequest,
  tasksFromPlan,
} from '../../domain/erasure/index.js';
import { planTasks, requestedDataClasses, unaddressedTargets } from '../../domain/erasure/plan.js';
import type { Transition } from '../../domain/erasure/state-machine.js';
import type { ErasureRequest, ErasureTask, RequestOrigin } from '../../domain/erasure/types.js';
import { withholdRetained } from '../../domain/erasure/withhold.js';
import {
  ConcurrentModificationError,
  IdempotencyConflictError,
  NotFoundError,
  ValidationError,
} from '../../domain/errors.js';
import { heldTasks, type LegalHold } from '../../domain/holds.js';
import {
  hasIdentifiers,
  identifierHashes,
  type SubjectIdentifiers,
} from '../../domain/identifiers/identifiers.js';
import type { AuditRecord, Change, RequestWithTasks, SubjectForgetting } from '../../domain/ports/index.js';
import { nowIso, type ServiceDeps } from './deps.js';
import { resolveIdentifiers } from './identifier-resolution.js';
import { activeHoldsFor, readHoldsInForce } from './legal-holds.js';

/** What creating, dispatching and deciding on requests needs (the API and the sweep). */
type RequestDeps = Pick<
  ServiceDeps,
  | 'config'
  | 'schedules'
  | 'requests'
  | 'holds'
  | 'audit'
  | 'uow'
  | 'queue'
  | 'clock'
  | 'randomId'
  | 'settings'
  | 'identifierResolver'
>;

export interface ErasureRequestInput {
  readonly subjectId: string;
  readonly dataClasses?: readonly string[];
  readonly reason: string;
  /** Validated against the declared identifiers (`validateIdentifiers`). */
  readonly identifiers?: SubjectIdentifiers;
}

/** A task that legal holds keep from erasing (ALM-3), and the holds. */
export interface BlockedTask {
  readonly taskId: string;
  readonly dataClass: string;
  readonly target: string;
  /** Ids of the holds that cover the task's data, sorted. */
  readonly blockedBy: readonly string[];
}

export interface ErasureRequestReceipt {
  readonly requestId: string;
  readonly status: ErasureRequest['status'];
  readonly deadline: string;
  readonly withheld?: ErasureRequest['withheld'];
  /** ALM-3: the tasks a legal hold keeps from running now; they run once no hold covers them. */
  readonly blockedTasks?: readonly BlockedTask[];
  /** Targets keyed by an identifier the request gave no value of: not erased by it. */
  readonly unaddressed?: ErasureRequest['unaddressed'];
}

/** Keyed, like every value derived from a subject id that the orchestrator keeps. */
export const bodyHash = (key: string, input: ErasureRequestInput): string =>
  pseudonymise(
    key,
    JSON.stringify({
      subjectId: input.subjectId,
      dataClasses: input.dataClasses === undefined ? null : [...input.dataClasses].sort(),
      reason: input.reason,
      // Only when given, so a body without identifiers hashes as before.
      ...(hasIdentifiers(input.identifiers) ? { identifiers: input.identifiers } : {}),
    }),
  );

const receipt = (request: ErasureRequest, blocked: readonly BlockedTask[]): ErasureRequestReceipt => ({
  requestId: request.requestId,
  status: request.status,
  deadline: request.deadline,
  ...(request.withheld === undefined ? {} : { withheld: request.withheld }),
  ...(blocked.length === 0 ? {} : { blockedTasks: blocked }),
  ...(request.unaddressed === undefined ? {} : { unaddressed: request.unaddressed }),
});

/**
 * The tasks of a request that legal holds keep from erasing now (`heldTasks`). Read when asked,
 * so the answer follows placed and released holds; a request with no open task reads no holds.
 */
const blockedTasksOf = async (deps: RequestDeps, tasks: readonly ErasureTask[]): Promise<BlockedTask[]> => {
  const open = tasks.filter((task) => task.status === 'pending' || task.status === 'running');
  const [first] = open;
  if (first === undefined) return [];
  const at = nowIso(deps);
  const { holds, active, catalog } = await readHoldsInForce(deps, first.subjectId, open, at);
  return heldTasks(open, holds, catalog, at, active).map(({ task, holdIds }) => ({
    taskId: task.taskId,
    dataClass: task.dataClass,
    target: task.target,
    blockedBy: holdIds,
  }));
};

/**
 * An erasure request from a product service. The same idempotency key always answers with the
 * same request; reusing it for a different body is refused. A request is stored with all its tasks
 * before anything is dispatched, so a crash after the write loses nothing: the sweep re-dispatches
 * requests left in `received`.
 */
export const submitErasureRequest = async (
  deps: RequestDeps,
  input: ErasureRequestInput,
  idempotencyKey: string,
): Promise<ErasureRequestReceipt> => {
  const hash = bodyHash(deps.settings.idKey, input);
  // The commit's chain head is read beside these (a replay wastes it).
  deps.uow.prepare?.([input.subjectId]);
  // Three independent reads at once: a replay wastes the other two, a new request (the usual
  // case) waits for one round trip instead of three.
  const [replay, { schedule }, holds] = await Promise.all([
    replayed(deps, idempotencyKey, hash),
    deps.schedules.load(input.subjectId),
    deps.holds.forSubject(input.subjectId),
  ]);
  if (replay !== undefined) return replay;

  const requested = requestedDataClasses(deps.config, input.dataClasses);
  const { erasable, withheld } = withholdRetained(deps.config.catalog, schedule, requested);
  const requestId = newRequestId(deps.randomId());
  // Before anything is stored: a resolver that cannot answer leaves no request behind (503).
  const addressed = await resolveIdentifiers(
    deps,
    { subjectId: input.subjectId, requestId },
    input.identifiers,
  );
  requireSomethingToErase(
    deps,
    plannedTasks(deps, { requestId, subjectId: input.subjectId, dataClasses: erasable, ...addressed }),
    erasable,
    addressed.identifiers,
  );
  const created = await createRequest(deps, {
    requestId,
    subjectId: input.subjectId,
    origin: 'api',
    dataClasses: erasable,
    reason: input.reason,
    ...addressed,
    idempotency: { key: idempotencyKey, bodyHash: hash },
    withheld,
    dispatchUnlessHeld: holds,
  });
  if (created === undefined) {
    const winner = await replayed(deps, idempotencyKey, hash);
    if (winner !== undefined) return winner;
    throw new Error('Erasure request creation raced and left no request');
  }
  if (created.request.status === 'dispatched') {
    // No hold covered any task when it was stored: its tasks go out now. A crash before they do
    // leaves them `pending` under a dispatched request, which the sweep re-sends.
    await sendUnfinished(deps, created.tasks);
    return receipt(created.request, []);
  }
  const request = await dispatchOrBlock(deps, created.request, created.tasks);
  return receipt(request, await blockedTasksOf(deps, created.tasks));
};

const replayed = async (
  deps: RequestDeps,
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
  return receipt(existing.request, await blockedTasksOf(deps, existing.tasks));
};

/**
 * Every change of a request commits with its audit entries in one DynamoDB transaction of at most
 * 100 items. The largest is a re-drive of every task: the request and each task (n + 1 items), an
 * entry and a key marker per audit record (2n + 2) and the chain head; 32 tasks fit.
 */
export const MAX_TASKS_PER_REQUEST = 32;

export interface NewRequest {
  readonly requestId: string;
  readonly subjectId: string;
  readonly origin: RequestOrigin;
  readonly dataClasses: readonly string[];
  readonly reason: string;
  readonly olderThan?: string;
  /** The subject's identifiers: targets keyed by them are erased by each value. */
  readonly identifiers?: SubjectIdentifiers;
  /** What of `identifiers` the resolver gave, per name (`resolveIdentifiers`); audited as counts. */
  readonly resolved?: Readonly<Record<string, number>>;
  readonly idempotency?: { readonly key: string; readonly bodyHash: string };
  readonly withheld?: ErasureRequest['withheld'];
  /**
   * The subject's legal holds, read just before (the active holds naming a task's identifier
   * values are read here, `heldTasks`). When none covers any task, the request is stored
   * `dispatched` at once, its `dispatched` entry in the same commit as its `received` one (one
   * write instead of two); the caller then sends its tasks. Otherwise it is stored `received` and
   * `dispatchOrBlock` decides.
   */
  readonly dispatchUnlessHeld?: readonly LegalHold[];
}

/**
 * Intake refuses a request it could erase nothing of, before anything is stored: every target its
 * classes live in is keyed by an identifier it gives no value of (400 naming the first). A
 * scheduled deletion has nobody to ask: it completes at once with nothing erased, its
 * `unaddressed` listing those targets (`createRequest`).
 */
export const requireSomethingToErase = (
  deps: Pick<RequestDeps, 'config'>,
  tasks: readonly ErasureTask[],
  dataClasses: readonly string[],
  identifiers: SubjectIdentifiers | undefined,
): void => {
  if (tasks.length > 0) return;
  const missing = unaddressedTargets(deps.config, dataClasses, identifiers ?? {});
  const [first] = missing;
  if (first === undefined) return;
  throw new ValidationError(
    `Nothing to erase: ${missing
      .map(({ target, identifier }) => `${target} is keyed by ${identifier}`)
      .join(', ')}, and the request gives no value of it`,
    `identifiers.${first.identifier}`,
  );
};

/**
 * The tasks a request for `spec.dataClasses` gets, or a ValidationError when they are too many
 * for one request. The one planning step of intake: `createRequest` stores these, and a dry run
 * (erasure-preview.ts) counts and judges the same ones.
 */
export const plannedTasks = (
  deps: Pick<RequestDeps, 'config'>,
  spec: Pick<NewRequest, 'requestId' | 'subjectId' | 'dataClasses' | 'olderThan' | 'identifiers'> &
    Partial<Pick<NewRequest, 'origin' | 'reason'>>,
): ErasureTask[] => {
  const planned = planTasks(deps.config, spec.dataClasses, spec.identifiers);
  if (planned.length > MAX_TASKS_PER_REQUEST) {
    throw new ValidationError(
      `These data classes need ${planned.length} tasks; one request takes at most ${MAX_TASKS_PER_REQUEST}: split it by dataClasses`,
      'dataClasses',
    );
  }
  return tasksFromPlan(planned, spec);
};

/**
 * Stores a request, its tasks and its `received` audit entry; returns undefined when a request
 * with that id (or key) already exists, which makes scheduled requests (deterministic ids) safe to
 * create twice, or when a change committed `alongside` (the sweep's claim) no longer holds.
 */
export const createRequest = async (
  deps: RequestDeps,
  spec: NewRequest,
  alongside: readonly Change[] = [],
): Promise<RequestWithTasks | undefined> => {
  const receivedAt = nowIso(deps);
  const tasks: ErasureTask[] = plannedTasks(deps, spec);
  const { next: received, audit } = receiveRequest({
    requestId: spec.requestId,
    subjectId: spec.subjectId,
    origin: spec.origin,
    dataClasses: spec.dataClasses,
    reason: spec.reason,
    receivedAt,
    taskCount: tasks.length,
    ...addressingOf(deps, spec),
  });
  const withheld = spec.withheld !== undefined && spec.withheld.length > 0 ? spec.withheld : undefined;
  let request: ErasureRequest = withheld === undefined ? received : { ...received, withheld };
  const records: AuditRecord[] = [{ event: audit, subjectId: spec.subjectId }];
  if (withheld !== undefined) {
    records.push({
      event: requestWithheld(request.requestId, withheld, receivedAt),
      subjectId: spec.subjectId,
    });
  }
  if (
    tasks.length === 0 ||
    (spec.dispatchUnlessHeld !== undefined &&
      heldTasks(
        tasks,
        spec.dispatchUnlessHeld,
        deps.config.catalog,
        receivedAt,
        await activeHoldsFor(deps.holds, tasks, receivedAt),
      ).length === 0)
  ) {
    const dispatched = dispatchRequest(request, tasks.length, receivedAt);
    request = dispatched.next;
    records.push({ event: dispatched.audit, subjectId: spec.subjectId });
  }
  const outcome = await deps.uow.commit(
    [
      {
        kind: 'request.create',
        request,
        tasks,
        ...(spec.idempotency === undefined ? {} : { idempotency: { ...spec.idempotency, at: receivedAt } }),
      },
      ...alongside,
    ],
    records,
  );
  // Nothing to erase (`requireSomethingToErase`): stored dispatched with no task, for the sweep's
  // coordinator to settle at its next review (`reviewAtOf`). A shard never completes a request:
  // completion lists the subject for suppression, which only the coordinator may write.
  return outcome.committed ? { request, tasks } : undefined;
};

/**
 * What a new request records about its identifiers: the raw values (while open), their keyed
 * hashes (kept for good), and the targets it cannot address without a value.
 */
export const addressingOf = (
  deps: Pick<RequestDeps, 'config' | 'settings'>,
  spec: {
    readonly subjectId: string;
    readonly dataClasses: readonly string[];
    readonly identifiers?: SubjectIdentifiers;
    readonly resolved?: Readonly<Record<string, number>>;
  },
) => {
  const identifiers = spec.identifiers ?? {};
  return {
    identifiers,
    ...(spec.resolved === undefined ? {} : { resolved: spec.resolved }),
    // The subject id's hash too: what the completion lists for suppression, without the key.
    identifierPseudonyms: identifierHashes(deps.settings.idKey, identifiers, spec.subjectId),
    unaddressed: unaddressedTargets(deps.config, spec.dataClasses, identifiers),
  };
};

/** Commits one request transition with its audit entry; false when the request had moved on. */
const transition = async (
  deps: RequestDeps,
  previous: ErasureRequest,
  { next, audit }: Transition<ErasureRequest>,
  from: readonly ErasureRequest['status'][] = [previous.status],
  forget?: SubjectForgetting,
): Promise<boolean> =>
  (
    await deps.uow.commit(
      [{ kind: 'request.transition', next, from, previous, ...(forget === undefined ? {} : { forget }) }],
      [{ event: audit, subjectId: previous.subjectId }],
    )
  ).committed;

/**
 * Blocks the request while a legal hold covers the data of any of its tasks (ALM-3: a hold on a
 * class protects every target that class lives in, `heldTasks`), otherwise dispatches it. The
 * sweep dispatches a blocked request once no hold covers any of its tasks.
 */
export const dispatchOrBlock = async (
  deps: RequestDeps,
  request: ErasureRequest,
  tasks: readonly ErasureTask[],
): Promise<ErasureRequest> => {
  const at = nowIso(deps);
  const { holds, active, catalog } = await readHoldsInForce(deps, request.subjectId, tasks, at);
  const held = heldTasks(tasks, holds, catalog, at, active);
  const holdIds = [...new Set(held.flatMap(({ holdIds }) => holdIds))];
  if (holdIds.length > 0 && request.status !== 'dispatched') {
    // Blocked already by exactly these holds: nothing to record. Blocked by others (one released,
    // another placed since): blocked again, so `blockedBy` and the holds report name what holds it now.
    if (
      request.status === 'blocked' &&
      [...(request.blockedBy ?? [])].sort().join() === [...holdIds].sort().join()
    ) {
      return request;
    }
    const blocked = blockRequest(request, holdIds, at);
    if (await transition(deps, request, blocked, [request.status])) return blocked.next;
    return currentState(deps, request);
  }
  // Marked dispatched before the messages go out: a fast worker must find the request dispatched,
  // or it could not settle it. Messages lost to a crash in between are re-sent by the sweep.
  let next = request;
  if (request.status !== 'dispatched') {
    const dispatched = dispatchRequest(request, tasks.length, at);
    if (await transition(deps, request, dispatched, ['received', 'blocked'])) {
      next = dispatched.next;
    } else {
      // Someone changed it first. Only a request that is dispatched now may have its tasks sent:
      // one rejected (IMOU-6) or blocked in the meantime must erase nothing.
      next = await currentState(deps, request);
      if (next.status !== 'dispatched') return next;
    }
  }
  // A dispatched request (a sweep finishing an earlier sweep's work) may have tasks a hold placed
  // since covers: they wait for the hold to end, and the sweep sends them then.
  const heldIds = new Set(held.map(({ task }) => task.taskId));
  await sendUnfinished(
    deps,
    tasks.filter((task) => !heldIds.has(task.taskId)),
  );
  return next;
};

const currentState = async (deps: RequestDeps, request: ErasureRequest): Promise<ErasureRequest> =>
  (await deps.requests.get(request.requestId))?.request ?? request;

/** Queues the tasks that have not started; safe to repeat (workers skip tasks already done). */
export const sendUnfinished = async (deps: RequestDeps, tasks: readonly ErasureTask[]): Promise<number> => {
  const unfinished = tasks.filter((task) => task.status === 'pending');
  await deps.queue.send(unfinished.map((task) => ({ taskId: task.taskId, requestId: task.requestId })));
  return unfinished.length;
};

export const getErasureRequest = async (deps: RequestDeps, requestId: string): Promise<RequestWithTasks> => {
  const found = await deps.requests.get(requestId);
  if (found === undefined) throw new NotFoundError(`Erasure request '${requestId}' not found`);
  return found;
};

/** A request with its tasks, and the hold ids blocking each task that a legal hold keeps from erasing now. */
export interface RequestDescription extends RequestWithTasks {
  readonly blockedBy: ReadonlyMap<string, readonly string[]>;
}

/** `GET /v1/erasure-requests/{requestId}`: the request, its tasks, and which of them holds block (ALM-3). */
export const describeErasureRequest = async (
  deps: RequestDeps,
  requestId: string,
): Promise<RequestDescription> => {
  const found = await getErasureRequest(deps, requestId);
  const blocked = await blockedTasksOf(deps, found.tasks);
  return { ...found, blockedBy: new Map(blocked.map((task) => [task.taskId, task.blockedBy])) };
};

const DECISION_ATTEMPTS = 3;

/**
 * Applies a compliance decision to a request from the state it has now. A concurrent change fails
 * the commit; the decision is then re-made on the fresh state (which may refuse it).
 */
const applyDecision = async (
  deps: RequestDeps,
  requestId: string,
  decide: (request: ErasureRequest, at: string, tasks: readonly ErasureTask[]) => Transition<ErasureRequest>,
  /** A decision that ends the request forgets whose it was in the same write. */
  forgetting?: (found: RequestWithTasks) => SubjectForgetting,
): Promise<ErasureRequest> => {
  for (let attempt = 1; attempt <= DECISION_ATTEMPTS; attempt++) {
    const found = await getErasureRequest(deps, requestId);
    const { request } = found;
    const decided = decide(request, nowIso(deps), found.tasks);
    if (await transition(deps, request, decided, [request.status], forgetting?.(found))) return decided.next;
  }
  throw new ConcurrentModificationError(`Erasure request '${requestId}' kept changing; try again`);
};

/**
 * IMOU-6: refuse a request for a stated legal reason; the requester reads it on the request. A
 * rejected request is final: like a completed one, it forgets whose it was, and its tasks, none of
 * which ran, are cancelled, all in the write that rejects it. A retry with the same reason answers
 * as the first did (and finishes a rejection stored by an earlier version in two writes, which a
 * crash could leave halfway).
 */
export const rejectErasureRequest = async (
  deps: RequestDeps,
  requestId: string,
  legalReason: string,
): Promise<ErasureRequest> => {
  const before = await getErasureRequest(deps, requestId);
  const pending = (tasks: readonly ErasureTask[]) =>
    tasks.filter((task) => task.status === 'pending').map((task) => task.taskId);
  const forgetting = ({ request, tasks }: RequestWithTasks): SubjectForgetting => ({
    taskIds: tasks.map((task) => task.taskId),
    pseudonym: deps.audit.chainIdFor(request.subjectId),
    cancelTaskIds: pending(tasks),
  });
  if (before.request.status !== 'rejected' || before.request.rejection?.legalReason !== legalReason) {
    return applyDecision(
      deps,
      requestId,
      (request, at, tasks) => rejectRequest(request, legalReason, at, pending(tasks).length),
      forgetting,
    );
  }
  if (before.request.subjectId.startsWith(FORGOTTEN_PREFIX)) return before.request;
  const outcome = await deps.uow.commit([
    { kind: 'request.forget-subject', requestId, ...forgetting(before) },
  ]);
  if (!outcome.committed) {
    throw new ConcurrentModificationError(
      `Erasure request '${requestId}' changed while it was rejected; try again`,
    );
  }
  return before.request;
};

/**
 * Runs a partially failed request's failed tasks again, once an operator has fixed the cause (a
 * permission, a partner service that was down). Their messages in the dead-letter queue can then
 * be purged: the tasks are queued afresh here.
 */
export const redriveErasureRequest = async (
  deps: RequestDeps,
  requestId: string,
): Promise<ErasureRequest> => {
  const { request, tasks } = await getErasureRequest(deps, requestId);
  const at = nowIso(deps);
  const failed = tasks.filter((task) => task.status === 'failed');
  const reopened = redriveRequest(request, failed.length, at);
  const redriven = failed.map((task) => ({ previous: task, ...redriveTask(task, at) }));
  const outcome = await deps.uow.commit(
    [
      {
        kind: 'request.redrive',
        previous: request,
        next: reopened.next,
        tasks: redriven.map(({ previous, next }) => ({ previous, next })),
      },
    ],
    [reopened.audit, ...redriven.map((task) => task.audit)].map((event) => ({
      event,
      subjectId: request.subjectId,
    })),
  );
  if (!outcome.committed) {
    throw new ConcurrentModificationError(
      `Erasure request '${requestId}' changed while it was re-driven; try again`,
    );
  }
  await deps.queue.send(redriven.map(({ next }) => ({ taskId: next.taskId, requestId: next.requestId })));
  return reopened.next;
};

/** ALU-3: the 30-day deadline may be extended once, with a reason. */
export const extendErasureDeadline = (deps: RequestDeps, requestId: string, reason: string) =>
  applyDecision(deps, requestId, (request, at) => extendDeadline(request, reason, at));
