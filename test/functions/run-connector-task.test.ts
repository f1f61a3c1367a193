/**
 * The task worker (functions/run-connector-task.ts) as Lambda's SQS event source calls it: partial
 * batch failures, visibility backoff, the last allowed receive, permanent errors.
 *
 * The connector registry is a stub the test controls (the connectors have their own tests in
 * test/functions/connectors); storage, audit and queue are the in-memory ports, so the assertions
 * are on what the worker stores, audits and asks of the queue.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { dispatchRequest, receiveRequest } from '../../domain/erasure/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../../functions/connectors/errors.js';
import { makeHandler } from '../../functions/run-connector-task.js';
import { METRIC } from '../../functions/shared/observability.js';
import { stubRegistry } from '../helpers/connectors.js';
import {
  HANDLER_NOW,
  type HandlerDeps,
  handlerDeps,
  lambdaContext,
  sqsRecord,
} from '../helpers/handler-deps.js';

const SUBJECT = 'subject-5b21';
const REQUEST_ID = 'req_worker1';

const pendingTask = (taskId: string, target: string, connector: string): ErasureTask => ({
  taskId,
  requestId: REQUEST_ID,
  subjectId: SUBJECT,
  dataClass: 'closed-account',
  action: 'delete',
  target,
  connector,
  status: 'pending',
  attempts: 0,
  affectedCount: 0,
});
const TASK_A = pendingTask('task_a', 'user-files', 's3-prefix');
const TASK_B = pendingTask('task_b', 'partner-services', 'http-webhook');

const body = (task: ErasureTask) => JSON.stringify({ taskId: task.taskId, requestId: task.requestId });

/** A dispatched request with tasks A and B, stored in the in-memory ports. */
const seeded = async (built: HandlerDeps, tasks: readonly ErasureTask[] = [TASK_A, TASK_B]) => {
  const { next: received } = receiveRequest({
    requestId: REQUEST_ID,
    subjectId: SUBJECT,
    origin: 'api',
    dataClasses: ['closed-account'],
    reason: 'gdpr-art17-request',
    receivedAt: HANDLER_NOW,
    taskCount: tasks.length,
  });
  const request = dispatchRequest(received, tasks.length, HANDLER_NOW).next;
  const result = await built.ports.uow.commit([{ kind: 'request.create', request, tasks }]);
  expect(result.committed).toBe(true);
  return built;
};

const run = async (built: HandlerDeps, records: SQSEvent['Records']) => {
  const handler = makeHandler(() => Promise.resolve(built.deps));
  return handler({ Records: records }, lambdaContext('run-connector-task'));
};

const visibilityChanges = (built: HandlerDeps) =>
  built.ports.delays.map((delay) => ({
    ReceiptHandle: delay.receiptHandle,
    VisibilityTimeout: delay.seconds,
  }));

/** Tasks in a final state, and the counters of their request. */
const outcomes = (built: HandlerDeps) =>
  [...built.ports.state.tasks.values()]
    .filter((task) => task.status === 'verified' || task.status === 'failed')
    .map((task) => ({ task, counter: task.status === 'verified' ? 'verifiedCount' : 'failedCount' }));

const auditedTypes = (built: HandlerDeps) =>
  built.ports.allEntries().map((entry) => ({ type: entry.type, detail: entry.detail }));

describe('run-connector-task', () => {
  it('reports only the failing record of a batch, and backs it off by its attempt', async () => {
    // Prepare
    const connectors = stubRegistry(async (invocation) => {
      if (invocation.taskId === TASK_B.taskId) {
        throw new ConnectorRetryableError("Webhook for target 'partner-services' answered 503", {
          code: 'HTTP503',
          statusCode: 503,
        });
      }
      return { status: 'done', affectedCount: 4 };
    });
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [
      sqsRecord('msg-a', body(TASK_A), { receiveCount: 1 }),
      sqsRecord('msg-b', body(TASK_B), { receiveCount: 2 }),
    ]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-b' }] });
    expect(visibilityChanges(built)).toEqual([
      // 30 s doubled once for the second receive.
      { ReceiptHandle: 'receipt-msg-b', VisibilityTimeout: 60 },
    ]);
    expect(outcomes(built)).toEqual([
      {
        task: expect.objectContaining({ taskId: TASK_A.taskId, status: 'verified' }),
        counter: 'verifiedCount',
      },
    ]);
    expect(built.ports.state.requests.get(REQUEST_ID)).toMatchObject({ verifiedCount: 1, failedCount: 0 });
    expect(auditedTypes(built)).toContainEqual({
      type: 'task.attempt_failed',
      // The task's attempt (its first start), keyed apart from every other attempt's failure.
      detail: { attempt: 1, errorCode: 'HTTP503' },
    });
    expect(built.metrics.counts).toMatchObject({
      [METRIC.taskSucceeded]: 1,
      [METRIC.taskFailedAttempt]: 1,
    });
  });

  it('ALE-5: counts the tasks of one request verified in one batch in one counter item, with their items', async () => {
    // Prepare
    // Per task, these two ids would fall on two counter items (shards 00 and 07).
    const files = pendingTask('task_files', 'user-files', 's3-prefix');
    const video = pendingTask('task_video', 'cloud-video', 's3-prefix');
    const connectors = stubRegistry(async () => ({ status: 'done', affectedCount: 3 }));
    const built = await seeded(handlerDeps({ overrides: { connectors } }), [files, video]);

    // Act
    const result = await run(built, [sqsRecord('msg-a', body(files)), sqsRecord('msg-b', body(video))]);

    // Assess: one counter item (one write in the outcomes' commit) holds both erasures.
    expect(result).toEqual({ batchItemFailures: [] });
    expect(built.ports.state.requests.get(REQUEST_ID)).toMatchObject({
      status: 'completed',
      verifiedCount: 2,
    });
    expect([...built.ports.state.tallies.values()]).toEqual([
      expect.objectContaining({ dataClass: 'closed-account', deletions: 2, items: 6 }),
    ]);
  });

  it("backs off by the other side's Retry-After when it is longer than the backoff", async () => {
    // Prepare
    const connectors = stubRegistry(async () => {
      throw new ConnectorRetryableError('throttled', { code: 'HTTP429', retryAfterSeconds: 120 });
    });
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [sqsRecord('msg-b', body(TASK_B), { receiveCount: 1 })]);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-b' }]);
    expect(visibilityChanges(built).map((change) => change.VisibilityTimeout)).toEqual([120]);
  });

  it('keeps a long Retry-After within what SQS accepts for a visibility timeout (at most 12 hours)', async () => {
    // Prepare: a partner answers 503 with `Retry-After: 172800` (two days).
    const connectors = stubRegistry(async () => {
      throw new ConnectorRetryableError('maintenance', { code: 'HTTP503', retryAfterSeconds: 172_800 });
    });
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [sqsRecord('msg-b', body(TASK_B), { receiveCount: 1 })]);

    // Assess: ChangeMessageVisibility takes 0..43 200 s; SQS rejects anything more, and the message
    // would then come back after the queue's short default timeout instead of the long wait asked for.
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-b' }]);
    const [change] = visibilityChanges(built);
    expect(change?.VisibilityTimeout).toBeGreaterThanOrEqual(900);
    expect(change?.VisibilityTimeout).toBeLessThanOrEqual(43_200);
  });

  it('retries, without failing the task, when verification finds data left', async () => {
    // Prepare
    const connectors = stubRegistry(
      async () => ({ status: 'done', affectedCount: 2 }),
      async () => ({ verified: false, remaining: 1, detail: 'objects left under the prefix' }),
    );
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [sqsRecord('msg-a', body(TASK_A), { receiveCount: 1 })]);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-a' }]);
    expect(visibilityChanges(built).map((change) => change.VisibilityTimeout)).toEqual([30]);
    expect(outcomes(built)).toEqual([]);
  });

  it('reports malformed messages as failures without touching any table, sends them on to the DLQ at once, and runs the rest of the batch', async () => {
    // Prepare
    const connectors = stubRegistry(async () => ({ status: 'done', affectedCount: 1 }));
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [
      sqsRecord('msg-not-json', 'task_a please'),
      sqsRecord('msg-no-request', JSON.stringify({ taskId: TASK_A.taskId })),
      sqsRecord('msg-a', body(TASK_A)),
    ]);

    // Assess
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: 'msg-not-json' },
      { itemIdentifier: 'msg-no-request' },
    ]);
    expect(connectors.executed).toEqual([TASK_A.taskId]);
    expect(visibilityChanges(built).map((change) => change.VisibilityTimeout)).toEqual([0, 0]);
    expect(built.logs.filter((line) => line.level === 'error').map((line) => line.extra?.messageId)).toEqual([
      'msg-not-json',
      'msg-no-request',
    ]);
  });

  it('marks the task failed on the last allowed receive and sends the message on to the DLQ at once', async () => {
    // Prepare
    const connectors = stubRegistry(async () => {
      throw new ConnectorRetryableError('still 503', { code: 'HTTP503' });
    });
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [sqsRecord('msg-b', body(TASK_B), { receiveCount: 5 })]);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-b' }]);
    expect(outcomes(built)).toEqual([
      {
        task: expect.objectContaining({
          taskId: TASK_B.taskId,
          status: 'failed',
          errorCode: 'retries-exhausted',
        }),
        counter: 'failedCount',
      },
    ]);
    expect(visibilityChanges(built)).toEqual([{ ReceiptHandle: 'receipt-msg-b', VisibilityTimeout: 0 }]);
    expect(auditedTypes(built).map((entry) => entry.type)).not.toContain('task.attempt_failed');
    expect(auditedTypes(built).map((entry) => entry.type)).toContain('task.failed');
    expect(built.metrics.counts[METRIC.taskFailed]).toBe(1);
  });

  it('does not fail the task one receive before the last', async () => {
    // Prepare
    const connectors = stubRegistry(async () => {
      throw new ConnectorRetryableError('still 503', { code: 'HTTP503' });
    });
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [sqsRecord('msg-b', body(TASK_B), { receiveCount: 4 })]);

    // Assess
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-b' }]);
    expect(outcomes(built)).toEqual([]);
    expect(visibilityChanges(built).map((change) => change.VisibilityTimeout)).toEqual([240]);
  });

  it('fails the task at once on a permanent error, stores the error without the subject id, and acknowledges the message', async () => {
    // Prepare
    const connectors = stubRegistry(async (invocation) => {
      throw new ConnectorPermanentError(`Access denied to files/${invocation.subjectId}/`, {
        code: 'AccessDenied',
        statusCode: 403,
      });
    });
    const built = await seeded(handlerDeps({ overrides: { connectors } }));

    // Act
    const result = await run(built, [sqsRecord('msg-a', body(TASK_A), { receiveCount: 1 })]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(visibilityChanges(built)).toEqual([]);
    const [outcome] = outcomes(built);
    expect(outcome).toMatchObject({
      task: { taskId: TASK_A.taskId, status: 'failed', errorCode: 'permanent:AccessDenied' },
      counter: 'failedCount',
    });
    expect(String(outcome?.task?.error)).toContain('[subject]');
    expect(String(outcome?.task?.error)).not.toContain(SUBJECT);
    expect(auditedTypes(built).map((entry) => entry.type)).not.toContain('task.attempt_failed');
  });

  it('acknowledges a message whose task is already final, without running the connector', async () => {
    // Prepare
    const connectors = stubRegistry(async () => ({ status: 'done', affectedCount: 1 }));
    const built = await seeded(handlerDeps({ overrides: { connectors } }), [
      { ...TASK_A, status: 'verified', attempts: 1 },
      TASK_B,
    ]);
    const before = built.ports.snapshot();

    // Act
    const result = await run(built, [sqsRecord('msg-a', body(TASK_A), { receiveCount: 2 })]);

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(connectors.executed).toEqual([]);
    expect(built.ports.snapshot()).toEqual(before);
  });
});
