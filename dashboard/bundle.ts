/**
 * Bundles the dashboard's browser code (dashboard/app, Preact and Chart.js) with esbuild into one
 * script and one stylesheet, in memory. The local runtime and `erasure dashboard` call it when
 * they run from the source checkout; `npm run build` writes its output to dist/dashboard/assets
 * for the published package, which has neither the sources nor esbuild.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { DashboardAssets } from './server.js';

const entry = (name: string) => fileURLToPath(new URL(`./app/${name}`, import.meta.url));

export const bundleDashboard = async (): Promise<DashboardAssets> => {
  const result = await build({
    entryPoints: { app: entry('main.tsx'), styles: entry('styles.css') },
    outdir: 'dashboard-out',
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'eof',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const output = (extension: string): Buffer => {
    const file = result.outputFiles.find((candidate) => candidate.path.endsWith(extension));
    if (file === undefined) throw new Error(`the dashboard bundle has no ${extension} output`);
    return Buffer.from(file.contents);
  };
  return { js: output('.js'), css: output('.css') };
};
