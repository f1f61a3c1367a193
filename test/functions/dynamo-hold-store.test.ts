/**
 * DynamoHoldStore's one-time listing of older holds (an upgrade) over a mocked
 * DynamoDBDocumentClient: the cancellations the emulator cannot be made to show on demand. Only a
 * hold released meanwhile may be left off the list; a conflicting write or throttling must fail
 * the listing (it runs again whole), or the hold would be missing from the list for good. The
 * listing itself runs against DynamoDB Local in test/integration/reports.test.ts.
 */
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';

const ddb = mockClient(DynamoDBDocumentClient);

afterEach(() => {
  ddb.reset();
});

const olderHold = {
  subjectId: 'subject-older-1',
  holdId: 'hold_older_1',
  reason: 'litigation-2025-001',
  createdAt: '2025-01-01T00:00:00.000Z',
};

const store = () =>
  new DynamoHoldStore(
    DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
    'test-legal-holds',
    'test-pseudonym-key-0123456789',
  );

const cancelled = (code: string) =>
  new TransactionCanceledException({
    message: `Transaction cancelled: ${code}`,
    $metadata: {},
    CancellationReasons: [{ Code: code }, { Code: 'None' }],
  });

describe('DynamoHoldStore.listActiveHolds', () => {
  it('leaves a hold released meanwhile off the list, and writes the markers', async () => {
    ddb.on(ScanCommand).resolves({ Items: [olderHold] });
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed'));
    ddb.on(PutCommand).resolves({});

    expect(await store().listActiveHolds()).toBe(0);
    expect(ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item?.holdId)).toEqual([
      '#indexed',
      '#listed',
    ]);
  });

  it.each(['TransactionConflict', 'ThrottlingError'])(
    'fails on %s, writing no marker, so the hold is listed when the listing runs again',
    async (code) => {
      ddb.on(ScanCommand).resolves({ Items: [olderHold] });
      ddb.on(TransactWriteCommand).rejects(cancelled(code));
      ddb.on(PutCommand).resolves({});

      await expect(store().listActiveHolds()).rejects.toThrow(code);
      expect(ddb.commandCalls(PutCommand)).toEqual([]);
    },
  );
});
