import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

const BATCH_SIZE = 10;
const MAX_SEND_ATTEMPTS = 5;

/**
 * Sends JSON bodies in batches of 10 and re-sends the entries SQS reports as failed; throws if any
 * stay unsent after a few attempts (`what` names them in the error). Shared by every queue adapter.
 */
export const sendInBatches = async (
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly unknown[],
  what: string,
): Promise<void> => {
  for (let start = 0; start < bodies.length; start += BATCH_SIZE) {
    let pending = bodies.slice(start, start + BATCH_SIZE).map((body, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify(body),
    }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      const failedIds = new Set((result.Failed ?? []).map((failure) => failure.Id));
      pending = pending.filter((entry) => failedIds.has(entry.Id));
      if (pending.length > 0 && attempt >= MAX_SEND_ATTEMPTS) {
        throw new Error(`${pending.length} ${what} could not be sent after ${attempt} attempts`);
      }
    }
  }
};
