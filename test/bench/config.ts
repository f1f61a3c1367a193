/**
 * Sizes of the benchmark, from environment variables (all optional; defaults keep a run under ~3 min
 * on 2 cores). `BENCH_SMOKE=1` (`npm run bench:smoke`, run by .ci/run) makes every size tiny: it
 * proves the harness and every section still run, and measures nothing worth quoting.
 */
export interface BenchConfig {
  /** A smoke run: tiny sizes, report to test-output/bench-smoke.md instead of bench/results.md. */
  readonly smoke: boolean;
  /** Repetitions of every throughput / wall-time measurement. */
  readonly repeats: number;
  /** Concurrency of the parallel measurements (lifecycle events, audit across chains). */
  readonly concurrency: number;
  /** Subjects with a deletion due far in the future, loaded before the sweeps (ascending levels). */
  readonly sweepSubjects: readonly number[];
  /** Deletions due now, per measured sweep. */
  readonly sweepDue: readonly number[];
  /** Lifecycle events per repetition. */
  readonly events: number;
  /** Objects under one prefix for the s3-prefix connector. */
  readonly s3Objects: number;
  /** Items of one subject for the dynamodb-items connector. */
  readonly ddbItems: number;
  /** Audit entries per repetition (each of the three audit measurements). */
  readonly auditEntries: number;
  /** Concurrent audit writers: on as many chains, and on one chain (the contention measurement). */
  readonly auditWriters: number;
  /** End-to-end erasure requests, each measured on its own. */
  readonly e2eRequests: number;
}

/** `BENCH_SMOKE=1` or `true`. */
export const isSmoke = (): boolean =>
  ['1', 'true'].includes(process.env.BENCH_SMOKE?.trim().toLowerCase() ?? '');

/** The smoke-run sizes of the settings read by loadBenchConfig. */
const SMOKE_SIZES: Readonly<Record<string, number | readonly number[]>> = {
  BENCH_REPEATS: 1,
  BENCH_CONCURRENCY: 4,
  BENCH_SWEEP_SUBJECTS: [0, 20],
  BENCH_SWEEP_DUE: [0, 2],
  BENCH_EVENTS: 5,
  BENCH_S3_OBJECTS: 20,
  BENCH_DDB_ITEMS: 10,
  BENCH_AUDIT_ENTRIES: 5,
  BENCH_AUDIT_WRITERS: 2,
  BENCH_E2E_REQUESTS: 1,
};

/** A size with no smoke value of its own: a hundredth of the default, so a smoke run stays tiny. */
const scaledDown = (fallback: number, min: number): number => Math.max(min, Math.ceil(fallback / 100));

/** Every setting read so far, with the value used: the report lists them. */
const used = new Map<string, string>();

/** `NAME=value` of every setting read so far (sizes of sections included), for the report. */
export const settingsUsed = (): string =>
  [...used].map(([name, value]) => `${name}=${value}`).join(' ') || '(defaults)';

/**
 * An integer setting for a section: environment variable `name` if set, else `fallback`, or in a
 * smoke run `smoke` (default: a hundredth of `fallback`). Sections read their own sizes with it:
 * `const subjects = size('BENCH_WINDOW_SUBJECTS', 10_000, 50);`
 */
export const size = (name: string, fallback: number, smoke?: number, min = 1): number => {
  const raw = process.env[name];
  let value: number;
  if (raw === undefined || raw.trim() === '') {
    value = isSmoke() ? (smoke ?? scaledDown(fallback, min)) : fallback;
  } else {
    value = Number(raw);
    if (!Number.isInteger(value) || value < min) {
      throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
    }
  }
  used.set(name, String(value));
  return value;
};

/** A comma-separated list of integers >= 0 (distinct, ascending), like `size`. */
export const sizeList = (
  name: string,
  fallback: readonly number[],
  smoke?: readonly number[],
): readonly number[] => {
  const raw = process.env[name];
  let values: readonly number[];
  if (raw === undefined || raw.trim() === '') {
    values = isSmoke() ? (smoke ?? fallback.map((value) => scaledDown(value, 0))) : fallback;
  } else {
    values = raw.split(',').map((part) => Number(part.trim()));
    if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 0)) {
      throw new Error(`${name} must be a comma-separated list of integers >= 0, got '${raw}'`);
    }
  }
  const sorted = [...new Set(values)].sort((a, b) => a - b);
  used.set(name, sorted.join(','));
  return sorted;
};

const smokeSize = (name: string): number | undefined => {
  const value = SMOKE_SIZES[name];
  return typeof value === 'number' ? value : undefined;
};

const int = (name: string, fallback: number, min: number): number =>
  size(name, fallback, smokeSize(name), min);

const intList = (name: string, fallback: readonly number[]): readonly number[] => {
  const smoke = SMOKE_SIZES[name];
  return sizeList(name, fallback, typeof smoke === 'number' ? [smoke] : smoke);
};

export const loadBenchConfig = (): BenchConfig => ({
  smoke: isSmoke(),
  repeats: int('BENCH_REPEATS', 3, 1),
  concurrency: int('BENCH_CONCURRENCY', 8, 1),
  sweepSubjects: intList('BENCH_SWEEP_SUBJECTS', [0, 2000]),
  sweepDue: intList('BENCH_SWEEP_DUE', [0, 25, 100]),
  events: int('BENCH_EVENTS', 100, 1),
  s3Objects: int('BENCH_S3_OBJECTS', 5000, 1),
  ddbItems: int('BENCH_DDB_ITEMS', 1000, 1),
  auditEntries: int('BENCH_AUDIT_ENTRIES', 100, 1),
  auditWriters: int('BENCH_AUDIT_WRITERS', 4, 1),
  e2eRequests: int('BENCH_E2E_REQUESTS', 20, 1),
});
