import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { parseDeploymentConfig } from '../../domain/policy/config.js';
import { DynamoAuditLog } from '../adapters/dynamo-audit-log.js';
import { DynamoHoldStore } from '../adapters/dynamo-hold-store.js';
import { DynamoRequestStore } from '../adapters/dynamo-request-store.js';
import { DynamoScheduleStore } from '../adapters/dynamo-schedule-store.js';
import { SqsTaskQueue } from '../adapters/sqs-task-queue.js';
import { webhookNotifier } from '../adapters/webhook-notifier.js';
import type { Authorisation } from '../api/router.js';
import { ConnectorPermanentError } from '../connectors/errors.js';
import { createConnectorRegistry } from '../connectors/registry.js';
import type { ServiceDeps } from '../services/deps.js';
import { type Environment, loadEnv } from './env.js';
import { logger, powertoolsMetrics } from './observability.js';
import type { Role } from './routes.js';

const Secrets = z.object({
  pseudonymKey: z.string().min(16),
  webhookSecrets: z.record(z.string(), z.string().min(16)).default({}),
});
type Secrets = z.infer<typeof Secrets>;

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
}

/**
 * Clients from the environment. The endpoint variables (AWS_ENDPOINT_URL_*) point them at the
 * local emulators; path-style S3 and queue-URL handling are what the emulators need and are
 * harmless on AWS.
 */
export const clientsFromEnvironment = (source: NodeJS.ProcessEnv = process.env): AwsClients => {
  const local = source.AWS_ENDPOINT_URL_S3 !== undefined || source.AWS_ENDPOINT_URL_SQS !== undefined;
  const dynamodb = new DynamoDBClient({});
  return {
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient(local ? { useQueueUrlAsEndpoint: false } : {}),
    s3: new S3Client(local ? { forcePathStyle: true } : {}),
  };
};

const loadSecrets = async (env: Environment): Promise<Secrets> => {
  if (env.SECRETS_ARN !== undefined) {
    const { SecretString } = await new SecretsManagerClient({}).send(
      new GetSecretValueCommand({ SecretId: env.SECRETS_ARN }),
    );
    return Secrets.parse(JSON.parse(SecretString ?? '{}'));
  }
  if (env.AUTH_MODE === 'iam') throw new Error('SECRETS_ARN is required outside the local runtime');
  return Secrets.parse({
    pseudonymKey: env.ERASURE_PSEUDONYM_KEY,
    webhookSecrets: env.ERASURE_WEBHOOK_SECRETS === undefined ? {} : JSON.parse(env.ERASURE_WEBHOOK_SECRETS),
  });
};

export interface RuntimeDeps extends ServiceDeps {
  readonly authorisation: Authorisation;
}

/** Builds the dependencies of every function from explicit environment, clients and secrets. */
export const buildDeps = (env: Environment, clients: AwsClients, secrets: Secrets): RuntimeDeps => {
  const tokens = new Map<string, Role>();
  if (env.ERASURE_SERVICE_TOKEN !== undefined) tokens.set(env.ERASURE_SERVICE_TOKEN, 'service');
  if (env.ERASURE_COMPLIANCE_TOKEN !== undefined) tokens.set(env.ERASURE_COMPLIANCE_TOKEN, 'compliance');
  const webhookSecret = (name: string): string => {
    const secret = secrets.webhookSecrets[name];
    // A missing secret is configuration, not a passing fault: retrying cannot fix it.
    if (secret === undefined) throw new ConnectorPermanentError(`No signing secret named '${name}'`);
    return secret;
  };
  const config = parseDeploymentConfig(JSON.parse(env.ERASURE_CONFIG));
  const noticeTarget = config.targets.find((target) => target.name === config.notices?.target);
  return {
    config,
    ...(noticeTarget?.kind === 'http-webhook'
      ? { notifier: webhookNotifier(noticeTarget, webhookSecret) }
      : {}),
    schedules: new DynamoScheduleStore(clients.documents, env.SCHEDULES_TABLE, env.DUE_BUCKET_SHARDS),
    requests: new DynamoRequestStore(clients.documents, env.REQUESTS_TABLE),
    holds: new DynamoHoldStore(clients.documents, env.LEGAL_HOLDS_TABLE),
    audit: new DynamoAuditLog(clients.documents, env.AUDIT_TABLE, secrets.pseudonymKey),
    queue: new SqsTaskQueue(clients.sqs, env.TASK_QUEUE_URL),
    connectors: createConnectorRegistry({
      s3: clients.s3,
      documents: clients.documents,
      secretFor: webhookSecret,
      ...(env.CALLBACK_BASE_URL === undefined ? {} : { callbackBaseUrl: env.CALLBACK_BASE_URL }),
    }),
    clock: () => new Date(),
    randomId: randomUUID,
    metrics: powertoolsMetrics(),
    log: {
      info: (message, extra) => logger.info(message, { ...extra }),
      warn: (message, extra) => logger.warn(message, { ...extra }),
      error: (message, extra) => logger.error(message, { ...extra }),
    },
    settings: {
      maxReceives: env.TASK_QUEUE_MAX_RECEIVES,
      dueBucketShards: env.DUE_BUCKET_SHARDS,
      idKey: secrets.pseudonymKey,
      sweepsMayRunAhead: env.AUTH_MODE === 'token',
    },
    webhookSecret,
    authorisation: env.AUTH_MODE === 'iam' ? { mode: 'iam' } : { mode: 'token', tokens },
  };
};

/**
 * Reads the environment, the secret and the clients once per cold start, on first use rather
 * than at import, so tests can import handlers without any environment.
 */
export const lazyDefaultDeps = (): (() => Promise<RuntimeDeps>) => {
  let deps: Promise<RuntimeDeps> | undefined;
  return () => {
    deps ??= (async () => {
      const env = loadEnv();
      return buildDeps(env, clientsFromEnvironment(), await loadSecrets(env));
    })().catch((error: unknown) => {
      deps = undefined;
      throw error;
    });
    return deps;
  };
};
