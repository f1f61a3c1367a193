/**
 * Tasks answered by a webhook's signed callback (HTTP 202): a callback that never comes, on the
 * in-memory ports with a stub connector the test controls.
 */
import { describe, expect, it } from 'vitest';
import type {
  ConnectorInvocation,
  ConnectorOutcome,
  VerificationResult,
} from '../../domain/connectors/types.js';
import { dispatchRequest, receiveRequest } from '../../domain/erasure/index.js';
import { CALLBACK_TIMEOUT_MS } from '../../domain/erasure/recovery.js';
import { MAX_ROUNDS } from '../../domain/erasure/retry.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { ConnectorRegistry } from '../../functions/connectors/registry.js';
import { runConnectorTask } from '../../functions/services/run-task.js';
import { METRIC } from '../../functions/shared/metric-names.js';
import { HANDLER_MAX_RECEIVES, HANDLER_NOW, type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const SUBJECT = 'subject-callback-9d';
const REQUEST_ID = 'req_callback';
const hoursBefore = (instant: string, hours: number) =>
  new Date(Date.parse(instant) - hours * 3600_000).toISOString();

const awaiting = (patch: Partial<ErasureTask> = {}): ErasureTask => ({
  taskId: 'task_webhook',
  requestId: REQUEST_ID,
  subjectId: SUBJECT,
  dataClass: 'marketing-contact',
  action: 'delete',
  target: 'partner-services',
  connector: 'http-webhook',
  status: 'running',
  attempts: 1,
  affectedCount: 0,
  startedAt: hoursBefore(HANDLER_NOW, 25),
  awaitingCallback: true,
  ...patch,
});

/** A registry whose webhook answers 202 (pending) every time, recording each call. */
const acceptingRegistry = (): ConnectorRegistry & { readonly invocations: ConnectorInvocation[] } => {
  const invocations: ConnectorInvocation[] = [];
  const plugin = {
    execute: async (_target: unknown, invocation: ConnectorInvocation): Promise<ConnectorOutcome> => {
      invocations.push(invocation);
      return { status: 'pending', affectedCount: 0 };
    },
    verify: async (): Promise<VerificationResult> => ({ verified: true }),
  };
  return {
    invocations,
    connectorFor: (target) => ({ kind: target.kind, ...plugin }),
    execute: plugin.execute,
    verify: plugin.verify,
    register: () => {
      throw new Error('not used');
    },
    kinds: () => ['http-webhook'],
  };
};

const seeded = async (task: ErasureTask) => {
  const connectors = acceptingRegistry();
  const built = handlerDeps({ overrides: { connectors } });
  const { next: received } = receiveRequest({
    requestId: REQUEST_ID,
    subjectId: SUBJECT,
    origin: 'api',
    dataClasses: ['marketing-contact'],
    reason: 'gdpr-art17-request',
    receivedAt: hoursBefore(HANDLER_NOW, 48),
    taskCount: 1,
  });
  const request = dispatchRequest(received, 1, hoursBefore(HANDLER_NOW, 48)).next;
  expect((await built.ports.uow.commit([{ kind: 'request.create', request, tasks: [task] }])).committed).toBe(
    true,
  );
  return { built, connectors };
};

const storedTask = (built: HandlerDeps) => built.ports.state.tasks.get(`${REQUEST_ID}\u0000task_webhook`);
const message = { taskId: 'task_webhook', requestId: REQUEST_ID };

describe('a callback that never comes', () => {
  it('leaves a task alone while its callback may still come', async () => {
    // Prepare
    const { built, connectors } = await seeded(awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1) }));

    // Act
    const outcome = await runConnectorTask(built.deps, message, 1);

    // Assess
    expect(outcome).toEqual({ kind: 'done' });
    expect(connectors.invocations).toEqual([]);
    expect(built.ports.commits).toHaveLength(1);
  });

  it('asks the service again after the callback timeout, counting an attempt', async () => {
    // Prepare
    const { built, connectors } = await seeded(awaiting());

    // Act
    const outcome = await runConnectorTask(built.deps, message, 1);

    // Assess
    expect(outcome).toEqual({ kind: 'done' });
    expect(connectors.invocations).toHaveLength(1);
    expect(storedTask(built)).toMatchObject({
      status: 'running',
      attempts: 2,
      awaitingCallback: true,
      startedAt: HANDLER_NOW,
    });
    expect(
      built.ports
        .allEntries()
        .filter((entry) => entry.taskId === 'task_webhook')
        .map((entry) => entry.type),
    ).toEqual(['task.restarted', 'task.awaiting_callback']);
  });

  it('fails the task with callback-timeout once its attempts are spent, so the request ends partially_failed', async () => {
    // Prepare
    const { built, connectors } = await seeded(awaiting({ attempts: HANDLER_MAX_RECEIVES * MAX_ROUNDS }));

    // Act
    const outcome = await runConnectorTask(built.deps, message, 1);

    // Assess
    expect(outcome).toEqual({ kind: 'done' });
    expect(connectors.invocations).toEqual([]);
    expect(storedTask(built)).toMatchObject({ status: 'failed', errorCode: 'callback-timeout' });
    expect(storedTask(built)?.awaitingCallback).toBeUndefined();
    expect(built.ports.state.requests.get(REQUEST_ID)?.status).toBe('partially_failed');
    expect(built.metrics.counts[METRIC.taskFailed]).toBe(1);
    const failed = built.ports.allEntries().find((entry) => entry.type === 'task.failed');
    expect(failed?.detail).toMatchObject({ errorCode: 'callback-timeout' });
  });

  it('waits exactly the callback timeout', async () => {
    // Prepare: started exactly one timeout ago.
    const startedAt = new Date(Date.parse(HANDLER_NOW) - CALLBACK_TIMEOUT_MS).toISOString();
    const { built, connectors } = await seeded(awaiting({ startedAt }));

    // Act
    await runConnectorTask(built.deps, message, 1);

    // Assess
    expect(connectors.invocations).toHaveLength(1);
  });
});
