/**
 * How every function is bundled. The CDK construct (infra/constructs/orchestrator-function.ts), the
 * bundle-size check (`npm run check:bundles`, test/infra/bundles.test.ts) and the bench's cold-start
 * measurement (test/bench/bundles.ts) all read these, so they measure what is deployed.
 * No CDK or esbuild import here: plain values.
 */

/** The largest bundle (the JavaScript Lambda loads, source map not counted) a function may have. */
export const BUNDLE_LIMIT_BYTES = 1_000_000;

export const BUNDLE_SETTINGS = {
  format: 'esm',
  target: 'node24',
  minify: true,
  /** ESM builds first: they tree-shake (the CommonJS builds of the SDK and Powertools do not). */
  mainFields: ['module', 'main'],
  /** A separate .map file without the sources' text: stack traces name files and lines, the code ships once. */
  sourceMap: true,
  sourcesContent: false,
  /**
   * Nothing external: the Node.js 24 runtime ships an AWS SDK v3, but of its own version, which
   * changes under a deployed function. The pinned clients of package-lock.json are bundled instead
   * (tree-shaken, with @smithy/* two thirds of each bundle), so what was tested is what runs.
   */
  external: [] as readonly string[],
  /** File name of the bundle inside its asset (NodejsFunction with OutputFormat.ESM). */
  outfile: 'index.mjs',
} as const;

/** Stack traces point into the TypeScript sources: the runtime reads the bundle's source map. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** The bundle's `process.env.ERASURE_CONFIG`: a JavaScript string literal holding the config JSON. */
export const configLiteral = (config: unknown): string => JSON.stringify(JSON.stringify(config));

/** CommonJS dependencies inside an ES module bundle still call require(). */
export const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

/** Code put before a bundle built from the sources: a `require` for CommonJS dependencies, and the config. */
export const bundleBanner = (literal: string): string =>
  [
    REQUIRE_SHIM,
    // `define` only replaces the literal expression `process.env.ERASURE_CONFIG`; code that
    // parses `process.env` as a whole would not see it, so the bundle also sets it first.
    `process.env.ERASURE_CONFIG = ${literal};`,
  ].join('');

/** Compile-time replacements: the config is part of the bundle (no 4 KB environment limit). */
export const bundleDefine = (literal: string): Record<string, string> => ({
  'process.env.ERASURE_CONFIG': literal,
});

/**
 * The published package's pre-built handlers (`npm run build`, tools/build-package.ts) are the
 * same bundles without a config compiled in: the construct writes it to CONFIG_FILE beside the
 * bundle at synth, and the bundle reads it at cold start unless ERASURE_CONFIG is already set
 * (the local runtime and tests set it directly).
 */
export const CONFIG_FILE = 'config.json';

export const CONFIG_FILE_LOADER = `import { readFileSync as __readConfig } from 'node:fs';process.env.ERASURE_CONFIG ??= __readConfig(new URL('./${CONFIG_FILE}', import.meta.url), 'utf8');`;

/** `run-connector-task.ts` → `run-connector-task`: the handler's directory under dist/handlers/. */
export const handlerName = (entry: string): string => entry.replace(/\.ts$/, '');
