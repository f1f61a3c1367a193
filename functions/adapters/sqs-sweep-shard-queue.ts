import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SweepShardMessage, SweepShardQueue } from '../../domain/ports/index.js';

const BATCH_SIZE = 10;
const MAX_SEND_ATTEMPTS = 5;

/** The sweep-shard queue: one message per due bucket, ids and instants only. */
export class SqsSweepShardQueue implements SweepShardQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Sends in batches of 10 and re-sends the entries SQS reports as failed; throws if any stay unsent. */
  async send(messages: readonly SweepShardMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += BATCH_SIZE) {
      let pending = messages.slice(start, start + BATCH_SIZE).map((message, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify({ runId: message.runId, bucket: message.bucket, now: message.now }),
      }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const result = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
        const failedIds = new Set((result.Failed ?? []).map((failure) => failure.Id));
        pending = pending.filter((entry) => failedIds.has(entry.Id));
        if (pending.length > 0 && attempt >= MAX_SEND_ATTEMPTS) {
          throw new Error(
            `${pending.length} sweep-shard messages could not be sent after ${attempt} attempts`,
          );
        }
      }
    }
  }
}
