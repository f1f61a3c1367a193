import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { FUNCTIONS } from '../../functions/manifest.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/shared/metric-names.js';
import {
  BUNDLE_LIMIT_BYTES,
  BUNDLE_SETTINGS,
  bundleBanner,
  bundleDefine,
  configLiteral,
  FUNCTION_NODE_OPTIONS,
} from '../../infra/bundling.js';
import { EXAMPLE_DEPLOYMENT_CONFIG } from '../../infra/config/example.js';
import { size } from './config.js';
import type { SectionResult } from './context.js';
import { formatNumber, median, progress, type Row } from './stats.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Bundle {
  readonly key: string;
  readonly entry: string;
  readonly file: string;
  readonly codeBytes: number;
  readonly mapBytes: number;
  readonly metafile: Metafile;
}

/**
 * One function bundled as `cdk synth` bundles it (infra/bundling.ts settings, the example config
 * compiled in), with esbuild's metafile to say what weighs.
 */
const bundleFunction = async (key: string, entry: string, outdir: string): Promise<Bundle> => {
  const file = join(outdir, key, BUNDLE_SETTINGS.outfile);
  const literal = configLiteral(EXAMPLE_DEPLOYMENT_CONFIG);
  const result = await build({
    entryPoints: [join(PROJECT_ROOT, 'functions', entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: BUNDLE_SETTINGS.format,
    target: BUNDLE_SETTINGS.target,
    minify: BUNDLE_SETTINGS.minify,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    sourcemap: BUNDLE_SETTINGS.sourceMap,
    sourcesContent: BUNDLE_SETTINGS.sourcesContent,
    external: [...BUNDLE_SETTINGS.external],
    banner: { js: bundleBanner(literal) },
    define: bundleDefine(literal),
    metafile: true,
    logLevel: 'error',
  });
  const [code, map] = await Promise.all([stat(file), stat(`${file}.map`)]);
  return { key, entry, file, codeBytes: code.size, mapBytes: map.size, metafile: result.metafile };
};

/** Bytes in the bundle per npm package (or `project code` for domain/ and functions/), largest first. */
const weights = (bundle: Bundle): [string, number][] => {
  const output = Object.values(bundle.metafile.outputs).find(
    (candidate) => candidate.entryPoint !== undefined,
  );
  const byPackage = new Map<string, number>();
  for (const [path, input] of Object.entries(output?.inputs ?? {})) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
    const owner = match?.[1] ?? 'project code';
    byPackage.set(owner, (byPackage.get(owner) ?? 0) + input.bytesInOutput);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]);
};

/**
 * Loads a module in a fresh Node.js process and reports how long `import()` took (wall ms) and the
 * CPU time the process spent on it (user + system ms, all threads): on a shared machine the CPU
 * time is the steadier figure, as waiting for a core is not counted.
 */
const IMPORT_TIMER = [
  'const cpu = process.cpuUsage();',
  'const start = performance.now();',
  'const loaded = await import(process.argv[1]);',
  'const ms = performance.now() - start;',
  'const used = process.cpuUsage(cpu);',
  "if (process.argv[2] === 'handler' && typeof loaded.handler !== 'function') throw new Error('no handler export');",
  'process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }));',
].join('\n');

interface ImportTime {
  readonly ms: number;
  readonly cpuMs: number;
}

const timeImport = (file: string, nodeOptions: string, expect: 'handler' | 'nothing'): Promise<ImportTime> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', IMPORT_TIMER, pathToFileURL(file).href, expect],
      {
        env: {
          ...process.env,
          // As the function's environment has them (infra/constructs/orchestrator-function.ts).
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          AWS_REGION: process.env.AWS_REGION ?? 'eu-west-1',
          NODE_OPTIONS: nodeOptions,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`exit ${code}: ${err.trim()}`);
        resolve(JSON.parse(out) as ImportTime);
      } catch (error) {
        reject(
          new Error(`Loading ${file} failed: ${error instanceof Error ? error.message : String(error)}`),
        );
      }
    });
  });

const kB = (bytes: number): number => bytes / 1000;

/**
 * Goal 5: every function's bundle as deployed (size, source map, what weighs most), and its cold
 * start: the bundle loaded by `import()` in a fresh Node.js process, i.e. module load and top-level
 * init, not the handler call (handlers build their clients and read their secret on the first
 * call). Each load runs as deployed (NODE_OPTIONS=--enable-source-maps) and without source maps,
 * alternating, and an empty module gives the cost of the measuring method itself. Needs no emulator.
 */
export const benchBundles = async (): Promise<SectionResult> => {
  const runs = size('BENCH_COLD_STARTS', 15, 1);
  const outdir = await mkdtemp(join(os.tmpdir(), 'bench-bundles-'));
  try {
    const bundles = await Promise.all(
      Object.entries(FUNCTIONS).map(([key, manifest]) => bundleFunction(key, manifest.entry, outdir)),
    );
    progress(
      `bundles: ${bundles.map((bundle) => `${bundle.key} ${formatNumber(kB(bundle.codeBytes))} kB`).join(', ')}`,
    );
    const empty = join(outdir, 'empty.mjs');
    await writeFile(empty, 'export {};\n');

    const variants = [
      { label: `as deployed (NODE_OPTIONS=${FUNCTION_NODE_OPTIONS})`, nodeOptions: FUNCTION_NODE_OPTIONS },
      { label: 'without source maps', nodeOptions: '' },
    ] as const;
    const samples = new Map<string, number[]>();
    const record = (name: string, { ms, cpuMs }: ImportTime) => {
      samples.set(name, [...(samples.get(name) ?? []), ms]);
      samples.set(`${name} cpu`, [...(samples.get(`${name} cpu`) ?? []), cpuMs]);
    };
    for (let run = 0; run < runs; run++) {
      record('empty', await timeImport(empty, '', 'nothing'));
      for (const bundle of bundles) {
        for (const variant of variants) {
          record(
            `${bundle.key} ${variant.label}`,
            await timeImport(bundle.file, variant.nodeOptions, 'handler'),
          );
        }
      }
    }

    const rows: Row[] = [];
    for (const bundle of bundles) {
      rows.push({
        what: `bundle of ${bundle.key} (functions/${bundle.entry}), limit ${formatNumber(kB(BUNDLE_LIMIT_BYTES))} kB`,
        samples: [kB(bundle.codeBytes)],
        unit: 'kB',
      });
    }
    for (const bundle of bundles) {
      for (const variant of variants) {
        const name = `${bundle.key} ${variant.label}`;
        rows.push(
          {
            what: `cold start of ${bundle.key}: module load + init, ${variant.label}`,
            samples: samples.get(name) ?? [],
            unit: 'ms',
          },
          {
            what: `cold start of ${bundle.key}: CPU time of it, ${variant.label}`,
            samples: samples.get(`${name} cpu`) ?? [],
            unit: 'ms CPU',
          },
        );
      }
    }
    rows.push(
      {
        what: '(reference) cold start of an empty module: the measuring method alone',
        samples: samples.get('empty') ?? [],
        unit: 'ms',
      },
      {
        what: '(reference) cold start of an empty module: CPU time of it',
        samples: samples.get('empty cpu') ?? [],
        unit: 'ms CPU',
      },
    );
    for (const bundle of bundles) {
      const deployed = `${bundle.key} ${variants[0].label}`;
      progress(
        `cold start ${bundle.key} as deployed: median ${formatNumber(median(samples.get(deployed) ?? []))} ms, ` +
          `${formatNumber(median(samples.get(`${deployed} cpu`) ?? []))} ms CPU`,
      );
    }

    const details = [
      '| function | bundle (kB) | source map (kB) | heaviest packages in the bundle (kB) |',
      '| --- | ---: | ---: | --- |',
      ...bundles.map(
        (bundle) =>
          `| ${bundle.key} | ${formatNumber(kB(bundle.codeBytes))} | ${formatNumber(kB(bundle.mapBytes))} | ${weights(
            bundle,
          )
            .slice(0, 6)
            .map(([owner, bytes]) => `${owner} ${formatNumber(kB(bytes))}`)
            .join(', ')} |`,
      ),
      '',
      `Bundled with the settings of infra/bundling.ts (the ones \`cdk synth\` uses; \`npm run check:bundles\` checks cdk.out against the ${formatNumber(kB(BUNDLE_LIMIT_BYTES))} kB limit). ` +
        `Cold starts: ${runs} fresh Node.js ${process.version} processes per function and variant on ${os.arch()} (Lambda runs ARM64), ` +
        'timing `await import(bundle)` inside the process (wall time, and the CPU time the process spent on it, which waiting for a core on a shared machine does not inflate): Node.js boot and the Lambda runtime are not included.',
    ];
    return { rows, details };
  } finally {
    await rm(outdir, { recursive: true, force: true });
  }
};
