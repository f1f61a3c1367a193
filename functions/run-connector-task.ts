import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { WorkerDeps } from './services/deps.js';
import { runConnectorTask } from './services/run-task.js';
import { clientsFromEnvironment, composeWorker, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';
import { logger } from './shared/observability.js';

const TaskMessageBody = z.object({ taskId: z.string().min(1), requestId: z.string().min(1) });

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const handleRecord = async (deps: WorkerDeps, record: SQSRecord): Promise<boolean> => {
  const parsed = TaskMessageBody.safeParse(parseJson(record.body));
  if (!parsed.success) {
    deps.log.error('malformed task message', { messageId: record.messageId });
    // It can never succeed: visible again at once, so the redrive moves it to the DLQ for inspection.
    await deps.queue.delayRetry(record.receiptHandle, 0);
    return false;
  }
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const outcome = await runConnectorTask(deps, parsed.data, receiveCount);
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

/** SQS consumer: reports partial batch failures so one failing task does not redeliver the others. */
export const makeHandler = (provide: () => Promise<WorkerDeps>) =>
  middy<SQSEvent, SQSBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await provide();
      const batchItemFailures: SQSBatchItemFailure[] = [];
      for (const record of event.Records) {
        let ok = false;
        try {
          ok = await handleRecord(deps, record);
        } catch (error) {
          deps.log.error('task message failed unexpectedly', {
            messageId: record.messageId,
            errorName: error instanceof Error ? error.name : typeof error,
          });
        }
        if (!ok) batchItemFailures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures };
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
