import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { dispatchOrBlock } from '../../functions/services/erasure-requests.js';
import { HANDLER_NOW, handlerDeps } from '../helpers/handler-deps.js';

const documents = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

afterEach(() => {
  documents.reset();
  sqs.reset();
});

const request: ErasureRequest = {
  requestId: 'req_race',
  subjectId: 'subject-race',
  origin: 'api',
  dataClasses: ['cloud-video'],
  reason: 'gdpr-art17-request',
  status: 'received',
  receivedAt: HANDLER_NOW,
  deadline: '2026-12-21T12:00:00.000Z',
  taskCount: 1,
  verifiedCount: 0,
  failedCount: 0,
};

const task: ErasureTask = {
  taskId: 'task_race',
  requestId: 'req_race',
  subjectId: 'subject-race',
  dataClass: 'cloud-video',
  action: 'delete',
  target: 'cloud-video',
  connector: 's3-prefix',
  status: 'pending',
  attempts: 0,
  affectedCount: 0,
};

/** The stored request as the store's Query returns it. */
const storedAs = (status: ErasureRequest['status']) => ({
  Items: [
    { pk: 'request#req_race', sk: '#request', ...request, status },
    { pk: 'request#req_race', sk: 'task#task_race', ...task },
  ],
});

describe('dispatching a request that changed under us', () => {
  it('sends no task when compliance rejected the request between its creation and its dispatch (IMOU-6)', async () => {
    // Prepare: no holds; the switch to dispatched loses its condition; the request is now rejected.
    documents.on(QueryCommand).resolvesOnce({ Items: [] }).resolves(storedAs('rejected'));
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }));
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const { deps } = handlerDeps();

    // Act
    const result = await dispatchOrBlock(deps, request, [task]);

    // Assess
    expect(result.status).toBe('rejected');
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('still sends the tasks when another worker dispatched the request first', async () => {
    // Prepare
    documents.on(QueryCommand).resolvesOnce({ Items: [] }).resolves(storedAs('dispatched'));
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }));
    sqs
      .on(SendMessageBatchCommand)
      .resolves({ Successful: [{ Id: '0', MessageId: 'm', MD5OfMessageBody: 'x' }] });
    const { deps } = handlerDeps();

    // Act
    const result = await dispatchOrBlock(deps, request, [task]);

    // Assess
    expect(result.status).toBe('dispatched');
    const sent = sqs
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? []);
    expect(sent.map((entry) => JSON.parse(entry.MessageBody ?? '{}'))).toEqual([
      { taskId: 'task_race', requestId: 'req_race' },
    ]);
  });
});
