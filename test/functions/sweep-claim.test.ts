/**
 * What the sweep does when the schedule changes under it. DynamoDB Local's indexes never lag and
 * two writers cannot be interleaved on purpose, so these races are staged here with mocked clients.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScheduleEntry } from '../../domain/schedule/types.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import { HANDLER_TABLES, handlerDeps } from '../helpers/handler-deps.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const NOW = '2027-03-01T00:00:00.000Z';
const SUBJECT = 'subject-claim-race';

const suspended: ScheduleEntry = {
  subjectId: SUBJECT,
  dataClass: 'suspended-account',
  status: 'pending',
  action: 'delete',
  ruleRef: 'ALL-3',
  dueAt: '2027-02-28T00:00:00.000Z',
  trigger: { eventId: 'evt_suspended', type: 'account.suspended', occurredAt: '2026-11-28T00:00:00.000Z' },
  lastEvent: { eventId: 'evt_suspended', type: 'account.suspended', occurredAt: '2026-11-28T00:00:00.000Z' },
  lastChange: 'scheduled',
};

const stored = (entry: ScheduleEntry) => [
  { pk: `subject#${SUBJECT}`, sk: '#meta', version: 1 },
  { pk: `subject#${SUBJECT}`, sk: 'class#suspended-account', subjectId: SUBJECT, entry },
];

beforeEach(() => {
  ddb.on(GetCommand).resolves({});
  ddb.on(PutCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  // The due index still lists the entry as pending.
  ddb
    .on(QueryCommand, { IndexName: 'byDueBucket', ExpressionAttributeValues: { ':bucket': '2027-02#00' } })
    .resolves({ Items: [{ sk: 'class#suspended-account', entry: suspended }] });
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
});

afterEach(() => {
  ddb.reset();
  sqs.reset();
});

const sweep = () => {
  const { deps } = handlerDeps({ now: NOW, env: { DUE_BUCKET_SHARDS: '1' } });
  return sweepDueDeletions(deps, NOW);
};

describe('a sweep racing a lifecycle event', () => {
  it('ALL-3: an account restored after the index was read is not erased: the table copy is judged', async () => {
    // Prepare: the table already holds the restore's tombstone.
    ddb
      .on(QueryCommand, {
        TableName: HANDLER_TABLES.schedules,
        KeyConditionExpression: 'pk = :pk AND sk < :eventPrefix',
      })
      .resolves({
        Items: stored({
          ...suspended,
          status: 'cancelled',
          lastEvent: {
            eventId: 'evt_restored',
            type: 'account.restored',
            occurredAt: '2027-01-15T00:00:00.000Z',
          },
          lastChange: 'cancelled',
        }),
      });

    // Act
    const report = await sweep();

    // Assess
    expect(report.dispatched).toEqual([]);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it('ALL-3: a restore that lands between the judgement and the claim wins: no request, no task sent', async () => {
    // Prepare: the entry is pending when read, but the claim's condition fails in the transaction.
    ddb
      .on(QueryCommand, {
        TableName: HANDLER_TABLES.schedules,
        KeyConditionExpression: 'pk = :pk AND sk < :eventPrefix',
      })
      .resolves({ Items: stored(suspended) });
    ddb.on(TransactWriteCommand).callsFake((input: { TransactItems: unknown[] }) => {
      const reasons = input.TransactItems.map(() => ({ Code: 'None' }));
      // The last two items are the claim (entry, subject version): the entry's condition failed.
      reasons[reasons.length - 2] = { Code: 'ConditionalCheckFailed' };
      throw new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: reasons,
      });
    });

    // Act
    const report = await sweep();

    // Assess
    expect(report.dispatched).toEqual([]);
    const claim = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(claim.at(-2)?.Put?.ConditionExpression).toContain('lastEvent.eventId = :eventId');
    expect(claim.at(-1)?.Update?.UpdateExpression).toBe('ADD version :one');
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
