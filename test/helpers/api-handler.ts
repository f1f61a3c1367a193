/**
 * Calling the API handler (functions/api.ts) on the in-memory ports, for the handler tests that
 * check what a refused request must not do: the state, the audit trail and the queue are compared
 * before and after.
 */
import { expect } from 'vitest';
import type { ErrorBody } from '../../functions/api/types.js';
import { makeHandler } from '../../functions/api.js';
import type { ConnectorPlugin, ConnectorRegistry, TargetLike } from '../../functions/connectors/registry.js';
import { type ApiCall, apiEvent, HANDLER_TOKENS, type HandlerDeps, lambdaContext } from './handler-deps.js';
import type { InMemoryPorts } from './in-memory.js';

/** An error body (`ErrorBody`) or any answer whose fields a test reads one by one. */
export type ApiBody = Partial<ErrorBody> & { readonly [key: string]: unknown };

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Record<string, unknown> | undefined;
  readonly raw: string;
  readonly body: ApiBody | undefined;
}

/** The `Authorization` header of a role's test token. */
export const bearer = (role: keyof typeof HANDLER_TOKENS) => ({
  authorization: `Bearer ${HANDLER_TOKENS[role]}`,
});

/** One call through the Lambda handler, as API Gateway would make it. */
export const callApi = async (built: HandlerDeps, request: ApiCall): Promise<ApiAnswer> => {
  const handler = makeHandler(() => Promise.resolve(built.deps));
  const result = await handler(apiEvent(request), lambdaContext('erasure-api'));
  return {
    status: result.statusCode ?? 0,
    headers: result.headers,
    raw: result.body ?? '',
    body: (result.body === undefined ? undefined : JSON.parse(result.body)) as ApiBody | undefined,
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
    register: () => undefined,
    kinds: () => ['s3-prefix', 'dynamodb-items', 'http-webhook'],
  };
};
