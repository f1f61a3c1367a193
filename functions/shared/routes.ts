/**
 * The API's routes and who may call them. The API handler authorises local bearer tokens with it,
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
}

export const ROUTES = [
  { method: 'GET', path: '/livez', roles: 'public' },
  // The API's own description: the same for everyone and in the open-source repository anyway.
  { method: 'GET', path: '/openapi.json', roles: 'public' },
  { method: 'GET', path: '/healthz', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/lifecycle-events', roles: ['service'] },
  { method: 'GET', path: '/v1/subjects/{subjectId}/schedule', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/subjects/{subjectId}/export', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/erasure-requests', roles: ['service'] },
  { method: 'GET', path: '/v1/erasure-requests/{requestId}', roles: ['service', 'compliance'] },
  { method: 'POST', path: '/v1/erasure-requests/{requestId}/rejection', roles: ['compliance'] },
  { method: 'POST', path: '/v1/erasure-requests/{requestId}/deadline-extension', roles: ['compliance'] },
  { method: 'POST', path: '/v1/erasure-requests/{requestId}/redrive', roles: ['compliance'] },
  { method: 'GET', path: '/v1/erasure-requests/{requestId}/certificate', roles: ['compliance'] },
  { method: 'POST', path: '/v1/legal-holds', roles: ['compliance'] },
  { method: 'DELETE', path: '/v1/legal-holds/{holdId}', roles: ['compliance'] },
  { method: 'POST', path: '/v1/sweeps', roles: ['service'] },
  { method: 'GET', path: '/v1/audit', roles: ['compliance'] },
  { method: 'GET', path: '/v1/audit/verification', roles: ['compliance'] },
  { method: 'POST', path: '/v1/audit/anchors', roles: ['compliance'] },
  { method: 'GET', path: '/v1/audit/anchors', roles: ['compliance'] },
  { method: 'GET', path: '/v1/audit/public-keys', roles: ['compliance'] },
  { method: 'POST', path: '/v1/tasks/{taskId}/callback', roles: 'signed' },
] as const satisfies readonly RouteDefinition[];

export type RouteKey = `${(typeof ROUTES)[number]['method']} ${(typeof ROUTES)[number]['path']}`;

export const routeKey = (route: RouteDefinition): string => `${route.method} ${route.path}`;
