/**
 * The scheduled sweep (functions/sweep-due-deletions.ts) over the in-memory ports: which instant
 * it sweeps for and which due-index buckets it reads. What it does with due entries is proven end
 * to end in test/integration/pipeline.test.ts; the cost bound (months × shards queries) is
 * cheapest to pin down here.
 */
import { describe, expect, it } from 'vitest';
import { makeHandler } from '../../functions/sweep-due-deletions.js';
import { type HandlerDeps, handlerDeps, lambdaContext, scheduledEvent } from '../helpers/handler-deps.js';

const SHARDS = 2;

const sweep = async (time: string, clock: string, watermark?: string) => {
  const built: HandlerDeps = handlerDeps({ now: clock, dueBucketShards: SHARDS });
  if (watermark !== undefined) built.ports.state.watermark = watermark;
  const queries: { bucket: string; upTo: string }[] = [];
  const queryDue = built.ports.schedules.queryDue;
  built.ports.schedules.queryDue = (bucket, now) => {
    queries.push({ bucket, upTo: now });
    return queryDue(bucket, now);
  };
  const report = await makeHandler(() => Promise.resolve(built.deps))(
    scheduledEvent(time),
    lambdaContext('sweep'),
  );
  return { report, queries, watermark: built.ports.state.watermark };
};

describe('sweep-due-deletions', () => {
  it("sweeps for the scheduled event's time, not the clock of a late run", async () => {
    // Act
    const { report, queries } = await sweep('2027-03-15T06:00:00Z', '2027-03-15T06:07:31.000Z', '2027-01');

    // Assess
    expect(report.now).toBe('2027-03-15T06:00:00.000Z');
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query.upTo).toBe('2027-03-15T06:00:00.000Z');
  });

  it('reads each shard of each month from the watermark to now, and nothing else', async () => {
    // Act
    const { report, queries, watermark } = await sweep(
      '2027-03-15T06:00:00Z',
      '2027-03-15T06:00:05.000Z',
      '2027-01',
    );

    // Assess: 3 months × 2 shards.
    expect(queries.map((query) => query.bucket)).toEqual([
      '2027-01#00',
      '2027-01#01',
      '2027-02#00',
      '2027-02#01',
      '2027-03#00',
      '2027-03#01',
    ]);
    expect(report.bucketsRead).toBe(3 * SHARDS);
    expect(watermark).toBe('2027-02');
  });

  it('looks back 12 months from the clock on the first sweep of a deployment', async () => {
    // Act
    const { report, queries } = await sweep('2027-03-15T06:00:00Z', '2027-03-15T06:00:05.000Z');

    // Assess: 2026-03 to 2027-03, both included.
    const buckets = queries.map((query) => query.bucket);
    expect(buckets).toHaveLength(13 * SHARDS);
    expect(buckets[0]).toBe('2026-03#00');
    expect(buckets.at(-1)).toBe('2027-03#01');
    expect(report.bucketsRead).toBe(13 * SHARDS);
  });

  it('moves the watermark from the earlier of the slot and the clock, so a late run of an old slot skips nothing', async () => {
    // Act: the run for the last slot of February starts after midnight on 1 March.
    const { queries, watermark } = await sweep('2027-02-28T23:00:00Z', '2027-03-01T00:10:00.000Z', '2027-01');

    // Assess
    expect(queries.map((query) => query.bucket)).toEqual([
      '2027-01#00',
      '2027-01#01',
      '2027-02#00',
      '2027-02#01',
    ]);
    expect(watermark).toBe('2027-01');
  });

  it('falls back to the clock when the event has no usable time', async () => {
    // Act
    const { report, queries } = await sweep('not a time', '2027-03-15T06:07:31.000Z', '2027-03');

    // Assess
    expect(report.now).toBe('2027-03-15T06:07:31.000Z');
    expect(queries.map((query) => query.upTo)).toEqual([
      '2027-03-15T06:07:31.000Z',
      '2027-03-15T06:07:31.000Z',
    ]);
  });
});
