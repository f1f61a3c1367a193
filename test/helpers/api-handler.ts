/**
 * Calling the API handler (functions/api.ts) on the in-memory ports, for the handler tests that
 * check what a refused request must not do: the state, the audit trail and the queue are compared
 * before and after.
 */
import { expect } from 'vitest';
import { callbackNonceFor, type ErasureRequest, receiveRequest } from '../../domain/erasure/index.js';
import type { ErrorBody } from '../../functions/api/types.js';
import { makeHandler } from '../../functions/api.js';
import type { ConnectorPlugin, ConnectorRegistry, TargetLike } from '../../functions/connectors/registry.js';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import { makeHandler as makeCertificateHandler } from '../../functions/render-certificate.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { runConnectorTask } from '../../functions/services/run-task.js';
import { functionServing } from '../../functions/shared/routes.js';
import {
  type ApiCall,
  apiEvent,
  HANDLER_NOW,
  HANDLER_TOKENS,
  HANDLER_WEBHOOK_SECRET,
  type HandlerDeps,
  handlerDeps,
  lambdaContext,
} from './handler-deps.js';
import type { InMemoryPorts } from './in-memory.js';

/** An error body (`ErrorBody`) or any answer whose fields a test reads one by one. */
export type ApiBody = Partial<ErrorBody> & { readonly [key: string]: unknown };

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, unknown> | undefined;
  /** The body as the handler gave it (base64 for a binary answer, see `base64`). */
  readonly raw: string;
  /** The parsed body of a JSON answer. */
  readonly body: ApiBody | undefined;
  /** Whether the body is base64 (a binary answer: API Gateway decodes it for the client). */
  readonly base64: boolean;
}

/** The `Authorization` header of a role's test token. */
export const bearer = (role: keyof typeof HANDLER_TOKENS) => ({
  authorization: `Bearer ${HANDLER_TOKENS[role]}`,
});

/**
 * One call through the Lambda handler of the function that serves its route (functions/api.ts or
 * functions/render-certificate.ts), as API Gateway would make it.
 */
export const callApi = async (built: HandlerDeps, request: ApiCall): Promise<ApiAnswer> => {
  const event = apiEvent(request);
  const handler =
    functionServing(event.requestContext.http.method, event.rawPath) === 'certificate'
      ? makeCertificateHandler(() => Promise.resolve(built.deps))
      : makeHandler(() => Promise.resolve(built.deps));
  const result = await handler(event, lambdaContext('erasure-api'));
  return {
    status: result.statusCode ?? 0,
    headers: result.headers,
    raw: result.body ?? '',
    base64: result.isBase64Encoded === true,
    body: (result.body === undefined || result.headers?.['content-type'] !== 'application/json'
      ? undefined
      : JSON.parse(result.body)) as ApiBody | undefined,
  };
};

/**
 * Takes a snapshot of everything stored now; the returned check fails if anything was stored,
 * audited, committed (even a commit whose condition failed), queued or delayed since.
 */
export const nothingWrittenSince = (ports: InMemoryPorts) => {
  const before = ports.snapshot();
  const commits = ports.commits.length;
  const sent = ports.sent.length;
  const delays = ports.delays.length;
  return () => {
    expect(ports.snapshot()).toEqual(before);
    expect(ports.commits.slice(commits)).toEqual([]);
    expect(ports.sent.slice(sent)).toEqual([]);
    expect(ports.delays.slice(delays)).toEqual([]);
  };
};

/**
 * A connector registry that reaches no system: exports answer one record per target (webhooks
 * cannot export), erasures are refused. `exported` lists the targets read, in order.
 */
export const offlineRegistry = (): ConnectorRegistry & { readonly exported: string[] } => {
  const exported: string[] = [];
  const refuse = () => Promise.reject(new Error('the offline registry erases nothing'));
  const plugin = (kind: string): ConnectorPlugin => ({
    kind,
    execute: refuse,
    verify: refuse,
    ...(kind === 'http-webhook'
      ? {}
      : {
          export: async (target: TargetLike) => {
            exported.push(target.name);
            return { records: [{ from: target.name }], truncated: false };
          },
        }),
  });
  return {
    exported,
    connectorFor: (target) => plugin(target.kind),
    execute: refuse,
    verify: refuse,
    expire: refuse,
    register: () => undefined,
    kinds: () => ['s3-prefix', 'dynamodb-items', 'http-webhook'],
  };
};

/** What `seedApiState` stores: one of each thing a route can address. */
export const SEEDED = {
  subjectId: 'subject-7f3a',
  /** Dispatched; its one task waits for the partner webhook's callback. */
  dispatchedRequestId: 'req_partner1',
  waitingTaskId: 'task_partner1',
  /** Partially failed: its one task failed (re-drivable). */
  failedRequestId: 'req_failed1',
  failedTaskId: 'task_failed1',
  holdId: 'hold_seed1',
} as const;

/** The body a partner signs to answer the seeded waiting task (its attempt's nonce included). */
export const seededCallbackBody = (taskId: string = SEEDED.waitingTaskId): string =>
  JSON.stringify({
    taskId,
    nonce: callbackNonceFor({ taskId, attempts: 1 }),
    status: 'done',
    deletedCount: 1,
  });

/**
 * Stores a dispatched request whose webhook task waits for its callback, a partially failed
 * request, an active legal hold, and a schedule with a deletion already due, all of
 * SEEDED.subjectId, so that every route finds something to act on.
 */
export const seedApiState = async (built: HandlerDeps): Promise<void> => {
  const { subjectId } = SEEDED;
  const request = {
    subjectId,
    origin: 'api',
    dataClasses: ['closed-account'],
    reason: 'gdpr-art17-request',
    receivedAt: '2026-11-21T10:59:00.000Z',
    deadline: '2026-12-21T10:59:00.000Z',
    dispatchedAt: '2026-11-21T10:59:00.000Z',
    taskCount: 1,
  } as const;
  const task = {
    subjectId,
    dataClass: 'closed-account',
    action: 'delete',
    attempts: 1,
    affectedCount: 0,
    startedAt: '2026-11-21T11:00:00.000Z',
  } as const;
  const seeded = await built.ports.uow.commit([
    {
      kind: 'request.create',
      request: {
        ...request,
        requestId: SEEDED.dispatchedRequestId,
        status: 'dispatched',
        verifiedCount: 0,
        failedCount: 0,
      },
      tasks: [
        {
          ...task,
          taskId: SEEDED.waitingTaskId,
          requestId: SEEDED.dispatchedRequestId,
          target: 'partner-services',
          connector: 'http-webhook',
          status: 'running',
          awaitingCallback: true,
        },
      ],
    },
    {
      kind: 'request.create',
      request: {
        ...request,
        requestId: SEEDED.failedRequestId,
        status: 'partially_failed',
        completedAt: '2026-11-21T11:30:00.000Z',
        verifiedCount: 0,
        failedCount: 1,
      },
      tasks: [
        {
          ...task,
          taskId: SEEDED.failedTaskId,
          requestId: SEEDED.failedRequestId,
          target: 'user-files',
          connector: 's3-prefix',
          status: 'failed',
          failedAt: '2026-11-21T11:30:00.000Z',
          error: 'AccessDenied',
          errorCode: 'permanent:AccessDenied',
        },
      ],
    },
    {
      kind: 'hold.place',
      hold: {
        holdId: SEEDED.holdId,
        subjectId,
        dataClasses: ['customer-profile'],
        reason: 'litigation-2026-001',
        createdAt: '2026-11-01T00:00:00.000Z',
      },
    },
  ]);
  expect(seeded).toEqual({ committed: true });
  await recordLifecycleEvent(built.deps, {
    subjectId,
    type: 'account.closed',
    occurredAt: '2026-11-20T09:00:00.000Z',
    attributes: {},
  });
};

/**
 * `built` with every port call (reads included) recorded as `port.method`, to show that a refused
 * request touched no storage at all, not merely that it wrote nothing.
 */
export const watchPorts = (built: HandlerDeps): HandlerDeps & { readonly touched: string[] } => {
  const touched: string[] = [];
  const watch = <T extends object>(name: string, port: T): T =>
    new Proxy(port, {
      get: (target, key) => {
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          touched.push(`${name}.${String(key)}`);
          return value.apply(target, args);
        };
      },
    });
  const { deps } = built;
  return {
    ...built,
    touched,
    deps: {
      ...deps,
      requests: watch('requests', deps.requests),
      schedules: watch('schedules', deps.schedules),
      holds: watch('holds', deps.holds),
      ...(deps.reports === undefined ? {} : { reports: watch('reports', deps.reports) }),
      audit: watch('audit', deps.audit),
      uow: watch('uow', deps.uow),
      queue: watch('queue', deps.queue),
    },
  };
};

/**
 * The seeded state with the waiting task's signed callback answered: its request completed, so a
 * certificate can be issued for it (the certificate tests start here).
 */
export const seedCompletedRequest = async (
  options: { readonly unaddressed?: ErasureRequest['unaddressed'] } = {},
): Promise<HandlerDeps> => {
  const built = handlerDeps();
  await seedApiState(built);
  // The request's receipt as intake records it (its request.received entry), so that every fact a
  // certificate states has the anchored entry it is checked against.
  const seeded = built.ports.state.requests.get(SEEDED.dispatchedRequestId) as ErasureRequest;
  const request =
    options.unaddressed === undefined ? seeded : { ...seeded, unaddressed: options.unaddressed };
  built.ports.state.requests.set(request.requestId, request);
  const received = receiveRequest({
    requestId: request.requestId,
    subjectId: request.subjectId,
    origin: request.origin,
    dataClasses: request.dataClasses,
    reason: request.reason,
    receivedAt: request.receivedAt,
    taskCount: request.taskCount,
    ...(request.unaddressed === undefined ? {} : { unaddressed: request.unaddressed }),
  });
  expect(await built.ports.uow.commit([], [{ event: received.audit, subjectId: request.subjectId }])).toEqual(
    {
      committed: true,
    },
  );
  expect((await sendSeededCallback(built)).status).toBe(200);
  return built;
};

/** The partner's signed `done` callback for the seeded waiting task, as the partner sends it. */
export const sendSeededCallback = (built: HandlerDeps) => {
  const body = seededCallbackBody();
  return callApi(built, {
    method: 'POST',
    path: `/v1/tasks/${SEEDED.waitingTaskId}/callback`,
    body,
    headers: {
      'X-Erasure-Signature': signPayload(
        HANDLER_WEBHOOK_SECRET,
        body,
        Math.floor(Date.parse(HANDLER_NOW) / 1000),
      ),
    },
  });
};

/** `POST /v1/erasure-requests` as a service sends it, with its Idempotency-Key. */
export const submitErasure = (built: HandlerDeps, body: Record<string, unknown>, key: string) =>
  callApi(built, {
    method: 'POST',
    path: '/v1/erasure-requests',
    headers: { ...bearer('service'), 'Idempotency-Key': key },
    body,
  });

/** Runs every queued task message once, as the worker would. */
export const drainTasks = async (built: HandlerDeps): Promise<void> => {
  for (const message of built.ports.sent.splice(0)) await runConnectorTask(built.deps, message, 1);
};
