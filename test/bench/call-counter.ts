import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

/** Calls of one SDK client by operation (`ListObjectsV2`, `DeleteObjects`, `SendMessageBatch`, ...). */
export type CallCounts = ReadonlyMap<string, number>;

/**
 * Counts the calls an AWS SDK client sends, by operation: one middleware in the `initialize` step,
 * so SDK retries of one call count once (like DynamoCounter, for S3 and SQS clients).
 */
export class CallCounter {
  private counts = new Map<string, number>();

  attach(client: S3Client | SQSClient): void {
    (client.middlewareStack as S3Client['middlewareStack']).add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: 'initialize', name: 'benchCallCounter', override: true },
    );
  }

  reset(): void {
    this.counts = new Map();
  }

  snapshot(): CallCounts {
    return new Map(this.counts);
  }
}

/** The total of the operations named (all when none). */
export const callsOf = (counts: CallCounts, ...operations: string[]): number =>
  [...counts].reduce(
    (sum, [operation, count]) =>
      operations.length === 0 || operations.includes(operation) ? sum + count : sum,
    0,
  );
