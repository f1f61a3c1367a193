import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { TableKey } from '../../infra/resources.js';
import { asFunction, guardTableAccess } from '../../local/table-access-guard.js';

const TABLES: Record<TableKey, string> = {
  schedules: 'guard-schedules',
  requests: 'guard-requests',
  legalHolds: 'guard-holds',
  audit: 'guard-audit',
  suppressions: 'guard-suppressions',
};

// Nothing listens on the discard port: a call the guard lets through fails to connect instead.
const dynamodb = new DynamoDBClient({
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
});
guardTableAccess(dynamodb, TABLES);
const documents = DynamoDBDocumentClient.from(dynamodb);

afterAll(() => {
  documents.destroy();
  dynamodb.destroy();
});

/** The error name a send ends with: `AccessDeniedException` when the guard refused it. */
const outcomeOf = async (send: () => Promise<unknown>): Promise<string> => {
  try {
    await send();
    return 'sent';
  } catch (error) {
    return (error as Error).name;
  }
};

const key = { pk: 'x', sk: 'y' };

describe('the local runtime holds each function to its IAM grants (functions/manifest.ts)', () => {
  it.each([
    [
      'certificate',
      'PutItem on requests (it may only read them)',
      () => new PutCommand({ TableName: TABLES.requests, Item: key }),
    ],
    [
      'worker',
      'a transaction with a Put on schedules (it has no access to them)',
      () =>
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: TABLES.requests, Item: key } },
            { Put: { TableName: TABLES.schedules, Item: key } },
          ],
        }),
    ],
    [
      'sweepShard',
      'a PutItem on a hold (it only counts blocks on holds that exist)',
      () => new PutCommand({ TableName: TABLES.legalHolds, Item: { subjectId: 's', holdId: 'h' } }),
    ],
    [
      'sweepShard',
      'a transaction that puts a hold',
      () =>
        new TransactWriteCommand({
          TransactItems: [{ Put: { TableName: TABLES.legalHolds, Item: { subjectId: 's', holdId: 'h' } } }],
        }),
    ],
    [
      'worker',
      'a Scan of the audit table (no `scans` in its manifest)',
      () => new ScanCommand({ TableName: TABLES.audit }),
    ],
  ] as const)('refuses %s %s, before anything is sent', async (fn, _what, command) => {
    const outcome = await outcomeOf(asFunction(fn, () => documents.send(command() as never)));
    expect(outcome).toBe('AccessDeniedException');
  });

  it.each([
    [
      'sweepShard',
      'an UpdateItem on a hold (a block counted on it)',
      () =>
        new UpdateCommand({
          TableName: TABLES.legalHolds,
          Key: { subjectId: 's', holdId: 'h' },
          UpdateExpression: 'ADD blockCount :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
    ],
    [
      'api',
      'a BatchGetItem on the suppression list',
      () => new BatchGetCommand({ RequestItems: { [TABLES.suppressions]: { Keys: [{ hash: 'h' }] } } }),
    ],
    [
      'sweep',
      'a Scan of legal holds (its manifest `scans`)',
      () => new ScanCommand({ TableName: TABLES.legalHolds }),
    ],
    [
      'certificate',
      'a PutItem on a table that is not the orchestrator’s',
      () => new PutCommand({ TableName: 'demo-customers', Item: key }),
    ],
  ] as const)('lets %s make %s', async (fn, _what, command) => {
    const outcome = await outcomeOf(asFunction(fn, () => documents.send(command() as never)));
    expect(outcome).not.toBe('AccessDeniedException');
  });

  it('leaves calls from outside a function alone (setup, seeding, tests)', async () => {
    const outcome = await outcomeOf(() =>
      documents.send(new PutCommand({ TableName: TABLES.requests, Item: key })),
    );
    expect(outcome).not.toBe('AccessDeniedException');
  });
});
