/**
 * `npm run bench` (not part of `npm test`): measures the pipeline against local emulators it starts
 * and stops itself. Sizes come from BENCH_* environment variables (see config.ts); BENCH_SMOKE=1
 * makes them tiny. The Markdown report goes to bench/results.md (a smoke run: test-output/
 * bench-smoke.md; BENCH_OUTPUT overrides); progress goes to stderr.
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
