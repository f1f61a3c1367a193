/**
 * The sweep scaled out (functions/services/sweep.ts): the coordinator hands each due bucket to a
 * shard worker, and the watermark moves only past buckets every shard acknowledged; the stuck-work
 * review reads only requests whose review time has come. Over the in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import { STUCK_DISPATCH_AFTER_MS } from '../../domain/erasure/recovery.js';
import type { SweepShardMessage } from '../../domain/ports/index.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { sweepDueDeletions, sweepShard } from '../../functions/services/sweep.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const NOW = '2027-03-15T06:00:00.000Z';
const SHARDS = 4;

/** Subjects whose closed account is due at once (five tasks each). */
const closeAccounts = async (built: HandlerDeps, subjects: readonly string[], at = NOW) => {
  for (const subjectId of subjects) {
    await recordLifecycleEvent(built.deps, {
      subjectId,
      type: 'account.closed',
      occurredAt: at,
      attributes: {},
    });
  }
};

const queued = (now = NOW) => {
  let clock = now;
  const built = handlerDeps({ now, dueBucketShards: SHARDS, overrides: { clock: () => new Date(clock) } });
  const messages: SweepShardMessage[] = [];
  const deps = {
    ...built.deps,
    sweepShards: { send: async (sent: readonly SweepShardMessage[]) => void messages.push(...sent) },
  };
  return {
    built,
    deps,
    messages,
    setClock: (instant: string) => {
      clock = instant;
    },
  };
};

describe('the sweep fans out', () => {
  it('sends one message per bucket with due work, none for empty buckets, and dispatches nothing itself', async () => {
    // Prepare
    const { built, deps, messages } = queued();
    built.ports.state.watermark = '2027-02';
    await closeAccounts(built, ['fan-a', 'fan-b', 'fan-c', 'fan-d', 'fan-e', 'fan-f']);

    // Act
    const report = await sweepDueDeletions(deps, NOW);

    // Assess: 2 months × 4 shards read; only the current month's non-empty shards go out.
    expect(report.bucketsRead).toBe(2 * SHARDS);
    expect(report.dispatched).toEqual([]);
    const buckets = messages.map((message) => message.bucket);
    expect(new Set(buckets).size).toBe(buckets.length);
    expect(buckets.length).toBeGreaterThan(0);
    expect(buckets.every((bucket) => bucket.startsWith('2027-03#'))).toBe(true);
    expect(report.shardsQueued).toBe(buckets.length);
    expect(built.ports.state.requests.size).toBe(0);
    expect(messages.every((message) => message.now === NOW)).toBe(true);
  });

  it('every shard worker handles its bucket: together they dispatch every due deletion once', async () => {
    // Prepare
    const { built, deps, messages } = queued();
    const subjects = ['fan-a', 'fan-b', 'fan-c', 'fan-d', 'fan-e', 'fan-f'];
    await closeAccounts(built, subjects);
    await sweepDueDeletions(deps, NOW);

    // Act: the shards run in parallel, one of them twice (SQS delivers at least once).
    const reports = await Promise.all(
      [...messages, messages[0] as SweepShardMessage].map((message) => sweepShard(deps, message)),
    );

    // Assess
    const dispatched = reports.flatMap((report) => report.dispatched.map((item) => item.requestId));
    expect(new Set(dispatched).size).toBe(subjects.length);
    expect(built.ports.state.requests.size).toBe(subjects.length);
    expect([...built.ports.state.requests.values()].every((request) => request.status === 'dispatched')).toBe(
      true,
    );
    // Five tasks each, each sent once by the worker that created the request.
    expect(built.ports.sent).toHaveLength(subjects.length * 5);
  });

  it('moves the watermark only once every shard of the run acknowledged, at the next run', async () => {
    // Prepare: a sweep in April with work in March; the watermark is at January.
    const april = '2027-04-10T00:00:00.000Z';
    const { built, deps, messages, setClock } = queued('2027-03-15T06:00:00.000Z');
    built.ports.state.watermark = '2027-01';
    await closeAccounts(built, ['wm-a', 'wm-b', 'wm-c']);
    setClock(april);
    await sweepDueDeletions(deps, april);
    const [first, ...rest] = messages.splice(0);

    // Act 1: all shards but one succeed; a run starts again.
    for (const message of rest) await sweepShard(deps, message);
    await sweepDueDeletions(deps, april);
    const afterPartial = built.ports.state.watermark;
    const resent = messages.splice(0).map((message) => message.bucket);

    // Assess 1: the unacknowledged bucket is sent again; the watermark waited.
    expect(afterPartial).toBe('2027-01');
    expect(resent).toContain(first?.bucket);

    // Act 2: the new run's shards all succeed; the run after that moves the watermark.
    const run = built.ports.state.sweepRun;
    for (const bucket of run?.pending ?? []) {
      await sweepShard(deps, { runId: run?.runId ?? '', bucket, now: april });
    }
    await sweepDueDeletions(deps, april);

    // Assess 2: a month behind the run's instant.
    expect(built.ports.state.watermark).toBe('2027-03');
    expect([...built.ports.state.requests.values()]).toHaveLength(3);
  });

  it('a shard with a failing item is not acknowledged and throws; delivered again, it finishes', async () => {
    // Prepare
    const { built, deps, messages } = queued();
    await closeAccounts(built, [
      'fail-a',
      'fail-b',
      'fail-c',
      'fail-d',
      'fail-e',
      'fail-f',
      'fail-g',
      'fail-h',
    ]);
    await sweepDueDeletions(deps, NOW);
    const shard = messages[0] as SweepShardMessage;
    let failed = false;
    built.ports.beforeCommit = (changes) => {
      if (!failed && changes.some((change) => change.kind === 'schedule.claim')) {
        failed = true;
        throw new Error('throttled');
      }
    };

    // Act / Assess
    await expect(sweepShard(deps, shard)).rejects.toThrow(/failed/);
    expect(built.ports.state.sweepRun?.pending).toContain(shard.bucket);
    await sweepShard(deps, shard);
    expect(built.ports.state.sweepRun?.pending).not.toContain(shard.bucket);
  });

  it('without a shard queue (the sweep on demand) the coordinator runs the shards itself', async () => {
    // Prepare
    const built = handlerDeps({ now: NOW, dueBucketShards: SHARDS });
    built.ports.state.watermark = '2027-02';
    await closeAccounts(built, ['inline-a', 'inline-b']);

    // Act
    const report = await sweepDueDeletions(built.deps, NOW);

    // Assess
    expect(report.dispatched).toHaveLength(2);
    expect(report.shardsQueued).toBe(0);
    expect(built.ports.state.watermark).toBe('2027-02');
  });
});

describe('the stuck-work review', () => {
  it('reads only requests whose review time has come, and puts a reviewed one off to its next review', async () => {
    // Prepare: ten dispatched requests, all of them just created.
    const built = handlerDeps({ now: NOW, dueBucketShards: SHARDS });
    await closeAccounts(
      built,
      Array.from({ length: 10 }, (_, index) => `review-${index}`),
    );
    await sweepDueDeletions(built.deps, NOW);
    built.ports.sent.splice(0);
    const reads: string[] = [];
    const get = built.ports.requests.get;
    built.ports.requests.get = async (requestId) => {
      reads.push(requestId);
      return get(requestId);
    };

    // Act 1: a sweep a minute later: nothing may be stuck yet.
    const soon = new Date(Date.parse(NOW) + 60_000).toISOString();
    const early = handlerDeps({ now: soon });
    await sweepDueDeletions({ ...built.deps, clock: early.deps.clock }, soon);

    // Assess 1
    expect(reads).toEqual([]);

    // Act 2: past the dispatch timeout, tasks never ran (their messages were lost): re-sent once.
    const later = new Date(Date.parse(NOW) + STUCK_DISPATCH_AFTER_MS + 60_000).toISOString();
    const laterClock = () => new Date(later);
    const first = await sweepDueDeletions({ ...built.deps, clock: laterClock }, later);
    const readFirst = new Set(reads.splice(0)).size;
    const second = await sweepDueDeletions({ ...built.deps, clock: laterClock }, later);

    // Assess 2: the first review read each once and re-sent their tasks; the second read none.
    expect(readFirst).toBe(10);
    expect(first.redispatched).toBe(10);
    expect(built.ports.sent).toHaveLength(50);
    expect(reads).toEqual([]);
    expect(second.redispatched).toBe(0);
  });

  it('ALU-3: counts overdue and near-deadline open requests', async () => {
    // Prepare
    const built = handlerDeps({ now: NOW, dueBucketShards: SHARDS });
    await closeAccounts(built, ['deadline-a', 'deadline-b']);
    await sweepDueDeletions(built.deps, NOW);

    // Act: 25 days on (near), then 31 days on (overdue).
    const near = new Date(Date.parse(NOW) + 25 * 86_400_000).toISOString();
    const over = new Date(Date.parse(NOW) + 31 * 86_400_000).toISOString();
    const nearReport = await sweepDueDeletions({ ...built.deps, clock: () => new Date(near) }, near);
    const overReport = await sweepDueDeletions({ ...built.deps, clock: () => new Date(over) }, over);

    // Assess
    expect(nearReport).toMatchObject({ overdue: 0, nearDeadline: 2 });
    expect(overReport).toMatchObject({ overdue: 2, nearDeadline: 0 });
  });
});
