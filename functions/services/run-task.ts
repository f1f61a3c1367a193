import { redactSubjectId } from '../../domain/audit/index.js';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import {
  settleRequest,
  startTask,
  taskAwaitingCallback,
  taskFailed,
  taskSucceeded,
  taskVerified,
} from '../../domain/erasure/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { blockingHolds } from '../../domain/holds.js';
import type { TaskMessage } from '../adapters/sqs-task-queue.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../connectors/errors.js';
import { METRIC } from '../shared/observability.js';
import { nowIso, type ServiceDeps } from './deps.js';

export type TaskRunOutcome =
  /** Nothing left to do for this message: acknowledge it. */
  | { readonly kind: 'done' }
  /** Try again later: leave the message on the queue, visible again after `retryAfterSeconds`. */
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number }
  /** Retries exhausted: the task is marked failed; the message goes on to the dead-letter queue. */
  | { readonly kind: 'dead-letter' };

const MAX_ERROR_LENGTH = 300;
const BASE_BACKOFF_SECONDS = 30;
const MAX_BACKOFF_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 12 * 3600;
const MAX_RUN_SECONDS = 15 * 60;
/**
 * Rounds of `maxReceives` deliveries a task may take in all. The sweep re-sends tasks that stopped
 * mid-attempt (a timeout, a lost callback); this bounds how often before the task is failed.
 */
const MAX_ROUNDS = 4;

export const backoffSeconds = (attempt: number, baseSeconds = BASE_BACKOFF_SECONDS): number =>
  Math.min(MAX_BACKOFF_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));

/** Error text that may be stored and shown: without the subject id, and short. */
const safeMessage = (error: unknown, subjectId: string): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return redactSubjectId(text, subjectId).slice(0, MAX_ERROR_LENGTH);
};

const targetOf = (deps: ServiceDeps, task: ErasureTask): ConnectorTarget => {
  const target = deps.config.targets.find((candidate) => candidate.name === task.target);
  if (target === undefined) {
    throw new ConnectorPermanentError(`Connector target '${task.target}' is no longer configured`);
  }
  return target;
};

/**
 * Runs one task: connector, read-back verification, audit, state. Each step is a conditional
 * write from the state it read, so a duplicate delivery either finds the work done or loses the
 * race and stops; the request is settled exactly once, by whichever task reports last.
 */
export const runConnectorTask = async (
  deps: ServiceDeps,
  message: TaskMessage,
  receiveCount: number,
): Promise<TaskRunOutcome> => {
  const task = await deps.requests.getTask(message.requestId, message.taskId);
  if (task === undefined) {
    deps.log.warn('task message for an unknown task', { ...message });
    return { kind: 'done' };
  }
  if (task.status === 'verified' || task.status === 'failed') {
    // Already reported; settling again is harmless and finishes a request whose last reporter
    // stopped between counting its outcome and settling.
    await settle(deps, task.requestId);
    return { kind: 'done' };
  }
  if (task.awaitingCallback === true) return { kind: 'done' };
  if (task.attempts >= deps.settings.maxReceives * MAX_ROUNDS) {
    await finish(deps, task, 'failed', {
      message: `Gave up after ${task.attempts} attempts`,
      code: 'attempts-exhausted',
    });
    return { kind: 'done' };
  }
  const at = nowIso(deps);
  const holds = blockingHolds(await deps.holds.forSubject(task.subjectId), task.dataClass, at);
  if (holds.length > 0) {
    // ALM-3 also after dispatch: a hold placed while the task waited stops it before it erases.
    // The message is done with; the sweep sends the task again once no hold covers it.
    const holdIds = holds.map((hold) => hold.holdId).sort();
    await deps.audit.append(
      {
        type: 'task.held',
        at,
        idempotencyKey: `task:${task.taskId}:held:${holdIds.join('+')}`,
        requestId: task.requestId,
        taskId: task.taskId,
        dataClass: task.dataClass,
        target: task.target,
        detail: { holds: holdIds.join(',') },
      },
      task.subjectId,
    );
    return { kind: 'done' };
  }
  let current = task;
  try {
    if (current.status !== 'succeeded') {
      const started = startTask(current, nowIso(deps));
      if (!(await deps.requests.transitionTask(started.next, current))) return { kind: 'done' };
      await deps.audit.append(started.audit, current.subjectId);
      current = started.next;
      const target = targetOf(deps, current);
      const outcome = await deps.connectors.execute(target, invocationOf(current));
      if (outcome.status === 'pending') {
        const waiting = taskAwaitingCallback(current, nowIso(deps));
        if (await deps.requests.transitionTask(waiting.next, current)) {
          await deps.audit.append(waiting.audit, current.subjectId);
        }
        return { kind: 'done' };
      }
      const succeeded = taskSucceeded(current, outcome.affectedCount, nowIso(deps));
      if (!(await deps.requests.transitionTask(succeeded.next, current))) return { kind: 'done' };
      await deps.audit.append(succeeded.audit, current.subjectId);
      current = succeeded.next;
    } else {
      // Succeeded before but not verified: run the connector again (it is idempotent) so data a
      // previous run missed is erased, not merely re-checked.
      await deps.connectors.execute(targetOf(deps, current), invocationOf(current));
    }
    const verification = await deps.connectors.verify(targetOf(deps, current), invocationOf(current));
    if (!verification.verified) {
      throw new Error(`Verification found ${verification.remaining} items left: ${verification.detail}`);
    }
    await finish(deps, current, 'verified');
    deps.metrics.count(METRIC.taskSucceeded, 1);
    return { kind: 'done' };
  } catch (error) {
    const reason = safeMessage(error, current.subjectId);
    deps.metrics.count(METRIC.taskFailedAttempt, 1);
    deps.log.warn('connector task attempt failed', {
      taskId: current.taskId,
      requestId: current.requestId,
      connector: current.connector,
      target: current.target,
      attempt: receiveCount,
      error: reason,
    });
    const permanent = error instanceof ConnectorPermanentError;
    if (!permanent && receiveCount < deps.settings.maxReceives) {
      await deps.audit.append(
        {
          type: 'task.attempt_failed',
          at: nowIso(deps),
          idempotencyKey: `task:${current.taskId}:attempt:${receiveCount}:failed`,
          requestId: current.requestId,
          taskId: current.taskId,
          dataClass: current.dataClass,
          target: current.target,
          // A code, not the message: free text could carry personal data into the trail.
          detail: { attempt: receiveCount, errorCode: errorCodeOf(error) },
        },
        current.subjectId,
      );
      // SQS accepts at most 12 hours; leave room for the attempt that is still running.
      const hinted = Math.min(
        error instanceof ConnectorRetryableError ? (error.retryAfterSeconds ?? 0) : 0,
        MAX_VISIBILITY_SECONDS - MAX_RUN_SECONDS,
      );
      const retryAfterSeconds = Math.max(
        hinted,
        backoffSeconds(receiveCount, deps.settings.retryBaseSeconds),
      );
      return { kind: 'retry', retryAfterSeconds };
    }
    await finish(deps, current, 'failed', {
      message: reason,
      code: permanent ? `permanent:${errorCodeOf(error)}` : 'retries-exhausted',
    });
    deps.metrics.count(METRIC.taskFailed, 1);
    // A permanent error would fail again on every redelivery: acknowledge it instead.
    return permanent ? { kind: 'done' } : { kind: 'dead-letter' };
  } finally {
    deps.metrics.flush();
  }
};

/** A short machine-readable error code (connector code or error class), safe for the audit trail. */
const errorCodeOf = (error: unknown): string => {
  const code =
    error instanceof ConnectorPermanentError || error instanceof ConnectorRetryableError
      ? error.code
      : undefined;
  const raw = code ?? (error instanceof Error ? error.name : 'unknown');
  return raw.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 60) || 'unknown';
};

const invocationOf = (task: ErasureTask) => ({
  taskId: task.taskId,
  requestId: task.requestId,
  subjectId: task.subjectId,
  dataClass: task.dataClass,
  action: task.action,
  idempotencyKey: task.taskId,
  ...(task.olderThan === undefined ? {} : { olderThan: task.olderThan }),
});

/**
 * Final state of a task, counted on its request in the same transaction; then the request is
 * settled (completed / partially_failed) if this was the last task to report.
 */
export const finish = async (
  deps: ServiceDeps,
  task: ErasureTask,
  outcome: 'verified' | 'failed',
  failure?: { readonly message: string; readonly code?: string },
): Promise<void> => {
  const at = nowIso(deps);
  const transition =
    outcome === 'verified' ? taskVerified(task, at) : taskFailed(task, failure ?? { message: 'failed' }, at);
  if (await deps.requests.recordTaskOutcome(transition.next, task)) {
    await deps.audit.append(transition.audit, task.subjectId);
  }
  await settle(deps, task.requestId);
};

/**
 * Completes (or partially fails) a dispatched request whose tasks have all reported; a no-op
 * otherwise, so any worker and the sweep may call it as often as they like.
 */
export const settle = async (deps: ServiceDeps, requestId: string): Promise<void> => {
  const found = await deps.requests.get(requestId);
  if (found === undefined) return;
  const { request } = found;
  const settled = settleRequest(request, nowIso(deps));
  if (settled === undefined) return;
  if (await deps.requests.transitionRequest(settled.next, ['dispatched'], request)) {
    await deps.audit.append(settled.audit, request.subjectId);
  }
  if (settled.next.status === 'completed') {
    // Data minimisation: once everything is verified gone, the request no longer needs to know
    // whose data it was. A partially failed request keeps the id so its tasks can be re-driven.
    await deps.requests.forgetSubject(requestId, found.tasks, deps.audit.chainIdFor(request.subjectId));
  }
};
