import type { DeploymentConfig } from '../../domain/policy/types.js';
import type { DynamoAuditLog } from '../adapters/dynamo-audit-log.js';
import type { DynamoHoldStore } from '../adapters/dynamo-hold-store.js';
import type { DynamoRequestStore } from '../adapters/dynamo-request-store.js';
import type { DynamoScheduleStore } from '../adapters/dynamo-schedule-store.js';
import type { SqsTaskQueue } from '../adapters/sqs-task-queue.js';
import type { Notifier } from '../adapters/webhook-notifier.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { MetricsSink } from '../shared/observability.js';

/** Logging port: structured, and never given subject ids or personal data. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Everything the use cases need, built once per cold start (functions/shared/dependencies.ts). */
export interface ServiceDeps {
  readonly config: DeploymentConfig;
  readonly schedules: DynamoScheduleStore;
  readonly requests: DynamoRequestStore;
  readonly holds: DynamoHoldStore;
  readonly audit: DynamoAuditLog;
  readonly queue: SqsTaskQueue;
  readonly connectors: ConnectorRegistry;
  /** Delivers advance notices (IMOU-3); absent when the deployment names no notice target. */
  readonly notifier?: Notifier;
  readonly clock: () => Date;
  /** Random UUIDs; injected so tests can make ids predictable. */
  readonly randomId: () => string;
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly settings: {
    /** Deliveries of a task message before it is marked failed (the queue's maxReceiveCount). */
    readonly maxReceives: number;
    readonly dueBucketShards: number;
    /**
     * Keys the ids and audit idempotency keys derived from subject ids (the pseudonym key), so
     * nobody holding a guessed subject id can confirm it against an id in the audit trail.
     */
    readonly idKey: string;
    /**
     * Whether `POST /v1/sweeps` may run for a future instant. Only the local runtime (the demo
     * travels in time): in a deployment it would run deletions early.
     */
    readonly sweepsMayRunAhead?: boolean;
    /** First retry delay of a failed task; doubles per attempt. @default 30 */
    readonly retryBaseSeconds?: number;
  };
  /** Signing secret of a webhook target, for verifying its callbacks. */
  readonly webhookSecret: (signingSecretName: string) => string;
}

export const nowIso = (deps: Pick<ServiceDeps, 'clock'>): string => deps.clock().toISOString();
