import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { policyFor } from '../../domain/policy/config.js';
import { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import { runWindows } from '../../functions/services/window-runs.js';
import { size } from './config.js';
import type { BenchContext, SectionResult } from './context.js';
import type { DynamoCounts } from './dynamo-counter.js';
import { forEachConcurrently, formatNumber, progress, type Row, range, timed } from './stats.js';

const DAY_MS = 86_400_000;
const SEED_CONCURRENCY = 16;

/**
 * 6. Rolling windows per target (IMOU-2): S subjects with alarm events in the `alarm-events`
 * table, then the sweep's window run of `alarm-events` (the whole use case: last slot, holds,
 * the connector's `expire` through the time-ordered index with its verification read, the commit
 * of the slot and its one audit entry) with nothing expired and with E expired items. Each
 * repetition runs on two fresh grid slots (a day apart). For comparison, the per-subject design
 * this replaces made one erasure request per active subject per day.
 */
export const benchWindows = async ({ runtime, counter, config }: BenchContext): Promise<SectionResult> => {
  const subjects = size('BENCH_WINDOW_SUBJECTS', 10_000, 200, 0);
  const expired = Math.min(size('BENCH_WINDOW_EXPIRED', 1_000, 50, 0), subjects);
  const { deps, clients } = runtime;
  const target = deps.config.targets.find((candidate) => candidate.name === 'alarm-events');
  if (target?.kind !== 'dynamodb-items' || target.windowIndex === undefined) {
    throw new Error("the runtime's alarm-events target has no windowIndex");
  }
  const { table, timestampAttribute = 'createdAt', windowIndex } = target;
  const partitions = windowIndex.partitions ?? ['all'];
  // Only the IMOU-2 run: the other rolling classes go to S3 and the partner webhook.
  const windowDeps = {
    ...deps,
    config: {
      ...deps.config,
      catalog: { ...deps.config.catalog, dataClasses: [policyFor(deps.config.catalog, 'alarm-events')] },
    },
  };
  // Window runs run in the sweep's coordinator, which lists the holds table once (its first sweep
  // after an upgrade) and then reads the active holds from that list; this runtime's sweep never
  // ran, so list it here, or every run would read the table the way it is read before the list.
  if (deps.holds instanceof DynamoHoldStore) await deps.holds.listActiveHolds();
  const put = async (items: Record<string, unknown>[]) => {
    const chunks = range(Math.ceil(items.length / 25)).map((i) => items.slice(i * 25, i * 25 + 25));
    await forEachConcurrently(chunks, SEED_CONCURRENCY, async (chunk) => {
      let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
      while (pending.length > 0) {
        const result = await clients.documents.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending } }),
        );
        pending = (result.UnprocessedItems?.[table] ?? []).flatMap((w) =>
          w.PutRequest?.Item ? [{ PutRequest: { Item: w.PutRequest.Item } }] : [],
        );
      }
    });
  };
  const alarm = (subject: number, id: string, at: string) => ({
    subjectId: `bench-window-${String(subject).padStart(6, '0')}`,
    alarmId: id,
    [timestampAttribute]: at,
    [windowIndex.partitionAttribute]: partitions[subject % partitions.length],
    ipAddress: '192.0.2.1',
  });

  // Day 0 at midnight UTC, far enough ahead that these slots were never recorded.
  const day0 = Math.floor(Date.now() / DAY_MS) * DAY_MS + 30 * DAY_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  progress(`windows: seeding ${subjects} subjects with one fresh alarm each`);
  await put(range(subjects).map((subject) => alarm(subject, 'fresh', iso(day0 + 100 * DAY_MS))));

  const measured = {
    none: { ms: [] as number[], counts: [] as DynamoCounts[] },
    some: { ms: [] as number[], counts: [] as DynamoCounts[] },
  };
  const erasedCounts: number[] = [];
  for (let rep = 0; rep < config.repeats; rep++) {
    const slot = day0 + 2 * rep * DAY_MS;
    // Nothing expired: every alarm is newer than the cut-off.
    counter.reset();
    const none = await timed(() => runWindows(windowDeps, iso(slot + 60_000)));
    measured.none.ms.push(none.ms);
    measured.none.counts.push(counter.snapshot());

    // E expired alarms (10 days before the next slot), on E different subjects.
    const next = slot + DAY_MS;
    await put(range(expired).map((subject) => alarm(subject, `old-${rep}`, iso(next - 10 * DAY_MS))));
    counter.reset();
    const some = await timed(() => runWindows(windowDeps, iso(next + 60_000)));
    measured.some.ms.push(some.ms);
    measured.some.counts.push(counter.snapshot());
    erasedCounts.push(some.result[0]?.erased ?? Number.NaN);
    progress(
      `windows rep ${rep + 1}: 0 expired ${formatNumber(none.ms)} ms, ${expired} expired ${formatNumber(some.ms)} ms (erased ${erasedCounts.at(-1)})`,
    );
  }

  const requests = (counts: DynamoCounts) => counts.readRequests + counts.writeRequests;
  const rows: Row[] = [
    {
      what: `Window run, ${subjects} subjects, 0 expired: DynamoDB requests`,
      samples: measured.none.counts.map(requests),
      unit: 'requests',
    },
    {
      what: `Window run, ${subjects} subjects, 0 expired: time`,
      samples: measured.none.ms,
      unit: 'ms',
    },
    {
      what: `Window run, ${subjects} subjects, ${expired} expired: DynamoDB requests`,
      samples: measured.some.counts.map(requests),
      unit: 'requests',
    },
    {
      what: `Window run, ${subjects} subjects, ${expired} expired: time`,
      samples: measured.some.ms,
      unit: 'ms',
    },
    {
      what: `Per-subject design (replaced): erasure requests per day for ${subjects} active subjects`,
      samples: [subjects],
      unit: 'requests',
    },
  ];
  const breakdown = (label: string, counts: DynamoCounts | undefined) => {
    if (counts === undefined) return [];
    const operations = [...counts.byOperation]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key} ${value.requests} (${value.items} items)`);
    return [
      `- ${label}: ${counts.readRequests} reads (${counts.itemsRead} items), ${counts.writeRequests} writes: ${operations.join('; ')}`,
    ];
  };
  return {
    rows,
    details: [
      '### Rolling windows per target (IMOU-2)',
      '',
      `${subjects} subjects with one alarm each in \`alarm-events\` (time-ordered index over ${partitions.length} partition(s)); one window run per slot. Erased per run with expired items: ${erasedCounts.join(', ')}. DynamoDB requests of the last repetition:`,
      '',
      ...breakdown('0 expired', measured.none.counts.at(-1)),
      ...breakdown(`${expired} expired`, measured.some.counts.at(-1)),
      '',
      `Before, each of the ${subjects} active subjects had its own daily entry: one erasure request, its task and audit entries per subject per day (at the sweep alone about 7 read and 5 write requests each, see issue figures), whether or not anything had expired. A window run costs a constant handful of requests plus one Query page per 1 MB of expired index entries and one BatchWriteItem per 25 expired items.`,
    ],
  };
};
