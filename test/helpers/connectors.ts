/**
 * A connector registry for service tests whose connectors do what the test says: by default they
 * erase and verify at once. Every invocation is recorded (`invocations`, `executed` task ids).
 */
import type {
  ConnectorInvocation,
  ConnectorOutcome,
  VerificationResult,
  WindowInvocation,
  WindowOutcome,
} from '../../domain/connectors/types.js';
import type { ConnectorRegistry } from '../../functions/connectors/registry.js';

type Behaviour<T> = (invocation: ConnectorInvocation) => Promise<T>;

export type StubRegistry = ConnectorRegistry & {
  readonly executed: string[];
  readonly invocations: ConnectorInvocation[];
  /** Window runs asked for (rolling windows), with their target's name. */
  readonly windowRuns: (WindowInvocation & { readonly target: string })[];
};

export const stubRegistry = (
  execute: Behaviour<ConnectorOutcome> = async () => ({ status: 'done', affectedCount: 1 }),
  verify: Behaviour<VerificationResult> = async () => ({ verified: true }),
  expire: (invocation: WindowInvocation) => Promise<WindowOutcome> = async () => ({ erased: 0, held: 0 }),
): StubRegistry => {
  const windowRuns: (WindowInvocation & { readonly target: string })[] = [];
  const executed: string[] = [];
  const invocations: ConnectorInvocation[] = [];
  const plugin = {
    execute: (_target: unknown, invocation: ConnectorInvocation) => {
      executed.push(invocation.taskId);
      invocations.push(invocation);
      return execute(invocation);
    },
    verify: (_target: unknown, invocation: ConnectorInvocation) => verify(invocation),
    expire: (target: { readonly name: string }, invocation: WindowInvocation) => {
      windowRuns.push({ ...invocation, target: target.name });
      return expire(invocation);
    },
  };
  return {
    executed,
    invocations,
    windowRuns,
    connectorFor: (target) => ({ kind: target.kind, ...plugin }),
    execute: plugin.execute,
    verify: plugin.verify,
    expire: plugin.expire,
    register: () => {
      throw new Error('stub registries take no connectors');
    },
    kinds: () => ['s3-prefix', 'dynamodb-items', 'http-webhook'],
  };
};

/** One subject's unit of work for a connector called directly (no request behind it). */
export const connectorInvocation = (
  subjectId: string,
  overrides: Partial<ConnectorInvocation> = {},
): ConnectorInvocation => ({
  taskId: `task-${subjectId}`,
  requestId: `req-${subjectId}`,
  subjectId,
  dataClass: 'test-data',
  action: 'delete',
  idempotencyKey: `req-${subjectId}:task-${subjectId}`,
  ...overrides,
});
