import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LifecycleEventType } from '../../domain/events.js';
import type { StoredSchedule } from '../../domain/ports/index.js';
import { decide } from '../../domain/schedule/decide.js';
import { OPEN_SHARDS } from '../../functions/adapters/dynamo-request-store.js';
import type { ServiceDeps } from '../../functions/services/deps.js';
import { lifecycleEventId } from '../../functions/services/lifecycle-events.js';
import type { LocalRuntime } from '../../local/runtime.js';
import type { BenchConfig } from './config.js';
import type { BenchRuntime, SectionResult } from './context.js';
import type { DynamoCounts } from './dynamo-counter.js';
import { forEachConcurrently, formatNumber, median, perSecond, progress, type Row, timed } from './stats.js';

const DUE_INDEX = 'Query schedules/byDueBucket';

/**
 * Stores what `recordLifecycleEvent` would store for the first event of a new subject, through
 * a unit-of-work commit of the schedule alone (one TransactWriteItems), without its recorded-event
 * check, load and audit entry: the sweep reads none of those, and loading is ~3x faster. Only
 * valid for a subject with nothing stored yet (version 0).
 */
export const writeFirstEvent = async (
  deps: ServiceDeps,
  subjectId: string,
  type: LifecycleEventType,
  occurredAt: string,
): Promise<void> => {
  const input = { subjectId, type, occurredAt, attributes: {} };
  const eventId = lifecycleEventId(deps.settings.idKey, input);
  const empty: StoredSchedule = { version: 0, schedule: { subjectId, entries: [] } };
  const { decisions, next } = decide(deps.config.catalog, empty.schedule, { ...input, eventId });
  await deps.uow.commit([
    {
      kind: 'schedule.save',
      previous: empty,
      next,
      event: { eventId, decisions },
      at: new Date().toISOString(),
    },
  ]);
};

/**
 * Takes the requests earlier sweeps created out of the open-requests index (as if their tasks had
 * completed) and empties the task queue, so each measured sweep starts from no open requests.
 * Running those tasks for real would take longer than the sweeps being measured.
 */
const retireOpenRequests = async (runtime: LocalRuntime): Promise<number> => {
  const { documents, sqs } = runtime.clients;
  const table = runtime.resources.tables.requests;
  const keys: { pk: unknown; sk: unknown }[] = [];
  for (let shard = 0; shard < OPEN_SHARDS; shard++) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new QueryCommand({
          TableName: table,
          IndexName: 'openByDeadline',
          KeyConditionExpression: 'openBucket = :open',
          ExpressionAttributeValues: { ':open': `open#${String(shard).padStart(2, '0')}` },
          ProjectionExpression: 'pk, sk',
          ExclusiveStartKey: startKey,
        }),
      );
      keys.push(...(page.Items ?? []).map((item) => ({ pk: item.pk, sk: item.sk })));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
  }
  await forEachConcurrently(keys, 8, async (key) => {
    await documents.send(
      new UpdateCommand({ TableName: table, Key: key, UpdateExpression: 'REMOVE openBucket, reviewAt' }),
    );
  });
  await sqs.send(new PurgeQueueCommand({ QueueUrl: runtime.resources.taskQueueUrl }));
  return keys.length;
};

interface SweepSample {
  readonly ms: number;
  readonly counts: DynamoCounts;
  readonly buckets: number;
}

const op = (counts: DynamoCounts, key: string) =>
  counts.byOperation.get(key) ?? { requests: 0, items: 0, ms: 0 };

/** A runtime of its own per S level, so sweeps at different S can alternate. */
export interface SweepLevel {
  readonly subjects: number;
  readonly bench: BenchRuntime;
}

const futureIds = (count: number): string[] =>
  Array.from({ length: count }, (_, index) => `bench-future-${String(index).padStart(6, '0')}`);

/**
 * 1. Sweep cost against due deletions (D) and all schedules (S). Each S level has its own
 * runtime (own tables): S subjects get a `contract.ended` now (customer-profile due in 24 months,
 * in a due-index month no sweep reads yet). For each measured sweep, D fresh subjects get an
 * `account.closed` a minute ago (closed-account: due at once, five targets). Repetitions alternate
 * between the S levels, so drift of a noisy machine does not favour one level. The sweep runs
 * through the Lambda handler (`runtime.sweep()`).
 */
export const benchSweep = async (
  levels: readonly SweepLevel[],
  config: BenchConfig,
): Promise<SectionResult> => {
  const rows: Row[] = [];
  const notes: string[] = [];

  for (const { subjects, bench } of levels) {
    const { runtime, counter } = bench;
    counter.reset();
    const warmUp = await timed(() => runtime.sweep());
    notes.push(
      `S=${subjects}: first sweep (no watermark yet: ${warmUp.result.bucketsRead} buckets, 12 months back) ` +
        `${formatNumber(warmUp.ms)} ms, ${counter.snapshot().readRequests} read requests; not in the table.`,
    );
    if (subjects === 0) continue;
    progress(`sweep: loading ${subjects} future schedules`);
    const occurredAt = new Date().toISOString();
    const load = await timed(() =>
      forEachConcurrently(futureIds(subjects), config.concurrency, (id) =>
        writeFirstEvent(runtime.deps, id, 'contract.ended', occurredAt),
      ),
    );
    notes.push(
      `S=${subjects}: loaded through DynamoScheduleStore.save (one TransactWriteItems per subject), ` +
        `concurrency ${config.concurrency}: ${formatNumber(load.ms / 1000)} s, ` +
        `${formatNumber(perSecond(subjects, load.ms))} subjects/s.`,
    );
  }

  const samples = new Map<string, SweepSample[]>();
  const key = (subjects: number, due: number) => `${subjects}/${due}`;
  let batch = 0;
  for (const due of config.sweepDue) {
    for (let rep = 0; rep < config.repeats; rep++) {
      const order = rep % 2 === 0 ? levels : [...levels].reverse();
      for (const { subjects, bench } of order) {
        const { runtime, counter } = bench;
        const prefix = `bench-due-${batch++}`;
        const ids = Array.from({ length: due }, (_, index) => `${prefix}-${String(index).padStart(5, '0')}`);
        const occurredAt = new Date(Date.now() - 60_000).toISOString();
        await forEachConcurrently(ids, config.concurrency, (id) =>
          writeFirstEvent(runtime.deps, id, 'account.closed', occurredAt),
        );
        await retireOpenRequests(runtime);
        counter.reset();
        const { ms, result } = await timed(() => runtime.sweep());
        const counts = counter.snapshot();
        if (result.dispatched.length !== due) {
          throw new Error(`Sweep dispatched ${result.dispatched.length} deletions, expected ${due}`);
        }
        const list = samples.get(key(subjects, due)) ?? [];
        list.push({ ms, counts, buckets: result.bucketsRead });
        samples.set(key(subjects, due), list);
      }
    }
    progress(
      `sweep: D=${due}: ${levels
        .map(({ subjects }) => {
          const list = samples.get(key(subjects, due)) ?? [];
          return `S=${subjects} ${formatNumber(median(list.map((s) => s.ms)))} ms`;
        })
        .join(', ')}`,
    );
  }

  const detailRows: string[] = [
    '| S (future) | D (due now) | buckets read | read requests | items read | due-index queries | due-index items | read capacity (RCU) | write requests | wall time (ms) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const perDue: string[] = [];
  for (const { subjects } of levels) {
    for (const due of config.sweepDue) {
      const list = samples.get(key(subjects, due)) ?? [];
      const label = `S=${subjects.toLocaleString('en-US')} future + D=${due} due`;
      rows.push(
        { what: `sweep wall time, ${label}`, samples: list.map((s) => s.ms), unit: 'ms' },
        {
          what: `sweep DynamoDB items read, ${label}`,
          samples: list.map((s) => s.counts.itemsRead),
          unit: 'items',
        },
      );
      const mid = (pick: (sample: SweepSample) => number) => formatNumber(median(list.map(pick)));
      detailRows.push(
        `| ${subjects} | ${due} | ${mid((s) => s.buckets)} | ${mid((s) => s.counts.readRequests)} | ` +
          `${mid((s) => s.counts.itemsRead)} | ${mid((s) => op(s.counts, DUE_INDEX).requests)} | ` +
          `${mid((s) => op(s.counts, DUE_INDEX).items)} | ${mid((s) => s.counts.readCapacityUnits)} | ` +
          `${mid((s) => s.counts.writeRequests)} | ${mid((s) => s.ms)} |`,
      );
    }
    const fewest = config.sweepDue[0] ?? 0;
    const most = config.sweepDue.at(-1) ?? 0;
    const idle = median((samples.get(key(subjects, fewest)) ?? []).map((s) => s.ms));
    const busy = median((samples.get(key(subjects, most)) ?? []).map((s) => s.ms));
    if (most > fewest) {
      const countsAt = (due: number) => (samples.get(key(subjects, due)) ?? []).at(-1)?.counts;
      const many = countsAt(most);
      const few = countsAt(fewest);
      const per = (pick: (counts: DynamoCounts) => number) =>
        many === undefined || few === undefined ? Number.NaN : (pick(many) - pick(few)) / (most - fewest);
      perDue.push(
        `S=${subjects}: ${formatNumber((busy - idle) / (most - fewest))} ms, ` +
          `${formatNumber(per((c) => c.readRequests))} read requests and ${formatNumber(per((c) => c.itemsRead))} items read ` +
          `(of which ${formatNumber(per((c) => op(c, DUE_INDEX).items))} from the due index)`,
      );
    }
  }

  const details = [
    `### Sweep: DynamoDB requests (medians of ${config.repeats} sweeps)`,
    '',
    ...detailRows,
    '',
    ...notes.map((note) => `- ${note}`),
    ...(perDue.length === 0
      ? []
      : [
          `- Cost of one due deletion, (D=${config.sweepDue.at(-1)} − D=${config.sweepDue[0]}) / ` +
            `${(config.sweepDue.at(-1) ?? 0) - (config.sweepDue[0] ?? 0)} (wall time from medians; a sweep handles up to ` +
            `eight due entries at a time): ${perDue.join('; ')}.`,
        ]),
  ];
  const lastLevel = levels.at(-1);
  const most = config.sweepDue.at(-1) ?? 0;
  const last = lastLevel === undefined ? undefined : samples.get(key(lastLevel.subjects, most))?.at(-1);
  if (lastLevel !== undefined && last !== undefined) {
    details.push(
      '',
      `Where the requests of one sweep went (S=${lastLevel.subjects}, D=${most}; each due deletion becomes a ` +
        'request with five tasks; ms per call includes client, HTTP and emulator):',
      '',
      '| operation | requests | items read | mean ms per call |',
      '| --- | ---: | ---: | ---: |',
      ...[...last.counts.byOperation]
        .sort(([, a], [, b]) => b.requests - a.requests)
        .map(
          ([name, value]) =>
            `| ${name} | ${value.requests} | ${value.items} | ${formatNumber(value.ms / value.requests)} |`,
        ),
    );
  }
  return { rows, details };
};
