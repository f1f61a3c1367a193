/**
 * How a function's handler is bundled, shared by the two ways a bundle is made: by CDK's
 * NodejsFunction when the construct runs from this repository's sources, and by
 * `npm run build` (tools/build-package.ts) into dist/handlers/ for the published package.
 */

/** esbuild target: the Lambda runtime's Node.js (FUNCTION_RUNTIME in orchestrator-function.ts). */
export const HANDLER_TARGET = 'node24';

/** ESM packages' `module` entry first: smaller, tree-shakeable bundles. */
export const HANDLER_MAIN_FIELDS = ['module', 'main'];

/** CommonJS dependencies inside an ES module bundle still call require(). */
export const REQUIRE_SHIM =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

/** The file next to a pre-built handler that holds the deployment config (written at synth). */
export const CONFIG_FILE = 'config.json';

/**
 * Pre-built handlers read the deployment config from CONFIG_FILE next to the bundle at cold start,
 * unless ERASURE_CONFIG is already set (the local runtime and tests set it directly).
 */
export const CONFIG_FILE_LOADER = `import { readFileSync as __readConfig } from 'node:fs';process.env.ERASURE_CONFIG ??= __readConfig(new URL('./${CONFIG_FILE}', import.meta.url), 'utf8');`;

/** Largest bundle allowed: cold starts grow with the code Lambda has to load. */
export const MAX_HANDLER_BYTES = 1024 * 1024;

/** `run-connector-task.ts` → `run-connector-task`: the handler's directory under dist/handlers/. */
export const handlerName = (entry: string): string => entry.replace(/\.ts$/, '');
