/**
 * `tsx test/bench/sweep-scale-run.ts`: the sweep-at-scale part of the benchmark alone (see
 * sweep-scale.ts for its BENCH_SCALE_* sizes), on emulators it starts and stops.
 */
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { startEmulators } = await import('../../local/emulators.js');
const { markdownTable } = await import('./stats.js');
const { benchSweepScale } = await import('./sweep-scale.js');
const emulators = await startEmulators();
try {
  const { rows, details = [] } = await benchSweepScale(emulators);
  process.stdout.write(`${[markdownTable(rows), '', ...details].join('\n')}\n`);
} catch (error) {
  process.stderr.write(
    `Benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await emulators.stop();
}
