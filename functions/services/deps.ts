import type { DeploymentConfig } from '../../domain/policy/types.js';
import type {
  AnchorStore,
  AuditLog,
  HoldStore,
  IdentifierResolver,
  Notifier,
  ReportStore,
  RequestStore,
  ScheduleStore,
  Signer,
  SuppressionStore,
  SweepShardQueue,
  TaskQueue,
  UnitOfWork,
} from '../../domain/ports/index.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { MetricsSink } from '../shared/observability.js';
import type { RequestInBatch } from './run-task.js';

/** Logging port: structured, and never given subject ids or personal data. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/**
 * Everything the use cases may need, as ports. Each function's composition root builds the part
 * its use cases use (functions/shared/compose.ts); tests build it from in-memory fakes.
 */
export interface ServiceDeps {
  readonly config: DeploymentConfig;
  readonly schedules: ScheduleStore;
  readonly requests: RequestStore;
  readonly holds: HoldStore;
  /** The compliance reports' index and counter reads (the API); absent where no report is served. */
  readonly reports?: ReportStore;
  readonly audit: AuditLog;
  /** Commits state changes with the audit records that prove them. */
  readonly uow: UnitOfWork;
  readonly queue: TaskQueue;
  /**
   * Where the sweep's coordinator sends its due buckets (one message each) to the sweep-shard
   * workers; absent: the coordinator sweeps them itself (the API's sweep on demand, tests).
   */
  readonly sweepShards?: SweepShardQueue;
  /** The suppression list (reads; writes go through `uow`). Absent in functions without its table. */
  readonly suppressions?: SuppressionStore;
  /** Where anchors of the audit trail go, outside the audit table. */
  readonly anchors: AnchorStore;
  /** Signs anchors and certificates. */
  readonly signer: Signer;
  readonly connectors: ConnectorRegistry;
  /** Looks up subjects' identifiers at intake; absent when the config names no resolver. */
  readonly identifierResolver?: IdentifierResolver;
  /** Delivers advance notices (IMOU-3); absent when the deployment names no notice target. */
  readonly notifier?: Notifier;
  readonly clock: () => Date;
  /** Random UUIDs; injected so tests can make ids predictable. */
  readonly randomId: () => string;
  readonly metrics: MetricsSink;
  readonly log: Log;
  readonly settings: Settings;
  /** Signing secret of a webhook target, for verifying its callbacks. */
  readonly webhookSecret: (signingSecretName: string) => string;
}

export interface Settings {
  /**
   * Keys the ids and audit idempotency keys derived from subject ids (the pseudonym key), so
   * nobody holding a guessed subject id can confirm it against an id in the audit trail.
   */
  readonly idKey: string;
  /** Shards of the due index (API and sweep). */
  readonly dueBucketShards: number;
  /**
   * Whether `POST /v1/sweeps` may run for a future instant. Only the local runtime (the demo
   * travels in time): in a deployment it would run deletions early.
   */
  readonly sweepsMayRunAhead?: boolean;
  /**
   * Whether sweeps run the rolling windows per target (window-runs.ts). @default true. Only a
   * local runtime whose clock travels far from S3's real object stamps turns it off.
   */
  readonly windowRuns?: boolean;
}

export interface WorkerSettings {
  /** Deliveries of a task message before it is marked failed (the queue's maxReceiveCount). */
  readonly maxReceives: number;
  /** First retry delay of a failed task; doubles per attempt. @default 30 */
  readonly retryBaseSeconds?: number;
}

/** What settling a request and finishing a task need (the worker, callbacks and the sweep). */
export type SettleDeps = Pick<ServiceDeps, 'requests' | 'uow' | 'audit' | 'clock'> &
  Partial<Pick<ServiceDeps, 'config'>>;

/** The worker: no schedules, no notices, no webhook secrets (its connectors sign with theirs). */
export type WorkerDeps = Pick<
  ServiceDeps,
  'config' | 'requests' | 'holds' | 'audit' | 'uow' | 'queue' | 'connectors' | 'clock' | 'metrics' | 'log'
> & {
  readonly settings: WorkerSettings;
  /** The task's request in the handler's batch: read once, holds read once, outcomes committed together. */
  readonly batch?: RequestInBatch;
};

/**
 * The sweep: no webhook secrets. Its connectors run the rolling windows (window-runs.ts);
 * without them the sweep runs no window.
 */
export type SweepDeps = Omit<ServiceDeps, 'connectors' | 'webhookSecret'> & {
  readonly connectors?: ServiceDeps['connectors'];
};

/** A sweep-shard worker: what one due bucket needs; it neither anchors nor fans out. */
export type SweepShardDeps = Omit<SweepDeps, 'anchors' | 'signer' | 'sweepShards' | 'connectors'>;

export const nowIso = (deps: Pick<ServiceDeps, 'clock'>): string => deps.clock().toISOString();
