import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import type { SweepShardDeps } from './services/deps.js';
import { type SweepShardReport, sweepShard } from './services/sweep.js';
import { clientsFromEnvironment, composeSweepShard, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';
import { logger, publishingMetrics } from './shared/observability.js';

const Instant = z.iso.datetime();
const ShardMessageBody = z.object({
  runId: z.string().min(1).max(200),
  bucket: z.string().regex(/^\d{4}-\d{2}#\d{2}$/),
  now: Instant,
});

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The batch answer Lambda reads, and (for the local runtime) what each shard did. */
export interface SweepShardResponse extends SQSBatchResponse {
  readonly reports: readonly SweepShardReport[];
}

/**
 * SQS consumer of the sweep-shard queue: one due bucket per message. A shard with a failed item is
 * reported as a batch item failure, so SQS delivers it again (and moves it to the DLQ after its
 * receives); the other messages of the batch are not redelivered.
 */
export const makeHandler = (provide: () => Promise<SweepShardDeps>) =>
  middy<SQSEvent, SweepShardResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await provide();
      return publishingMetrics(deps, async () => {
        const batchItemFailures: SQSBatchItemFailure[] = [];
        const reports: SweepShardReport[] = [];
        for (const record of event.Records) {
          const parsed = ShardMessageBody.safeParse(parseJson(record.body));
          if (!parsed.success) {
            // It can never succeed: failing it lets the redrive move it to the DLQ for inspection.
            deps.log.error('malformed sweep-shard message', { messageId: record.messageId });
            batchItemFailures.push({ itemIdentifier: record.messageId });
            continue;
          }
          try {
            reports.push(
              await sweepShard(deps, { ...parsed.data, now: new Date(parsed.data.now).toISOString() }),
            );
          } catch (error) {
            deps.log.error('sweep shard failed; SQS delivers it again', {
              messageId: record.messageId,
              errorName: error instanceof Error ? error.name : typeof error,
            });
            batchItemFailures.push({ itemIdentifier: record.messageId });
          }
        }
        return { batchItemFailures, reports };
      });
    });

export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('sweepShard');
    return composeSweepShard(env, {
      clients: clientsFromEnvironment(),
      secrets: await loadSecrets(env.SECRETS_ARN),
    });
  }),
);
