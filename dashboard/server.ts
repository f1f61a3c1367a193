/**
 * Serves the compliance dashboard: `GET /dashboard` (the page, with its PageConfig) and its two
 * assets. Used by the local runtime (next to the API, same origin) and by `erasure dashboard`
 * (next to its signing proxy). The page carries a bearer token, so it is served only to a browser
 * that addressed this machine by a loopback name (no DNS rebinding), never cached, and framed by
 * no one.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CONFIG_ELEMENT_ID, type PageConfig } from './app/page-config.js';

export type { PageConfig } from './app/page-config.js';

export interface DashboardAssets {
  readonly js: Buffer;
  readonly css: Buffer;
}

/** Where `npm run build` writes the bundle (dist/dashboard/assets next to the compiled server.js). */
const PREBUILT = new URL('./assets/', import.meta.url);

/**
 * The bundle: the pre-built one of the published package when present, else built now from
 * dashboard/app with esbuild (a source checkout). Built once per process.
 */
let assetsPromise: Promise<DashboardAssets> | undefined;
export const loadDashboardAssets = (): Promise<DashboardAssets> => {
  assetsPromise ??= (async () => {
    const js = new URL('app.js', PREBUILT);
    const css = new URL('styles.css', PREBUILT);
    if (existsSync(js) && existsSync(css)) return { js: await readFile(js), css: await readFile(css) };
    // A computed specifier: the published package has no bundle.js to follow (nor esbuild).
    const bundler = './bundle.js';
    const { bundleDashboard } = (await import(bundler)) as typeof import('./bundle.js');
    return bundleDashboard();
  })();
  // A failed build is not kept: the next request tries again (an edit fixed the source).
  assetsPromise.catch(() => {
    assetsPromise = undefined;
  });
  return assetsPromise;
};

const escapeHtml = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/** The page: the config as inert JSON (`<` escaped, so no value can close the element), the app, its styles. */
export const dashboardPage = (config: PageConfig): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Compliance dashboard · Erasure Orchestrator</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/styles.css">
<script type="application/json" id="${CONFIG_ELEMENT_ID}">${JSON.stringify(config).replaceAll('<', '\\u003c')}</script>
<script type="module" src="/dashboard/app.js"></script>
</head>
<body>
<div id="app"><noscript>The dashboard needs JavaScript: ${escapeHtml('it is served by this machine, nothing is fetched from elsewhere.')}</noscript></div>
</body>
</html>
`;

/** Same origin only, nothing inline but the inert config, no frames: the page holds a token. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
} as const;

/** Whether the Host header names this machine (`127.0.0.1`, `localhost`, `[::1]`) on `port`. */
export const isLoopbackHost = (host: string | undefined, port: number): boolean =>
  // Host names are case-insensitive (`LOCALHOST`); nothing else about them is loosened.
  host !== undefined &&
  ['127.0.0.1', 'localhost', '[::1]'].some((name) => host.toLowerCase() === `${name}:${port}`);

/** Paths this module answers. */
export const isDashboardPath = (path: string): boolean =>
  path === '/dashboard' || path.startsWith('/dashboard/');

/**
 * Answers a dashboard path (`isDashboardPath`): the page, `app.js`, `styles.css`; 404 for others
 * under /dashboard/, 405 for other methods, 403 for a Host that is not this machine's.
 */
export const serveDashboard = async (
  request: IncomingMessage,
  response: ServerResponse,
  options: { readonly port: number; readonly config: () => PageConfig },
): Promise<void> => {
  const send = (status: number, contentType: string, body: string | Buffer) => {
    response.writeHead(status, { 'content-type': contentType, ...SECURITY_HEADERS });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  if (!isLoopbackHost(request.headers.host, options.port)) {
    send(
      403,
      'text/plain; charset=utf-8',
      'The dashboard answers only http://127.0.0.1 or http://localhost.\n',
    );
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    send(405, 'text/plain; charset=utf-8', 'Method not allowed\n');
    return;
  }
  const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname.replace(/\/+$/, '');
  try {
    if (path === '/dashboard') {
      send(200, 'text/html; charset=utf-8', dashboardPage(options.config()));
    } else if (path === '/dashboard/app.js') {
      send(200, 'text/javascript; charset=utf-8', (await loadDashboardAssets()).js);
    } else if (path === '/dashboard/styles.css') {
      send(200, 'text/css; charset=utf-8', (await loadDashboardAssets()).css);
    } else {
      send(404, 'text/plain; charset=utf-8', 'Not found\n');
    }
  } catch (error) {
    // A bundling error (a source checkout being edited): say so, as the terminal would.
    send(500, 'text/plain; charset=utf-8', `The dashboard could not be built: ${(error as Error).message}\n`);
  }
};
