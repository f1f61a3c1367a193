import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { WorkerDeps } from './services/deps.js';
import { runConnectorTask, type TaskRunOutcome, WorkerBatch } from './services/run-task.js';
import { clientsFromEnvironment, composeWorker, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';
import { logger, publishingMetrics } from './shared/observability.js';

const TaskMessageBody = z.object({ taskId: z.string().min(1), requestId: z.string().min(1) });

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const handleRecord = async (deps: WorkerDeps, batch: WorkerBatch, record: SQSRecord): Promise<boolean> => {
  const parsed = TaskMessageBody.safeParse(parseJson(record.body));
  if (!parsed.success) {
    deps.log.error('malformed task message', { messageId: record.messageId });
    // It can never succeed: visible again at once, so the redrive moves it to the DLQ for inspection.
    await deps.queue.delayRetry(record.receiptHandle, 0);
    return false;
  }
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  // The batch's tasks of one request read it once and commit their outcomes together.
  const inBatch = batch.enter(parsed.data.requestId);
  let outcome: TaskRunOutcome;
  try {
    outcome = await runConnectorTask({ ...deps, batch: inBatch }, parsed.data, receiveCount);
  } finally {
    inBatch.leave();
  }
  if (outcome.kind === 'retry') {
    await deps.queue.delayRetry(record.receiptHandle, outcome.retryAfterSeconds);
    return false;
  }
  if (outcome.kind === 'dead-letter') {
    // Visible again at once, so the queue's redrive moves it to the DLQ now, not a timeout later.
    await deps.queue.delayRetry(record.receiptHandle, 0);
    return false;
  }
  return outcome.kind === 'done';
};

/**
 * Records of one batch run at once, at most this many: the tasks of one request (one message per
 * task) then erase in parallel, and their outcomes commit in groups (see `WorkerBatch`).
 */
export const BATCH_CONCURRENCY = 8;

/** Runs `work` over `items` with at most `limit` running at once; results in input order. */
const mapBounded = async <T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
};

/** SQS consumer: reports partial batch failures so one failing task does not redeliver the others. */
export const makeHandler = (provide: () => Promise<WorkerDeps>, concurrency = BATCH_CONCURRENCY) =>
  middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await provide();
      return publishingMetrics(deps, async () => {
        // Outcomes of one request in this batch commit together, instead of one commit each that
        // conflict on the request's counts and audit chain.
        const batch = new WorkerBatch(deps);
        const succeeded = await mapBounded(event.Records, concurrency, async (record) => {
          try {
            return await handleRecord(deps, batch, record);
          } catch (error) {
            deps.log.error('task message failed unexpectedly', {
              messageId: record.messageId,
              errorName: error instanceof Error ? error.name : typeof error,
            });
            return false;
          }
        });
        const batchItemFailures: SQSBatchItemFailure[] = event.Records.flatMap((record, index) =>
          succeeded[index] === true ? [] : [{ itemIdentifier: record.messageId }],
        );
        return { batchItemFailures };
      });
    });

export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('worker');
    return composeWorker(env, {
      clients: clientsFromEnvironment(),
      secrets: await loadSecrets(env.SECRETS_ARN),
    });
  }),
);
