import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TaskMessage, TaskQueue } from '../../domain/ports/index.js';

const BATCH_SIZE = 10;
const MAX_SEND_ATTEMPTS = 5;

export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Sends in batches of 10 and re-sends the entries SQS reports as failed; throws if any stay unsent. */
  async send(messages: readonly TaskMessage[]): Promise<void> {
    for (let start = 0; start < messages.length; start += BATCH_SIZE) {
      let pending = messages.slice(start, start + BATCH_SIZE).map((message, index) => ({
        Id: String(index),
        MessageBody: JSON.stringify({ taskId: message.taskId, requestId: message.requestId }),
      }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        const result = await this.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }),
        );
        const failedIds = new Set((result.Failed ?? []).map((failure) => failure.Id));
        pending = pending.filter((entry) => failedIds.has(entry.Id));
        if (pending.length > 0 && attempt >= MAX_SEND_ATTEMPTS) {
          throw new Error(`${pending.length} task messages could not be sent after ${attempt} attempts`);
        }
      }
    }
  }

  /** Backoff for a failed attempt: the message becomes visible again after `seconds`. */
  async delayRetry(receiptHandle: string, seconds: number): Promise<void> {
    await this.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}
