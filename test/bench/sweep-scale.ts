/**
 * The sweep scaled out (issue goal 4): DynamoDB requests per due deletion, D due among S scheduled
 * swept with 1 and with 4 parallel shard workers, and the stuck-work review with O open requests
 * of which K are stuck. Sizes from BENCH_SCALE_* (defaults: the sizes); each part runs on a
 * runtime (tables) of its own. Seeding writes the items the adapters would write, with
 * BatchWriteItem, and is timed apart.
 */
import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  createTask,
  dispatchRequest,
  planTasks,
  receiveRequest,
  taskIdFor,
} from '../../domain/erasure/index.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import type { LifecycleEventType } from '../../domain/events.js';
import type { StoredSchedule } from '../../domain/ports/index.js';
import { decide } from '../../domain/schedule/decide.js';
import type { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import type { DynamoScheduleStore } from '../../functions/adapters/dynamo-schedule-store.js';
import { lifecycleEventId } from '../../functions/services/lifecycle-events.js';
import type { EmulatorEndpoints } from '../../local/aws-clients.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { type BenchRuntime, type SectionResult, startBenchRuntime } from './context.js';
import type { DynamoCounts } from './dynamo-counter.js';
import { forEachConcurrently, formatNumber, progress, type Row, timed } from './stats.js';

interface ScaleConfig {
  readonly perDue: number;
  readonly scheduled: number;
  readonly due: number;
  readonly workers: readonly number[];
  readonly open: number;
  readonly stuck: number;
}

const int = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be an integer >= 0, got '${raw}'`);
  return value;
};

/** `BENCH_SMOKE=1`: tiny defaults (each BENCH_SCALE_* variable still wins). */
const smoke = (): boolean => ['1', 'true'].includes(process.env.BENCH_SMOKE?.trim().toLowerCase() ?? '');

/** Sizes: the by default, tiny in a smoke run. */
export const loadScaleConfig = (): ScaleConfig => {
  const tiny = smoke();
  return {
    perDue: Math.max(1, int('BENCH_SCALE_PER_DUE', tiny ? 5 : 100)),
    scheduled: int('BENCH_SCALE_SCHEDULED', tiny ? 200 : 100_000),
    due: Math.max(1, int('BENCH_SCALE_DUE', tiny ? 10 : 1000)),
    workers: (process.env.BENCH_SCALE_WORKERS ?? '1,4').split(',').map((part) => Math.max(1, Number(part))),
    open: int('BENCH_SCALE_OPEN', tiny ? 100 : 10_000),
    stuck: int('BENCH_SCALE_STUCK', tiny ? 3 : 10),
  };
};

const scaleSettings = (config: ScaleConfig): string =>
  `BENCH_SCALE_PER_DUE=${config.perDue} BENCH_SCALE_SCHEDULED=${config.scheduled} BENCH_SCALE_DUE=${config.due} ` +
  `BENCH_SCALE_WORKERS=${config.workers.join(',')} BENCH_SCALE_OPEN=${config.open} BENCH_SCALE_STUCK=${config.stuck}`;

/** BatchWriteItem, 25 items a call, re-sending what DynamoDB left unprocessed. */
const batchWrite = async (
  runtime: LocalRuntime,
  table: string,
  items: readonly Record<string, unknown>[],
) => {
  const batches: Record<string, unknown>[][] = [];
  for (let start = 0; start < items.length; start += 25) batches.push(items.slice(start, start + 25));
  await forEachConcurrently(batches, 8, async (batch) => {
    let pending = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const result = await runtime.clients.documents.send(
        new BatchWriteCommand({ RequestItems: { [table]: pending } }),
      );
      pending = (result.UnprocessedItems?.[table] ?? []) as typeof pending;
    }
  });
};

/** The items a first lifecycle event of a new subject stores (what `schedule.save` would write). */
const scheduleItems = (
  runtime: LocalRuntime,
  subjectId: string,
  type: LifecycleEventType,
  occurredAt: string,
): Record<string, unknown>[] => {
  const { deps } = runtime;
  const input = { subjectId, type, occurredAt, attributes: {} };
  const eventId = lifecycleEventId(deps.settings.idKey, input);
  const empty: StoredSchedule = { version: 0, schedule: { subjectId, entries: [] } };
  const { decisions, next } = decide(deps.config.catalog, empty.schedule, { ...input, eventId });
  const store = deps.schedules as DynamoScheduleStore;
  return store
    .itemsFor({ kind: 'schedule.save', previous: empty, next, event: { eventId, decisions }, at: occurredAt })
    .flatMap((item) => (item.Put?.Item === undefined ? [] : [item.Put.Item]));
};

const seedSchedules = async (
  runtime: LocalRuntime,
  ids: readonly string[],
  type: LifecycleEventType,
  occurredAt: string,
): Promise<number> => {
  const items = ids.flatMap((id) => scheduleItems(runtime, id, type, occurredAt));
  await batchWrite(runtime, runtime.resources.tables.schedules, items);
  return items.length;
};

/** Chain heads in the audit table (read outside the counted sweeps). */
const countChains = async (runtime: LocalRuntime): Promise<number> => {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await runtime.clients.documents.send(
      new ScanCommand({
        TableName: runtime.resources.tables.audit,
        FilterExpression: 'seq = :head AND attribute_exists(headSeq)',
        ExpressionAttributeValues: { ':head': 0 },
        Select: 'COUNT',
        ExclusiveStartKey: startKey,
      }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return count;
};

const ids = (label: string, count: number) =>
  Array.from({ length: count }, (_, index) => `bench-${label}-${String(index).padStart(6, '0')}`);

const op = (counts: DynamoCounts, key: string) =>
  counts.byOperation.get(key) ?? { requests: 0, items: 0, ms: 0 };
/** Anchoring reads the heads that moved since the last anchor from this sparse index. */
const ANCHOR_READ = 'Query audit/byUnanchored';

/** Part 1: requests, items and writes per due deletion, from a sweep of 0 and one of N due. */
const perDueDeletion = async (bench: BenchRuntime, config: ScaleConfig) => {
  const { runtime, counter } = bench;
  await runtime.sweep();
  const measure = async (due: number, label: string) => {
    const occurredAt = new Date(Date.now() - 60_000).toISOString();
    await seedSchedules(runtime, ids(label, due), 'account.closed', occurredAt);
    counter.reset();
    const report = await runtime.sweep();
    if (report.dispatched.length !== due) {
      throw new Error(`Sweep dispatched ${report.dispatched.length} deletions, expected ${due}`);
    }
    return counter.snapshot();
  };
  const none = await measure(0, 'per-due-none');
  const many = await measure(config.perDue, 'per-due');
  const per = (pick: (counts: DynamoCounts) => number) => (pick(many) - pick(none)) / config.perDue;
  return {
    reads: per((c) => c.readRequests),
    items: per((c) => c.itemsRead),
    writes: per((c) => c.writeRequests),
    readUnits: per((c) => c.readCapacityUnits),
    writeUnits: per((c) => c.writeCapacityUnits),
    anchorItems: per((c) => op(c, ANCHOR_READ).items),
    breakdown: [...many.byOperation].sort(([, a], [, b]) => b.requests - a.requests),
  };
};

/** Part 3: open requests, `stuck` of them dispatched an hour ago with a task never started. */
const seedOpenRequests = async (runtime: LocalRuntime, config: ScaleConfig): Promise<number> => {
  const store = runtime.deps.requests as DynamoRequestStore;
  const now = Date.now();
  const items: Record<string, unknown>[] = [];
  const [planned] = planTasks(runtime.deps.config, ['closed-account']);
  if (planned === undefined) throw new Error('closed-account has no target');
  for (let index = 0; index < config.open; index++) {
    const stuck = index < config.stuck;
    const at = new Date(now - (stuck ? 3_600_000 : 60_000)).toISOString();
    const requestId = `req_bench_open_${index}_${randomUUID().slice(0, 8)}`;
    const subjectId = `bench-open-${index}`;
    const received = receiveRequest({
      requestId,
      subjectId,
      origin: 'api',
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      receivedAt: at,
    }).next;
    const request: ErasureRequest = dispatchRequest(received, 1, at).next;
    const tasks: ErasureTask[] = stuck
      ? [
          createTask({
            taskId: taskIdFor(requestId, planned.dataClass, planned.target.name),
            requestId,
            subjectId,
            dataClass: planned.dataClass,
            action: planned.action,
            target: planned.target.name,
            connector: planned.target.kind,
          }),
        ]
      : [];
    for (const item of store.itemsFor({ kind: 'request.create', request, tasks })) {
      if (item.Put?.Item !== undefined) items.push(item.Put.Item);
    }
  }
  await batchWrite(runtime, runtime.resources.tables.requests, items);
  return items.length;
};

/**
 * `benchSweepScale(emulators)`: the three parts, each on a runtime of its own, stopped afterwards.
 * Registered in bench.ts; also runs alone: `tsx test/bench/sweep-scale-run.ts`.
 */
export const benchSweepScale = async (endpoints: EmulatorEndpoints): Promise<SectionResult> => {
  const config = loadScaleConfig();
  const rows: Row[] = [];
  const details: string[] = ['### Sweep at scale (fan-out, per-due cost, stuck-work review)', ''];
  details.push(`Settings: \`${scaleSettings(config)}\`.`, '');

  // 1. Per due deletion.
  const first = await startBenchRuntime(endpoints, 'scale-per-due');
  try {
    progress(`sweep at scale: per due deletion (D=${config.perDue})`);
    const per = await perDueDeletion(first, config);
    rows.push(
      { what: 'sweep DynamoDB read requests per due deletion', samples: [per.reads], unit: 'requests' },
      { what: 'sweep DynamoDB items read per due deletion', samples: [per.items], unit: 'items' },
      { what: 'sweep DynamoDB write requests per due deletion', samples: [per.writes], unit: 'requests' },
      { what: 'sweep DynamoDB read capacity per due deletion', samples: [per.readUnits], unit: 'RCU' },
      { what: 'sweep DynamoDB write capacity per due deletion', samples: [per.writeUnits], unit: 'WCU' },
    );
    details.push(
      `Per due deletion ((sweep with D=${config.perDue} due − sweep with none) / ${config.perDue}, coordinator and shards; ` +
        `each due deletion is a closed-account request with five tasks): **${formatNumber(per.reads)} read requests, ` +
        `${formatNumber(per.items)} items read, ${formatNumber(per.writes)} write requests** ` +
        `(fixed costs per shard, the due-index queries and acknowledgements, included; anchoring reads only the chain heads ` +
        `that moved since the last anchor, from the sparse \`byUnanchored\` index: ` +
        `${formatNumber(per.anchorItems)} items per due deletion here).`,
      '',
      '| operation (sweep with D due) | requests | items read |',
      '| --- | ---: | ---: |',
      ...per.breakdown.map(([name, value]) => `| ${name} | ${value.requests} | ${value.items} |`),
      '',
    );
  } finally {
    await first.stop();
  }

  // 2. D due among S scheduled, 1 vs N shard workers.
  const second = await startBenchRuntime(endpoints, 'scale-fan-out');
  try {
    const { runtime, counter } = second;
    await runtime.sweep();
    progress(`sweep at scale: seeding ${config.scheduled} scheduled subjects with BatchWriteItem`);
    const seeded = await timed(() =>
      seedSchedules(runtime, ids('scheduled', config.scheduled), 'contract.ended', new Date().toISOString()),
    );
    details.push(
      `Seeding S=${config.scheduled.toLocaleString('en-US')} scheduled subjects (a deletion due in 24 months each): ` +
        `${seeded.result.toLocaleString('en-US')} items with BatchWriteItem (25 a call, 8 calls in flight) in ` +
        `${formatNumber(seeded.ms / 1000)} s.`,
      '',
      '| shard workers | D due | S scheduled | buckets read | shards | wall time (ms) | read requests | items read | write requests |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const workers of config.workers) {
      await seedSchedules(
        runtime,
        ids(`due-w${workers}`, config.due),
        'account.closed',
        new Date(Date.now() - 60_000).toISOString(),
      );
      counter.reset();
      progress(`sweep at scale: D=${config.due} due, ${workers} shard worker(s)`);
      const { ms, result } = await timed(() => runtime.sweep(undefined, { shardWorkers: workers }));
      const counts = counter.snapshot();
      if (result.dispatched.length !== config.due) {
        throw new Error(`Sweep dispatched ${result.dispatched.length} deletions, expected ${config.due}`);
      }
      rows.push({
        what: `sweep wall time, D=${config.due} due among S=${config.scheduled.toLocaleString('en-US')}, ${workers} shard worker(s)`,
        samples: [ms],
        unit: 'ms',
      });
      details.push(
        `| ${workers} | ${config.due} | ${config.scheduled} | ${result.bucketsRead} | ${result.shardsQueued} | ${formatNumber(ms)} | ` +
          `${counts.readRequests} | ${counts.itemsRead} | ${counts.writeRequests} |`,
      );
    }
    details.push('');

    // Anchoring: the sweeps above moved the chains of the subjects they erased; the next sweep
    // reads those heads alone, the one after it none, however many chains the table holds.
    // Then 3 more subjects are erased (their chains move in the shards, after the coordinator
    // anchored), so the sweep after that anchors 3 of N.
    const anchorings: { chains: number; moved: number; read: number; queries: number }[] = [];
    const anchoring = async () => {
      const chains = await countChains(runtime);
      counter.reset();
      const report = await runtime.sweep();
      const read = op(counter.snapshot(), ANCHOR_READ);
      anchorings.push({
        chains,
        moved: report.anchor?.chains ?? 0,
        read: read.items,
        queries: read.requests,
      });
    };
    await anchoring();
    await seedSchedules(
      runtime,
      ids('anchor-few', 3),
      'account.closed',
      new Date(Date.now() - 60_000).toISOString(),
    );
    await anchoring();
    await anchoring();
    for (const { chains, moved, read } of anchorings) {
      rows.push({
        what: `anchoring: heads read with N=${chains} chains, k=${moved} moved`,
        samples: [read],
        unit: 'items',
      });
    }
    details.push(
      'Anchoring (the coordinator of each sweep): ' +
        anchorings
          .map(
            ({ chains, moved, read, queries }) =>
              `N=${chains} chains, k=${moved} moved → **${read} heads read** (${queries} queries, one per \`byUnanchored\` shard)`,
          )
          .join('; ') +
        '. Before, every sweep scanned every chain head and read every anchor.',
      '',
    );
  } finally {
    await second.stop();
  }

  // 3. The stuck-work review.
  const third = await startBenchRuntime(endpoints, 'scale-review');
  try {
    const { runtime, counter } = third;
    await runtime.sweep();
    progress(`sweep at scale: seeding ${config.open} open requests, ${config.stuck} stuck`);
    const seeded = await timed(() => seedOpenRequests(runtime, config));
    counter.reset();
    const { ms, result } = await timed(() => runtime.sweep());
    const counts = counter.snapshot();
    const review = op(counts, 'Query requests/byReviewAt');
    const deadlines = op(counts, 'Query requests/openByDeadline');
    if (result.redispatched !== config.stuck) {
      throw new Error(`The review moved ${result.redispatched} requests on, expected ${config.stuck}`);
    }
    rows.push({
      what: `stuck-work review: items read from the review index, ${config.open.toLocaleString('en-US')} open / ${config.stuck} stuck`,
      samples: [review.items],
      unit: 'items',
    });
    details.push(
      `Review with ${config.open.toLocaleString('en-US')} open requests (${seeded.result.toLocaleString('en-US')} items seeded in ` +
        `${formatNumber(seeded.ms / 1000)} s), ${config.stuck} of them stuck (dispatched an hour ago, task never started): ` +
        `the sweep read **${review.items} items** from \`byReviewAt\` (${review.requests} queries, one per shard) and counted ` +
        `deadlines with ${deadlines.requests} \`Select COUNT\` queries (${deadlines.items} items scanned); ` +
        `${counts.readRequests} read requests and ${counts.itemsRead} items read by the whole sweep, ${formatNumber(ms)} ms; ` +
        `${result.redispatched} requests moved on. Before, \`listOpen\` read every open request each sweep ` +
        `(${config.open.toLocaleString('en-US')} items).`,
    );
  } finally {
    await third.stop();
  }
  return { rows, details };
};
