/**
 * The API handler (functions/api.ts) with the real router, route handlers, services and DynamoDB/SQS
 * adapters, over mocked SDK clients: authorisation, routing, the 4xx that name their field, and the
 * opaque 500. What a request writes when it succeeds is test/integration/pipeline.test.ts's job;
 * here we pin down what it must NOT write when it fails, which the emulators cannot show cheaply.
 */
import { InternalServerError } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainEntry, pseudonymise } from '../../domain/audit/index.js';
import type { ExportInvocation } from '../../domain/connectors/types.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { ErrorBody } from '../../functions/api/types.js';
import { makeHandler } from '../../functions/api.js';
import { ConnectorRetryableError } from '../../functions/connectors/errors.js';
import type { ConnectorPlugin, ConnectorRegistry, TargetLike } from '../../functions/connectors/registry.js';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import {
  type ApiCall,
  apiEvent,
  HANDLER_NOW,
  HANDLER_PSEUDONYM_KEY,
  HANDLER_TABLES,
  HANDLER_TOKENS,
  HANDLER_WEBHOOK_SECRET,
  type HandlerDeps,
  handlerDeps,
  lambdaContext,
} from '../helpers/handler-deps.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

beforeEach(() => {
  // An empty table and a queue that accepts everything, unless a test says otherwise.
  ddb.on(GetCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(TransactWriteCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

afterEach(() => {
  ddb.reset();
  sqs.reset();
});

/** An error body (`ErrorBody`) or any answer whose fields a test reads one by one. */
type ApiBody = Partial<ErrorBody> & { readonly [key: string]: unknown };

const REQUEST_ID = 'api-request-id-1';
const SUBJECT = 'subject-7f3a';

const bearer = (role: keyof typeof HANDLER_TOKENS) => ({ authorization: `Bearer ${HANDLER_TOKENS[role]}` });

const call = async (request: ApiCall, built: HandlerDeps = handlerDeps()) => {
  const handler = makeHandler(() => Promise.resolve(built.deps));
  const result = await handler(apiEvent(request), lambdaContext('erasure-api'));
  return {
    status: result.statusCode,
    headers: result.headers,
    raw: result.body ?? '',
    body: (result.body === undefined ? undefined : JSON.parse(result.body)) as ApiBody | undefined,
  };
};

/** Every write the request made: items, transactions, messages. */
const writes = () => ({
  transactWrites: ddb.commandCalls(TransactWriteCommand).length,
  puts: ddb.commandCalls(PutCommand).length,
  updates: ddb.commandCalls(UpdateCommand).length,
  deletes: ddb.commandCalls(DeleteCommand).length,
  batchWrites: ddb.commandCalls(BatchWriteCommand).length,
  messages: sqs.commandCalls(SendMessageBatchCommand).length,
});
const NO_WRITES = { transactWrites: 0, puts: 0, updates: 0, deletes: 0, batchWrites: 0, messages: 0 };

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
    const request: ApiCall = { method: 'POST', path: '/v1/lifecycle-events', body: lifecycleEvent() };

    // Act
    const response = await call(request);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body?.error?.code).toBe('unauthorized');
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    ['an unknown token', 'Bearer not-a-known-token'],
    ['a known token in the wrong scheme', `Basic ${HANDLER_TOKENS.service}`],
    ['an empty bearer token', 'Bearer '],
  ])('answers 401 for %s', async (_name, authorization) => {
    // Prepare
    const request: ApiCall = {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: { authorization },
      body: lifecycleEvent(),
    };

    // Act
    const response = await call(request);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body?.error?.code).toBe('unauthorized');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('answers 403 when the service token calls a compliance route', async () => {
    // Prepare
    const request: ApiCall = {
      method: 'GET',
      path: '/v1/audit',
      headers: bearer('service'),
      query: { subjectId: SUBJECT },
    };

    // Act
    const response = await call(request);

    // Assess
    expect(response.status).toBe(403);
    expect(response.body?.error).toMatchObject({ code: 'forbidden' });
    expect(response.body?.error?.message).toContain('GET /v1/audit');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('lets the compliance token read the audit trail, by pseudonym and without storage attributes', async () => {
    // Prepare
    const chainId = pseudonymise(HANDLER_PSEUDONYM_KEY, SUBJECT);
    const entry = chainEntry(
      undefined,
      {
        type: 'request.received',
        at: HANDLER_NOW,
        idempotencyKey: 'request:req_1:received',
        requestId: 'req_1',
      },
      chainId,
      chainId,
    );
    ddb
      .on(QueryCommand, { TableName: HANDLER_TABLES.audit })
      .resolves({ Items: [{ ...entry, day: HANDLER_NOW.slice(0, 10) }] });
    const request: ApiCall = {
      method: 'GET',
      path: '/v1/audit',
      headers: { Authorization: `Bearer ${HANDLER_TOKENS.compliance}` },
      query: { subjectId: SUBJECT },
    };

    // Act
    const response = await call(request);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ entries: [entry] });
    const [query] = ddb.commandCalls(QueryCommand);
    expect(query?.args[0].input.ExpressionAttributeValues).toMatchObject({ ':chainId': chainId });
    expect(JSON.stringify(ddb.calls().map((c) => c.args[0].input))).not.toContain(SUBJECT);
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
  const body = JSON.stringify({ taskId: TASK_ID, status: 'done', deletedCount: 3 });
  const nowSeconds = Math.floor(Date.parse(HANDLER_NOW) / 1000);

  beforeEach(() => {
    ddb
      .on(GetCommand, { Key: { pk: `task#${TASK_ID}`, sk: '#task' } })
      .resolves({ Item: { pk: `task#${TASK_ID}`, sk: '#task', requestId: ERASURE_REQUEST_ID } });
    ddb
      .on(GetCommand, { Key: { pk: `request#${ERASURE_REQUEST_ID}`, sk: `task#${TASK_ID}` } })
      .resolves({ Item: { pk: `request#${ERASURE_REQUEST_ID}`, sk: `task#${TASK_ID}`, ...waitingTask } });
  });

  it('needs no bearer token: a valid signature is the proof', async () => {
    // Prepare
    const request: ApiCall = {
      method: 'POST',
      path: `/v1/tasks/${TASK_ID}/callback`,
      headers: { 'X-Erasure-Signature': signPayload(HANDLER_WEBHOOK_SECRET, body, nowSeconds) },
      body,
    };

    // Act
    const response = await call(request);

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ taskId: TASK_ID, status: 'verified' });
    const taskWrite = ddb
      .commandCalls(PutCommand)
      .find((c) => c.args[0].input.Item?.sk === `task#${TASK_ID}`);
    expect(taskWrite?.args[0].input.Item).toMatchObject({ status: 'succeeded', affectedCount: 3 });
  });

  it('refuses a validly signed callback of another task (a replay) with a 400 naming taskId, writing nothing', async () => {
    // Prepare
    const replayed = JSON.stringify({ taskId: 'task_other', status: 'done', deletedCount: 3 });
    const request: ApiCall = {
      method: 'POST',
      path: `/v1/tasks/${TASK_ID}/callback`,
      headers: { 'X-Erasure-Signature': signPayload(HANDLER_WEBHOOK_SECRET, replayed, nowSeconds) },
      body: replayed,
    };

    // Act
    const response = await call(request);

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('taskId');
    expect(writes()).toEqual(NO_WRITES);
  });

  it('answers 401 to a bad signature and writes nothing, bearer token or not', async () => {
    // Prepare
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
    const response = await call(request);

    // Assess
    expect(response.status).toBe(401);
    expect(response.body?.error?.message).toContain('X-Erasure-Signature');
    expect(writes()).toEqual(NO_WRITES);
  });
});

describe('API handler: routing', () => {
  it('answers 404 for a path no route has', async () => {
    // Act
    const response = await call({ method: 'GET', path: '/v1/nothing-here', headers: bearer('service') });

    // Assess
    expect(response.status).toBe(404);
    expect(response.body?.error?.code).toBe('not_found');
    expect(response.headers).toMatchObject({ 'x-request-id': REQUEST_ID });
  });

  it.each([
    ['DELETE', '/v1/lifecycle-events'],
    ['PUT', '/healthz'],
    ['GET', '/v1/legal-holds/hold-1'],
  ])('answers 405 for %s %s', async (method, path) => {
    // Act
    const response = await call({ method, path, headers: bearer('compliance') });

    // Assess
    expect(response.status).toBe(405);
    expect(response.body?.error?.code).toBe('method_not_allowed');
    expect(ddb.calls()).toHaveLength(0);
  });

  it('matches a route with a trailing slash and decodes path parameters', async () => {
    // Prepare
    ddb.on(QueryCommand, { TableName: HANDLER_TABLES.schedules }).resolves({ Items: [] });

    // Act
    const response = await call({
      method: 'GET',
      path: '/v1/subjects/user%40example.com/schedule/',
      headers: bearer('service'),
    });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ subjectId: 'user@example.com', pending: [] });
  });

  it('decodes a base64-encoded body before parsing it', async () => {
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: lifecycleEvent(),
      base64: true,
    });

    // Assess
    expect(response.status).toBe(202);
  });

  it('answers a path parameter that is not valid percent-encoding with a 400 naming it, not a 500', async () => {
    // Prepare: a client sends a subject id with a bare `%` (`50%off`) without encoding it.
    const built = handlerDeps();

    // Act
    const response = await call(
      { method: 'GET', path: '/v1/subjects/50%off/schedule', headers: bearer('service') },
      built,
    );

    // Assess: the client's mistake, so a 4xx naming the parameter; a 500 would page an operator.
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('subjectId');
    expect(built.logs.filter((line) => line.level === 'error')).toEqual([]);
  });
});

describe('API handler: a 400 names the field and the request writes nothing', () => {
  it('refuses a body that is not JSON, naming `body`', async () => {
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: '{"subjectId": "subject-7f3a",',
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'body' });
    expect(writes()).toEqual(NO_WRITES);
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
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: lifecycleEvent(overrides),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    expect(writes()).toEqual(NO_WRITES);
  });

  it('accepts the same lifecycle event when it is valid (the control for the cases above)', async () => {
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: lifecycleEvent(),
    });

    // Assess
    expect(response.status).toBe(202);
    expect(ddb.commandCalls(TransactWriteCommand).length).toBeGreaterThan(0);
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
    const headers = Object.fromEntries(
      Object.entries({ ...bearer('service'), ...IDEMPOTENCY, ...headerOverrides }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    );

    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/erasure-requests',
      headers,
      body: erasureRequest(bodyOverrides),
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    expect(writes()).toEqual(NO_WRITES);
  });

  it('accepts the same erasure request when it is valid (the control for the cases above)', async () => {
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: { ...bearer('service'), ...IDEMPOTENCY },
      body: erasureRequest(),
    });

    // Assess
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ status: 'dispatched' });
    expect(writes()).toMatchObject({ transactWrites: 3, updates: 1, messages: 1 });
  });

  it('refuses a legal hold whose `until` is not an instant, naming `until`', async () => {
    // Act
    const response = await call({
      method: 'POST',
      path: '/v1/legal-holds',
      headers: bearer('compliance'),
      body: { subjectId: SUBJECT, reason: 'tax-audit-2026', until: 'next year' },
    });

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'until' });
    expect(writes()).toEqual(NO_WRITES);
  });
});

describe('API handler: unknown errors', () => {
  const leakyError = () =>
    new InternalServerError({
      message: `Internal failure writing request#${SUBJECT} to ${HANDLER_TABLES.requests}`,
      $metadata: { httpStatusCode: 500 },
    });

  it('answers an SDK failure with an opaque 500 that carries the request id, not the error', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(leakyError());
    const built = handlerDeps();

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
  });

  it('leaves nothing half-written when the request transaction fails: no audit, no dispatch, no messages', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(leakyError());

    // Act
    await call({
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: { ...bearer('service'), ...IDEMPOTENCY },
      body: erasureRequest(),
    });

    // Assess: the one transaction (request + tasks + idempotency key) was tried, nothing else.
    expect(writes()).toEqual({ ...NO_WRITES, transactWrites: 1 });
    const [transaction] = ddb.commandCalls(TransactWriteCommand);
    const keys = (transaction?.args[0].input.TransactItems ?? []).map((item) => String(item.Put?.Item?.pk));
    expect(keys.filter((pk) => pk.startsWith('request#'))).toHaveLength(3);
    expect(keys.filter((pk) => pk.startsWith('idem#'))).toHaveLength(1);
  });

  it('answers a failing read with a 500 too, not a 4xx', async () => {
    // Prepare
    ddb.on(QueryCommand).rejects(leakyError());

    // Act
    const response = await call({
      method: 'GET',
      path: '/v1/erasure-requests/req_0001',
      headers: bearer('compliance'),
    });

    // Assess
    expect(response.status).toBe(500);
    expect(response.raw).toContain(REQUEST_ID);
  });
});

describe('API handler: IAM mode', () => {
  const iam = () => handlerDeps({ env: { AUTH_MODE: 'iam' } });

  it('needs no Authorization header: API Gateway already authorised the caller', async () => {
    // Act
    const response = await call(
      { method: 'GET', path: '/v1/audit/verification', query: { subjectId: SUBJECT } },
      iam(),
    );

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      chainId: pseudonymise(HANDLER_PSEUDONYM_KEY, SUBJECT),
      verification: { ok: true, length: 0 },
    });
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
    // Act
    const response = await call(
      { method: 'POST', path: '/v1/lifecycle-events', body: lifecycleEvent({ type: 'nope' }) },
      iam(),
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('type');
  });

  it('refuses a sweep for a future instant: in a deployment it would run deletions early', async () => {
    // Act
    const response = await call(
      { method: 'POST', path: '/v1/sweeps', body: { now: '2030-01-01T00:00:00Z' } },
      iam(),
    );

    // Assess
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('now');
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(0);
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

      // Act
      const response = await call(
        { method: 'POST', path: `/v1/subjects/${subject}/export`, headers: bearer('compliance'), body },
        handlerDeps({ overrides: { connectors: registry } }),
      );

      // Assess
      expect(response.status).toBe(400);
      expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
      expect(registry.exported).toEqual([]);
      expect(writes()).toEqual(NO_WRITES);
    },
  );

  it('answers 401 without a token and exports nothing', async () => {
    const registry = exportingRegistry();

    const response = await call(
      { method: 'POST', path: exportPath, body: {} },
      handlerDeps({ overrides: { connectors: registry } }),
    );

    expect(response.status).toBe(401);
    expect(registry.exported).toEqual([]);
  });

  it('reads each target of the requested classes once, reports unsupported ones, and audits counts only', async () => {
    // Prepare
    const registry = exportingRegistry();

    // Act: closed-account names all five example targets; business-contact two of them again.
    const response = await call(
      {
        method: 'POST',
        path: exportPath,
        headers: bearer('service'),
        body: { dataClasses: ['closed-account', 'business-contact'] },
      },
      handlerDeps({ overrides: { connectors: registry } }),
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
    // One audit append (a transaction), without the subject id or the exported data.
    const audit = ddb.commandCalls(TransactWriteCommand);
    expect(audit).toHaveLength(1);
    const written = JSON.stringify(audit[0]?.args[0].input);
    expect(written).toContain('export.generated');
    expect(written).not.toContain(SUBJECT);
    expect(written).toContain('"partner-services.supported":false');
  });

  it('answers a failing source with 503 naming the target, not the subject, and audits nothing', async () => {
    const registry = exportingRegistry(
      new ConnectorRetryableError("S3 ListObjectsV2 failed for target 'cloud-video': SlowDown", {
        target: 'cloud-video',
      }),
    );

    const response = await call(
      {
        method: 'POST',
        path: exportPath,
        headers: bearer('compliance'),
        body: { dataClasses: ['cloud-video'] },
      },
      handlerDeps({ overrides: { connectors: registry } }),
    );

    expect(response.status).toBe(503);
    expect(response.body?.error).toMatchObject({ code: 'source_unavailable' });
    expect(response.raw).toContain('cloud-video');
    expect(response.raw).not.toContain(SUBJECT);
    expect(writes()).toEqual(NO_WRITES);
  });
});
