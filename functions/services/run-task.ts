import { taskHeld } from '../../domain/audit/events.js';
import { redactSubjectId } from '../../domain/audit/index.js';
import type {
  ConnectorInvocation,
  ConnectorOutcome,
  ConnectorTarget,
  VerificationResult,
} from '../../domain/connectors/types.js';
import {
  callbackNonceFor,
  claimAttempt,
  countOutcomes,
  holdTask,
  settleRequest,
  type TaskCompletion,
  taskAttemptFailed,
  taskAwaitingCallback,
  taskCompleted,
  taskFailed,
} from '../../domain/erasure/index.js';
import { decideAwaitingCallback } from '../../domain/erasure/recovery.js';
import { attemptsExhausted, decideAttemptFailure, safeErrorCode } from '../../domain/erasure/retry.js';
import type { Transition } from '../../domain/erasure/state-machine.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { holdsOnTask, type LegalHold } from '../../domain/holds.js';
import {
  addressValues,
  hasIdentifiers,
  SUBJECT_ID_IDENTIFIER,
  type SubjectIdentifiers,
  targetIdentifier,
} from '../../domain/identifiers/identifiers.js';
import type { Change, RequestWithTasks, TaskMessage } from '../../domain/ports/index.js';
import { erasureRuleRef, erasureTally, sumTallies } from '../../domain/reports/erasures.js';
import { findTarget } from '../../domain/vocabulary/index.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../connectors/errors.js';
import { METRIC } from '../shared/metric-names.js';
import { CommitGroups, type GroupParticipant } from './commit-groups.js';
import { nowIso, type SettleDeps, type WorkerDeps } from './deps.js';
import { activeHoldsFor } from './legal-holds.js';
import { completionSuppression } from './suppressions.js';

export type TaskRunOutcome =
  /** Nothing left to do for this message: acknowledge it. */
  | { readonly kind: 'done' }
  /** Try again later: leave the message on the queue, visible again after `retryAfterSeconds`. */
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number }
  /** Retries exhausted: the task is marked failed; the message goes on to the dead-letter queue. */
  | { readonly kind: 'dead-letter' };

const MAX_ERROR_LENGTH = 300;

/** Error text that may be stored and shown: without the subject id, and short. */
const safeMessage = (error: unknown, subjectId: string, identifiers?: SubjectIdentifiers): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  // Identifier values (an e-mail in an S3 key, a serial in a message) are redacted like the id.
  const redacted = Object.values(identifiers ?? {})
    .flat()
    .reduce(
      (message, value) => redactSubjectId(message, value, '[identifier]'),
      redactSubjectId(text, subjectId),
    );
  return redacted.slice(0, MAX_ERROR_LENGTH);
};

/** A short machine-readable error code (connector code or error class), safe for the audit trail. */
const errorCodeOf = (error: unknown): string =>
  safeErrorCode(
    error instanceof ConnectorPermanentError || error instanceof ConnectorRetryableError
      ? error.code
      : error instanceof Error
        ? error.name
        : undefined,
  );

const targetOf = (deps: Pick<WorkerDeps, 'config'>, task: ErasureTask): ConnectorTarget => {
  const target = findTarget(deps.config, task.target);
  if (target === undefined) {
    throw new ConnectorPermanentError(`Connector target '${task.target}' is no longer configured`);
  }
  return target;
};

/** What the connector of `task` is asked; a dry run (erasure-preview.ts) asks its `preview` the same. */
export const invocationOf = (task: ErasureTask): ConnectorInvocation => ({
  taskId: task.taskId,
  requestId: task.requestId,
  subjectId: task.subjectId,
  dataClass: task.dataClass,
  action: task.action,
  idempotencyKey: task.taskId,
  callbackNonce: callbackNonceFor(task),
  ...(task.olderThan === undefined ? {} : { olderThan: task.olderThan }),
});

/**
 * The task's units of work: one invocation per value of the identifier its target is keyed by
 * (two device serials: two prefixes), one for a target keyed by the subject id, one for a webhook
 * (told the identifiers it declares). A target keyed by an identifier the task has no value of
 * cannot be erased, and is not reported verified: the task fails permanently.
 */
export const invocationsOf = (task: ErasureTask, target: ConnectorTarget): ConnectorInvocation[] => {
  const base = invocationOf(task);
  const name = targetIdentifier(target);
  if (name === undefined) {
    return [
      hasIdentifiers(task.identifiers)
        ? { ...base, identifiers: task.identifiers as SubjectIdentifiers }
        : base,
    ];
  }
  if (name === SUBJECT_ID_IDENTIFIER) return [base];
  const values = addressValues(target, task.subjectId, task.identifiers) ?? [];
  if (values.length === 0) {
    throw new ConnectorPermanentError(
      `Target '${target.name}' is keyed by '${name}' and the task has no value of it`,
      {
        target: target.name,
        code: 'NoIdentifierValue',
      },
    );
  }
  return values.map((value) => ({ ...base, address: { name, value } }));
};

/** Runs every unit of work of the task: the affected counts add up; a webhook may answer `pending`. */
const executeAll = async (
  deps: WorkerDeps,
  target: ConnectorTarget,
  invocations: readonly ConnectorInvocation[],
): Promise<ConnectorOutcome> => {
  let affectedCount = 0;
  for (const invocation of invocations) {
    const outcome = await deps.connectors.execute(target, invocation);
    if (outcome.status === 'pending') return outcome;
    affectedCount += outcome.affectedCount;
  }
  return { status: 'done', affectedCount };
};

/** Verifies every unit of work: the task is verified only if nothing is left under any value. */
const verifyAll = async (
  deps: WorkerDeps,
  target: ConnectorTarget,
  invocations: readonly ConnectorInvocation[],
): Promise<VerificationResult> => {
  let remaining = 0;
  const details: string[] = [];
  for (const [index, invocation] of invocations.entries()) {
    const result = await deps.connectors.verify(target, invocation);
    if (result.verified) continue;
    remaining += result.remaining;
    details.push(invocations.length === 1 ? result.detail : `value ${index + 1}: ${result.detail}`);
  }
  return remaining === 0 && details.length === 0
    ? { verified: true }
    : { verified: false, remaining, detail: details.join('; ') };
};

/** Commits a task's next state with its audit entry; false when the task had moved on. */
export const commitTask = async (
  deps: Pick<SettleDeps, 'uow'>,
  previous: ErasureTask,
  { next, audit }: Transition<ErasureTask>,
): Promise<boolean> =>
  (
    await deps.uow.commit(
      [{ kind: 'task.transition', next, expected: previous }],
      [{ event: audit, subjectId: previous.subjectId }],
    )
  ).committed;

/**
 * Runs one task: connector, read-back verification, audit, state. Each step commits from the state
 * it read, so a duplicate delivery either finds the work done or loses the race and stops; the
 * request is settled exactly once, by whichever task reports last.
 */
export const runConnectorTask = async (
  deps: WorkerDeps,
  message: TaskMessage,
  receiveCount: number,
): Promise<TaskRunOutcome> => {
  const task =
    deps.batch === undefined
      ? await deps.requests.getTask(message.requestId, message.taskId)
      : (await deps.batch.read())?.tasks.find((candidate) => candidate.taskId === message.taskId);
  if (task === undefined) {
    deps.log.warn('task message for an unknown task', { ...message });
    return { kind: 'done' };
  }
  // A way out before the holds check that still has work to do (settle, finish) first lets its
  // siblings' shared holds read go without it (`passHolds`); the quick ones leave with the record.
  if (task.status === 'cancelled') return { kind: 'done' };
  if (task.status === 'verified' || task.status === 'failed') {
    deps.batch?.passHolds();
    // Already reported; settling again is harmless and finishes a request whose last reporter
    // stopped between counting its outcome and settling.
    await settle(deps, task.requestId);
    return { kind: 'done' };
  }
  if (task.awaitingCallback === true) {
    // A service accepted the work (202) and owes a callback. After the callback timeout it is asked
    // again (a new attempt, below); once the attempts are spent the task fails, so a callback that
    // never comes cannot keep the request open past its deadline.
    const decision = decideAwaitingCallback(task, nowIso(deps), deps.settings.maxReceives);
    if (decision.kind === 'wait') return { kind: 'done' };
    if (decision.kind === 'give-up') {
      deps.batch?.passHolds();
      await finish(deps, task, 'failed', { message: decision.message, code: decision.code });
      deps.metrics.count(METRIC.taskFailed, 1);
      deps.log.warn('no callback came; task failed', {
        taskId: task.taskId,
        requestId: task.requestId,
        connector: task.connector,
        target: task.target,
        attempts: task.attempts,
      });
      return { kind: 'done' };
    }
  } else if (attemptsExhausted(task, deps.settings.maxReceives)) {
    deps.batch?.passHolds();
    await finish(deps, task, 'failed', {
      message: `Gave up after ${task.attempts} attempts`,
      code: 'attempts-exhausted',
    });
    deps.metrics.count(METRIC.taskFailed, 1);
    return { kind: 'done' };
  }
  let current = task;
  try {
    if (current.status !== 'succeeded') {
      // The attempt's lease: not audited on its own, its outcome entry names the attempt.
      const started = claimAttempt(current, nowIso(deps));
      if (!(await commitState(deps, current, started))) return { kind: 'done' };
      current = started;
    }
    // ALM-3 also after dispatch: the holds are read after the lease, right before the connector
    // call (the one step that destroys data), so a hold placed while the task waited or while its
    // attempt started stops it: the task goes back to `pending` with its entry, and the sweep sends
    // it again once no hold covers it.
    if (await heldBack(deps, current)) return { kind: 'done' };
    // A task left `succeeded` (by an older worker) runs the connector again (it is idempotent), so
    // data a previous run missed is erased, not merely re-checked.
    const target = targetOf(deps, current);
    const invocations = invocationsOf(current, target);
    const outcome = await executeAll(deps, target, invocations);
    if (outcome.status === 'pending') {
      await commitTask(deps, current, taskAwaitingCallback(current, nowIso(deps)));
      return { kind: 'done' };
    }
    const executedAt = nowIso(deps);
    // The outcome's chain head is read while verification reads the target.
    deps.uow.prepare?.([current.subjectId]);
    const verification = await verifyAll(deps, target, invocations);
    if (!verification.verified) {
      throw new Error(`Verification found ${verification.remaining} items left: ${verification.detail}`);
    }
    // Executed and verified: one commit, one entry, and the request settled with it if last.
    await finish(deps, current, 'verified', undefined, { affectedCount: outcome.affectedCount, executedAt });
    deps.metrics.count(METRIC.taskSucceeded, 1);
    return { kind: 'done' };
  } catch (error) {
    deps.batch?.passHolds();
    return await attemptFailed(deps, current, error, receiveCount);
  } finally {
    // Any other way out of here (a lost lease race) lets the siblings' holds read go at once.
    deps.batch?.passHolds();
  }
};

/** Commits a task's state without an audit entry (the attempt's lease); false when it had moved on. */
const commitState = async (
  deps: Pick<SettleDeps, 'uow'>,
  previous: ErasureTask,
  next: ErasureTask,
): Promise<boolean> =>
  (await deps.uow.commit([{ kind: 'task.transition', next, expected: previous }])).committed;

/**
 * ALM-3: true when a legal hold covers the task's data (its class, or any held class that lives in
 * its target), after recording why it stops: a task that had started goes back to `pending`
 * (`holdTask`); one that had not keeps its state and the audit notes the hold. A task awaiting a
 * callback is left as it is: the other service already has the work.
 */
const heldBack = async (deps: WorkerDeps, task: ErasureTask): Promise<boolean> => {
  const at = nowIso(deps);
  const [own, active] = await Promise.all([
    deps.batch?.holds(task.subjectId) ?? deps.holds.forSubject(task.subjectId),
    // A task that erases by identifier values (an e-mail, a camera serial) is also held by any
    // active hold naming one of them: the values may be another held person's.
    activeHoldsFor(deps.holds, [task], at),
  ]);
  const holds = holdsOnTask(task, own, deps.config.catalog, at, active);
  if (holds.length === 0) return false;
  const holdIds = holds.map((hold) => hold.holdId);
  if (task.status === 'running' && task.awaitingCallback !== true) {
    await commitTask(deps, task, holdTask(task, holdIds, at));
  } else if (task.awaitingCallback !== true) {
    await deps.uow.commit([], [{ event: taskHeld(task, holdIds, at), subjectId: task.subjectId }]);
  }
  deps.log.info('task held by a legal hold', {
    taskId: task.taskId,
    requestId: task.requestId,
    target: task.target,
    holds: holdIds.length,
  });
  return true;
};

const attemptFailed = async (
  deps: WorkerDeps,
  task: ErasureTask,
  error: unknown,
  receiveCount: number,
): Promise<TaskRunOutcome> => {
  const reason = safeMessage(error, task.subjectId, task.identifiers);
  deps.metrics.count(METRIC.taskFailedAttempt, 1);
  deps.log.warn('connector task attempt failed', {
    taskId: task.taskId,
    requestId: task.requestId,
    connector: task.connector,
    target: task.target,
    attempt: receiveCount,
    error: reason,
  });
  const decision = decideAttemptFailure({
    permanent: error instanceof ConnectorPermanentError,
    receiveCount,
    maxReceives: deps.settings.maxReceives,
    ...(error instanceof ConnectorRetryableError && error.retryAfterSeconds !== undefined
      ? { retryAfterHintSeconds: error.retryAfterSeconds }
      : {}),
    ...(deps.settings.retryBaseSeconds === undefined ? {} : { baseSeconds: deps.settings.retryBaseSeconds }),
  });
  if (decision.kind === 'retry') {
    // The task keeps the failure's code, and the entry is written with that change. A failure
    // before the attempt started changed nothing and leaves no entry; the message is retried.
    if (task.status === 'running' && task.awaitingCallback !== true) {
      await commitTask(deps, task, taskAttemptFailed(task, errorCodeOf(error), nowIso(deps)));
    }
    return decision;
  }
  await finish(deps, task, 'failed', {
    message: reason,
    code: decision.reason === 'permanent' ? `permanent:${errorCodeOf(error)}` : 'retries-exhausted',
  });
  deps.metrics.count(METRIC.taskFailed, 1);
  return decision.deadLetter ? { kind: 'dead-letter' } : { kind: 'done' };
};

/** Rounds of counting outcomes against concurrent outcomes of the same request. */
const OUTCOME_ATTEMPTS = 8;

/**
 * Outcomes of one request committed together at most. The commit that settles a request writes,
 * per outcome, the task, its counter and two audit items (4 × 8), and the request, the chain head
 * and the settling entry (4), the other tasks forgetting the subject (≤ 32 − 8) and its
 * suppression entries (≤ 33): 93 of DynamoDB's 100 items per transaction at worst.
 */
export const MAX_OUTCOMES_TOGETHER = 8;

/** A task's final outcome, to be committed alone or with other outcomes of its request. */
export interface OutcomeReport {
  readonly task: ErasureTask;
  readonly outcome: 'verified' | 'failed';
  readonly failure?: { readonly message: string; readonly code?: string };
  readonly completion?: Omit<TaskCompletion, 'executedAt'> & { readonly executedAt?: string };
}

/**
 * How long an outcome waits for the other tasks of its request in the same batch, at most: they
 * usually finish within milliseconds of each other, and a slow one (a large prefix) should not
 * hold the others' outcomes back for long.
 */
export const OUTCOME_LINGER_MS = 250;

/**
 * How long a task, its lease taken, waits for its siblings' leases before the holds are read for
 * those that have theirs: the leases go out together, so they usually land within milliseconds.
 */
export const HOLDS_LINGER_MS = 50;
/** Tasks whose holds check one read serves, at most (an SQS batch has 10 messages by default). */
const HOLD_READERS_TOGETHER = 10;

/** One task run's place in the worker's batch: its request read once, its holds check and its outcome's group. */
export interface RequestInBatch extends GroupParticipant<OutcomeReport, boolean> {
  /** The request and its tasks as the batch first read them, for all its tasks in the batch. */
  read(): Promise<RequestWithTasks | undefined>;
  /**
   * The subject's legal holds, for a task whose lease is taken: one read serves the request's
   * tasks in the batch that ask, and starts only once each of them has asked (so after its lease).
   */
  holds(subjectId: string): Promise<readonly LegalHold[]>;
  /** This task will not ask for the holds (it stopped, or has asked): its siblings need not wait. */
  passHolds(): void;
}

/**
 * One batch of task messages (the worker's handler): the tasks of one request in it read the
 * request once, and commit their outcomes together (`CommitGroups`, per request).
 */
export class WorkerBatch {
  /**
   * What the batch last read or wrote of each request. The outcome commit counts on it without
   * reading the request again; should another writer have moved it since, the commit's condition
   * fails and the group reads it afresh. (Its tasks' states are not relied on: each task's own
   * condition decides.)
   */
  private readonly known = new Map<string, RequestWithTasks>();
  private readonly reads = new Map<string, Promise<RequestWithTasks | undefined>>();
  private readonly groups: CommitGroups<OutcomeReport, boolean>;
  /**
   * ALM-3 holds checks, one read per request and batch: a group goes once every sibling that
   * entered has asked or passed, so the read starts after each asker's lease, as it must.
   */
  private readonly holdReads: CommitGroups<string, readonly LegalHold[]>;

  constructor(private readonly deps: SettleDeps & Pick<WorkerDeps, 'holds'>) {
    this.groups = new CommitGroups(
      (requestId, reports) => finishTogether(deps, requestId, reports, this.known),
      {
        maxGroup: MAX_OUTCOMES_TOGETHER,
        lingerMs: OUTCOME_LINGER_MS,
      },
    );
    this.holdReads = new CommitGroups(
      async (_requestId, subjectIds) => {
        // One subject per request; a Map keeps that an assumption the code does not rely on.
        const reads = new Map<string, Promise<readonly LegalHold[]>>();
        return await Promise.all(
          subjectIds.map((subjectId) => {
            const read = reads.get(subjectId) ?? deps.holds.forSubject(subjectId);
            reads.set(subjectId, read);
            return read;
          }),
        );
      },
      // A failed read fails every task that shared it (each is retried as a failed attempt): reading
      // again once per task would only add load to a store that is already refusing.
      { maxGroup: HOLD_READERS_TOGETHER, lingerMs: HOLDS_LINGER_MS, retryEachAlone: false },
    );
  }

  enter(requestId: string): RequestInBatch {
    const participant = this.groups.enter(requestId);
    const holdsCheck = this.holdReads.enter(requestId);
    return {
      submit: (report) => participant.submit(report),
      leave: () => {
        holdsCheck.leave();
        participant.leave();
      },
      read: () => this.read(requestId),
      holds: (subjectId) => holdsCheck.submit(subjectId),
      passHolds: () => holdsCheck.leave(),
    };
  }

  private read(requestId: string): Promise<RequestWithTasks | undefined> {
    const pending = this.reads.get(requestId);
    if (pending !== undefined) return pending;
    const read = this.deps.requests.get(requestId).then(
      (found) => {
        if (found !== undefined && !this.known.has(requestId)) this.known.set(requestId, found);
        return found;
      },
      (error: unknown) => {
        // A failed read is not kept: the next task of the request reads again.
        this.reads.delete(requestId);
        throw error;
      },
    );
    this.reads.set(requestId, read);
    return read;
  }
}

/**
 * Final state of a task with its audit entry, counted on its request in the same commit; the last
 * task to report settles the request (completed / partially_failed) in that commit too, with the
 * request's entry, and a completed request forgets whose it was there and then. In a worker batch
 * (`batch`), it is committed with the other outcomes of its request in the batch.
 * True when this call reported the outcome (false: another delivery or writer had moved the task on).
 */
export const finish = async (
  deps: SettleDeps & { readonly batch?: Pick<RequestInBatch, 'submit'> },
  task: ErasureTask,
  outcome: 'verified' | 'failed',
  failure?: OutcomeReport['failure'],
  completion?: OutcomeReport['completion'],
): Promise<boolean> => {
  const report: OutcomeReport = {
    task,
    outcome,
    ...(failure === undefined ? {} : { failure }),
    ...(completion === undefined ? {} : { completion }),
  };
  if (deps.batch !== undefined) return await deps.batch.submit(report);
  const [reported] = await finishTogether(deps, task.requestId, [report]);
  return reported === true;
};

const decideOutcome = ({ task, outcome, failure, completion }: OutcomeReport, at: string) =>
  outcome === 'verified'
    ? taskCompleted(
        task,
        {
          affectedCount: completion?.affectedCount ?? task.affectedCount,
          executedAt: completion?.executedAt ?? at,
          ...(completion?.viaCallback === undefined ? {} : { viaCallback: completion.viaCallback }),
        },
        at,
      )
    : taskFailed(task, failure ?? { message: 'failed' }, at);

/**
 * ALE-5: verified tasks are counted for the erasures report in their outcomes' own commit, which
 * fails for an outcome already counted, so a redelivery never counts one twice.
 */
const talliesOf = (
  deps: Pick<SettleDeps, 'clock'>,
  tasks: readonly ErasureTask[],
  request: ErasureRequest | undefined,
): Change[] =>
  request === undefined
    ? []
    : sumTallies(
        tasks
          .filter((next) => next.status === 'verified')
          .map((next) =>
            erasureTally({
              at: next.verifiedAt ?? nowIso(deps),
              dataClass: next.dataClass,
              ruleRef: erasureRuleRef(request),
              action: next.action,
              items: next.affectedCount,
              // One counter item per request: outcomes committed together add up in one write.
              key: next.requestId,
            }),
          ),
      ).map((tally) => ({ kind: 'erasure.tally', tally }));

/**
 * Commits outcomes of one request's tasks: all counted on the request in one commit, conditional
 * on the counts read; a concurrent outcome (another worker's) makes it fail and the outcomes are
 * counted again from the fresh request. Should that keep failing, each outcome is counted on its
 * own and `settle` finishes. Per report: whether this call reported it.
 */
const finishTogether = async (
  deps: SettleDeps,
  requestId: string,
  reports: readonly OutcomeReport[],
  known?: Map<string, RequestWithTasks>,
): Promise<boolean[]> => {
  const reported = new Map<OutcomeReport, boolean>();
  // Two deliveries of one task in a batch report it once: a commit may write a task only once.
  const firsts = new Map<string, OutcomeReport>();
  for (const report of reports) {
    if (firsts.has(report.task.taskId)) reported.set(report, false);
    else firsts.set(report.task.taskId, report);
  }
  let live = [...firsts.values()];
  let read: ErasureRequest | undefined;
  for (let round = 1; round <= OUTCOME_ATTEMPTS && live.length > 0; round++) {
    const cached = round === 1 ? known?.get(requestId) : undefined;
    const found = cached ?? (await deps.requests.get(requestId));
    read = found?.request;
    if (cached === undefined) {
      // Another delivery reported an attempt first: nothing left to do for it. (Against a cached
      // copy, whose tasks may have moved on since, each task's own condition decides instead.)
      live = live.filter((report) => {
        const stored = found?.tasks.find((candidate) => candidate.taskId === report.task.taskId);
        const current = stored?.status === report.task.status && stored.attempts === report.task.attempts;
        if (!current) reported.set(report, false);
        return current;
      });
    }
    if (found === undefined || live.length === 0) break;
    const at = nowIso(deps);
    const decided = live.map((report) => ({ report, ...decideOutcome(report, at) }));
    const counted = countOutcomes(
      found.request,
      live.map((report) => report.outcome),
      at,
    );
    if (counted === undefined) {
      if (cached === undefined) break;
      // The copy is out of date (the request settled elsewhere): read it afresh.
      known?.delete(requestId);
      continue;
    }
    const { request } = found;
    const forget =
      counted.next.status === 'completed'
        ? { pseudonym: deps.audit.chainIdFor(request.subjectId), taskIds: found.tasks.map((t) => t.taskId) }
        : undefined;
    const result = await deps.uow.commit(
      [
        {
          kind: 'task.outcomes',
          outcomes: decided.map(({ report, next }) => ({ next, expected: report.task })),
          request: { previous: request, next: counted.next, ...(forget === undefined ? {} : { forget }) },
        },
        ...talliesOf(
          deps,
          decided.map(({ next }) => next),
          request,
        ),
        // Erased: the subject's keyed hashes go on the suppression list in the same commit.
        ...(forget === undefined ? [] : completionSuppression(deps, request, at)),
      ],
      [
        ...decided.map(({ report, audit }) => ({ event: audit, subjectId: report.task.subjectId })),
        ...(counted.settled === undefined
          ? []
          : [{ event: counted.settled.audit, subjectId: request.subjectId }]),
      ],
    );
    if (result.committed) {
      for (const report of live) reported.set(report, true);
      live = [];
      const written = new Map(decided.map(({ next }) => [next.taskId, next]));
      known?.set(requestId, {
        request: counted.next,
        tasks: found.tasks.map((stored) => written.get(stored.taskId) ?? stored),
      });
    } else {
      known?.delete(requestId);
    }
  }
  if (live.length > 0) {
    const at = nowIso(deps);
    for (const report of live) {
      const { next, audit } = decideOutcome(report, at);
      const counted = await deps.uow.commit(
        [{ kind: 'task.outcome', next, expected: report.task }, ...talliesOf(deps, [next], read)],
        [{ event: audit, subjectId: report.task.subjectId }],
      );
      reported.set(report, counted.committed);
    }
    await settle(deps, requestId);
  }
  return reports.map((report) => reported.get(report) === true);
};

/**
 * Completes (or partially fails) a dispatched request whose tasks have all reported; a no-op
 * otherwise, so any worker and the sweep may call it as often as they like.
 */
export const settle = async (deps: SettleDeps, requestId: string): Promise<void> => {
  const found = await deps.requests.get(requestId);
  if (found === undefined) return;
  const { request } = found;
  const settled = settleRequest(request, nowIso(deps));
  if (settled === undefined) return;
  const at = settled.next.completedAt ?? nowIso(deps);
  const completed = settled.next.status === 'completed';
  await deps.uow.commit(
    [
      {
        kind: 'request.transition',
        next: settled.next,
        from: ['dispatched'],
        previous: request,
        // Data minimisation, in the same write: once everything is verified gone, the request no
        // longer needs to know whose data it was. A partially failed request keeps the id so its
        // tasks can be re-driven.
        ...(completed
          ? {
              forget: {
                taskIds: found.tasks.map((task) => task.taskId),
                pseudonym: deps.audit.chainIdFor(request.subjectId),
              },
            }
          : {}),
      },
      ...(completed ? completionSuppression(deps, request, at) : []),
    ],
    [{ event: settled.audit, subjectId: request.subjectId }],
  );
};
