/**
 * SqsTaskQueue over a mocked SQSClient: how it splits messages into batches and handles the partial
 * failures of SendMessageBatch (HTTP 200 with some entries in `Failed`), which no emulator produces
 * on demand. Delivery, the message body and delayRetry run against fauxqs in
 * test/integration/adapters.test.ts.
 */
import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskMessage } from '../../domain/ports/index.js';
import { SqsTaskQueue } from '../../functions/adapters/sqs-task-queue.js';

const sqs = mockClient(SQSClient);

afterEach(() => {
  sqs.reset();
});

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/test-tasks';
const queue = () => new SqsTaskQueue(new SQSClient({ region: 'eu-west-1' }), QUEUE_URL);

const messages = (count: number): TaskMessage[] =>
  Array.from({ length: count }, (_, index) => ({ taskId: `task_${index}`, requestId: 'req_1' }));

/** SQS's answer when every entry of the batch is accepted. */
const acceptAll = (input: SendMessageBatchCommandInput) => ({
  Successful: (input.Entries ?? []).map((entry) => ({
    Id: entry.Id,
    MessageId: `m-${entry.Id}`,
    MD5OfMessageBody: 'x',
  })),
  Failed: [],
});

/** SQS's answer when the entries with `ids` failed and the rest were accepted. */
const failing =
  (...ids: string[]) =>
  (input: SendMessageBatchCommandInput) => ({
    Successful: acceptAll(input).Successful.filter((entry) => !ids.includes(String(entry.Id))),
    Failed: ids.map((Id) => ({ Id, Code: 'InternalError', SenderFault: false, Message: 'try again' })),
  });

const sentBatches = () =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .map((c) =>
      (c.args[0].input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? '{}') as TaskMessage),
    );

describe('SqsTaskQueue.send', () => {
  it('sends in batches of at most 10 with ids unique within each batch, every message once', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const tasks = messages(23);

    // Act
    await queue().send(tasks);

    // Assess
    const batches = sentBatches();
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(batches.flat()).toEqual(tasks);
    for (const call of sqs.commandCalls(SendMessageBatchCommand)) {
      const ids = (call.args[0].input.Entries ?? []).map((entry) => entry.Id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(call.args[0].input.QueueUrl).toBe(QUEUE_URL);
    }
  });

  it('re-sends the entries SQS reports as failed, and only those, until they are accepted', async () => {
    // Prepare
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce(failing('3', '7'))
      .callsFakeOnce(failing('7'))
      .callsFake(acceptAll);

    // Act
    await queue().send(messages(10));

    // Assess: entry ids are positions in the first batch, kept on the re-sends.
    expect(sentBatches().map((batch) => batch.map((message) => message.taskId))).toEqual([
      messages(10).map((message) => message.taskId),
      ['task_3', 'task_7'],
      ['task_7'],
    ]);
  });

  it('gives up with an error after 5 attempts, before the next batch', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake(failing('1'));

    // Act
    const sending = queue().send(messages(12));

    // Assess: the second batch is not sent once the first could not be.
    await expect(sending).rejects.toThrow('1 task messages could not be sent after 5 attempts');
    expect(sentBatches().map((batch) => batch.map((message) => message.taskId))).toEqual([
      messages(10).map((message) => message.taskId),
      ['task_1'],
      ['task_1'],
      ['task_1'],
      ['task_1'],
    ]);
  });
});
