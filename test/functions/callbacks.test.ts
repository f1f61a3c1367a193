/**
 * Tasks answered by a webhook's signed callback (HTTP 202): a callback that never comes, and a
 * captured signed callback replayed against a later attempt, on the in-memory ports with a stub
 * connector the test controls.
 */
import { describe, expect, it } from 'vitest';
import { callbackNonceFor, dispatchRequest, receiveRequest } from '../../domain/erasure/index.js';
import { CALLBACK_TIMEOUT_MS } from '../../domain/erasure/recovery.js';
import { MAX_ROUNDS } from '../../domain/erasure/retry.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { makeHandler } from '../../functions/api.js';
import { createHttpWebhookConnector } from '../../functions/connectors/http-webhook.js';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import { redriveErasureRequest } from '../../functions/services/erasure-requests.js';
import { runConnectorTask } from '../../functions/services/run-task.js';
import { METRIC } from '../../functions/shared/metric-names.js';
import { stubRegistry } from '../helpers/connectors.js';
import {
  apiEvent,
  HANDLER_MAX_RECEIVES,
  HANDLER_NOW,
  HANDLER_WEBHOOK_SECRET,
  type HandlerDeps,
  handlerDeps,
  lambdaContext,
} from '../helpers/handler-deps.js';

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

const seeded = async (task: ErasureTask) => {
  const connectors = stubRegistry(async () => ({ status: 'pending', affectedCount: 0 }));
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
      // The new attempt's start is a lease, not an entry: the trail shows the service was asked again.
    ).toEqual(['task.awaiting_callback']);
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

/** The partner's signed callback, as it would POST it; `raw` and `signature` can be replayed as they are. */
const signedCallback = (answer: Record<string, unknown>) => {
  const raw = JSON.stringify({ taskId: 'task_webhook', ...answer });
  return {
    raw,
    signature: signPayload(HANDLER_WEBHOOK_SECRET, raw, Math.floor(Date.parse(HANDLER_NOW) / 1000)),
  };
};

const postCallback = async (built: HandlerDeps, callback: { raw: string; signature: string }) => {
  const handler = makeHandler(() => Promise.resolve(built.deps));
  const result = await handler(
    apiEvent({
      method: 'POST',
      path: '/v1/tasks/task_webhook/callback',
      headers: { 'X-Erasure-Signature': callback.signature },
      body: callback.raw,
    }),
    lambdaContext('erasure-api'),
  );
  return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as Record<string, unknown> };
};

describe('a callback is bound to the attempt that asked', () => {
  it('tells the webhook the nonce of the attempt it is asked in', async () => {
    // Prepare
    const sent: unknown[] = [];
    const connector = createHttpWebhookConnector({
      secretFor: () => HANDLER_WEBHOOK_SECRET,
      callbackBaseUrl: 'https://erasure.example/api',
      fetch: async (_url, init) => {
        sent.push(JSON.parse(String(init?.body)));
        return new Response(null, { status: 202 });
      },
    });

    // Act
    await connector.execute(
      {
        name: 'partner-services',
        kind: 'http-webhook',
        url: 'https://partner.example/erase',
        signingSecretName: 's',
      },
      {
        taskId: 'task_webhook',
        requestId: REQUEST_ID,
        subjectId: SUBJECT,
        dataClass: 'marketing-contact',
        action: 'delete',
        idempotencyKey: 'task_webhook',
        callbackNonce: 'nonce-of-attempt-3',
      },
    );

    // Assess
    expect(sent).toEqual([expect.objectContaining({ taskId: 'task_webhook', nonce: 'nonce-of-attempt-3' })]);
  });

  it('the worker asks each attempt with its own nonce', async () => {
    // Prepare: the first attempt's callback never came.
    const { built, connectors } = await seeded(awaiting());

    // Act
    await runConnectorTask(built.deps, message, 1);

    // Assess
    expect(connectors.invocations.map((invocation) => invocation.callbackNonce)).toEqual([
      callbackNonceFor({ taskId: 'task_webhook', attempts: 2 }),
    ]);
    expect(callbackNonceFor({ taskId: 'task_webhook', attempts: 2 })).not.toBe(
      callbackNonceFor({ taskId: 'task_webhook', attempts: 1 }),
    );
  });

  it('refuses a replayed signed `failed` of an earlier attempt with 409: the re-driven task is not failed, and nothing is audited', async () => {
    // Prepare: attempt 1 was answered `failed`; compliance re-drove the task and the partner
    // accepted the new attempt (202). Someone captured the signed `failed`.
    const { built } = await seeded(awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1) }));
    const failedCallback = signedCallback({
      nonce: callbackNonceFor({ taskId: 'task_webhook', attempts: 1 }),
      status: 'failed',
      error: 'store offline',
    });
    expect(await postCallback(built, failedCallback)).toMatchObject({
      status: 200,
      body: { status: 'failed' },
    });
    await redriveErasureRequest(built.deps, REQUEST_ID);
    await runConnectorTask(built.deps, message, 1);
    const redriven = storedTask(built);
    expect(redriven).toMatchObject({ status: 'running', awaitingCallback: true });
    const before = built.ports.snapshot();

    // Act
    const replay = await postCallback(built, failedCallback);

    // Assess
    expect(replay.status).toBe(409);
    expect(replay.body).toMatchObject({ error: { code: 'stale_callback' } });
    expect(built.ports.snapshot()).toEqual(before);

    // The partner's answer to the current attempt is taken.
    const current = signedCallback({
      nonce: callbackNonceFor(redriven ?? { taskId: '', attempts: 0 }),
      status: 'done',
      deletedCount: 2,
    });
    expect(await postCallback(built, current)).toMatchObject({ status: 200, body: { status: 'verified' } });
    expect(built.ports.state.requests.get(REQUEST_ID)?.status).toBe('completed');
  });

  it('refuses a callback without a nonce with 400 naming it', async () => {
    // Prepare
    const { built } = await seeded(awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1) }));
    const before = built.ports.snapshot();

    // Act
    const response = await postCallback(built, signedCallback({ status: 'failed' }));

    // Assess
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { field: 'nonce' } });
    expect(built.ports.snapshot()).toEqual(before);
  });
});

describe('a callback answers a task that was asked', () => {
  it('refuses a signed `failed` for a task that is pending (held back, not asked now) with 409, changing nothing', async () => {
    // Prepare: attempt 1 started, then a hold put the task back to pending.
    const { built } = await seeded(awaiting({ status: 'pending', awaitingCallback: undefined }));
    const before = built.ports.snapshot();

    // Act
    const response = await postCallback(
      built,
      signedCallback({ nonce: callbackNonceFor({ taskId: 'task_webhook', attempts: 1 }), status: 'failed' }),
    );

    // Assess
    expect(response.status).toBe(409);
    expect(built.ports.snapshot()).toEqual(before);
  });

  it("keeps a reported reason that is a code, and not the service's free text, which may name people", async () => {
    const code = await seeded(awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1) }));
    const prose = await seeded(awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1) }));
    const nonce = callbackNonceFor({ taskId: 'task_webhook', attempts: 1 });

    await postCallback(
      code.built,
      signedCallback({ nonce, status: 'failed', error: 'contract-records-kept' }),
    );
    await postCallback(
      prose.built,
      signedCallback({ nonce, status: 'failed', error: 'customer john.smith@example.test John Smith' }),
    );

    expect(storedTask(code.built)?.error).toBe('Reported by partner-services: contract-records-kept');
    expect(storedTask(prose.built)?.error).toBe(
      'Reported by partner-services: (a free-text reason, not kept: it may name people)',
    );
    expect(JSON.stringify(prose.built.ports.snapshot())).not.toContain('john.smith');
  });

  it("keeps no reason code that carries the subject id or one of the task's identifier values", async () => {
    const bySerial = await seeded(
      awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1), identifiers: { deviceId: ['CAM-00A1'] } }),
    );
    const byId = await seeded(awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1) }));
    const byFoldedSerial = await seeded(
      awaiting({ startedAt: hoursBefore(HANDLER_NOW, 1), identifiers: { deviceId: ['CAM-00A1'] } }),
    );
    const nonce = callbackNonceFor({ taskId: 'task_webhook', attempts: 1 });

    await postCallback(
      bySerial.built,
      signedCallback({ nonce, status: 'failed', error: 'kept-for-cam-00a1' }),
    );
    await postCallback(byId.built, signedCallback({ nonce, status: 'failed', error: `kept:${SUBJECT}` }));
    // The separators taken out: the same rule as for reasons.
    await postCallback(
      byFoldedSerial.built,
      signedCallback({ nonce, status: 'failed', error: 'kept-cam00a1' }),
    );

    for (const { built } of [bySerial, byId, byFoldedSerial]) {
      expect(storedTask(built)?.status).toBe('failed');
      expect(storedTask(built)?.error).toBe(
        'Reported by partner-services: (a reason naming the subject or its identifiers, not kept)',
      );
    }
  });
});
