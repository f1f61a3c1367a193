import { randomBytes } from 'node:crypto';
import { destroyLocalClients, type EmulatorEndpoints } from '../../local/aws-clients.js';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';
import type { BenchConfig } from './config.js';
import { DynamoCounter } from './dynamo-counter.js';
import type { Row } from './stats.js';

/** A local runtime of the benchmark's own, with its DynamoDB client counted. */
export interface BenchRuntime {
  readonly runtime: LocalRuntime;
  readonly counter: DynamoCounter;
  stop(): Promise<void>;
}

export interface BenchContext extends BenchRuntime {
  readonly config: BenchConfig;
  /** The DynamoDB Local JVM, whose CPU time a section may measure (test/bench/cpu.ts). */
  readonly dynamodbPid?: number;
}

/** What a section measured: rows for the main table, and optional extra Markdown (details, notes). */
export interface SectionResult {
  readonly rows: readonly Row[];
  readonly details?: readonly string[];
}

/**
 * Starts the whole pipeline in-process on fresh resource names (no timers: no sweep interval, no
 * queue consumer; no demo subjects), and counts its DynamoDB requests.
 */
export const startBenchRuntime = async (
  endpoints: EmulatorEndpoints,
  name: string,
): Promise<BenchRuntime> => {
  const prefix = `bench-${name}-${randomBytes(3).toString('hex')}`;
  const runtime = await startLocalRuntime({
    endpoints,
    prefix,
    demoPrefix: `${prefix}-`,
    port: 0,
    sweepIntervalMs: false,
    consumeQueue: false,
    demoSubjects: 0,
  });
  const logical = new Map(Object.entries(runtime.resources.tables).map(([key, table]) => [table, key]));
  const counter = new DynamoCounter(
    (table) =>
      logical.get(table) ?? (table.startsWith(`${prefix}-`) ? table.slice(prefix.length + 1) : table),
  );
  counter.attach(runtime.clients.dynamodb);
  let stopping: Promise<void> | undefined;
  return {
    runtime,
    counter,
    stop: () => {
      stopping ??= runtime.stop().finally(() => destroyLocalClients(runtime.clients));
      return stopping;
    },
  };
};

/** Subject ids unique to this run, safe in S3 prefixes and keys. */
export const subjectIds = (label: string, count: number): string[] =>
  Array.from({ length: count }, (_, index) => `bench-${label}-${String(index).padStart(6, '0')}`);
