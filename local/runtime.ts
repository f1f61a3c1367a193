import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, Context, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { isDashboardPath, isLoopbackHost, serveDashboard } from '../dashboard/server.js';
import { type ApiDeps, makeStreamingHandler as makeApiHandler } from '../functions/api.js';
import type { FunctionKey } from '../functions/manifest.js';
import { makeStreamingHandler as makeCertificateHandler } from '../functions/render-certificate.js';
import { makeHandler as makeTaskHandler } from '../functions/run-connector-task.js';
import type { Log } from '../functions/services/deps.js';
import { mergeShardReport, type SweepReport } from '../functions/services/sweep.js';

type MutableReport = Parameters<typeof mergeShardReport>[0];

import { MAX_BODY_BYTES } from '../functions/api/router.js';
import {
  composeApi,
  composeCertificates,
  composeSweep,
  composeSweepShard,
  composeWorker,
  type Platform,
} from '../functions/shared/dependencies.js';
import { parseEnvironment } from '../functions/shared/env.js';
import { logger } from '../functions/shared/observability.js';
import { functionServing, type Role, routeOf } from '../functions/shared/routes.js';
import { makeHandler as makeSweepHandler } from '../functions/sweep-due-deletions.js';
import { makeHandler as makeSweepShardHandler } from '../functions/sweep-shard.js';
import { createLocalClients, type EmulatorEndpoints, type LocalClients } from './aws-clients.js';
import {
  createDemoStores,
  DEMO_WEBHOOK_SECRET_NAME,
  type DemoStores,
  demoDeploymentConfig,
  demoStoreNames,
  seedDemoSubject,
} from './demo.js';
import { type DemoWebhook, type DemoWebhookMode, startDemoWebhook } from './demo-webhook.js';
import { FolderAnchorStore } from './folder-anchor-store.js';
import { localSigner } from './key-pair-signer.js';
import { createOrchestratorResources, type OrchestratorResources } from './resources.js';
import { asFunction, guardTableAccess } from './table-access-guard.js';

export interface LocalRuntimeOptions {
  readonly endpoints: EmulatorEndpoints;
  /** Prefix of the orchestrator's tables and queues. @default 'erasure-local' */
  readonly prefix?: string;
  /** Prefix of the demo stores (tests use their own). @default '' → demo-customers, ... */
  readonly demoPrefix?: string;
  /** API port on 127.0.0.1; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Demo webhook port; 0 picks a free one. @default 0 */
  readonly webhookPort?: number;
  readonly webhookMode?: DemoWebhookMode;
  /** Sweep every this many milliseconds; false for none (tests sweep through the API). @default 60000 */
  readonly sweepIntervalMs?: number | false;
  /**
   * Whether the scheduled sweep runs the rolling windows per target (the API's sweep on demand
   * never does, as in AWS). @default true. Tests whose clock travels
   * years from S3's real object stamps turn it off and run the windows they are about themselves.
   */
  readonly windowRuns?: boolean;
  /** Run the queue consumer continuously; false lets tests drain the queue step by step. @default true */
  readonly consumeQueue?: boolean;
  readonly tokens?: { readonly service: string; readonly compliance: string };
  /**
   * Whether requests resolve the demo subjects' identifiers from the demo identity table (an
   * `identifierResolver`) rather than only use those they are sent. @default false
   */
  readonly resolveIdentifiers?: boolean;
  /** Demo subjects to seed (`demo-subject-1`, ...). @default 3 */
  readonly demoSubjects?: number;
  /** First retry delay of a failed task in seconds. @default 30 */
  readonly retryBaseSeconds?: number;
  /**
   * Where the trail's proof lives: the signing key (`signing-keys/`, made on first start) and the
   * anchors (`anchors/`). There is no KMS or Object Lock emulator: see README "Proof".
   * @default a new temporary folder
   */
  readonly proofDir?: string;
  /** Pseudonym key of the audit trail. @default a fixed development key */
  readonly pseudonymKey?: string;
  readonly clock?: () => Date;
  /** Told of every API call once answered: method, route template (never the path), status, ms. */
  readonly onRequest?: (call: ApiCallSummary) => void;
  /** Told of every log line of every function (besides the logger's own output). */
  readonly onLog?: (record: LogRecord) => void;
  /** Sweep-shard workers draining the sweep-shard queue at once (AWS: its maxConcurrency). @default 4 */
  readonly sweepShardWorkers?: number;
  /** Told of every task message body the queue consumer receives. */
  readonly onTaskMessage?: (body: string) => void;
}

export interface ApiCallSummary {
  readonly method: string;
  /** The route's template (`/v1/subjects/{subjectId}/schedule`): paths can carry subject ids. */
  readonly route: string;
  readonly status: number;
  readonly ms: number;
}

/** The functions' names, as in AWS, in their log lines and Lambda contexts. */
export const FUNCTION_NAMES = {
  api: 'erasure-api',
  sweep: 'erasure-sweep-due-deletions',
  sweepShard: 'erasure-sweep-shard',
  worker: 'erasure-run-connector-task',
  certificate: 'erasure-render-certificate',
} as const satisfies Record<FunctionKey, string>;

/** What a function logged, as the log port was given it (for tests that inspect logs). */
export interface LogRecord {
  readonly functionName: string;
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra: Record<string, unknown> | undefined;
}

const functionLog = (name: string, onLog?: (record: LogRecord) => void): Log => {
  const child = logger.createChild({ persistentKeys: { function_name: name } });
  const at = (level: LogRecord['level']) => (message: string, extra?: Record<string, unknown>) => {
    child[level](message, { ...extra });
    onLog?.({ functionName: name, level, message, extra });
  };
  return { info: at('info'), warn: at('warn'), error: at('error') };
};

/** The template of the route a call matched, or `unmatched`: what the terminal may show. */
const routeTemplateOf = (method: string, path: string): string => routeOf(method, path)?.path ?? 'unmatched';

export interface LocalRuntime {
  readonly apiUrl: string;
  readonly tokens: { readonly service: string; readonly compliance: string };
  readonly resources: OrchestratorResources;
  readonly stores: DemoStores;
  readonly webhook: DemoWebhook;
  readonly clients: LocalClients;
  /** The folder of the signing keys and anchors. */
  readonly proofDir: string;
  /** The API function's dependencies (every port), for tests and benchmarks. */
  readonly deps: ApiDeps;
  /** Receives and runs task messages until the queue has none visible; returns how many ran. */
  drainQueue(): Promise<number>;
  /**
   * Runs the sweep's coordinator, then drains the sweep-shard queue with `shardWorkers` workers
   * (the option's default); the report holds what every shard did.
   */
  sweep(now?: Date, options?: { readonly shardWorkers?: number }): Promise<SweepReport>;
  stop(): Promise<void>;
}

export const DEFAULT_TOKENS = { service: 'dev-service-token', compliance: 'dev-compliance-token' } as const;
export const DEV_PSEUDONYM_KEY = 'local-development-pseudonym-key-not-for-production';
const DEV_WEBHOOK_SECRET = 'local-development-webhook-secret';

const lambdaContext = (functionName: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
  memoryLimitInMB: '512',
  awsRequestId: randomUUID(),
  logGroupName: `/aws/lambda/${functionName}`,
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/**
 * The request body, kept only until it is past `limit` bytes: that is enough for the router to
 * answer 413, and an upload of any size never sits in memory. The rest is read and dropped, so
 * the client still gets that answer instead of a reset connection.
 */
export const readBody = async (request: AsyncIterable<Buffer>, limit = MAX_BODY_BYTES): Promise<string> => {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of request) {
    if (kept > limit) continue;
    chunks.push(chunk);
    kept += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
};

/** Query parameters as API Gateway (payload 2.0) passes them: a repeated one's values joined with commas. */
const joinedQuery = (params: URLSearchParams): Record<string, string> => {
  const query: Record<string, string> = {};
  for (const [name, value] of params) query[name] = name in query ? `${query[name]},${value}` : value;
  return query;
};

/** The API Gateway HTTP API (payload 2.0) event that API Gateway would build for this request. */
export const toApiEvent = (request: IncomingMessage, body: string): APIGatewayProxyEventV2 => {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    ...(url.search === '' ? {} : { queryStringParameters: joinedQuery(url.searchParams) }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: url.host,
      domainPrefix: 'local',
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body === '' ? {} : { body }),
    isBase64Encoded: false,
  };
};

const toSqsRecord = (message: Message, queueArn: string): SQSRecord => ({
  messageId: message.MessageId ?? randomUUID(),
  receiptHandle: message.ReceiptHandle ?? '',
  body: message.Body ?? '',
  attributes: {
    ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
    SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
    SenderId: 'local',
    ApproximateFirstReceiveTimestamp: String(Date.now()),
  },
  messageAttributes: {},
  md5OfBody: message.MD5OfBody ?? '',
  eventSource: 'aws:sqs',
  eventSourceARN: queueArn,
  awsRegion: 'us-east-1',
});

/**
 * The whole pipeline on one machine: the orchestrator's resources and the demo stores in the
 * emulators, the API on localhost, the queue consumer and the sweep, each through the same
 * handlers Lambda runs.
 */
export const startLocalRuntime = async (options: LocalRuntimeOptions): Promise<LocalRuntime> => {
  const clients = createLocalClients(options.endpoints);
  const tokens = options.tokens ?? DEFAULT_TOKENS;
  const stores = demoStoreNames(options.demoPrefix);
  const [resources, webhook] = await Promise.all([
    createOrchestratorResources(clients, options.prefix ?? 'erasure-local'),
    startDemoWebhook({
      port: options.webhookPort ?? 0,
      secret: DEV_WEBHOOK_SECRET,
      mode: options.webhookMode ?? 'sync',
    }),
    createDemoStores(clients, stores),
  ]);
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, '127.0.0.1', () => resolve());
  });
  const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Each function gets its own environment, as in AWS; secrets and tokens are local ones.
  const environment: NodeJS.ProcessEnv = {
    ...resources.environment,
    ERASURE_CONFIG: JSON.stringify(
      demoDeploymentConfig(stores, webhook.url, { resolveIdentifiers: options.resolveIdentifiers === true }),
    ),
    CALLBACK_BASE_URL: apiUrl,
  };
  const env = <K extends FunctionKey>(key: K) => parseEnvironment(key, environment);
  // Each handler's DynamoDB calls are held to its function's IAM grants, as in AWS.
  guardTableAccess(clients.dynamodb, resources.tables);
  // The functions share this process (in AWS, each has its own): each logs under its own name.
  const platformOf = (key: FunctionKey): Platform => ({
    ...platform,
    log: functionLog(FUNCTION_NAMES[key], options.onLog),
  });
  // A folder made here is a scratch one (tests): it goes when the runtime stops.
  const scratchProofDir = options.proofDir === undefined;
  const proofDir = options.proofDir ?? (await mkdtemp(join(tmpdir(), 'erasure-proof-')));
  const platform: Platform = {
    clients,
    proof: { anchors: new FolderAnchorStore(proofDir), signer: await localSigner(proofDir) },
    secrets: {
      pseudonymKey: options.pseudonymKey ?? DEV_PSEUDONYM_KEY,
      webhookSecrets: { [DEMO_WEBHOOK_SECRET_NAME]: DEV_WEBHOOK_SECRET },
    },
    // CloudWatch reads metrics from Lambda's stdout; locally they would only be noise.
    metrics: { count: () => undefined, flush: () => undefined },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  };
  const api = composeApi(env('api'), platformOf('api'));
  const authorisation = {
    mode: 'token',
    tokens: new Map<string, Role>([
      [tokens.service, 'service'],
      [tokens.compliance, 'compliance'],
    ]),
  } as const;
  const deps: ApiDeps = {
    ...api,
    // The demo travels in time: sweeps for a future instant are allowed here only.
    settings: {
      ...api.settings,
      sweepsMayRunAhead: true,
    },
    authorisation,
  };
  const worker = composeWorker(env('worker'), platformOf('worker'));
  const workerDeps = {
    ...worker,
    settings: {
      ...worker.settings,
      ...(options.retryBaseSeconds === undefined ? {} : { retryBaseSeconds: options.retryBaseSeconds }),
    },
  };
  const certificateDeps = {
    ...composeCertificates(env('certificate'), platformOf('certificate')),
    authorisation,
  };
  // One server, one catch-all route: each call goes to the function API Gateway would integrate.
  const httpHandlers = {
    api: {
      name: FUNCTION_NAMES.api,
      handle: asFunction(
        'api',
        makeApiHandler(() => Promise.resolve(deps)),
      ),
    },
    certificate: {
      name: FUNCTION_NAMES.certificate,
      handle: asFunction(
        'certificate',
        makeCertificateHandler(() => Promise.resolve(certificateDeps)),
      ),
    },
  };
  const runTasks = asFunction(
    'worker',
    makeTaskHandler(() => Promise.resolve(workerDeps)),
  );
  const sweep0 = composeSweep(env('sweep'), platformOf('sweep'));
  const sweepDeps = {
    ...sweep0,
    settings: { ...sweep0.settings, ...(options.windowRuns === false ? { windowRuns: false } : {}) },
  };
  const sweepHandler = asFunction(
    'sweep',
    makeSweepHandler(() => Promise.resolve(sweepDeps)),
  );
  const sweepShardDeps = composeSweepShard(env('sweepShard'), platformOf('sweepShard'));
  const sweepShardHandler = asFunction(
    'sweepShard',
    makeSweepShardHandler(() => Promise.resolve(sweepShardDeps)),
  );

  const apiPort = (server.address() as AddressInfo).port;
  server.on('request', (request, response) => {
    const startedAt = performance.now();
    // The compliance dashboard, same origin as the API. Locally the page carries the compliance
    // token (any local user can read it from .local/runtime.json anyway); it is served to loopback
    // Host names only (README "Dashboard"). The API's own auth is unchanged.
    if (request.method !== undefined && isDashboardPath(new URL(request.url ?? '/', apiUrl).pathname)) {
      void serveDashboard(request, response, {
        port: apiPort,
        config: () => ({ token: tokens.compliance, apiLabel: `the local runtime (${apiUrl})` }),
      });
      return;
    }
    // Loopback Host names only, as for the dashboard: a web page whose own name rebinds to
    // 127.0.0.1 (DNS rebinding) would otherwise reach the API, and the local tokens are known.
    if (!isLoopbackHost(request.headers.host, apiPort)) {
      response.writeHead(403, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: {
            code: 'forbidden_host',
            message: 'The local API answers only http://127.0.0.1 or http://localhost on its own port.',
          },
        }),
      );
      return;
    }
    void (async () => {
      const event = toApiEvent(request, await readBody(request as AsyncIterable<Buffer>));
      const servedBy = functionServing(event.requestContext.http.method, event.rawPath);
      const fn = httpHandlers[servedBy];
      const result = await fn.handle(event, lambdaContext(fn.name));
      response.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      if ('stream' in result) {
        // Page by page, waiting for the client to drain: memory stays at one page however long.
        // The pages are still the function's reads, held to its grants.
        try {
          await asFunction(servedBy, async () => {
            for await (const chunk of result.stream) {
              if (response.destroyed) break; // the client went away: stop reading pages
              if (!response.write(chunk)) {
                await new Promise((resolve) => {
                  response.once('drain', resolve);
                  response.once('close', resolve);
                });
              }
            }
          })();
          response.end();
        } catch (error) {
          // The status is sent: all that is left is to cut the answer short, visibly.
          deps.log.error('streamed answer failed', { errorName: (error as Error).name });
          response.destroy();
        }
      } else {
        // What API Gateway does with a base64-flagged body (a PDF): the client gets the bytes.
        response.end(
          result.isBase64Encoded === true ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''),
        );
      }
      options.onRequest?.({
        method: event.requestContext.http.method,
        route: routeTemplateOf(event.requestContext.http.method, event.rawPath),
        status: result.statusCode ?? 200,
        ms: Math.round(performance.now() - startedAt),
      });
    })().catch(() => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end('{"error":{"code":"internal_error","message":"Internal error"}}');
    });
  });

  const queueArn = `arn:aws:sqs:us-east-1:000000000000:${resources.taskQueueUrl.split('/').pop() ?? ''}`;
  const receiveAndRun = async (waitSeconds: number): Promise<number> => {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resources.taskQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      }),
    );
    if (Messages.length === 0) return 0;
    for (const message of Messages) options.onTaskMessage?.(message.Body ?? '');
    const event: SQSEvent = { Records: Messages.map((message) => toSqsRecord(message, queueArn)) };
    const { batchItemFailures } = await runTasks(event, lambdaContext(FUNCTION_NAMES.worker));
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    const succeeded = event.Records.filter((record) => !failed.has(record.messageId));
    if (succeeded.length > 0) {
      // What Lambda's event source mapping does for the records a batch did not report as failed.
      await clients.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: resources.taskQueueUrl,
          Entries: succeeded.map((record, index) => ({
            Id: String(index),
            ReceiptHandle: record.receiptHandle,
          })),
        }),
      );
    }
    return Messages.length;
  };

  let stopping = false;
  const consumer =
    options.consumeQueue === false
      ? Promise.resolve()
      : (async () => {
          while (!stopping) {
            try {
              await receiveAndRun(2);
            } catch (error) {
              if (!stopping) {
                deps.log.error('local queue consumer failed', { errorName: (error as Error).name });
                await new Promise((resolve) => setTimeout(resolve, 1000));
              }
            }
          }
        })();

  const shardQueueArn = `arn:aws:sqs:us-east-1:000000000000:${resources.sweepShardQueueUrl.split('/').pop() ?? ''}`;
  /** One shard worker: one message at a time (AWS: batch size 1), until none is visible. */
  const shardWorker = async (report: MutableReport): Promise<void> => {
    for (;;) {
      const { Messages = [] } = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: resources.sweepShardQueueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      const [message] = Messages;
      if (message === undefined) return;
      const record = toSqsRecord(message, shardQueueArn);
      const { batchItemFailures, reports } = await sweepShardHandler(
        { Records: [record] },
        lambdaContext(FUNCTION_NAMES.sweepShard),
      );
      for (const shard of reports) mergeShardReport(report, shard);
      // A failed shard stays on the queue (visible again after its timeout, then the DLQ).
      if (batchItemFailures.length === 0) {
        await clients.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: resources.sweepShardQueueUrl,
            Entries: [{ Id: '0', ReceiptHandle: record.receiptHandle }],
          }),
        );
      }
    }
  };

  const sweep = async (
    now: Date = deps.clock(),
    sweepOptions: { readonly shardWorkers?: number } = {},
  ): Promise<SweepReport> => {
    const event: ScheduledEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: now.toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: {},
    };
    const coordinated = await sweepHandler(event, lambdaContext(FUNCTION_NAMES.sweep));
    const report: MutableReport = {
      dispatched: [...coordinated.dispatched],
      blocked: [...coordinated.blocked],
      notices: [...coordinated.notices],
      heldNotices: [...coordinated.heldNotices],
    };
    const workers = sweepOptions.shardWorkers ?? options.sweepShardWorkers ?? 4;
    await Promise.all(Array.from({ length: workers }, () => shardWorker(report)));
    return { ...coordinated, ...report };
  };
  // Like the deployed sweep (reserved concurrency 1), a tick that finds a sweep running skips.
  let sweeping = false;
  const sweepTimer =
    options.sweepIntervalMs === false
      ? undefined
      : setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          sweep()
            .catch((error: unknown) =>
              deps.log.error('scheduled local sweep failed', { errorName: (error as Error).name }),
            )
            .finally(() => {
              sweeping = false;
            });
        }, options.sweepIntervalMs ?? 60_000);

  const now = deps.clock();
  for (let index = 1; index <= (options.demoSubjects ?? 3); index++) {
    const subjectId = `demo-subject-${index}`;
    await seedDemoSubject(clients, stores, subjectId, now);
    webhook.records.set(subjectId, 2);
  }

  return {
    apiUrl,
    tokens,
    resources,
    stores,
    webhook,
    clients,
    proofDir,
    deps,
    drainQueue: async () => {
      let total = 0;
      for (;;) {
        const ran = await receiveAndRun(0);
        if (ran === 0) return total;
        total += ran;
      }
    },
    sweep,
    stop: async () => {
      stopping = true;
      if (sweepTimer !== undefined) clearInterval(sweepTimer);
      await consumer;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await webhook.stop();
      if (scratchProofDir) await rm(proofDir, { recursive: true, force: true });
    },
  };
};
