/**
 * Careless and hostile input at the API edge (functions/api.ts over the in-memory ports): every
 * instant and duration the API takes is bounded, path parameters are checked, a subject id that a
 * configured target cannot address is refused at intake, bodies are size-limited, the Bearer
 * scheme is case-insensitive, and a callback is authenticated before its task is looked up.
 * A refusal always writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/catalog.js';
import { parseDeploymentConfig } from '../../domain/policy/config.js';
import type { RequestStore } from '../../domain/ports/index.js';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import {
  bearer,
  callApi,
  nothingWrittenSince,
  offlineRegistry,
  SEEDED,
  seedApiState,
  seededCallbackBody,
} from '../helpers/api-handler.js';
import {
  type ApiCall,
  HANDLER_NOW,
  HANDLER_TOKENS,
  HANDLER_WEBHOOK_SECRET,
  type HandlerDepsOptions,
  handlerDeps,
} from '../helpers/handler-deps.js';

const SUBJECT = 'subject-7f3a';
const IDEMPOTENCY = { 'Idempotency-Key': 'client-key-0001' };
const NOW_SECONDS = Math.floor(Date.parse(HANDLER_NOW) / 1000);

/** Deps with an offline connector registry, so that no export reaches a real system. */
const offline = (options: HandlerDepsOptions = {}) => {
  const registry = offlineRegistry();
  const built = handlerDeps({ ...options, overrides: { connectors: registry, ...options.overrides } });
  return { ...built, registry };
};

/** Calls once on fresh deps; asserts that nothing was written when the answer is a 4xx. */
const attempt = async (request: ApiCall, options: HandlerDepsOptions = {}) => {
  const built = offline(options);
  const nothingWritten = nothingWrittenSince(built.ports);
  const response = await callApi(built, request);
  if (response.status >= 400 && response.status < 500) {
    nothingWritten();
    expect(built.registry.exported).toEqual([]);
  }
  return response;
};

const lifecycleEvent = (body: Record<string, unknown>): ApiCall => ({
  method: 'POST',
  path: '/v1/lifecycle-events',
  headers: bearer('service'),
  body: { subjectId: SUBJECT, type: 'account.suspended', occurredAt: '2026-11-20T09:00:00Z', ...body },
});

const planRenewed = (storagePeriod: string): ApiCall =>
  lifecycleEvent({ type: 'plan.renewed', attributes: { storagePeriod } });

const hold = (body: Record<string, unknown>): ApiCall => ({
  method: 'POST',
  path: '/v1/legal-holds',
  headers: bearer('compliance'),
  body: { subjectId: SUBJECT, reason: 'litigation-2026-001', ...body },
});

const sweep = (now: string): ApiCall => ({
  method: 'POST',
  path: '/v1/sweeps',
  headers: bearer('service'),
  body: { now },
});

const audit = (query: ApiCall['query'] & object): ApiCall => ({
  method: 'GET',
  path: '/v1/audit',
  headers: bearer('compliance'),
  query,
});

describe('API input: a query parameter given more than once is a 400 naming it', () => {
  it.each([
    ['an audit filter', audit({ dataClass: ['cloud-video', 'child-data'] }), 'dataClass'],
    ['an audit filter, once empty', audit({ subjectId: [SUBJECT, ''] }), 'subjectId'],
    [
      'a report format',
      {
        method: 'GET',
        path: '/v1/reports/deadlines',
        headers: bearer('compliance'),
        query: { format: ['csv', 'json'] },
      },
      'format',
    ],
  ] as const)(
    'refuses %s given twice, instead of reading the values joined as one',
    async (_name, call, field) => {
      const response = await attempt(call);
      expect(response.status).toBe(400);
      expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    },
  );

  it('still answers a query whose parameters are each given once', async () => {
    const response = await attempt(audit({ dataClass: 'cloud-video', subjectId: SUBJECT }));
    expect(response.status).toBe(200);
  });
});

describe('API input: a query parameter the route does not know is a 400 naming it', () => {
  it.each([
    ['a misspelt audit filter', audit({ subjectID: SUBJECT }), 'subjectID'],
    ['an unknown audit parameter beside a known one', audit({ subjectId: SUBJECT, foo: '1' }), 'foo'],
    [
      'a report parameter of another report',
      {
        method: 'GET',
        path: '/v1/reports/deadlines',
        headers: bearer('compliance'),
        query: { days: '30' },
      },
      'days',
    ],
  ] as const)('refuses %s instead of answering as if unfiltered', async (_name, call, field) => {
    const response = await attempt(call);
    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    expect(response.body?.error?.message).toContain('known: ');
  });

  it.each([
    [
      'a hold release',
      {
        method: 'DELETE',
        path: '/v1/legal-holds/hold_1',
        headers: bearer('compliance'),
        query: { dryRun: 'true' },
      },
      'dryRun',
    ],
    [
      'a schedule read',
      {
        method: 'GET',
        path: `/v1/subjects/${SUBJECT}/schedule`,
        headers: bearer('service'),
        query: { dataClass: 'cookies' },
      },
      'dataClass',
    ],
    [
      'a lifecycle event',
      { ...lifecycleEvent({}), path: '/v1/lifecycle-events', query: { async: '1' } },
      'async',
    ],
  ] as const)(
    'refuses any query parameter on %s, a route that takes none, before it acts',
    async (_name, call, field) => {
      const response = await attempt(call as ApiCall);
      expect(response.status).toBe(400);
      expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
      expect(response.body?.error?.message).toContain('known: none');
    },
  );

  it('lets a public route be called with a query (a load balancer may add one)', async () => {
    const response = await attempt({ method: 'GET', path: '/livez', query: { probe: '1' } });
    expect(response.status).toBe(200);
  });

  it('cuts a long unknown name it repeats', async () => {
    const name = 'x'.repeat(500);
    const response = await attempt(audit({ [name]: '1' }));
    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('x'.repeat(64));
  });
});

describe('API input: every instant is bounded', () => {
  it.each([
    ['year 1 (deletion due at once)', '0001-01-01T00:00:00Z'],
    ['just before 2000', '1999-12-31T23:59:59Z'],
    ['more than 5 minutes ahead', '2026-11-21T12:05:01Z'],
  ])('refuses an occurredAt in %s with a 400 naming occurredAt', async (_name, occurredAt) => {
    const response = await attempt(lifecycleEvent({ occurredAt }));

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'occurredAt' });
  });

  it.each([
    ['a restore, which would hide a suspension sent before that time (never deleted)', 'account.restored'],
    [
      'a suspension, which would hide a restore sent before that time (a restored account deleted)',
      'account.suspended',
    ],
  ])('ALL-3: refuses %s, dated an hour ahead', async (_name, type) => {
    // Act
    const ahead = await attempt(lifecycleEvent({ type, occurredAt: '2026-11-21T13:00:00Z' }));

    // Assess
    expect(ahead.status).toBe(400);
    expect(ahead.body?.error).toMatchObject({
      field: 'occurredAt',
      message:
        'occurredAt must not be more than 5 minutes in the future: events are ordered by when they happened, so an event dated ahead would make one sent in between count as older, and be ignored',
    });
  });

  it.each([
    ['the first instant of 2000', '2000-01-01T00:00:00Z'],
    ['exactly 5 minutes ahead', '2026-11-21T12:05:00Z'],
  ])('accepts an occurredAt at %s (the bounds are inclusive)', async (_name, occurredAt) => {
    const response = await attempt(lifecycleEvent({ occurredAt }));

    expect(response.status).toBe(202);
  });

  it.each([
    ['year 1', '0001-01-01T00:00:00Z'],
    ['year 9999', '9999-12-31T00:00:00Z'],
    ['more than 100 years ahead', '2126-11-22T00:00:00Z'],
  ])('refuses a legal hold until %s with a 400 naming until', async (_name, until) => {
    const response = await attempt(hold({ until }));

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'until' });
  });

  it('accepts a legal hold until a date within 100 years', async () => {
    const response = await attempt(hold({ until: '2126-11-20T00:00:00Z' }));

    expect(response.status).toBe(201);
  });

  it.each([
    ['in a deployment', {}],
    ['locally, where sweeps may run ahead', { overrides: { settings: localSettings() } }],
  ])('refuses a sweep for an instant before 2000 %s, naming now', async (_name, options) => {
    const response = await attempt(sweep('0001-01-01T00:00:00Z'), options);

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'now' });
  });

  it('refuses a local sweep more than 10 years ahead with a 400 naming now, not a sweep that outlasts the request', async () => {
    const response = await attempt(sweep('2200-01-01T00:00:00Z'), {
      overrides: { settings: localSettings() },
    });

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'now' });
  });

  it('still lets a local sweep run ahead (the demo travels in time)', async () => {
    const response = await attempt(sweep('2030-01-01T00:00:00Z'), {
      overrides: { settings: localSettings() },
    });

    expect(response.status).toBe(200);
  });

  it.each([
    ['from before 2000', { subjectId: SUBJECT, from: '1970-01-01T00:00:00Z' }, 'from'],
    ['to before 2000', { subjectId: SUBJECT, to: '1999-01-01T00:00:00Z' }, 'to'],
    ['to far in the future', { subjectId: SUBJECT, to: '9999-01-01T00:00:00Z' }, 'to'],
    ['from far in the future', { subjectId: SUBJECT, from: '3000-01-01T00:00:00Z' }, 'from'],
  ])('refuses an audit query with %s, naming the field', async (_name, query, field) => {
    const response = await attempt(audit(query));

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
  });
});

function localSettings() {
  return { ...handlerDeps().deps.settings, sweepsMayRunAhead: true };
}

describe('API input: a body field the API does not know is a 400 naming it, never dropped', () => {
  const erasureRequest = (body: Record<string, unknown>): ApiCall => ({
    method: 'POST',
    path: '/v1/erasure-requests',
    headers: { ...bearer('service'), ...IDEMPOTENCY },
    body: { subjectId: SUBJECT, reason: 'gdpr-art17-request', ...body },
  });

  it.each([
    // A misspelt `dataClasses`: dropped, the request would erase every class.
    ['an erasure request', erasureRequest({ data_classes: ['cookies'], dryrun: true }), 'data_classes'],
    // A misspelt `until`: dropped, the hold would have no end.
    ['a legal hold', hold({ untill: '2027-01-01T00:00:00Z' }), 'untill'],
    ['a lifecycle event', lifecycleEvent({ attribute: { storagePeriod: 'P7D' } }), 'attribute'],
    [
      'a lifecycle event with a __proto__ key',
      lifecycleEvent({ ['__proto__']: { polluted: true } }),
      '__proto__',
    ],
    // A misspelt required field: the unknown name is what to fix, not the "required" one.
    [
      'an erasure request with subjectID',
      { ...erasureRequest({}), body: { subjectID: SUBJECT, reason: 'gdpr-art17-request' } },
      'subjectID',
    ],
  ])('refuses %s with an unknown field', async (_name, request, field) => {
    const response = await attempt(request);

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
    expect(response.body?.error?.message).toContain('is not a known field');
  });

  it('repeats an unknown field name cut to 64 characters', async () => {
    const name = `x${'y'.repeat(300)}`;

    const response = await attempt(erasureRequest({ [name]: 1 }));

    expect(response.body?.error?.field).toBe(name.slice(0, 64));
    expect(response.body?.error?.message).not.toContain(name.slice(0, 65));
  });

  it('suggests the known field a misspelt one stands for', async () => {
    const response = await attempt({
      ...erasureRequest({}),
      body: { subjectID: SUBJECT, reason: 'gdpr-art17-request' },
    });

    expect(response.body?.error?.message).toBe('subjectID is not a known field (did you mean subjectId?)');
  });
});

describe('API input: an attribute that differs from a known one only in case or separators is a typo, refused', () => {
  it.each([
    // A misspelt jurisdiction: the default (shorter) retention would apply, and data go early.
    [
      { type: 'contract.ended', attributes: { Jurisdiction: 'SE' } },
      'attributes.Jurisdiction',
      'jurisdiction',
    ],
    // A misspelt storagePeriod: the default 30-day window instead of the plan's 90 days.
    [
      { type: 'plan.renewed', attributes: { storage_period: 'P90D' } },
      'attributes.storage_period',
      'storagePeriod',
    ],
  ])('refuses %j naming the attribute and the known one', async (body, field, meant) => {
    const response = await attempt(lifecycleEvent(body));

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ field });
    expect(response.body?.error?.message).toContain(`did you mean ${meant}?`);
  });

  it('takes attributes it does not know otherwise (they are free-form)', async () => {
    const response = await attempt(
      lifecycleEvent({ type: 'contract.ended', attributes: { salesChannel: 'web' } }),
    );

    expect(response.status).toBe(202);
  });
});

describe('API input: a route that takes no body refuses one with fields, naming the first', () => {
  const seeded = async () => {
    const built = offline();
    await seedApiState(built);
    return built;
  };
  const compliance = bearer('compliance');

  it.each([
    // `force` reads like an option; it is none: the re-drive would have run as if it were.
    [
      'a re-drive',
      'POST',
      `/v1/erasure-requests/${SEEDED.failedRequestId}/redrive`,
      { force: true },
      'force',
    ],
    ['a release', 'DELETE', `/v1/legal-holds/${SEEDED.holdId}`, { reason: 'settled' }, 'reason'],
    ['an anchoring', 'POST', '/v1/audit/anchors', { seq: 3 }, 'seq'],
  ] as const)(
    'refuses %s with a body field, and writes nothing',
    async (_name, method, path, body, field) => {
      const built = await seeded();
      const nothingWritten = nothingWrittenSince(built.ports);

      const response = await callApi(built, { method, path, headers: compliance, body });

      expect(response.status).toBe(400);
      expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
      expect(response.body?.error?.message).toContain('takes no body');
      nothingWritten();
    },
  );

  it('takes an empty body, or an empty object, as none', async () => {
    const built = await seeded();

    const empty = await callApi(built, {
      method: 'POST',
      path: `/v1/erasure-requests/${SEEDED.failedRequestId}/redrive`,
      headers: compliance,
    });
    const emptyObject = await callApi(built, {
      method: 'DELETE',
      path: `/v1/legal-holds/${SEEDED.holdId}`,
      headers: compliance,
      body: {},
    });

    expect(empty.status).toBe(202);
    expect(emptyObject.status).toBe(204);
  });
});

describe('API input: a storagePeriod is bounded (P1D to P10Y)', () => {
  it.each([
    ['P5000Y (fails every sweep, holds the watermark back)', 'P5000Y'],
    ['PT1S (erases everything older than a second)', 'PT1S'],
    ['PT23H', 'PT23H'],
    ['P10Y1D', 'P10Y1D'],
    ['a huge number of days', 'P99999999999D'],
  ])('refuses %s with a 400 naming attributes.storagePeriod', async (_name, storagePeriod) => {
    const response = await attempt(planRenewed(storagePeriod));

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({
      code: 'validation_failed',
      field: 'attributes.storagePeriod',
    });
  });

  it.each(['P1D', 'P7D', 'P10Y'])('accepts %s', async (storagePeriod) => {
    const response = await attempt(planRenewed(storagePeriod));

    expect(response.status).toBe(202);
  });
});

describe('API input: path parameters are checked, a 400 and never a 500', () => {
  it.each([
    ['GET', `/v1/erasure-requests/${'r'.repeat(129)}`, 'requestId', bearer('service')],
    ['GET', '/v1/erasure-requests/req%00x', 'requestId', bearer('service')],
    ['POST', '/v1/erasure-requests/req%20x/redrive', 'requestId', bearer('compliance')],
    ['POST', '/v1/erasure-requests/..%2Freq/rejection', 'requestId', bearer('compliance')],
    ['DELETE', '/v1/legal-holds/hold%0Ax', 'holdId', bearer('compliance')],
    ['DELETE', `/v1/legal-holds/${'h'.repeat(200)}`, 'holdId', bearer('compliance')],
    ['GET', '/v1/subjects/subject%0A1/schedule', 'subjectId', bearer('service')],
    ['GET', `/v1/subjects/${'s'.repeat(257)}/schedule`, 'subjectId', bearer('service')],
  ])('%s %s → 400 naming %s', async (method, path, field, headers) => {
    const response = await attempt({
      method,
      path,
      headers,
      body: path.endsWith('/rejection') ? { legalReason: 'gdpr-art17-3b' } : undefined,
    });

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field });
  });

  it('authenticates before it reads a path parameter: a bad encoding without a token is a 401', async () => {
    const response = await attempt({ method: 'GET', path: '/v1/subjects/50%off/schedule' });

    expect(response.status).toBe(401);
  });
});

describe('API input: a subject id a configured target cannot address is refused at intake', () => {
  const unaddressable = ['acct/7f3a9', 'acct\\7f3a9', 'acct..7f3a9', '..'];
  const intakes: [string, (subjectId: string) => ApiCall][] = [
    ['a lifecycle event', (subjectId) => lifecycleEvent({ subjectId })],
    [
      'an erasure request',
      (subjectId) => ({
        method: 'POST',
        path: '/v1/erasure-requests',
        headers: { ...bearer('service'), ...IDEMPOTENCY },
        body: { subjectId, reason: 'gdpr-art17-request' },
      }),
    ],
    ['a legal hold', (subjectId) => hold({ subjectId })],
    [
      'an export',
      (subjectId) => ({
        method: 'POST',
        path: `/v1/subjects/${encodeURIComponent(subjectId)}/export`,
        headers: bearer('compliance'),
        body: {},
      }),
    ],
  ];

  it.each(
    intakes.flatMap(([name, build]) => unaddressable.map((subjectId) => [name, subjectId, build] as const)),
  )('refuses %s for subject id %j with a 400 naming subjectId', async (_name, subjectId, build) => {
    const response = await attempt(build(subjectId));

    expect(response.status).toBe(400);
    expect(response.body?.error).toMatchObject({ code: 'validation_failed', field: 'subjectId' });
    // The message names the target, never the subject id.
    expect(response.body?.error?.message).toMatch(/target '[a-z-]+'/);
    expect(response.raw).not.toContain('7f3a9');
  });

  it.each(intakes)(
    'accepts %s for an addressable subject id with unusual characters',
    async (_name, build) => {
      const response = await attempt(build('user@example.com:42'));

      expect(response.status).toBeLessThan(300);
    },
  );
});

describe('API input: bodies are at most 256 KiB', () => {
  const big = (bytes: number) => JSON.stringify({ padding: 'x'.repeat(bytes - 14) });

  it.each([
    ['a lifecycle event', lifecycleEvent({}), false],
    ['a base64-encoded lifecycle event', lifecycleEvent({}), true],
    ['a callback, signed or not', { method: 'POST', path: '/v1/tasks/task_1/callback' }, false],
  ])('answers 413 to %s over 256 KiB', async (_name, request, base64) => {
    const body = big(256 * 1024 + 1);
    expect(Buffer.byteLength(body)).toBe(256 * 1024 + 1);

    const response = await attempt({ ...request, body, base64 });

    expect(response.status).toBe(413);
    expect(response.body?.error?.code).toBe('payload_too_large');
  });

  it('accepts a body of exactly 256 KiB as far as size goes (then validates it)', async () => {
    const body = big(256 * 1024);
    expect(Buffer.byteLength(body)).toBe(256 * 1024);

    const response = await attempt({ ...lifecycleEvent({}), body });

    expect(response.status).toBe(400);
    // Validated: its one field is not a known one.
    expect(response.body?.error?.field).toBe('padding');
  });
});

describe('API input: a body must be sent as JSON', () => {
  const erasureRequest = (contentType: string | undefined): ApiCall => ({
    method: 'POST',
    path: '/v1/erasure-requests',
    headers: { ...bearer('service'), ...IDEMPOTENCY, 'content-type': contentType },
    body: { subjectId: SUBJECT, reason: 'gdpr-art17-request' },
  });

  // What a browser may send across origins without a preflight, what `curl -d` sends, and none.
  it.each([
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
    undefined,
  ])('answers 415 naming content-type to a JSON body sent as %s, and writes nothing', async (type) => {
    for (const request of [
      erasureRequest(type),
      { ...lifecycleEvent({}), headers: { ...bearer('service'), 'content-type': type } },
    ]) {
      const response = await attempt(request);

      expect(response.status).toBe(415);
      expect(response.body?.error).toMatchObject({ code: 'unsupported_media_type', field: 'content-type' });
    }
  });

  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON',
    'application/vnd.api+json',
  ])('accepts a body sent as %s', async (type) => {
    const response = await attempt(erasureRequest(type));

    expect(response.status).toBe(202);
  });

  it('reads an empty body without a type (then validates it)', async () => {
    const response = await attempt({ ...erasureRequest(undefined), body: '' });

    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('subjectId');
  });

  it('authenticates a callback before anything else, whatever its type', async () => {
    const response = await attempt({
      method: 'POST',
      path: '/v1/tasks/task_1/callback',
      headers: { 'content-type': 'text/plain' },
      body: { taskId: 'task_1', nonce: 'n', status: 'deleted' },
    });

    expect(response.status).toBe(401);
  });
});

describe('API input: the Bearer scheme is case-insensitive', () => {
  it.each(['bearer', 'BEARER', 'BeArEr'])('accepts %s <token>', async (scheme) => {
    const response = await attempt({
      method: 'GET',
      path: '/healthz',
      headers: { authorization: `${scheme} ${HANDLER_TOKENS.service}` },
    });

    expect(response.status).toBe(200);
  });

  it('keeps the token itself case-sensitive', async () => {
    const response = await attempt({
      method: 'GET',
      path: '/healthz',
      headers: { authorization: `Bearer ${HANDLER_TOKENS.service.toUpperCase()}` },
    });

    expect(response.status).toBe(401);
  });
});

describe('API input: a callback is authenticated before its task is looked up', () => {
  const callback = (taskId: string, body: string, signature?: string): ApiCall => ({
    method: 'POST',
    path: `/v1/tasks/${taskId}/callback`,
    headers: signature === undefined ? {} : { 'X-Erasure-Signature': signature },
    body,
  });
  const bodyFor = (taskId: string) => seededCallbackBody(taskId);

  /** Deps whose request store records every read (none may happen before the signature is checked). */
  const watchedRequests = () => {
    const built = handlerDeps();
    const reads: string[] = [];
    const requests = new Proxy(built.deps.requests, {
      get: (target, key) => {
        reads.push(String(key));
        return Reflect.get(target, key);
      },
    });
    return { ...built, deps: { ...built.deps, requests }, reads };
  };

  it.each([
    ['unsigned, for an unknown task', 'task_unknown', undefined],
    [
      'badly signed, for an unknown task',
      'task_unknown',
      signPayload('not-the-secret', bodyFor('x'), NOW_SECONDS),
    ],
    ['unsigned, for a malformed task id', 'task%zz', undefined],
    ['unsigned, for an overlong task id', 't'.repeat(300), undefined],
    ['signed too long ago', 'task_unknown', signPayload(HANDLER_WEBHOOK_SECRET, bodyFor('task_unknown'), 0)],
  ])('answers 401 to a callback %s, and reads no task', async (_name, taskId, signature) => {
    const built = watchedRequests();
    const nothingWritten = nothingWrittenSince(built.ports);

    const response = await callApi(built, callback(taskId, bodyFor('task_unknown'), signature));

    expect(response.status).toBe(401);
    expect(response.body?.error?.code).toBe('unauthorized');
    expect(built.reads).toEqual([]);
    nothingWritten();
  });

  it('answers 401, not a 500, when the task store is failing and the callback is unsigned', async () => {
    const fail = () => Promise.reject(new Error('storage outage'));
    const requests: RequestStore = {
      get: fail,
      getTask: fail,
      requestIdOfTask: fail,
      idempotencyRecord: fail,
      holdIdempotencyRecord: fail,
      reviewDue: fail,
      deferReview: fail,
      deadlineCounts: fail,
    };
    const built = handlerDeps({ overrides: { requests } });

    const response = await callApi(built, callback('task_unknown', bodyFor('task_unknown')));

    expect(response.status).toBe(401);
  });

  it('answers 401, not a 500, when a webhook target of the deployment has no secret configured', async () => {
    const config = parseDeploymentConfig({
      catalog: BUILT_IN_CATALOG,
      targets: [
        ...EXAMPLE_TARGETS,
        {
          name: 'unconfigured-partner',
          kind: 'http-webhook',
          url: 'https://other.example.com/erasure',
          signingSecretName: 'example/no-such-secret',
        },
      ],
    });
    const built = handlerDeps({ overrides: { config } });

    const response = await callApi(built, callback('task_unknown', bodyFor('task_unknown')));

    expect(response.status).toBe(401);
  });

  it('answers 404 to a validly signed callback for an unknown task', async () => {
    const body = bodyFor('task_unknown');
    const built = handlerDeps();
    const nothingWritten = nothingWrittenSince(built.ports);

    const response = await callApi(
      built,
      callback('task_unknown', body, signPayload(HANDLER_WEBHOOK_SECRET, body, NOW_SECONDS)),
    );

    expect(response.status).toBe(404);
    nothingWritten();
  });

  it("answers 404 to a callback signed by another service than the task's: its tasks are not the signer's", async () => {
    // Prepare: a second partner with its own secret; a task of partner-services waits for its callback.
    const config = parseDeploymentConfig({
      catalog: BUILT_IN_CATALOG,
      targets: [
        ...EXAMPLE_TARGETS,
        {
          name: 'other-partner',
          kind: 'http-webhook',
          url: 'https://other.example.com/erasure',
          signingSecretName: 'example/other-partner/signing-secret',
        },
      ],
    });
    const secrets: Record<string, string> = {
      'example/partner-services/signing-secret': HANDLER_WEBHOOK_SECRET,
      'example/other-partner/signing-secret': 'other-partner-signing-secret',
    };
    const built = handlerDeps({ overrides: { config, webhookSecret: (name) => secrets[name] ?? '' } });
    await built.ports.uow.commit([
      {
        kind: 'request.create',
        request: {
          requestId: 'req_partner1',
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
        },
        tasks: [
          {
            taskId: 'task_partner1',
            requestId: 'req_partner1',
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
          },
        ],
      },
    ]);
    const nothingWritten = nothingWrittenSince(built.ports);
    const body = bodyFor('task_partner1');

    // Act
    const byOther = await callApi(
      built,
      callback('task_partner1', body, signPayload('other-partner-signing-secret', body, NOW_SECONDS)),
    );

    // Assess: as unknown as a task that does not exist; then the right signer settles it.
    expect(byOther.status).toBe(404);
    nothingWritten();
    const byOwner = await callApi(
      built,
      callback('task_partner1', body, signPayload(HANDLER_WEBHOOK_SECRET, body, NOW_SECONDS)),
    );
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toEqual({ taskId: 'task_partner1', status: 'verified' });
  });

  it.each([
    ['deleted_count', { deleted_count: 3 }],
    ['evil', { evil: 1 }],
  ])(
    'answers 400 naming %s to a validly signed callback with a field it does not know, and records nothing',
    async (field, extra) => {
      const built = handlerDeps();
      await seedApiState(built);
      const nothingWritten = nothingWrittenSince(built.ports);
      const body = JSON.stringify({ ...JSON.parse(bodyFor(SEEDED.waitingTaskId)), ...extra });

      const response = await callApi(
        built,
        callback(SEEDED.waitingTaskId, body, signPayload(HANDLER_WEBHOOK_SECRET, body, NOW_SECONDS)),
      );

      expect(response.status).toBe(400);
      expect(response.body?.error?.field).toBe(field);
      nothingWritten();
    },
  );

  it.each(['[]', '""', 'null', '7'])(
    'answers 400 naming body to a validly signed callback whose body %s is not an object',
    async (body) => {
      const built = handlerDeps();
      await seedApiState(built);
      const nothingWritten = nothingWrittenSince(built.ports);

      const response = await callApi(
        built,
        callback(SEEDED.waitingTaskId, body, signPayload(HANDLER_WEBHOOK_SECRET, body, NOW_SECONDS)),
      );

      expect(response.status).toBe(400);
      expect(response.body?.error?.field).toBe('body');
      nothingWritten();
    },
  );

  it('answers 400 naming taskId to a validly signed callback whose path task id is malformed', async () => {
    const body = bodyFor('task_unknown');
    const built = handlerDeps();

    const response = await callApi(
      built,
      callback('task%20x', body, signPayload(HANDLER_WEBHOOK_SECRET, body, NOW_SECONDS)),
    );

    expect(response.status).toBe(400);
    expect(response.body?.error?.field).toBe('taskId');
  });
});

describe('API input: placing a legal hold again with its Idempotency-Key places nothing more', () => {
  const placeWith = (key: string | undefined, body: Record<string, unknown> = {}): ApiCall => {
    const call = hold(body);
    return {
      ...call,
      headers: { ...call.headers, ...(key === undefined ? {} : { 'Idempotency-Key': key }) },
    };
  };
  const holdsOf = (built: ReturnType<typeof offline>) => [...built.ports.state.holds.values()];
  const placedEntries = (built: ReturnType<typeof offline>) =>
    built.ports.allEntries().filter((entry) => entry.type === 'hold.placed');

  it('a retry (or a double click) with the same key answers the same hold, stored and audited once', async () => {
    const built = offline();

    const first = await callApi(built, placeWith('hold-key-0001'));
    const again = await callApi(built, placeWith('hold-key-0001'));
    const [raced, racedAgain] = await Promise.all([
      callApi(built, placeWith('hold-key-0002')),
      callApi(built, placeWith('hold-key-0002')),
    ]);

    expect(first.status).toBe(201);
    expect(again).toMatchObject({ status: 201, body: first.body });
    expect(raced.status).toBe(201);
    expect(racedAgain).toMatchObject({ status: 201, body: raced.body });
    expect(holdsOf(built)).toHaveLength(2);
    expect(placedEntries(built)).toHaveLength(2);
  });

  it('the key of a released hold still answers that hold, saying it is released: a late retry places no new one', async () => {
    const built = offline();
    const first = await callApi(built, placeWith('hold-key-0003'));
    const holdId = (first.body as { holdId: string }).holdId;
    const released = await callApi(built, {
      method: 'DELETE',
      path: `/v1/legal-holds/${holdId}`,
      headers: bearer('compliance'),
    });

    const late = await callApi(built, placeWith('hold-key-0003'));

    expect(released.status).toBe(204);
    expect(late).toMatchObject({ status: 201, body: { holdId, releasedAt: holdsOf(built)[0]?.releasedAt } });
    expect(first.body).not.toHaveProperty('releasedAt');
    expect(holdsOf(built)).toHaveLength(1);
    expect(holdsOf(built)[0]?.releasedAt).toBeDefined();
  });

  it('the same key with another body is a 409, and a malformed key a 400 naming the header; neither writes', async () => {
    const built = offline();
    await callApi(built, placeWith('hold-key-0004'));
    const unchanged = nothingWrittenSince(built.ports);

    const conflict = await callApi(built, placeWith('hold-key-0004', { reason: 'litigation-2026-002' }));
    const short = await callApi(built, placeWith('short'));

    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ error: { code: 'idempotency_conflict' } });
    expect(short.status).toBe(400);
    expect(short.body).toMatchObject({ error: { field: 'Idempotency-Key' } });
    unchanged();
  });

  it('without a key, each call places a hold of its own (the CLI and the dashboard always send one)', async () => {
    const built = offline();

    await callApi(built, placeWith(undefined));
    await callApi(built, placeWith(undefined));

    expect(holdsOf(built)).toHaveLength(2);
  });
});
