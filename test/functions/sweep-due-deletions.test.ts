/**
 * The scheduled sweep (functions/sweep-due-deletions.ts) over mocked DynamoDB: which instant it
 * sweeps for and which due-index buckets it reads. What it does with due entries is proven end to
 * end in test/integration/pipeline.test.ts; the cost bound (months × shards queries, never a scan)
 * is cheapest to pin down here.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/sweep-due-deletions.js';
import { HANDLER_TABLES, handlerDeps, lambdaContext, scheduledEvent } from '../helpers/handler-deps.js';

const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);

const SHARDS = 2;

beforeEach(() => {
  ddb.on(GetCommand).resolves({});
  ddb.on(QueryCommand).resolves({ Items: [] });
  ddb.on(PutCommand).resolves({});
});

afterEach(() => {
  ddb.reset();
  sqs.reset();
});

const withWatermark = (month: string) => {
  ddb
    .on(GetCommand, { TableName: HANDLER_TABLES.schedules, Key: { pk: '#sweep', sk: '#state' } })
    .resolves({ Item: { pk: '#sweep', sk: '#state', watermark: month } });
};

const sweep = (time: string, clock: string) => {
  const built = handlerDeps({ now: clock, env: { DUE_BUCKET_SHARDS: String(SHARDS) } });
  return makeHandler(() => Promise.resolve(built.deps))(scheduledEvent(time), lambdaContext('sweep'));
};

const dueQueries = () =>
  ddb
    .commandCalls(QueryCommand)
    .map((c) => c.args[0].input)
    .filter((input) => input.IndexName === 'byDueBucket')
    .map((input) => ({
      bucket: String(input.ExpressionAttributeValues?.[':bucket']),
      upTo: String(input.ExpressionAttributeValues?.[':upTo']),
    }));

const advancedWatermark = () =>
  ddb
    .commandCalls(PutCommand)
    .map((c) => c.args[0].input.Item)
    .find((item) => item?.pk === '#sweep')?.watermark;

describe('sweep-due-deletions', () => {
  it("sweeps for the scheduled event's time, not the clock of a late run", async () => {
    // Prepare
    withWatermark('2027-01');

    // Act
    const report = await sweep('2027-03-15T06:00:00Z', '2027-03-15T06:07:31.000Z');

    // Assess
    expect(report.now).toBe('2027-03-15T06:00:00.000Z');
    const queries = dueQueries();
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query.upTo.startsWith('2027-03-15T06:00:00.000Z#')).toBe(true);
  });

  it('reads each shard of each month from the watermark to now, and nothing else', async () => {
    // Prepare
    withWatermark('2027-01');

    // Act
    const report = await sweep('2027-03-15T06:00:00Z', '2027-03-15T06:00:05.000Z');

    // Assess: 3 months × 2 shards.
    expect(dueQueries().map((query) => query.bucket)).toEqual([
      '2027-01#00',
      '2027-01#01',
      '2027-02#00',
      '2027-02#01',
      '2027-03#00',
      '2027-03#01',
    ]);
    expect(report.bucketsRead).toBe(3 * SHARDS);
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
    expect(advancedWatermark()).toBe('2027-02');
  });

  it('looks back 12 months from the clock on the first sweep of a deployment', async () => {
    // Act
    const report = await sweep('2027-03-15T06:00:00Z', '2027-03-15T06:00:05.000Z');

    // Assess: 2026-03 to 2027-03, both included.
    const buckets = dueQueries().map((query) => query.bucket);
    expect(buckets).toHaveLength(13 * SHARDS);
    expect(buckets[0]).toBe('2026-03#00');
    expect(buckets.at(-1)).toBe('2027-03#01');
    expect(report.bucketsRead).toBe(13 * SHARDS);
  });

  it('moves the watermark from the earlier of the slot and the clock, so a late run of an old slot skips nothing', async () => {
    // Prepare: the run for the last slot of February starts after midnight on 1 March.
    withWatermark('2027-01');

    // Act
    await sweep('2027-02-28T23:00:00Z', '2027-03-01T00:10:00.000Z');

    // Assess
    expect(dueQueries().map((query) => query.bucket)).toEqual([
      '2027-01#00',
      '2027-01#01',
      '2027-02#00',
      '2027-02#01',
    ]);
    expect(advancedWatermark()).toBe('2027-01');
  });

  it('falls back to the clock when the event has no usable time', async () => {
    // Prepare
    withWatermark('2027-03');

    // Act
    const report = await sweep('not a time', '2027-03-15T06:07:31.000Z');

    // Assess
    expect(report.now).toBe('2027-03-15T06:07:31.000Z');
    expect(dueQueries().map((query) => query.upTo.slice(0, 24))).toEqual([
      '2027-03-15T06:07:31.000Z',
      '2027-03-15T06:07:31.000Z',
    ]);
  });
});
