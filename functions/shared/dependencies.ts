/**
 * The composition roots: one per function, each building exactly the ports its use cases need
 * from its own environment (functions/manifest.ts), the AWS clients and the secrets. Production
 * handlers call them through `lazily` on first use; the local runtime calls them with its own
 * clients and development secrets (local/runtime.ts).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { parseDeploymentConfig } from '../../domain/policy/config.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import type { AnchorStore, IdentifierResolver, Signer } from '../../domain/ports/index.js';
import { findTarget } from '../../domain/vocabulary/index.js';
import { type AuditLogOptions, DynamoAuditLog } from '../adapters/dynamo-audit-log.js';
import { DynamoHoldStore } from '../adapters/dynamo-hold-store.js';
import { dynamoIdentifierResolver } from '../adapters/dynamo-identifier-resolver.js';
import { DynamoReportStore } from '../adapters/dynamo-report-store.js';
import { DynamoRequestStore } from '../adapters/dynamo-request-store.js';
import { DynamoScheduleStore } from '../adapters/dynamo-schedule-store.js';
import { DynamoSuppressionStore } from '../adapters/dynamo-suppression-store.js';
import { DynamoUnitOfWork } from '../adapters/dynamo-unit-of-work.js';
import { KmsSigner } from '../adapters/kms-signer.js';
import { S3AnchorStore } from '../adapters/s3-anchor-store.js';
import { SqsSweepShardQueue } from '../adapters/sqs-sweep-shard-queue.js';
import { SqsTaskQueue } from '../adapters/sqs-task-queue.js';
import { webhookIdentifierResolver } from '../adapters/webhook-identifier-resolver.js';
import { webhookNotifier } from '../adapters/webhook-notifier.js';
import { ConnectorPermanentError } from '../connectors/errors.js';
import { createConnectorRegistry } from '../connectors/registry.js';
import type { CertificateDeps } from '../services/certificates.js';
import type { Log, ServiceDeps, SweepDeps, SweepShardDeps, WorkerDeps } from '../services/deps.js';
import { API_CALL_HTTP, type HttpOptions, S3_HTTP } from './aws-http.js';
import type { FunctionEnvironment } from './env.js';
import { logger, type MetricsSink, powertoolsMetrics } from './observability.js';

export const Secrets = z.object({
  pseudonymKey: z.string().min(16),
  webhookSecrets: z.record(z.string(), z.string().min(16)).default({}),
});
export type Secrets = z.infer<typeof Secrets>;

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** @default a client from the environment, made on first use (only functions that sign need it) */
  readonly kms?: KMSClient;
}

/**
 * Clients from the environment, with time limits (aws-http.ts). The endpoint variables
 * (AWS_ENDPOINT_URL_*) point them at the local emulators; path-style S3 and queue-URL handling are
 * what the emulators need and are harmless on AWS.
 */
export const clientsFromEnvironment = (
  source: NodeJS.ProcessEnv = process.env,
  /** Tests shorten the limits to watch them act. */
  http: { readonly api: HttpOptions; readonly s3: HttpOptions } = { api: API_CALL_HTTP, s3: S3_HTTP },
): AwsClients => {
  const local = source.AWS_ENDPOINT_URL_S3 !== undefined || source.AWS_ENDPOINT_URL_SQS !== undefined;
  const dynamodb = new DynamoDBClient({ requestHandler: http.api });
  return {
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient({ requestHandler: http.api, ...(local ? { useQueueUrlAsEndpoint: false } : {}) }),
    s3: new S3Client({ requestHandler: http.s3, ...(local ? { forcePathStyle: true } : {}) }),
  };
};

export const loadSecrets = async (secretsArn: string): Promise<Secrets> => {
  const { SecretString } = await new SecretsManagerClient({ requestHandler: API_CALL_HTTP }).send(
    new GetSecretValueCommand({ SecretId: secretsArn }),
  );
  return Secrets.parse(JSON.parse(SecretString ?? '{}'));
};

/** What every composition root is handed besides its environment. */
export interface Platform {
  readonly clients: AwsClients;
  readonly secrets: Secrets;
  /** @default powertools metrics (EMF on stdout) */
  readonly metrics?: MetricsSink;
  /** @default the shared Powertools logger */
  readonly log?: Log;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /**
   * The trail's proof: where anchors go and what signs them. @default the S3 bucket and KMS key
   * the environment names (ANCHORS_BUCKET, SIGNING_KEY_ARN); the local runtime brings its own.
   */
  readonly proof?: { readonly anchors: AnchorStore; readonly signer: Signer };
}

/** The anchors bucket and the KMS signing key of a deployment; fails loudly if either is not named. */
const proofOf = (
  env: FunctionEnvironment<'sweep'> | FunctionEnvironment<'api'> | FunctionEnvironment<'certificate'>,
  platform: Platform,
): { anchors: AnchorStore; signer: Signer } => {
  if (platform.proof !== undefined) return platform.proof;
  const bucket = env.ANCHORS_BUCKET;
  const keyArn = env.SIGNING_KEY_ARN;
  if (bucket === undefined || keyArn === undefined) {
    throw new Error('Invalid environment: ANCHORS_BUCKET and SIGNING_KEY_ARN must both be set');
  }
  const retired = (env.RETIRED_SIGNING_KEY_ARNS ?? '').split(',').filter((arn) => arn.length > 0);
  return {
    anchors: new S3AnchorStore(platform.clients.s3, bucket),
    signer: new KmsSigner(
      platform.clients.kms ?? new KMSClient({ requestHandler: API_CALL_HTTP }),
      keyArn,
      retired,
    ),
  };
};

const powertoolsLog: Log = {
  info: (message, extra) => logger.info(message, { ...extra }),
  warn: (message, extra) => logger.warn(message, { ...extra }),
  error: (message, extra) => logger.error(message, { ...extra }),
};

const webhookSecretOf =
  (secrets: Secrets) =>
  (name: string): string => {
    const secret = secrets.webhookSecrets[name];
    // A missing secret is configuration, not a passing fault: retrying cannot fix it.
    if (secret === undefined) throw new ConnectorPermanentError(`No signing secret named '${name}'`);
    return secret;
  };

/** Stores, audit log and unit of work over the tables a function was given. */
/** The DynamoDB stores, audit log and unit of work over a function's tables (tests use it too). */
export const dynamoStorage = (
  documents: DynamoDBDocumentClient,
  tables: {
    readonly requests: string;
    readonly legalHolds: string;
    readonly audit: string;
    readonly suppressions?: string | undefined;
  },
  pseudonymKey: string,
  schedulesTable?: { readonly name: string; readonly shards: number },
  auditOptions: AuditLogOptions = {},
  /** Where the unit of work counts lost races and give-ups on chain heads. */
  metrics?: Pick<MetricsSink, 'count'>,
) => {
  const suppressions =
    tables.suppressions === undefined
      ? undefined
      : new DynamoSuppressionStore(documents, tables.suppressions);
  const requests = new DynamoRequestStore(documents, tables.requests, pseudonymKey);
  const holds = new DynamoHoldStore(documents, tables.legalHolds, pseudonymKey);
  const audit = new DynamoAuditLog(documents, tables.audit, pseudonymKey, auditOptions);
  const schedules =
    schedulesTable === undefined
      ? undefined
      : new DynamoScheduleStore(documents, schedulesTable.name, schedulesTable.shards, pseudonymKey);
  const uow = new DynamoUnitOfWork(
    documents,
    {
      requests,
      holds,
      audit,
      ...(schedules === undefined ? {} : { schedules }),
      ...(suppressions === undefined ? {} : { suppressions }),
    },
    undefined,
    metrics,
  );
  return { requests, holds, audit, uow, schedules, ...(suppressions === undefined ? {} : { suppressions }) };
};

/** The platform's metrics sink, or Powertools' (one EMF buffer per function, however many wrappers). */
const metricsOf = (platform: Platform): MetricsSink => platform.metrics ?? powertoolsMetrics();

const basics = (config: DeploymentConfig, platform: Platform) => ({
  config,
  clock: platform.clock ?? (() => new Date()),
  metrics: metricsOf(platform),
  log: platform.log ?? powertoolsLog,
});

const notifierOf = (config: DeploymentConfig, secrets: Secrets) => {
  const noticeTarget = config.notices === undefined ? undefined : findTarget(config, config.notices.target);
  return noticeTarget?.kind === 'http-webhook'
    ? { notifier: webhookNotifier(noticeTarget, webhookSecretOf(secrets)) }
    : {};
};

/** The identifier resolver the config names, if any (read where requests are created). */
export const identifierResolverOf = (
  config: DeploymentConfig,
  documents: DynamoDBDocumentClient,
  secrets: Secrets,
): { identifierResolver?: IdentifierResolver } => {
  const resolver = config.identifierResolver;
  if (resolver === undefined) return {};
  return {
    identifierResolver:
      resolver.kind === 'dynamodb-lookup'
        ? dynamoIdentifierResolver(documents, resolver)
        : webhookIdentifierResolver(resolver, { secretFor: webhookSecretOf(secrets) }),
  };
};

/**
 * A sweep-shard worker: schedules, requests, holds, audit, the task queue, notices, and the
 * identifier resolver (a scheduled deletion resolves its subject's identifiers).
 */
export const composeSweepShard = (
  env: FunctionEnvironment<'sweepShard'> | FunctionEnvironment<'sweep'>,
  platform: Platform,
  auditOptions: AuditLogOptions = {},
): SweepShardDeps => {
  const config = parseDeploymentConfig(JSON.parse(env.ERASURE_CONFIG));
  const { schedules, ...stores } = dynamoStorage(
    platform.clients.documents,
    {
      requests: env.REQUESTS_TABLE,
      legalHolds: env.LEGAL_HOLDS_TABLE,
      audit: env.AUDIT_TABLE,
      // The coordinator's (and the API's): a shard never completes a request.
      suppressions: 'SUPPRESSIONS_TABLE' in env ? env.SUPPRESSIONS_TABLE : undefined,
    },
    platform.secrets.pseudonymKey,
    { name: env.SCHEDULES_TABLE, shards: env.DUE_BUCKET_SHARDS },
    auditOptions,
    metricsOf(platform),
  );
  return {
    ...basics(config, platform),
    ...stores,
    // A shard may not scan the holds table: it reads the active holds (those naming a task's
    // identifier values) from the activeHolds index alone. The coordinator's may (`sweepOf`).
    holds: new DynamoHoldStore(
      platform.clients.documents,
      env.LEGAL_HOLDS_TABLE,
      platform.secrets.pseudonymKey,
      {
        activeFromIndexOnly: true,
      },
    ),
    schedules: schedules as DynamoScheduleStore,
    ...notifierOf(config, platform.secrets),
    ...identifierResolverOf(config, platform.clients.documents, platform.secrets),
    queue: new SqsTaskQueue(platform.clients.sqs, env.TASK_QUEUE_URL),
    randomId: randomUUID,
    settings: { idKey: platform.secrets.pseudonymKey, dueBucketShards: env.DUE_BUCKET_SHARDS },
  };
};

/** The coordinator's ports, with the audit log's options (`composeSweep` and `composeApi`). */
const sweepOf = (
  env: FunctionEnvironment<'sweep'>,
  platform: Platform,
  auditOptions: AuditLogOptions,
): SweepDeps => ({
  ...composeSweepShard(env, platform, auditOptions),
  // After an upgrade it lists the holds placed before the list of active holds (one scan, in a
  // 15-minute invocation); window runs read the active holds.
  holds: new DynamoHoldStore(
    platform.clients.documents,
    env.LEGAL_HOLDS_TABLE,
    platform.secrets.pseudonymKey,
    {
      indexOlderHolds: true,
    },
  ),
  ...proofOf(env, platform),
  // Rolling windows run from the coordinator, one connector call per target and run.
  connectors: createConnectorRegistry({
    s3: platform.clients.s3,
    documents: platform.clients.documents,
    secretFor: webhookSecretOf(platform.secrets),
  }),
  ...(env.SWEEP_SHARD_QUEUE_URL === undefined
    ? {}
    : { sweepShards: new SqsSweepShardQueue(platform.clients.sqs, env.SWEEP_SHARD_QUEUE_URL) }),
});

/**
 * The sweep's coordinator: a shard worker's ports, the proof, and the sweep-shard queue it fans
 * out to (without one it sweeps its buckets itself, as the API's sweep on demand does).
 */
export const composeSweep = (env: FunctionEnvironment<'sweep'>, platform: Platform): SweepDeps =>
  sweepOf(env, platform, {
    // The scheduled anchorer alone (dynamodb:Scan on the audit table: `scans` in
    // functions/manifest.ts) marks heads written before the byUnanchored index, a bounded part per
    // sweep, so that after an upgrade every chain gets anchored (README "Known limits").
    markOlderHeads: true,
  });

/** The API: every use case, so every port; connectors for exports, webhook secrets for callbacks. */
export const composeApi = (env: FunctionEnvironment<'api'>, platform: Platform): ServiceDeps => {
  // The API's sweeps and anchors on demand answer within API Gateway's 29 s: no upgrade scans.
  const sweep = sweepOf(env, platform, {});
  const webhookSecret = webhookSecretOf(platform.secrets);
  return {
    ...sweep,
    // Rolling windows list a bucket's root and delete across subjects: only the sweep's role may
    // (RuntimeConnectorWindowsPolicy), so a sweep on demand leaves them to the scheduled one.
    settings: { ...sweep.settings, windowRuns: false },
    webhookSecret,
    // The API lists no older holds (an upgrade's scan does not belong in a 29 s call): until the
    // sweep has, it reads the active holds from the activeHolds index or by a scan (`scans`).
    holds: new DynamoHoldStore(
      platform.clients.documents,
      env.LEGAL_HOLDS_TABLE,
      platform.secrets.pseudonymKey,
    ),
    reports: new DynamoReportStore(
      platform.clients.documents,
      { requests: env.REQUESTS_TABLE, schedules: env.SCHEDULES_TABLE },
      env.DUE_BUCKET_SHARDS,
    ),
    connectors: createConnectorRegistry({
      s3: platform.clients.s3,
      documents: platform.clients.documents,
      secretFor: webhookSecret,
    }),
  };
};

/**
 * The certificate function: a request and its subject's chain read, the proof (anchors the trail
 * when the request's last entry is not anchored yet, signs the certificate). No schedules, holds,
 * queue, connectors or unit of work: it writes no table.
 */
export const composeCertificates = (
  env: FunctionEnvironment<'certificate'>,
  platform: Platform,
): CertificateDeps & { readonly log: Log } => {
  const config = parseDeploymentConfig(JSON.parse(env.ERASURE_CONFIG));
  const { pseudonymKey } = platform.secrets;
  return {
    config,
    clock: platform.clock ?? (() => new Date()),
    log: platform.log ?? powertoolsLog,
    requests: new DynamoRequestStore(platform.clients.documents, env.REQUESTS_TABLE, pseudonymKey),
    audit: new DynamoAuditLog(platform.clients.documents, env.AUDIT_TABLE, pseudonymKey),
    ...proofOf(env, platform),
  };
};

/** The worker: tasks, requests, holds, audit, its connectors, and the queue it consumes. */
export const composeWorker = (env: FunctionEnvironment<'worker'>, platform: Platform): WorkerDeps => {
  const config = parseDeploymentConfig(JSON.parse(env.ERASURE_CONFIG));
  const { schedules: _none, ...stores } = dynamoStorage(
    platform.clients.documents,
    {
      requests: env.REQUESTS_TABLE,
      legalHolds: env.LEGAL_HOLDS_TABLE,
      audit: env.AUDIT_TABLE,
      suppressions: env.SUPPRESSIONS_TABLE,
    },
    platform.secrets.pseudonymKey,
    undefined,
    {},
    metricsOf(platform),
  );
  return {
    ...basics(config, platform),
    ...stores,
    // The worker may not scan the holds table: it reads the active holds (those naming a task's
    // identifier values) from the activeHolds index alone.
    holds: new DynamoHoldStore(
      platform.clients.documents,
      env.LEGAL_HOLDS_TABLE,
      platform.secrets.pseudonymKey,
      {
        activeFromIndexOnly: true,
      },
    ),
    queue: new SqsTaskQueue(platform.clients.sqs, env.TASK_QUEUE_URL),
    connectors: createConnectorRegistry({
      s3: platform.clients.s3,
      documents: platform.clients.documents,
      secretFor: webhookSecretOf(platform.secrets),
      ...(env.CALLBACK_BASE_URL === undefined ? {} : { callbackBaseUrl: env.CALLBACK_BASE_URL }),
    }),
    settings: { maxReceives: env.TASK_QUEUE_MAX_RECEIVES },
  };
};

/**
 * Builds once per cold start, on first use rather than at import, so tests can import handlers
 * without any environment; a failed build is tried again on the next invocation.
 */
export const lazily = <T>(build: () => Promise<T>): (() => Promise<T>) => {
  let built: Promise<T> | undefined;
  return () => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return built;
  };
};
