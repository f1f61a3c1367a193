/**
 * The authorisation matrix: every route of ROUTES × every kind of caller → the expected status,
 * derived from the route's `roles` (Role[] | 'signed' | 'public'), never listed by hand.
 *
 * - token mode (local runtime): no token and an unknown token are 401; a known token is 403 on a
 *   route its role may not call, and reaches the route otherwise; a signature alone is no token.
 * - IAM mode (AWS): API Gateway's IAM authoriser let the caller in, so a role route answers
 *   whatever the credentials in the request (which IAM policy allows which route is
 *   test/infra/app.test.ts's subject, from the same ROUTES).
 * - signed routes answer 401 to anything but a valid signature, bearer token or not, in both modes;
 *   public routes answer everyone.
 *
 * A 401 or 403 reads and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import { ROUTES, type Role, type RouteDefinition, routeKey } from '../../functions/shared/routes.js';
import {
  callApi,
  nothingWrittenSince,
  offlineRegistry,
  SEEDED,
  seedApiState,
  seededCallbackBody,
  watchPorts,
} from '../helpers/api-handler.js';
import {
  type ApiCall,
  HANDLER_NOW,
  HANDLER_TOKENS,
  HANDLER_WEBHOOK_SECRET,
  type HandlerDeps,
  handlerDeps,
} from '../helpers/handler-deps.js';

const NOW_SECONDS = Math.floor(Date.parse(HANDLER_NOW) / 1000);
const RECEIVED_REQUEST_ID = 'req_received1';

/** A valid call of each route on the seeded state, and the status it answers when let in. */
const VALID_CALLS: Readonly<Record<string, { readonly call: Omit<ApiCall, 'method'>; readonly ok: number }>> =
  {
    'GET /livez': { call: { path: '/livez' }, ok: 200 },
    'GET /openapi.json': { call: { path: '/openapi.json' }, ok: 200 },
    'GET /healthz': { call: { path: '/healthz' }, ok: 200 },
    'POST /v1/lifecycle-events': {
      call: {
        path: '/v1/lifecycle-events',
        body: { subjectId: SEEDED.subjectId, type: 'account.suspended', occurredAt: '2026-11-20T09:00:00Z' },
      },
      ok: 202,
    },
    'GET /v1/subjects/{subjectId}/schedule': {
      call: { path: `/v1/subjects/${SEEDED.subjectId}/schedule` },
      ok: 200,
    },
    'POST /v1/subjects/{subjectId}/export': {
      call: { path: `/v1/subjects/${SEEDED.subjectId}/export`, body: { dataClasses: ['cloud-video'] } },
      ok: 200,
    },
    'POST /v1/erasure-requests': {
      call: {
        path: '/v1/erasure-requests',
        headers: { 'Idempotency-Key': 'client-key-0001' },
        body: {
          subjectId: SEEDED.subjectId,
          dataClasses: ['suspended-account'],
          reason: 'gdpr-art17-request',
        },
      },
      ok: 202,
    },
    'POST /v1/erasure-previews': {
      call: {
        path: '/v1/erasure-previews',
        body: {
          subjectId: SEEDED.subjectId,
          dataClasses: ['suspended-account'],
          reason: 'gdpr-art17-request',
        },
      },
      ok: 200,
    },
    'POST /v1/suppressions/check': {
      call: { path: '/v1/suppressions/check', body: { subjectId: SEEDED.subjectId } },
      ok: 200,
    },
    'POST /v1/suppressions/lift': {
      call: {
        path: '/v1/suppressions/lift',
        body: { subjectId: SEEDED.subjectId, reason: 'consent-given-again' },
      },
      ok: 200,
    },
    'GET /v1/erasure-requests/{requestId}': {
      call: { path: `/v1/erasure-requests/${SEEDED.dispatchedRequestId}` },
      ok: 200,
    },
    'POST /v1/erasure-requests/{requestId}/rejection': {
      call: {
        path: `/v1/erasure-requests/${RECEIVED_REQUEST_ID}/rejection`,
        body: { legalReason: 'gdpr-art17-3b' },
      },
      ok: 200,
    },
    'POST /v1/erasure-requests/{requestId}/deadline-extension': {
      call: {
        path: `/v1/erasure-requests/${SEEDED.dispatchedRequestId}/deadline-extension`,
        body: { reason: 'complex-request' },
      },
      ok: 200,
    },
    'POST /v1/erasure-requests/{requestId}/redrive': {
      call: { path: `/v1/erasure-requests/${SEEDED.failedRequestId}/redrive` },
      ok: 202,
    },
    // The seeded request still waits for its callback: compliance is let in and told why there is none.
    'GET /v1/erasure-requests/{requestId}/certificate': {
      call: { path: `/v1/erasure-requests/${SEEDED.dispatchedRequestId}/certificate` },
      ok: 409,
    },
    'POST /v1/legal-holds': {
      call: { path: '/v1/legal-holds', body: { subjectId: SEEDED.subjectId, reason: 'litigation-2026-002' } },
      ok: 201,
    },
    'DELETE /v1/legal-holds/{holdId}': { call: { path: `/v1/legal-holds/${SEEDED.holdId}` }, ok: 204 },
    'POST /v1/sweeps': { call: { path: '/v1/sweeps', body: {} }, ok: 200 },
    'GET /v1/audit': { call: { path: '/v1/audit', query: { subjectId: SEEDED.subjectId } }, ok: 200 },
    'GET /v1/audit/verification': {
      call: { path: '/v1/audit/verification', query: { subjectId: SEEDED.subjectId } },
      ok: 200,
    },
    'POST /v1/audit/anchors': { call: { path: '/v1/audit/anchors' }, ok: 201 },
    'GET /v1/audit/anchors': { call: { path: '/v1/audit/anchors' }, ok: 200 },
    'GET /v1/audit/public-keys': { call: { path: '/v1/audit/public-keys' }, ok: 200 },
    'GET /v1/reports/deadlines': { call: { path: '/v1/reports/deadlines' }, ok: 200 },
    'GET /v1/reports/holds': { call: { path: '/v1/reports/holds' }, ok: 200 },
    'GET /v1/reports/failures': { call: { path: '/v1/reports/failures' }, ok: 200 },
    'GET /v1/reports/erasures': { call: { path: '/v1/reports/erasures' }, ok: 200 },
    'GET /v1/reports/upcoming': { call: { path: '/v1/reports/upcoming', query: { days: '30' } }, ok: 200 },
    'POST /v1/tasks/{taskId}/callback': {
      call: {
        path: `/v1/tasks/${SEEDED.waitingTaskId}/callback`,
        body: seededCallbackBody(),
      },
      ok: 200,
    },
  };

type Caller = 'no token' | 'bogus token' | Role | 'signed callback';
const CALLERS: readonly Caller[] = ['no token', 'bogus token', 'service', 'compliance', 'signed callback'];

const bodyText = (call: Omit<ApiCall, 'method'>): string =>
  call.body === undefined ? '' : typeof call.body === 'string' ? call.body : JSON.stringify(call.body);

/** The headers a caller sends: a bearer token, or the body's signature (and no token). */
const credentials = (caller: Caller, body: string): Record<string, string> => {
  switch (caller) {
    case 'no token':
      return {};
    case 'bogus token':
      return { authorization: 'Bearer not-a-known-token' };
    case 'signed callback':
      return { 'X-Erasure-Signature': signPayload(HANDLER_WEBHOOK_SECRET, body, NOW_SECONDS) };
    default:
      return { authorization: `Bearer ${HANDLER_TOKENS[caller]}` };
  }
};

/** What the route must answer to the caller: derived from its roles, never listed by hand. */
const expectedStatus = (
  route: RouteDefinition,
  caller: Caller,
  mode: 'token' | 'iam',
  ok: number,
): number => {
  if (route.roles === 'public') return ok;
  if (route.roles === 'signed') return caller === 'signed callback' ? ok : 401;
  if (mode === 'iam') return ok;
  if (caller === 'no token' || caller === 'bogus token' || caller === 'signed callback') return 401;
  return route.roles.includes(caller) ? ok : 403;
};

/** Deps on the seeded state (plus a received request to reject), recording every port call. */
const seeded = async (mode: 'token' | 'iam'): Promise<HandlerDeps & { readonly touched: string[] }> => {
  const built = handlerDeps({ auth: mode, overrides: { connectors: offlineRegistry() } });
  await seedApiState(built);
  const dispatched = built.ports.state.requests.get(SEEDED.dispatchedRequestId);
  if (dispatched === undefined) throw new Error('the seeded request is missing');
  const { dispatchedAt: _dispatchedAt, ...received } = dispatched;
  await built.ports.uow.commit([
    {
      kind: 'request.create',
      request: { ...received, requestId: RECEIVED_REQUEST_ID, status: 'received', taskCount: 0 },
      tasks: [],
    },
  ]);
  return watchPorts(built);
};

const MATRIX = (['token', 'iam'] as const).flatMap((mode) =>
  ROUTES.flatMap((route) => {
    const valid = VALID_CALLS[routeKey(route)];
    if (valid === undefined) throw new Error(`No valid call for ${routeKey(route)}: add one to VALID_CALLS`);
    return CALLERS.map(
      (caller) =>
        [mode, routeKey(route), caller, expectedStatus(route, caller, mode, valid.ok), route, valid] as const,
    );
  }),
);

describe('API authorisation matrix (every route × every caller, from ROUTES)', () => {
  it('has a valid call for every route and no other', () => {
    expect(Object.keys(VALID_CALLS).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it.each(MATRIX)('%s mode: %s by %s → %i', async (mode, _key, caller, expected, route, valid) => {
    // Prepare
    const built = await seeded(mode);
    const nothingWritten = nothingWrittenSince(built.ports);
    const body = bodyText(valid.call);

    // Act
    const response = await callApi(built, {
      ...valid.call,
      method: route.method,
      headers: { ...valid.call.headers, ...credentials(caller, body) },
      ...(valid.call.body === undefined ? {} : { body }),
    });

    // Assess
    expect(response.status, response.raw).toBe(expected);
    if (expected === 401 || expected === 403) {
      expect(response.body?.error?.code).toBe(expected === 401 ? 'unauthorized' : 'forbidden');
      expect(built.touched).toEqual([]);
      nothingWritten();
    }
  });
});

describe('the compliance answers that are not JSON keep their route roles', () => {
  const VARIANTS = [
    ['the audit trail as CSV', { path: '/v1/audit', query: { subjectId: SEEDED.subjectId, format: 'csv' } }],
    [
      'the certificate as PDF',
      { path: `/v1/erasure-requests/${SEEDED.dispatchedRequestId}/certificate`, query: { format: 'pdf' } },
    ],
  ] as const;

  it.each(
    VARIANTS.flatMap(([name, call]) =>
      (['no token', 'bogus token', 'service'] as const).map((caller) => [name, caller, call] as const),
    ),
  )('%s: %s is refused before anything is read', async (_name, caller, call) => {
    const built = await seeded('token');

    const response = await callApi(built, {
      method: 'GET',
      ...call,
      headers: credentials(caller, ''),
    });

    expect(response.status).toBe(caller === 'service' ? 403 : 401);
    expect(response.headers?.['content-type']).toBe('application/json');
    expect(built.touched).toEqual([]);
  });

  it('the audit CSV answers the compliance role', async () => {
    const built = await seeded('token');

    const response = await callApi(built, {
      method: 'GET',
      ...VARIANTS[0][1],
      headers: credentials('compliance', ''),
    });

    expect(response.status).toBe(200);
    expect(response.headers?.['content-type']).toMatch(/^text\/csv/);
  });
});
