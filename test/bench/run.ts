/**
 * `npm run bench` (not part of `npm test`): measures the pipeline against local emulators it starts
 * and stops itself. Sizes come from BENCH_* environment variables (see config.ts). The report is
 * Markdown on stdout; progress goes to stderr.
 *
 * Powertools reads its settings when its modules load, so they are set before the benchmark (and
 * with it the functions) is imported: handler logs and EMF metrics would otherwise fill stdout.
 */
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const { main } = await import('./bench.js');
try {
  await main();
} catch (error) {
  process.stderr.write(
    `Benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
