/**
 * The API handler (functions/api.ts) with the real router, route handlers and services, over the
 * in-memory ports (test/helpers/in-memory.ts): authorisation, routing, the 4xx that name their
 * field, and the opaque 500. What a request writes when it succeeds is
 * test/integration/pipeline.test.ts's job; here we pin down what it must NOT write (or even read)
 * when it fails: the state, the audit trail and the queue are compared before and after.
 */
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { chainEntry, pseudonymise } from '../../domain/audit/index.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import type { ExportInvocation } from '../../domain/connectors/types.js';
import { callbackNonceFor } from '../../domain/erasure/index.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import type { AuditRecord, Change, RequestStore } from '../../domain/ports/index.js';
import { ConnectorRetryableError } from '../../functions/connectors/errors.js';
import type { ConnectorPlugin, ConnectorRegistry, TargetLike } from '../../functions/connectors/registry.js';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { bearer, callApi, nothingWrittenSince, watchPorts } from '../helpers/api-handler.js';
import {
  type ApiCall,
  HANDLER_NOW,
  HANDLER_PSEUDONYM_KEY,
  HANDLER_TOKENS,
  HANDLER_WEBHOOK_SECRET,
  type HandlerDeps,
  type HandlerDepsOptions,
  handlerDeps,
} from '../helpers/handler-deps.js';

const REQUEST_ID = 'api-request-id-1';
const SUBJECT = 'subject-7f3a';
const CHAIN_ID = pseudonymise(HANDLER_PSEUDONYM_KEY, SUBJECT);

const call = (request: ApiCall, built: HandlerDeps = handlerDeps()) => callApi(built, request);

const watched = (options: HandlerDepsOptions = {}) => watchPorts(handlerDeps(options));

const lifecycleEvent = (overrides: Record<string, unknown> = {}) => ({
  subjectId: SUBJECT,
  type: 'account.suspended',
  occurredAt: '2026-11-20T09:00:00.000Z',
  ...overrides,
});

const erasureRequest = (overrides: Record<string, unknown> = {}) => ({
  subjectId: SUBJECT,
  dataClasses: ['suspended-account'],
  reason: 'gdpr-art17-request',
  ...overrides,
});

const IDEMPOTENCY = { 'Idempotency-Key': 'client-key-0001' };

describe('API handler: bearer tokens (local runtime)', () => {
  it('answers 401 without a token, and touches no table', async () => {
    // Prepare
    const built = watched();
    const nothingWritten = nothingWrittenSince(built.ports);
    const request: ApiCall = { method: 'POST', path: '/v1/lifecycle-events', body: lifecycleEvent() };

    // Act
    const response = await call(request, built);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body?.error?.code).toBe('unauthorized');
    expect(built.touched).toEqual([]);
    nothingWritten();
  });

  it.each([
    ['an unknown token', 'Bearer not-a-known-token'],
    ['a known token in the wrong scheme', `Basic ${HANDLER_TOKENS.service}`],
    ['an empty bearer token', 'Bearer '],
  ])('answers 401 for %s', async (_name, authorization) => {
    // Prepare
    const built = watched();
    const nothingWritten = nothingWrittenSince(built.ports);
    const request: ApiCall = {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: { authorization },
      body: lifecycleEvent(),
    };

    // Act
    const response = await call(request, built);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body?.error?.code).toBe('unauthorized');
    expect(built.touched).toEqual([]);
    nothingWritten();
  });

  it('answers 403 when the service token calls a compliance route', async () => {
    // Prepare
    const built = watched();
    const nothingWritten = nothingWrittenSince(built.ports);
    const request: ApiCall = {
      method: 'GET',
      path: '/v1/audit',
      headers: bearer('service'),
      query: { subjectId: SUBJECT },
    };

    // Act
    const response = await call(request, built);

    // Assess
    expect(response.status).toBe(403);
    expect(response.body?.error).toMatchObject({ code: 'forbidden' });
    expect(response.body?.error?.message).toContain('GET /v1/audit');
    expect(built.touched).toEqual([]);
    nothingWritten();
  });

  it('lets the compliance token read the audit trail, by pseudonym and without storage attributes', async () => {
    // Prepare: one entry on the subject's chain, one on another subject's.
    const built = handlerDeps();
    const received = (requestId: string): AuditEvent => ({
      type: 'request.received',
      at: HANDLER_NOW,
      idempotencyKey: `request:${requestId}:received`,
      requestId,
    });
    const seeded = await built.ports.uow.commit(
      [],
      [
        { event: received('req_1'), subjectId: SUBJECT },
        { event: received('req_2'), subjectId: 'subject-other' },
      ],
    );
    expect(seeded).toEqual({ committed: true });
    const entry = chainEntry(undefined, received('req_1'), CHAIN_ID, CHAIN_ID);
    const request: ApiCall = {
      method: 'GET',
      path: '/v1/audit',
      headers: { Authorization: `Bearer ${HANDLER_TOKENS.compliance}` },
      query: { subjectId: SUBJECT },
    };

    // Act
    const response = await call(request, built);

    // Assess: the subject's chain only (found by its pseudonym), exactly the chained entries.
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ entries: [entry] });
    expect(built.ports.state.chains.get(CHAIN_ID)).toEqual([entry]);
    expect(response.raw).not.toContain(SUBJECT);
    expect(JSON.stringify(built.ports.allEntries())).not.toContain(SUBJECT);
  });
});

describe('API handler: the signed task callback', () => {
  const TASK_ID = 'task_partner1';
  const ERASURE_REQUEST_ID = 'req_partner1';
  const waitingTask: ErasureTask = {
    taskId: TASK_ID,
    requestId: ERASURE_REQUEST_ID,
    subjectId: SUBJECT,
    dataClass: 'closed-account',
    action: 'delete',
    target: 'partner-services',
    connector: 'http-webhook',
    status: 'running',
    attempts: 1,
    affectedCount: 0,
    startedAt: '2026-11-21T11:00:00.000Z',
    awaitingCallback: true,
  };
  const dispatchedRequest: ErasureRequest = {
    requestId: ERASURE_REQUEST_ID,
    subjectId: SUBJECT,
    origin: 'api',
    dataClasses: ['closed-account'],
    reason: 'gdpr-art17-request',
    status: 'dispatched',
    receivedAt: '2026-11-21T10:59:00.000Z',
    deadline: '2026-12-21T10:59:00.000Z',
    dispatchedAt: '2026-11-21T10:59:00.000Z',
    taskCount: 1,
    verifiedCount: 0,
    failedCount: 0,
  };
  const nonce = callbackNonceFor(waitingTask);
  const body = JSON.stringify({ taskId: TASK_ID, nonce, status: 'done', deletedCount: 3 });
  const nowSeconds = Math.floor(Date.parse(HANDLER_NOW) / 1000);
  let built: HandlerDeps;

  beforeEach(async () => {
    // A dispatched request whose one task (the partner webhook) is waiting for its callback.
    built = handlerDeps();
    const seeded = await built.ports.uow.commit([
      { kind: 'request.create', request: dispatchedRequest, tasks: [waitingTask] },
    ]);
    expect(seeded).toEqual({ committed: true });
  });

  const storedTask = () => [...built.ports.state.tasks.values()].find((task) => task.taskId === TASK_ID);

  it('needs no bearer token: a valid signature is the proof', async () => {
    // Prepare
    const request: ApiCall = {
      method: 'POST',
      path: `/v1/tasks/${TASK_ID}/callback`,
      headers: { 'X-Erasure-Signature': signPayload(HANDLER_WEBHOOK_SECRET, body, nowSeconds) },
      body,
    };

    // Act
    const response = await call(request, built);

    // Assess: the reported count is kept, the task verified and its request settled.
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ taskId: TASK_ID, status: 'verified' });
    expect(storedTask()).toMatchObject({ status: 'verified', affectedCount: 3 });
    expect(built.ports.state.requests.get(ERASURE_REQUEST_ID)).toMatchObject({
      status: 'completed',
      verifiedCount: 1,
      failedCount: 0,
    });
    const audited = built.ports.allEntries();
    expect(audited.map((entry) => entry.type)).toEqual(
      // Done and verified by the signed answer: one entry, with the count the service reported.
      expect.arrayContaining(['task.verified']),
    );
    expect(audited.find((entry) => entry.type === 'task.verified')?.detail).toMatchObject({
      affectedCount: 3,
      viaCallback: true,
    });
    expect(audited.every((entry) => entry.chainId === CHAIN_ID)).toBe(true);
    expect(JSON.stringify(audited)).not.toContain(SUBJECT);
  });

  it('refuses a validly signed callback of another task (a replay) with a 400 naming taskId, writing nothing', async () => {
    // Prepare
    const nothingWritten = nothingWrittenSince(built.ports);
    const replayed = JSON.stringify({ taskId: 'task_other', nonce, status: 'done', deletedCount: 3 });
    const request: ApiCall = {
      method: 'POST',
      path: `/v1/tasks/${TASK_ID}/callback`,
      headers: { 'X-Erasure-Signature': signPayload(HANDLER_WEBHOOK_SECRET, replayed, nowSeconds) },
      body: replayed,
    };

    // Act
    const response = await call(request, built);

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('taskId');
    nothingWritten();
    expect(storedTask()).toEqual(waitingTask);
  });

  it('answers 401 to a bad signature and writes nothing, bearer token or not', async () => {
    // Prepare
    const nothingWritten = nothingWrittenSince(built.ports);
    const request: ApiCall = {
      method: 'POST',
      path: `/v1/tasks/${TASK_ID}/callback`,
      headers: {
        ...bearer('service'),
        'X-Erasure-Signature': signPayload('some-other-secret-value', body, nowSeconds),
      },
      body,
    };

    // Act
    const response = await call(request, built);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body?.error?.message).toContain('X-Erasure-Signature');
    nothingWritten();
    expect(storedTask()).toEqual(waitingTask);
  });
});

describe('API handler: routing', () => {
  it('answers 404 for a path no route has', async () => {
    // Prepare
    const built = watched();

    // Act
    const response = await call(
      { method: 'GET', path: '/v1/nothing-here', headers: bearer('service') },
      built,
    );

    // Assess
    expect(response.status).toBe(404);
    expect(response.body?.error?.code).toBe('not_found');
    expect(response.headers).toMatchObject({ 'x-request-id': REQUEST_ID });
    expect(built.touched).toEqual([]);
  });

  it('never repeats the path of an unknown or refused route: it can carry a subject id', async () => {
    const built = watched();

    const unknown = await call(
      { method: 'GET', path: '/v1/subjects/alice@example.com/schedul', headers: bearer('service') },
      built,
    );
    const refused = await call(
      { method: 'DELETE', path: '/v1/subjects/alice@example.com/schedule', headers: bearer('service') },
      built,
    );

    expect(unknown.status).toBe(404);
    expect(refused.status).toBe(405);
    expect(JSON.stringify([unknown.body, refused.body])).not.toContain('alice');
    expect(refused.body?.error?.message).toBe('DELETE is not allowed on /v1/subjects/{subjectId}/schedule');
  });

  it.each([
    ['DELETE', '/v1/lifecycle-events'],
    ['PUT', '/healthz'],
    ['GET', '/v1/legal-holds/hold-1'],
  ])('answers 405 for %s %s', async (method, path) => {
    // Prepare
    const built = watched();
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call({ method, path, headers: bearer('compliance') }, built);

    // Assess
    expect(response.status).toBe(405);
    expect(response.body?.error?.code).toBe('method_not_allowed');
    expect(built.touched).toEqual([]);
    nothingWritten();
  });

  it('matches a route with a trailing slash and decodes path parameters', async () => {
    // Prepare: a schedule for the decoded id, so only the decoded id can find it.
    const built = handlerDeps();
    await recordLifecycleEvent(built.deps, {
      subjectId: 'user@example.com',
      type: 'account.suspended',
      occurredAt: '2026-11-20T09:00:00.000Z',
      attributes: {},
    });

    // Act
    const response = await call(
      {
        method: 'GET',
        path: '/v1/subjects/user%40example.com/schedule/',
        headers: bearer('service'),
      },
      built,
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      subjectId: 'user@example.com',
      pending: [expect.objectContaining({ dataClass: 'suspended-account', status: 'pending' })],
    });
  });

  it('decodes a base64-encoded body before parsing it', async () => {
    // Prepare
    const built = handlerDeps();

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/lifecycle-events',
        headers: bearer('service'),
        body: lifecycleEvent(),
        base64: true,
      },
      built,
    );

    // Assess: accepted, and the decoded event is what was recorded.
    expect(response.status).toBe(202);
    expect(built.ports.state.subjects.has(SUBJECT)).toBe(true);
  });

  it('answers a path parameter that is not valid percent-encoding with a 400 naming it, not a 500', async () => {
    // Prepare: a client sends a subject id with a bare `%` (`50%off`) without encoding it.
    const built = watched();

    // Act
    const response = await call(
      { method: 'GET', path: '/v1/subjects/50%off/schedule', headers: bearer('service') },
      built,
    );

    // Assess: the client's mistake, so a 4xx naming the parameter; a 500 would page an operator.
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('subjectId');
    expect(built.logs.filter((line) => line.level === 'error')).toEqual([]);
    expect(built.touched).toEqual([]);
  });
});

describe('API handler: a 400 names the field and the request writes nothing', () => {
  it('refuses a body that is not JSON, naming `body`', async () => {
    // Prepare
    const built = handlerDeps();
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/lifecycle-events',
        headers: bearer('service'),
        body: '{"subjectId": "subject-7f3a",',
      },
      built,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'body' });
    nothingWritten();
  });

  it.each([
    ['an unknown event type', { type: 'account.vanished' }, 'type'],
    ['a date without a time', { occurredAt: '2026-11-20' }, 'occurredAt'],
    ['a time without a zone', { occurredAt: '2026-11-20T09:00:00' }, 'occurredAt'],
    ['a time far in the future', { occurredAt: '2026-11-25T00:00:00.000Z' }, 'occurredAt'],
    ['a subject id with a space', { subjectId: 'subject 7f3a' }, 'subjectId'],
    ['a missing subject id', { subjectId: undefined }, 'subjectId'],
    ['a non-string attribute', { attributes: { jurisdiction: 46 } }, 'attributes.jurisdiction'],
  ])('refuses a lifecycle event with %s', async (_name, overrides, field) => {
    // Prepare
    const built = handlerDeps();
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/lifecycle-events',
        headers: bearer('service'),
        body: lifecycleEvent(overrides),
      },
      built,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    nothingWritten();
  });

  it('accepts the same lifecycle event when it is valid (the control for the cases above)', async () => {
    // Prepare
    const built = handlerDeps();

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/lifecycle-events',
        headers: bearer('service'),
        body: lifecycleEvent(),
      },
      built,
    );

    // Assess: the schedule and its audit entry were committed together.
    expect(response.status).toBe(202);
    expect(
      built.ports.commits.map((commit) => [commit.changes.map((change) => change.kind), commit.result]),
    ).toEqual([[['schedule.save'], { committed: true }]]);
    expect(built.ports.state.subjects.get(SUBJECT)).toMatchObject({ version: 1 });
    expect(built.ports.allEntries().map((entry) => entry.type)).toEqual(['lifecycle.recorded']);
    expect(JSON.stringify(built.ports.allEntries())).not.toContain(SUBJECT);
  });

  it.each([
    ['an offset other than Z', '2026-11-20T10:00:00+01:00'],
    ['the basic format', '20261120T090000Z'],
  ])('accepts an occurredAt in %s: the instant rule is the domain one', async (_name, occurredAt) => {
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: lifecycleEvent({ occurredAt }),
    });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body?.decisions).toEqual([
      expect.objectContaining({ dataClass: 'suspended-account', dueAt: '2027-02-20T09:00:00.000Z' }),
    ]);
  });

  it.each([
    ['an unknown data class', {}, { dataClasses: ['suspended-account', 'biometrics'] }, 'dataClasses[1]'],
    ['an empty data class list', {}, { dataClasses: [] }, 'dataClasses'],
    ['a reason with spaces', {}, { reason: 'the customer asked us' }, 'reason'],
    ['a reason in upper case', {}, { reason: 'GDPR-ART17' }, 'reason'],
    ['no Idempotency-Key header', { 'Idempotency-Key': undefined }, {}, 'Idempotency-Key'],
    ['a short Idempotency-Key', { 'Idempotency-Key': 'short' }, {}, 'Idempotency-Key'],
  ])('refuses an erasure request with %s', async (_name, headerOverrides, bodyOverrides, field) => {
    // Prepare
    const built = handlerDeps();
    const nothingWritten = nothingWrittenSince(built.ports);
    const headers = Object.fromEntries(
      Object.entries({ ...bearer('service'), ...IDEMPOTENCY, ...headerOverrides }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/erasure-requests',
        headers,
        body: erasureRequest(bodyOverrides),
      },
      built,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    nothingWritten();
  });

  it('accepts the same erasure request when it is valid (the control for the cases above)', async () => {
    // Prepare
    const built = handlerDeps();

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/erasure-requests',
        headers: { ...bearer('service'), ...IDEMPOTENCY },
        body: erasureRequest(),
      },
      built,
    );

    // Assess: no hold covers it, so the request, its tasks and the key are stored dispatched in one
    // commit (received and dispatched entries with it); then the tasks queued.
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'dispatched' });
    const requestId = response.body?.requestId as string;
    const { ports } = built;
    expect(
      ports.commits.map((commit) => [commit.changes.map((change) => change.kind), commit.result]),
    ).toEqual([[['request.create'], { committed: true }]]);
    expect(ports.commits[0]?.audit.map((record) => record.event.type)).toEqual([
      'request.received',
      'request.dispatched',
    ]);
    expect(ports.state.requests.get(requestId)).toMatchObject({ status: 'dispatched', taskCount: 2 });
    expect(ports.state.idempotency.get(IDEMPOTENCY['Idempotency-Key'])).toMatchObject({ requestId });
    const tasks = [...ports.state.tasks.values()];
    expect(tasks.map((task) => task.target).sort()).toEqual(['customer-records', 'user-files']);
    expect(ports.sent).toHaveLength(tasks.length);
    expect(ports.sent).toEqual(
      expect.arrayContaining(tasks.map((task) => ({ taskId: task.taskId, requestId }))),
    );
    expect(ports.allEntries().map((entry) => entry.type)).toEqual(['request.received', 'request.dispatched']);
    expect(JSON.stringify(ports.allEntries())).not.toContain(SUBJECT);
    expect(JSON.stringify(ports.sent)).not.toContain(SUBJECT);
  });

  it('refuses a legal hold whose `until` is not an instant, naming `until`', async () => {
    // Prepare
    const built = handlerDeps();
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/legal-holds',
        headers: bearer('compliance'),
        body: { subjectId: SUBJECT, reason: 'tax-audit-2026', until: 'next year' },
      },
      built,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'until' });
    nothingWritten();
  });
});

describe('API handler: unknown errors', () => {
  /** A storage failure whose message names the subject and the table, as an SDK error may. */
  const leakyError = () =>
    new InternalServerError({
      message: `Internal failure writing request#${SUBJECT} to erasure-orchestrator-requests`,
      $metadata: { httpStatusCode: 500 },
    });

  it('answers a storage failure with an opaque 500 that carries the request id, not the error', async () => {
    // Prepare
    const built = handlerDeps();
    built.ports.beforeCommit = () => {
      throw leakyError();
    };

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/erasure-requests',
        headers: { ...bearer('service'), ...IDEMPOTENCY },
        body: erasureRequest(),
        requestId: 'req-id-500',
      },
      built,
    );

    // Assess
    expect(response.status).toBe(500);
    expect(response.body?.error?.code).toBe('internal_error');
    expect(response.raw).toContain('req-id-500');
    expect(response.headers).toMatchObject({ 'x-request-id': 'req-id-500' });
    expect(response.raw).not.toContain('Internal failure');
    expect(response.raw).not.toContain(SUBJECT);
    expect(response.raw).not.toContain('InternalServerError');
    const errors = built.logs.filter((line) => line.level === 'error');
    expect(errors).toEqual([
      expect.objectContaining({
        extra: expect.objectContaining({
          requestId: 'req-id-500',
          route: 'POST /v1/erasure-requests',
          errorName: 'InternalServerError',
        }),
      }),
    ]);
    expect(JSON.stringify(built.logs)).not.toContain(SUBJECT);
    expect(JSON.stringify(built.logs)).not.toContain('Internal failure');
  });

  it('leaves nothing half-written when the request commit fails: no audit, no dispatch, no messages', async () => {
    // Prepare: record each commit attempted, then fail it.
    const built = handlerDeps();
    const nothingWritten = nothingWrittenSince(built.ports);
    const attempts: { changes: readonly Change[]; audit: readonly AuditRecord[] }[] = [];
    built.ports.beforeCommit = (changes, audit) => {
      attempts.push({ changes, audit });
      throw leakyError();
    };

    // Act
    const response = await call(
      {
        method: 'POST',
        path: '/v1/erasure-requests',
        headers: { ...bearer('service'), ...IDEMPOTENCY },
        body: erasureRequest(),
      },
      built,
    );

    // Assess: the one commit (request + tasks + idempotency key, with its audit) was tried, nothing else.
    expect(response.status).toBe(500);
    nothingWritten();
    expect(built.ports.allEntries()).toEqual([]);
    expect(attempts).toHaveLength(1);
    const [attempt] = attempts;
    expect(attempt?.changes).toHaveLength(1);
    const [change] = attempt?.changes ?? [];
    expect(change?.kind).toBe('request.create');
    if (change?.kind !== 'request.create') throw new Error('expected a request.create');
    expect(change.tasks).toHaveLength(2);
    expect(change.idempotency).toMatchObject({ key: IDEMPOTENCY['Idempotency-Key'] });
    expect(attempt?.audit.map((record) => record.event.type)).toEqual([
      'request.received',
      'request.dispatched',
    ]);
  });

  it('answers a failing read with a 500 too, not a 4xx', async () => {
    // Prepare: every read of the request store fails.
    const fail = () => Promise.reject(leakyError());
    const failingRequests: RequestStore = {
      get: fail,
      getTask: fail,
      requestIdOfTask: fail,
      idempotencyRecord: fail,
      holdIdempotencyRecord: fail,
      reviewDue: fail,
      deferReview: fail,
      deadlineCounts: fail,
    };
    const built = handlerDeps({ overrides: { requests: failingRequests } });

    // Act
    const response = await call(
      {
        method: 'GET',
        path: '/v1/erasure-requests/req_0001',
        headers: bearer('compliance'),
      },
      built,
    );

    // Assess
    expect(response.status).toBe(500);
    expect(response.body?.error?.code).toBe('internal_error');
    expect(response.raw).toContain(REQUEST_ID);
    expect(response.raw).not.toContain('Internal failure');
    expect(built.logs.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({
        extra: expect.objectContaining({
          requestId: REQUEST_ID,
          route: 'GET /v1/erasure-requests/{requestId}',
          errorName: 'InternalServerError',
        }),
      }),
    ]);
    expect(JSON.stringify(built.logs)).not.toContain(SUBJECT);
  });
});

describe('API handler: IAM mode', () => {
  const iam = () => watched({ auth: 'iam' });

  it('needs no Authorization header: API Gateway already authorised the caller', async () => {
    // Act
    const response = await call({ method: 'GET', path: '/v1/audit/public-keys' }, iam());

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ keys: [{ algorithm: 'ECDSA_SHA_256' }] });
  });

  it('ignores a bearer token it does not know', async () => {
    // Act
    const response = await call(
      { method: 'GET', path: '/healthz', headers: { authorization: 'Bearer from-somewhere-else' } },
      iam(),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
  });

  it('still validates input', async () => {
    // Prepare
    const built = iam();
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call(
      { method: 'POST', path: '/v1/lifecycle-events', body: lifecycleEvent({ type: 'nope' }) },
      built,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('type');
    nothingWritten();
  });

  it('refuses a sweep for a future instant: in a deployment it would run deletions early', async () => {
    // Prepare: a deployment (settings.sweepsMayRunAhead absent).
    const built = iam();
    expect(built.deps.settings.sweepsMayRunAhead).toBeUndefined();
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act: three hours ahead, enough to erase a suspended account before a restore due in two.
    const ahead = new Date(built.deps.clock().getTime() + 3 * 3_600_000).toISOString();
    const response = await call({ method: 'POST', path: '/v1/sweeps', body: { now: ahead } }, built);

    // Assess: refused before the due index was even read.
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('now');
    expect(built.touched).toEqual([]);
    nothingWritten();
  });
});

describe('API handler: the export route (ALU-6)', () => {
  const exportPath = `/v1/subjects/${SUBJECT}/export`;

  /** A registry whose connectors export one record per target, except webhooks, which cannot. */
  const exportingRegistry = (fail?: Error): ConnectorRegistry & { readonly exported: string[] } => {
    const exported: string[] = [];
    const refuse = () => Promise.reject(new Error('erasure is not used by exports'));
    const plugin = (kind: string): ConnectorPlugin => ({
      kind,
      execute: refuse,
      verify: refuse,
      ...(kind === 'http-webhook'
        ? {}
        : {
            export: async (target: TargetLike, invocation: ExportInvocation) => {
              if (fail !== undefined) throw fail;
              exported.push(target.name);
              return { records: [{ from: target.name, subjectId: invocation.subjectId }], truncated: false };
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

  it.each([
    ['an unknown data class', { dataClasses: ['cloud-video', 'no-such-class'] }, SUBJECT, 'dataClasses[1]'],
    ['an empty data class list', { dataClasses: [] }, SUBJECT, 'dataClasses'],
    ['data classes that are not a list', { dataClasses: 'cloud-video' }, SUBJECT, 'dataClasses'],
    ['a subject id with a space', {}, 'subject%207f3a', 'subjectId'],
  ])(
    'refuses %s with a 400 naming the field, reading and writing nothing',
    async (_name, body, subject, field) => {
      // Prepare
      const registry = exportingRegistry();
      const built = watched({ overrides: { connectors: registry } });
      const nothingWritten = nothingWrittenSince(built.ports);

      // Act
      const response = await call(
        { method: 'POST', path: `/v1/subjects/${subject}/export`, headers: bearer('compliance'), body },
        built,
      );

      // Assess
      expect(response.status).toBe(400);
      expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
      expect(registry.exported).toEqual([]);
      expect(built.touched).toEqual([]);
      nothingWritten();
    },
  );

  it('answers 401 without a token and exports nothing', async () => {
    // Prepare
    const registry = exportingRegistry();
    const built = watched({ overrides: { connectors: registry } });
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call({ method: 'POST', path: exportPath, body: {} }, built);

    // Assess
    expect(response.status).toBe(401);
    expect(registry.exported).toEqual([]);
    expect(built.touched).toEqual([]);
    nothingWritten();
  });

  it('reads each target of the requested classes once, reports unsupported ones, and audits counts only', async () => {
    // Prepare
    const registry = exportingRegistry();
    const built = handlerDeps({ overrides: { connectors: registry } });
    const before = built.ports.snapshot();

    // Act: closed-account names all five example targets; business-contact two of them again.
    const response = await call(
      {
        method: 'POST',
        path: exportPath,
        headers: bearer('service'),
        body: { dataClasses: ['closed-account', 'business-contact'] },
      },
      built,
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      format: 'erasure-orchestrator.export.v1',
      subjectId: SUBJECT,
      generatedAt: HANDLER_NOW,
      dataClasses: ['closed-account', 'business-contact'],
    });
    const sources = response.body?.sources as { target: string; supported: boolean; dataClasses: string[] }[];
    expect(new Set(sources.map((source) => source.target)).size).toBe(sources.length);
    expect(sources.find((source) => source.target === 'partner-services')).toMatchObject({
      supported: false,
      records: [],
      dataClasses: ['closed-account', 'business-contact'],
    });
    expect(registry.exported.sort()).toEqual(
      sources
        .filter((source) => source.supported)
        .map((source) => source.target)
        .sort(),
    );
    // One audit entry on the subject's chain (one commit, no state change), without the subject
    // id or the exported data.
    expect(built.ports.commits).toEqual([
      expect.objectContaining({ changes: [], result: { committed: true } }),
    ]);
    expect({ ...built.ports.state, chains: new Map(), markers: new Set() }).toEqual({
      ...before,
      chains: new Map(),
      markers: new Set(),
    });
    const audited = built.ports.allEntries();
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      type: 'export.generated',
      chainId: CHAIN_ID,
      detail: { 'partner-services.supported': false },
    });
    const written = JSON.stringify(audited);
    expect(written).not.toContain(SUBJECT);
    expect(written).not.toContain('"from"');
    expect(built.ports.sent).toEqual([]);
  });

  it('answers a failing source with 503 naming the target, not the subject, and audits nothing', async () => {
    // Prepare
    const registry = exportingRegistry(
      new ConnectorRetryableError("S3 ListObjectsV2 failed for target 'cloud-video': SlowDown", {
        target: 'cloud-video',
      }),
    );
    const built = handlerDeps({ overrides: { connectors: registry } });
    const nothingWritten = nothingWrittenSince(built.ports);

    // Act
    const response = await call(
      {
        method: 'POST',
        path: exportPath,
        headers: bearer('compliance'),
        body: { dataClasses: ['cloud-video'] },
      },
      built,
    );

    // Assess
    expect(response.status).toBe(503);
    expect(response.body?.error).toMatchObject({ code: 'source_unavailable' });
    expect(response.raw).toContain('cloud-video');
    expect(response.raw).not.toContain(SUBJECT);
    nothingWritten();
    expect(built.ports.allEntries()).toEqual([]);
  });
});
