import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TaskMessage, TaskQueue } from '../../domain/ports/index.js';
import { sendInBatches } from './sqs-batch.js';

export class SqsTaskQueue implements TaskQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** Sends in batches of 10, re-sending what SQS reports as failed (`sendInBatches`). */
  send(messages: readonly TaskMessage[]): Promise<void> {
    return sendInBatches(
      this.sqs,
      this.queueUrl,
      messages.map(({ taskId, requestId }) => ({ taskId, requestId })),
      'task messages',
    );
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
