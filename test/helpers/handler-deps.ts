/**
 * Factories for service and handler tests (test/functions/*.test.ts): each function's
 * dependencies over in-memory ports (test/helpers/in-memory.ts), with a fixed clock, predictable
 * ids and recording log/metrics sinks; plus the Lambda events and context the handlers receive.
 * Tests assert on what was stored, audited and sent, not on SDK calls.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, Context, ScheduledEvent, SQSRecord } from 'aws-lambda';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/catalog.js';
import { parseDeploymentConfig } from '../../domain/policy/config.js';
import type { ApiDeps } from '../../functions/api.js';
import { createConnectorRegistry } from '../../functions/connectors/registry.js';
import type { Log } from '../../functions/services/deps.js';
import type { MetricsSink } from '../../functions/shared/observability.js';
import type { Role } from '../../functions/shared/routes.js';
import { KeyPairSigner } from '../../local/key-pair-signer.js';
import { InMemoryAnchorStore, InMemoryPorts } from './in-memory.js';

export const HANDLER_TOKENS = { service: 'test-service-token', compliance: 'test-compliance-token' } as const;
export const HANDLER_PSEUDONYM_KEY = 'test-pseudonym-key-0123456789abcdef';
/** The signing secret of EXAMPLE_TARGETS' `partner-services` webhook. */
export const HANDLER_WEBHOOK_SECRET = 'test-partner-services-signing-secret';
export const HANDLER_NOW = '2026-11-21T12:00:00.000Z';
export const HANDLER_MAX_RECEIVES = 5;
/** Signs anchors and certificates in handler tests (made once: key generation is not free). */
export const TEST_SIGNER = KeyPairSigner.generate();

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra: Record<string, unknown> | undefined;
}

export interface HandlerDeps {
  /** The API's dependencies (every port); the worker and the sweep use parts of it. */
  readonly deps: ApiDeps & { readonly settings: ApiDeps['settings'] & { readonly maxReceives: number } };
  /** The state behind the ports: seed it, inspect it, snapshot it. */
  readonly ports: InMemoryPorts;
  /** The anchors written, open for tampering. */
  readonly anchors: InMemoryAnchorStore;
  readonly signer: KeyPairSigner;
  readonly logs: LogLine[];
  readonly metrics: { readonly counts: Record<string, number>; flushes: number };
}

export interface HandlerDepsOptions {
  /** What `deps.clock()` answers. @default HANDLER_NOW */
  readonly now?: string;
  /** `iam`: API Gateway authorised the caller. @default 'token' with HANDLER_TOKENS */
  readonly auth?: 'iam' | 'token';
  /** @default 16 */
  readonly dueBucketShards?: number;
  /** @default one key pair for the whole test run */
  readonly signer?: KeyPairSigner;
  /** Replaces parts of the built deps (e.g. a stubbed connector registry). */
  readonly overrides?: Partial<HandlerDeps['deps']>;
}

/** The test deployment (built-in catalog, example targets) over in-memory ports. */
export const handlerDeps = (options: HandlerDepsOptions = {}): HandlerDeps => {
  const dueBucketShards = options.dueBucketShards ?? 16;
  const ports = new InMemoryPorts({ pseudonymKey: HANDLER_PSEUDONYM_KEY, dueBucketShards });
  const logs: LogLine[] = [];
  const record =
    (level: LogLine['level']): Log[LogLine['level']] =>
    (message, extra) => {
      logs.push({ level, message, extra });
    };
  const metrics = { counts: {} as Record<string, number>, flushes: 0 };
  const sink: MetricsSink = {
    count: (name, value) => {
      metrics.counts[name] = (metrics.counts[name] ?? 0) + value;
    },
    flush: () => {
      metrics.flushes++;
    },
  };
  let nextId = 0;
  const anchors = new InMemoryAnchorStore();
  const signer = options.signer ?? TEST_SIGNER;
  const now = options.now ?? HANDLER_NOW;
  const secrets: Record<string, string> = {
    'example/partner-services/signing-secret': HANDLER_WEBHOOK_SECRET,
  };
  const webhookSecret = (name: string): string => {
    const secret = secrets[name];
    if (secret === undefined) throw new Error(`No signing secret named '${name}'`);
    return secret;
  };
  // Connectors are not ports of the use cases' storage: tests that run tasks replace them.
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const deps: HandlerDeps['deps'] = {
    config: parseDeploymentConfig({ catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS }),
    requests: ports.requests,
    schedules: ports.schedules,
    holds: ports.holds,
    reports: ports.reports,
    audit: ports.audit,
    uow: ports.uow,
    queue: ports.queue,
    suppressions: ports.suppressions,
    anchors,
    signer,
    connectors: {
      ...createConnectorRegistry({
        s3: new S3Client({ region: 'eu-west-1' }),
        documents,
        secretFor: webhookSecret,
      }),
      // Sweeps run rolling windows: offline, they find nothing expired (window tests stub this).
      expire: async () => ({ erased: 0, held: 0 }),
    },
    clock: () => new Date(now),
    randomId: () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
    metrics: sink,
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    // Sweeps here run no rolling windows unless a test turns them on (window-runs.test.ts).
    settings: {
      idKey: HANDLER_PSEUDONYM_KEY,
      dueBucketShards,
      maxReceives: HANDLER_MAX_RECEIVES,
      windowRuns: false,
    },
    webhookSecret,
    authorisation:
      options.auth === 'iam'
        ? { mode: 'iam' }
        : {
            mode: 'token',
            tokens: new Map<string, Role>([
              [HANDLER_TOKENS.service, 'service'],
              [HANDLER_TOKENS.compliance, 'compliance'],
            ]),
          },
    ...options.overrides,
  };
  return { deps, ports, anchors, signer, logs, metrics };
};

export const lambdaContext = (functionName = 'test-function'): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: 'lambda-request-id',
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

export interface ApiCall {
  readonly method: string;
  readonly path: string;
  /** A header given as undefined is not sent (`content-type`, sent by default). */
  readonly headers?: Record<string, string | undefined>;
  /** A list is the parameter given once per value (`?a=1&a=2`). */
  readonly query?: Record<string, string | readonly string[]>;
  /** A string is sent as it is; anything else as JSON. */
  readonly body?: unknown;
  /** Sends the body base64-encoded, as API Gateway does for some content types. */
  readonly base64?: boolean;
  readonly requestId?: string;
}

/** The HTTP API (payload 2.0) event API Gateway builds for a call. */
export const apiEvent = (call: ApiCall): APIGatewayProxyEventV2 => {
  const pairs = Object.entries(call.query ?? {}).flatMap(([name, value]) =>
    (typeof value === 'string' ? [value] : value).map((one): [string, string] => [name, one]),
  );
  const rawQueryString = new URLSearchParams(pairs).toString();
  // API Gateway (payload 2.0) joins the values of a repeated parameter with commas.
  const query = Object.fromEntries(
    Object.entries(call.query ?? {}).map(([name, value]) => [
      name,
      typeof value === 'string' ? value : value.join(','),
    ]),
  );
  const text =
    call.body === undefined || typeof call.body === 'string' ? call.body : JSON.stringify(call.body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: call.path,
    rawQueryString,
    headers: Object.fromEntries(
      Object.entries({ 'content-type': 'application/json', ...call.headers }).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      ),
    ),
    ...(call.query === undefined ? {} : { queryStringParameters: query }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'test-api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: {
        method: call.method,
        path: call.path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'vitest',
      },
      requestId: call.requestId ?? 'api-request-id-1',
      routeKey: '$default',
      stage: '$default',
      time: '21/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.parse(HANDLER_NOW),
    },
    ...(text === undefined
      ? {}
      : { body: call.base64 === true ? Buffer.from(text, 'utf8').toString('base64') : text }),
    isBase64Encoded: call.base64 === true,
  };
};

/** An SQS record of the task queue as Lambda's event source mapping delivers it. */
export const sqsRecord = (
  messageId: string,
  body: string,
  options: { readonly receiveCount?: number; readonly receiptHandle?: string } = {},
): SQSRecord => ({
  messageId,
  receiptHandle: options.receiptHandle ?? `receipt-${messageId}`,
  body,
  attributes: {
    ApproximateReceiveCount: String(options.receiveCount ?? 1),
    SentTimestamp: String(Date.parse(HANDLER_NOW)),
    SenderId: 'AIDAEXAMPLE',
    ApproximateFirstReceiveTimestamp: String(Date.parse(HANDLER_NOW)),
  },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:test-tasks',
  awsRegion: 'eu-west-1',
});

/** The event an EventBridge schedule sends; `time` is the slot the run is for. */
export const scheduledEvent = (time: string): ScheduledEvent => ({
  version: '0',
  id: 'scheduled-event-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time,
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/test-sweep'],
  detail: {},
});
