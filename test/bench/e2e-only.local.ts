process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { startEmulators } = await import('../../local/emulators.js');
const { startBenchRuntime } = await import('./context.js');
const { loadBenchConfig } = await import('./config.js');
const { benchEndToEnd } = await import('./end-to-end.js');
const { markdownTable } = await import('./stats.js');
const emulators = await startEmulators();
try {
  const bench = await startBenchRuntime(emulators, 'main');
  try {
    const result = await benchEndToEnd({ ...bench, config: loadBenchConfig() });
    console.log(markdownTable(result.rows));
    console.log((result.details ?? []).join('\n'));
  } finally {
    await bench.stop();
  }
} finally {
  await emulators.stop();
}
