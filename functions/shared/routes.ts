import type { FunctionKey } from '../manifest.js';

/**
 * The API's routes, who may call them and which function answers them. The API handler authorises local bearer tokens with it,
 * and the CDK stack grants each IAM role `execute-api:Invoke` on exactly these routes, so the
 * two cannot disagree.
 */
export type Role = 'service' | 'compliance';

export interface RouteDefinition {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** API Gateway route path with `{param}` placeholders. */
  readonly path: string;
  /**
   * Roles allowed to call it; `signed` routes are authenticated by an HMAC signature instead;
   * `public` routes answer anyone and carry no data (liveness for load balancers and scripts).
   */
  readonly roles: readonly Role[] | 'signed' | 'public';
  /**
   * The function of functions/manifest.ts that answers it: API Gateway integrates the route with
   * it, and the local runtime hands it the call. @default 'api'
   */
  readonly servedBy?: RouteFunction;
  /**
   * It takes query parameters: its handler parses them, and refuses those it does not know.
   * Without it a query parameter is a 400 at once (on routes that authenticate a role): the route
   * reads none, and `DELETE ...?dryRun=true` must not release a hold as if nothing were asked.
   */
  readonly query?: true;
  /**
   * It takes a JSON body: its handler parses it, and refuses fields it does not know. Without it a
   * body with any field is a 400 at once (on routes that authenticate a role): `{"force": true}` on
   * a re-drive must not read as an option that was honoured. An empty body or `{}` is none.
   */
  readonly body?: true;
}

/** The functions that answer routes. */
export type RouteFunction = Extract<FunctionKey, 'api' | 'certificate'>;
export const ROUTE_FUNCTIONS = ['api', 'certificate'] as const satisfies readonly RouteFunction[];

export const ROUTES = [
  { method: 'GET', path: '/livez', roles: 'public' },
  // The API's own description: the same for everyone and in the open-source repository anyway.
  { method: 'GET', path: '/openapi.json', roles: 'public' },
  { method: 'GET', path: '/healthz', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/lifecycle-events', roles: ['service'], body: true },
  { method: 'GET', path: '/v1/subjects/{subjectId}/schedule', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/subjects/{subjectId}/export', roles: ['service', 'compliance'], body: true },
  { method: 'POST', path: '/v1/erasure-requests', roles: ['service'], body: true },
  // The dry run on its own route: compliance may preview an erasure but not submit one (IAM grants per route).
  { method: 'POST', path: '/v1/erasure-previews', roles: ['service', 'compliance'], body: true },
  { method: 'GET', path: '/v1/erasure-requests/{requestId}', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/erasure-requests/{requestId}/rejection', roles: ['compliance'], body: true },
  {
    method: 'POST',
    path: '/v1/erasure-requests/{requestId}/deadline-extension',
    roles: ['compliance'],
    body: true,
  },
  { method: 'POST', path: '/v1/erasure-requests/{requestId}/redrive', roles: ['compliance'] },
  // Its own function (functions/render-certificate.ts): the PDF renderer apart, read-only grants.
  {
    method: 'GET',
    path: '/v1/erasure-requests/{requestId}/certificate',
    roles: ['compliance'],
    servedBy: 'certificate',
    query: true,
  },
  { method: 'POST', path: '/v1/legal-holds', roles: ['compliance'], body: true },
  { method: 'DELETE', path: '/v1/legal-holds/{holdId}', roles: ['compliance'] },
  { method: 'POST', path: '/v1/sweeps', roles: ['service'], body: true },
  { method: 'GET', path: '/v1/audit', roles: ['compliance'], query: true },
  { method: 'GET', path: '/v1/audit/verification', roles: ['compliance'], query: true },
  { method: 'POST', path: '/v1/audit/anchors', roles: ['compliance'] },
  { method: 'GET', path: '/v1/audit/anchors', roles: ['compliance'], query: true },
  { method: 'GET', path: '/v1/audit/public-keys', roles: ['compliance'] },
  // Compliance reports: each from an index or counters (functions/services/reports.ts).
  { method: 'GET', path: '/v1/reports/deadlines', roles: ['compliance'], query: true },
  { method: 'GET', path: '/v1/reports/holds', roles: ['compliance'], query: true },
  { method: 'GET', path: '/v1/reports/failures', roles: ['compliance'], query: true },
  { method: 'GET', path: '/v1/reports/erasures', roles: ['compliance'], query: true },
  { method: 'GET', path: '/v1/reports/upcoming', roles: ['compliance'], query: true },
  { method: 'POST', path: '/v1/tasks/{taskId}/callback', roles: 'signed', body: true },
  // Identifiers travel in the body, never in a path (paths are logged): both are POSTs.
  { method: 'POST', path: '/v1/suppressions/check', roles: ['service'], body: true },
  { method: 'POST', path: '/v1/suppressions/lift', roles: ['compliance'], body: true },
] as const satisfies readonly RouteDefinition[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['path']}`;

export const routeKey = (route: RouteDefinition): string => `${route.method} ${route.path}`;

export const routeFunctionOf = (route: RouteDefinition): RouteFunction => route.servedBy ?? 'api';

/** The routes function `key` answers. */
export const routesOf = (key: RouteFunction): readonly RouteDefinition[] =>
  (ROUTES as readonly RouteDefinition[]).filter((route) => routeFunctionOf(route) === key);

/** The route a call of `method` on `path` matches (trailing slashes ignored), if any. */
export const routeOf = (method: string, path: string): RouteDefinition | undefined => {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  return (ROUTES as readonly RouteDefinition[]).find(
    (candidate) =>
      candidate.method === method.toUpperCase() &&
      new RegExp(`^${candidate.path.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(trimmed),
  );
};

/**
 * Which function answers a call, as API Gateway would choose it: the matched route's, and the
 * API's for calls no route matches (its router answers 404 or 405), for a server with one
 * catch-all route (the local runtime).
 */
export const functionServing = (method: string, path: string): RouteFunction => {
  const route = routeOf(method, path);
  return route === undefined ? 'api' : routeFunctionOf(route);
};
