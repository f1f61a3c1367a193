/**
 * `erasure dashboard`: the compliance dashboard for a deployed API. Browsers cannot sign IAM
 * requests, so this serves the page on 127.0.0.1 and forwards its /v1 calls to the API, each
 * signed with SigV4 by the user's own AWS credentials (or, against the local runtime, with its
 * bearer token). No new auth system: what the user may do is what their IAM policy allows.
 *
 * The page gets a random per-run session token instead of any credential; the proxy forwards
 * only calls that carry it. A web page of another origin can neither read it (same-origin policy,
 * loopback Host names only) nor make the proxy sign for it (no token, and a custom Authorization
 * header is not a simple request, so its cross-origin preflight fails).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { isDashboardPath, isLoopbackHost, serveDashboard } from '../dashboard/server.js';
import type { Auth } from './api-client.js';
import { signCall } from './sigv4.js';

export const DEFAULT_DASHBOARD_PORT = 3030;

export interface DashboardProxyOptions {
  /** The API's base URL (a deployed stage's `ApiUrl`, or the local runtime). */
  readonly baseUrl: URL;
  readonly auth: Auth;
  /** Port on 127.0.0.1; 0 picks a free one. @default 3030 */
  readonly port?: number;
  readonly fetch?: typeof fetch;
  /** A fixed session token (tests). @default 32 random bytes */
  readonly sessionToken?: string;
}

export interface DashboardProxy {
  /** `http://127.0.0.1:<port>/dashboard` */
  readonly url: string;
  readonly port: number;
  readonly sessionToken: string;
  close(): Promise<void>;
}

/** Request headers the page may send that the API reads; nothing else is forwarded. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'content-type', 'idempotency-key'] as const;
/** Answer headers the page reads (downloads, paging). */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-disposition', 'x-next-cursor', 'allow'] as const;
/** The API's bodies are small JSON; a bigger one is not the page's. */
const MAX_BODY_BYTES = 1024 * 1024;

const jsonError = (response: ServerResponse, status: number, code: string, message: string) => {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify({ error: { code, message } }));
};

const readBody = async (request: IncomingMessage): Promise<Buffer | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
};

const sameToken = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** The API URL a /v1 path and query go to: under the base URL's own path (a stage, a custom domain's base path). */
export const upstreamUrl = (baseUrl: URL, pathAndQuery: string): URL => {
  const incoming = new URL(pathAndQuery, 'http://127.0.0.1');
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${incoming.pathname}`;
  url.search = incoming.search;
  return url;
};

export const startDashboardProxy = async (options: DashboardProxyOptions): Promise<DashboardProxy> => {
  const fetchImpl = options.fetch ?? fetch;
  const sessionToken = options.sessionToken ?? randomBytes(32).toString('base64url');
  const apiLabel = options.baseUrl.origin + options.baseUrl.pathname.replace(/\/+$/, '');
  let port = 0;

  const forward = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const authorization = request.headers.authorization ?? '';
    if (!sameToken(authorization, `Bearer ${sessionToken}`)) {
      jsonError(
        response,
        401,
        'unauthorized',
        'Open the dashboard page this command printed: calls need its session',
      );
      return;
    }
    const method = request.method ?? 'GET';
    const body = await readBody(request);
    if (body === undefined) {
      jsonError(response, 413, 'payload_too_large', `Bodies are at most ${MAX_BODY_BYTES} bytes`);
      return;
    }
    const url = upstreamUrl(options.baseUrl, request.url ?? '/');
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = request.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const text = body.length === 0 ? undefined : body.toString('utf8');
    let sent: Record<string, string>;
    if (options.auth.kind === 'token') {
      sent = { ...headers, authorization: `Bearer ${options.auth.token}` };
    } else {
      const signed = await signCall(
        { method, url, headers, ...(text === undefined ? {} : { body: text }) },
        {
          region: options.auth.region,
          ...(options.auth.credentials === undefined ? {} : { credentials: options.auth.credentials }),
        },
      );
      // fetch sets Host itself, to the value that was signed.
      const { host: _host, ...rest } = signed;
      sent = rest;
    }
    let upstream: Response;
    try {
      upstream = await fetchImpl(url, {
        method,
        headers: sent,
        ...(text === undefined ? {} : { body: text }),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      jsonError(
        response,
        502,
        'bad_gateway',
        `Cannot reach ${url.origin}: ${cause?.code ?? (error as Error).message}`,
      );
      return;
    }
    const answer: Record<string, string> = { 'cache-control': 'no-store' };
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers.get(name);
      if (value !== null) answer[name] = value;
    }
    response.writeHead(upstream.status, answer);
    if (upstream.body === null || method === 'HEAD') {
      response.end();
      return;
    }
    // Streamed as it arrives: an audit CSV of any length never sits in this process whole.
    Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>)
      .on('error', () => response.destroy())
      .pipe(response);
  };

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    if (isDashboardPath(path)) {
      void serveDashboard(request, response, { port, config: () => ({ token: sessionToken, apiLabel }) });
      return;
    }
    if (!isLoopbackHost(request.headers.host, port)) {
      jsonError(response, 403, 'forbidden', 'This proxy answers only http://127.0.0.1 or http://localhost');
      return;
    }
    if (path === '/' && request.method === 'GET') {
      response.writeHead(302, { location: '/dashboard' });
      response.end();
      return;
    }
    if (!path.startsWith('/v1/')) {
      jsonError(
        response,
        404,
        'not_found',
        `This proxy serves /dashboard and forwards /v1/* only, not ${path}`,
      );
      return;
    }
    forward(request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else jsonError(response, 502, 'bad_gateway', `Could not forward the call: ${(error as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: the page holds a session that signs with the user's credentials.
    server.listen(options.port ?? DEFAULT_DASHBOARD_PORT, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/dashboard`,
    port,
    sessionToken,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
