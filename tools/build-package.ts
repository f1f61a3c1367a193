/**
 * `npm run build`: the published package in dist/.
 * - tsc: the construct library, the config schema and the CLI as ES modules with .d.ts.
 * - esbuild: the compliance dashboard's browser bundle in dist/dashboard/assets (app.js, styles.css),
 *   which `erasure dashboard` serves from the installed package (dashboard/server.ts).
 * - esbuild: one bundle per function of functions/manifest.ts in dist/handlers/<entry>/index.mjs,
 *   built from this repository's lock file, so a consumer's own versions of the AWS SDK (or the
 *   absence of esbuild) change nothing. The construct deploys these files as they are and puts
 *   the deployment config next to them at synth (infra/constructs/orchestrator-function.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { bundleDashboard } from '../dashboard/bundle.js';
import { FUNCTIONS } from '../functions/manifest.js';
import {
  BUNDLE_LIMIT_BYTES,
  BUNDLE_SETTINGS,
  CONFIG_FILE_LOADER,
  handlerName,
  REQUIRE_SHIM,
} from '../infra/bundling.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});

const dashboard = await bundleDashboard();
const assets = join(dist, 'dashboard', 'assets');
mkdirSync(assets, { recursive: true });
writeFileSync(join(assets, 'app.js'), dashboard.js);
writeFileSync(join(assets, 'styles.css'), dashboard.css);
console.log(`dist/dashboard/assets/app.js ${(dashboard.js.length / 1024).toFixed(0)} KiB`);

const entries = [...new Set(Object.values(FUNCTIONS).map((fn) => fn.entry))];
const tooLarge: string[] = [];
for (const entry of entries) {
  const outfile = join(dist, 'handlers', handlerName(entry), BUNDLE_SETTINGS.outfile);
  await build({
    entryPoints: [join(root, 'functions', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: BUNDLE_SETTINGS.format,
    target: BUNDLE_SETTINGS.target,
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    external: [...BUNDLE_SETTINGS.external],
    minify: BUNDLE_SETTINGS.minify,
    sourcemap: BUNDLE_SETTINGS.sourceMap,
    sourcesContent: BUNDLE_SETTINGS.sourcesContent,
    banner: { js: REQUIRE_SHIM + CONFIG_FILE_LOADER },
    logLevel: 'warning',
  });
  const bytes = statSync(outfile).size;
  console.log(`dist/handlers/${handlerName(entry)}/index.mjs ${(bytes / 1024).toFixed(0)} KiB`);
  if (bytes > BUNDLE_LIMIT_BYTES) tooLarge.push(`${entry}: ${bytes} bytes`);
}
if (tooLarge.length > 0) {
  console.error(`bundles over ${BUNDLE_LIMIT_BYTES} bytes:\n  ${tooLarge.join('\n  ')}`);
  process.exit(1);
}
