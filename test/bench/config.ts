/** Sizes of the benchmark, from environment variables (all optional; defaults keep a run under ~3 min on 2 cores). */
export interface BenchConfig {
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

const int = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got '${raw}'`);
  }
  return value;
};

const intList = (name: string, fallback: readonly number[]): readonly number[] => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const values = raw.split(',').map((part) => Number(part.trim()));
  if (values.length === 0 || values.some((value) => !Number.isInteger(value) || value < 0)) {
    throw new Error(`${name} must be a comma-separated list of integers >= 0, got '${raw}'`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
};

export const ENV_VARS = [
  'BENCH_REPEATS',
  'BENCH_CONCURRENCY',
  'BENCH_SWEEP_SUBJECTS',
  'BENCH_SWEEP_DUE',
  'BENCH_EVENTS',
  'BENCH_S3_OBJECTS',
  'BENCH_DDB_ITEMS',
  'BENCH_AUDIT_ENTRIES',
  'BENCH_AUDIT_WRITERS',
  'BENCH_E2E_REQUESTS',
] as const;

export const loadBenchConfig = (): BenchConfig => ({
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
