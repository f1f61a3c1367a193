/**
 * Fuzzing every route of ROUTES through the API handler (functions/api.ts) on the in-memory
 * ports: arbitrary JSON bodies, near-valid bodies (a valid one with one field mutated), broken
 * JSON, odd path parameters and query strings. Whatever comes in:
 *
 * - never a 5xx;
 * - after a 4xx nothing was written: the stored state is unchanged, nothing was committed and
 *   nothing was queued;
 * - a 400 names the field it refuses.
 *
 * Every call is authorised for its route (bearer token of an allowed role, or a valid signature
 * for callbacks, mostly), so the input reaches the validation behind the authorisation; the
 * authorisation itself is test/functions/api-authz.test.ts's subject.
 *
 * `FUZZ_RUNS` sets the total number of calls over all routes (default 2,400; `FUZZ_RUNS=20000`
 * for a long run). A failure prints fast-check's seed and path to replay it.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/api.js';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import { makeHandler as makeCertificateHandler } from '../../functions/render-certificate.js';
import { ROUTES, type RouteDefinition, routeFunctionOf, routeKey } from '../../functions/shared/routes.js';
import { bearer, offlineRegistry, SEEDED, seedApiState } from '../helpers/api-handler.js';
import {
  apiEvent,
  HANDLER_NOW,
  HANDLER_WEBHOOK_SECRET,
  handlerDeps,
  lambdaContext,
} from '../helpers/handler-deps.js';

const TOTAL_RUNS = Number(process.env.FUZZ_RUNS ?? 2400);
const RUNS_PER_ROUTE = Math.max(1, Math.ceil(TOTAL_RUNS / ROUTES.length));
const NOW_SECONDS = Math.floor(Date.parse(HANDLER_NOW) / 1000);

/** Strings that have broken parsers, keys, paths and calendars before. */
const NASTY_STRINGS = [
  '',
  ' ',
  '/',
  'a/b',
  '..',
  '../x',
  'a\\b',
  '\u0000',
  '\n',
  '%',
  '%zz',
  '%2F',
  '😀',
  '\ud800',
  '__proto__',
  'constructor',
  'toString',
  '{subjectId}',
  'x'.repeat(300),
  'GDPR-ART17',
  'gdpr-art17-request',
  'null',
  '0001-01-01T00:00:00Z',
  '1999-12-31T23:59:59Z',
  '2000-01-01T00:00:00Z',
  '2026-11-22T12:00:01Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-30T00:00:00Z',
  '20261120T090000Z',
  '2026-11-20T09:00:00+25:00',
  'P5000Y',
  'PT1S',
  'P0D',
  'P1D',
  'P10Y',
  'P99999999999999D',
  '-P1D',
  'P',
  'SE',
  'se',
  'XX',
] as const;

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

/** Any JSON value, with nasty strings among the leaves. */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nastyString,
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyString, fc.constantFrom('subjectId', 'type', 'now')), tie('value'), {
      maxKeys: 4,
    }),
  ),
})).value;

/** A valid body of each route that takes one; the near-valid bodies mutate one field of it. */
const VALID_BODIES: Readonly<Record<string, Record<string, unknown>>> = {
  'POST /v1/lifecycle-events': {
    subjectId: SEEDED.subjectId,
    type: 'plan.renewed',
    occurredAt: '2026-11-20T09:00:00Z',
    attributes: { storagePeriod: 'P7D', jurisdiction: 'SE' },
  },
  'POST /v1/subjects/{subjectId}/export': { dataClasses: ['cloud-video', 'closed-account'] },
  'POST /v1/erasure-requests': {
    subjectId: SEEDED.subjectId,
    dataClasses: ['suspended-account'],
    reason: 'gdpr-art17-request',
  },
  'POST /v1/erasure-requests/{requestId}/rejection': { legalReason: 'gdpr-art17-3b' },
  'POST /v1/erasure-requests/{requestId}/deadline-extension': { reason: 'complex-request' },
  'POST /v1/legal-holds': {
    subjectId: SEEDED.subjectId,
    dataClasses: ['closed-account'],
    reason: 'litigation-2026-002',
    until: '2027-06-01T00:00:00Z',
  },
  'POST /v1/sweeps': { now: '2026-11-21T11:00:00Z' },
  'POST /v1/tasks/{taskId}/callback': { taskId: SEEDED.waitingTaskId, status: 'done', deletedCount: 3 },
};

/** A valid body with one field (top-level, or one level down) removed, replaced or added. */
const nearValid = (valid: Record<string, unknown>): fc.Arbitrary<unknown> => {
  const paths: (readonly string[])[] = Object.entries(valid).flatMap(([key, value]) => [
    [key],
    ...(typeof value === 'object' && value !== null ? Object.keys(value).map((inner) => [key, inner]) : []),
  ]);
  paths.push(['unknownField'], ['attributes', 'storagePeriod'], ['attributes', '__proto__']);
  return fc
    .record({
      path: fc.constantFrom(...paths),
      change: fc.oneof(
        fc.constant({ kind: 'delete' as const }),
        nastyString.map((value) => ({ kind: 'set' as const, value })),
        jsonValue.map((value) => ({ kind: 'set' as const, value })),
      ),
    })
    .map(({ path, change }) => {
      const body = structuredClone(valid);
      const [key, inner] = path as [string, string | undefined];
      if (inner === undefined) {
        if (change.kind === 'delete') delete body[key];
        else body[key] = change.value;
        return body;
      }
      const container = body[key];
      const nested: Record<string, unknown> =
        typeof container === 'object' && container !== null ? { ...container } : {};
      if (change.kind === 'delete') delete nested[inner];
      else Object.defineProperty(nested, inner, { value: change.value, enumerable: true, writable: true });
      body[key] = Array.isArray(container) ? Object.assign([...container], nested) : nested;
      return body;
    });
};

/** The raw body text: JSON of a near-valid or arbitrary value, broken JSON, or none. */
const bodyText = (route: RouteDefinition): fc.Arbitrary<string | undefined> => {
  const valid = VALID_BODIES[routeKey(route)];
  return fc.oneof(
    ...(valid === undefined
      ? []
      : [
          { weight: 5, arbitrary: nearValid(valid).map((body) => JSON.stringify(body)) },
          { weight: 1, arbitrary: fc.constant(JSON.stringify(valid)) },
        ]),
    { weight: 2, arbitrary: jsonValue.map((body) => JSON.stringify(body) ?? 'undefined') },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, '', '{', '{"a":1}}', '[]', 'null', '"x"', '{}') },
  );
};

const encodeOrKeep = (value: string): string => {
  try {
    return encodeURIComponent(value);
  } catch {
    return value; // a lone surrogate cannot be encoded: sent as it is
  }
};

const decodeOrKeep = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

/** Values of each path parameter: the seeded ones, and anything else (raw or percent-encoded). */
const SEEDED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  subjectId: [SEEDED.subjectId, 'user@example.com'],
  requestId: [SEEDED.dispatchedRequestId, SEEDED.failedRequestId, 'req_unknown'],
  holdId: [SEEDED.holdId, 'hold_unknown'],
  taskId: [SEEDED.waitingTaskId, 'task_unknown'],
};

const paramValue = (name: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(SEEDED_PARAMS[name] ?? ['x'])) },
    { weight: 2, arbitrary: nastyString.map(encodeOrKeep) },
    {
      weight: 1,
      arbitrary: fc.string({ minLength: 1, maxLength: 30 }).filter((value) => !value.includes('/')),
    },
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', '%C0%AF', 'a%2Fb', '%00', 'x'.repeat(200)) },
  );

/** Query strings of the GET routes that read them; other routes get one now and then, ignored. */
const queryOf = (route: RouteDefinition): fc.Arbitrary<Record<string, string> | undefined> => {
  const keys = fc.constantFrom('subjectId', 'requestId', 'from', 'to', 'limit', '__proto__');
  const anyQuery = fc.dictionary(keys, nastyString, { maxKeys: 4 });
  if (!['/v1/audit', '/v1/audit/verification', '/v1/audit/anchors'].includes(route.path)) {
    return fc.option(anyQuery, { nil: undefined, freq: 4 });
  }
  const valid = fc.constantFrom<Record<string, string>>(
    { subjectId: SEEDED.subjectId },
    { requestId: SEEDED.dispatchedRequestId },
    { from: '2026-11-01T00:00:00Z', to: '2026-11-21T00:00:00Z' },
    {},
  );
  const nearValidQuery = fc
    .tuple(valid, keys, nastyString)
    .map(([query, key, value]) => Object.assign({}, query, Object.fromEntries([[key, value]])));
  return fc.oneof(valid, nearValidQuery, anyQuery);
};

interface FuzzCall {
  readonly path: string;
  readonly params: Record<string, string>;
  readonly body: string | undefined;
  readonly query: Record<string, string> | undefined;
  /** API Gateway hands decoded path parameters over; the local runtime does not. */
  readonly gatewayParams: boolean;
  readonly signed: boolean;
  readonly idempotencyKey: string | undefined;
}

const callOf = (route: RouteDefinition): fc.Arbitrary<FuzzCall> => {
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
  return fc
    .record({
      values: fc.tuple(...names.map(paramValue)),
      body: bodyText(route),
      query: queryOf(route),
      gatewayParams: fc.boolean(),
      signed: fc.double({ min: 0, max: 1, noNaN: true }).map((chance) => chance < 0.85),
      idempotencyKey: fc.option(
        fc.oneof(
          fc.constant('client-key-0001'),
          fc.string({ maxLength: 140 }),
          fc.constantFrom(...NASTY_STRINGS),
        ),
        { nil: undefined, freq: 6 },
      ),
    })
    .map(({ values, ...rest }) => {
      const params = Object.fromEntries(names.map((name, index) => [name, values[index] ?? '']));
      const path = route.path.replace(/\{(\w+)\}/g, (_whole, name: string) => params[name] ?? '');
      return { ...rest, path, params };
    });
};

const eventOf = (route: RouteDefinition, call: FuzzCall): APIGatewayProxyEventV2 => {
  const headers: Record<string, string> = {};
  if (Array.isArray(route.roles)) Object.assign(headers, bearer(route.roles[0] ?? 'service'));
  if (route.roles === 'signed' && call.signed) {
    headers['X-Erasure-Signature'] = signPayload(HANDLER_WEBHOOK_SECRET, call.body ?? '', NOW_SECONDS);
  }
  if (call.idempotencyKey !== undefined) headers['Idempotency-Key'] = call.idempotencyKey;
  const event = apiEvent({
    method: route.method,
    path: call.path,
    headers,
    ...(call.query === undefined ? {} : { query: call.query }),
    ...(call.body === undefined ? {} : { body: call.body }),
  });
  if (!call.gatewayParams) return event;
  return {
    ...event,
    pathParameters: Object.fromEntries(
      Object.entries(call.params).map(([name, value]) => [name, decodeOrKeep(value)]),
    ),
  };
};

describe(`API fuzz: ${TOTAL_RUNS} calls over ${ROUTES.length} routes`, () => {
  it.each(ROUTES.map((route) => [routeKey(route), route] as const))(
    '%s: never a 5xx; a 4xx writes nothing; a 400 names its field',
    async (_key, route) => {
      // Prepare: one seeded state, restored before every call.
      const built = handlerDeps({ overrides: { connectors: offlineRegistry() } });
      await seedApiState(built);
      const seed = built.ports.snapshot();
      // The function API Gateway integrates the route with.
      const handler = (routeFunctionOf(route) === 'certificate' ? makeCertificateHandler : makeHandler)(() =>
        Promise.resolve(built.deps),
      );
      const context = lambdaContext('erasure-api');

      await fc.assert(
        fc.asyncProperty(callOf(route), async (call) => {
          built.ports.state = structuredClone(seed);
          const commits = built.ports.commits.length;
          const sent = built.ports.sent.length;

          // Act
          const result = await handler(eventOf(route, call), context);

          // Assess
          const status = result.statusCode ?? 0;
          expect(status, result.body).toBeLessThan(500);
          if (status >= 400) {
            expect(built.ports.snapshot()).toEqual(seed);
            expect(built.ports.commits.slice(commits).filter((commit) => commit.result.committed)).toEqual(
              [],
            );
            expect(built.ports.sent.slice(sent)).toEqual([]);
          }
          if (status === 400) {
            const body = JSON.parse(result.body ?? '{}') as { error?: { field?: unknown } };
            expect(body.error?.field, result.body).toEqual(expect.any(String));
            expect(body.error?.field).not.toBe('');
          }
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
    },
    Math.max(30_000, RUNS_PER_ROUTE * 50),
  );
});
