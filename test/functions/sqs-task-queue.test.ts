/**
 * SqsTaskQueue over a mocked SQSClient: batching and the partial failures of SendMessageBatch
 * (HTTP 200 with some entries in `Failed`), which no emulator produces on demand.
 */
import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SqsTaskQueue, type TaskMessage } from '../../functions/adapters/sqs-task-queue.js';
import { HANDLER_QUEUE_URL, handlerClients } from '../helpers/handler-deps.js';

const sqs = mockClient(SQSClient);

afterEach(() => {
  sqs.reset();
});

const queue = () => new SqsTaskQueue(handlerClients().sqs, HANDLER_QUEUE_URL);

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

const failing = (...ids: string[]) =>
  ids.map((Id) => ({ Id, Code: 'InternalError', SenderFault: false, Message: 'try again' }));

const sentBatches = () =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .map((c) =>
      (c.args[0].input.Entries ?? []).map((entry) => JSON.parse(entry.MessageBody ?? '{}') as TaskMessage),
    );

describe('SqsTaskQueue.send', () => {
  it('sends in batches of at most 10, every message once', async () => {
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
      expect(call.args[0].input.QueueUrl).toBe(HANDLER_QUEUE_URL);
    }
  });

  it('sends nothing for no messages', async () => {
    // Act
    await queue().send([]);

    // Assess
    expect(sqs.calls()).toHaveLength(0);
  });

  it('puts only ids on the queue, never personal data', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake(acceptAll);
    const withExtra = { taskId: 'task_1', requestId: 'req_1', subjectId: 'subject-1' };

    // Act
    await queue().send([withExtra]);

    // Assess
    const [call] = sqs.commandCalls(SendMessageBatchCommand);
    expect(call?.args[0].input.Entries?.[0]?.MessageBody).toBe(
      JSON.stringify({ taskId: 'task_1', requestId: 'req_1' }),
    );
  });

  it('re-sends the entries SQS reports as failed, and only those, until they are accepted', async () => {
    // Prepare
    sqs
      .on(SendMessageBatchCommand)
      .callsFakeOnce((input: SendMessageBatchCommandInput) => ({
        Successful: acceptAll(input).Successful.filter((entry) => !['3', '7'].includes(String(entry.Id))),
        Failed: failing('3', '7'),
      }))
      .callsFakeOnce((input: SendMessageBatchCommandInput) => ({
        Successful: acceptAll(input).Successful.filter((entry) => entry.Id !== '7'),
        Failed: failing('7'),
      }))
      .callsFake(acceptAll);

    // Act
    await queue().send(messages(10));

    // Assess
    expect(sentBatches().map((batch) => batch.map((message) => message.taskId))).toEqual([
      messages(10).map((message) => message.taskId),
      ['task_3', 'task_7'],
      ['task_7'],
    ]);
  });

  it('gives up with an error after a bounded number of attempts', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => ({
      Successful: acceptAll(input).Successful.filter((entry) => entry.Id !== '1'),
      Failed: failing('1'),
    }));

    // Act
    const sending = queue().send(messages(12));

    // Assess
    await expect(sending).rejects.toThrow(/1 task messages could not be sent after 5 attempts/);
    expect(sentBatches().map((batch) => batch.length)).toEqual([10, 1, 1, 1, 1]);
  });

  it('does not swallow an error of the call itself', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).rejects(new Error('AWS.SimpleQueueService.NonExistentQueue'));

    // Act
    const sending = queue().send(messages(1));

    // Assess
    await expect(sending).rejects.toThrow('NonExistentQueue');
  });
});

describe('SqsTaskQueue.delayRetry', () => {
  it('changes the visibility of the received message', async () => {
    // Prepare
    sqs.on(ChangeMessageVisibilityCommand).resolves({});

    // Act
    await queue().delayRetry('receipt-1', 90);

    // Assess
    const [call] = sqs.commandCalls(ChangeMessageVisibilityCommand);
    expect(call?.args[0].input).toEqual({
      QueueUrl: HANDLER_QUEUE_URL,
      ReceiptHandle: 'receipt-1',
      VisibilityTimeout: 90,
    });
  });
});
