import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SweepShardMessage, SweepShardQueue } from '../../domain/ports/index.js';
import { sendInBatches } from './sqs-batch.js';

/** The sweep-shard queue: one message per due bucket, ids and instants only. */
export class SqsSweepShardQueue implements SweepShardQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  send(messages: readonly SweepShardMessage[]): Promise<void> {
    return sendInBatches(
      this.sqs,
      this.queueUrl,
      messages.map(({ runId, bucket, now }) => ({ runId, bucket, now })),
      'sweep-shard messages',
    );
  }
}
