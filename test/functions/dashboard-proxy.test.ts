/**
 * `erasure dashboard`'s proxy against a fake API on 127.0.0.1: it serves the page and forwards
 * /v1/* calls (method, path under the API's base path, query, body, the headers the API reads)
 * signed with SigV4 (checked by re-signing what arrived) or with the local bearer token; it
 * forwards nothing without the page's session, nothing but /v1/*, and listens on loopback only.
 */
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardProxy, startDashboardProxy, upstreamUrl } from '../../cli/dashboard.js';
import { main } from '../../cli/erasure.js';
import { NodeSha256 } from '../../cli/sigv4.js';
import { runCli } from '../helpers/cli.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};

interface Arrived {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A fake API that records every call and answers with `answer`. */
const fakeApi = async (
  answer: (arrived: Arrived) => { status: number; body: string; headers?: Record<string, string> } = () => ({
    status: 200,
    body: '{"ok":true}',
  }),
) => {
  const calls: Arrived[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
    const arrived = {
      method: request.method ?? '',
      url: new URL(request.url ?? '/', `http://${request.headers.host}`),
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    calls.push(arrived);
    const { status, body, headers: extra } = answer(arrived);
    response.writeHead(status, { 'content-type': 'application/json', ...extra });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
};

const proxyTo = async (api: string, auth: Parameters<typeof startDashboardProxy>[0]['auth']) => {
  const proxy = await startDashboardProxy({ baseUrl: new URL(api), auth, port: 0 });
  closers.push(() => proxy.close());
  return proxy;
};

const origin = (proxy: DashboardProxy) => `http://127.0.0.1:${proxy.port}`;
const session = (proxy: DashboardProxy) => ({ authorization: `Bearer ${proxy.sessionToken}` });

/** SigV4 again over the headers the signature names, at the time it carries (the receiving side's check). */
const resign = async (arrived: Arrived, region: string) => {
  const signedNames =
    /SignedHeaders=([^,]+)/.exec(arrived.headers.authorization ?? '')?.[1]?.split(';') ?? [];
  const amzDate = arrived.headers['x-amz-date'] ?? '';
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials,
    applyChecksum: false,
    sha256: NodeSha256,
  });
  const signed = await signer.sign(
    {
      method: arrived.method,
      protocol: 'http:',
      hostname: arrived.url.hostname,
      port: Number(arrived.url.port),
      path: arrived.url.pathname,
      query: Object.fromEntries(arrived.url.searchParams),
      headers: Object.fromEntries(signedNames.map((name) => [name, arrived.headers[name] ?? ''])),
      ...(arrived.body === '' ? {} : { body: arrived.body }),
    },
    { signingDate },
  );
  return signed.headers.authorization;
};

/** A raw HTTP call with a chosen Host header (fetch sets Host itself). */
const withHost = (proxy: DashboardProxy, path: string, host: string) =>
  new Promise<number>((resolve, reject) => {
    const call = httpRequest(
      { host: '127.0.0.1', port: proxy.port, path, headers: { host, ...session(proxy) } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    call.on('error', reject);
    call.end();
  });

describe('erasure dashboard: the signing proxy', () => {
  it('forwards a POST with its body, path under the base path, query and headers, signed with SigV4 that the API side re-computes to the same value', async () => {
    // Prepare
    const api = await fakeApi(() => ({ status: 201, body: '{"holdId":"hold_1"}' }));
    const proxy = await proxyTo(`${api.url}/prod`, { kind: 'iam', region: 'eu-west-1', credentials });
    const body = JSON.stringify({ subjectId: 'subject-1', reason: 'litigation-hold' });

    // Act
    const response = await fetch(`${origin(proxy)}/v1/legal-holds?note=a%20b`, {
      method: 'POST',
      headers: {
        ...session(proxy),
        'content-type': 'application/json',
        'idempotency-key': 'key-12345678',
        cookie: 'x=1',
      },
      body,
    });

    // Assess
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ holdId: 'hold_1' });
    expect(api.calls).toHaveLength(1);
    const [arrived] = api.calls;
    if (arrived === undefined) throw new Error('no call arrived');
    expect(arrived.method).toBe('POST');
    expect(arrived.url.pathname).toBe('/prod/v1/legal-holds');
    expect(arrived.url.searchParams.get('note')).toBe('a b');
    expect(arrived.body).toBe(body);
    expect(arrived.headers['content-type']).toBe('application/json');
    expect(arrived.headers['idempotency-key']).toBe('key-12345678');
    expect(arrived.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(arrived.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    expect(arrived.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(await resign(arrived, 'eu-west-1')).toBe(arrived.headers.authorization);
    // The page's session and its cookies stay on this machine.
    expect(JSON.stringify(arrived.headers)).not.toContain(proxy.sessionToken);
    expect(arrived.headers.cookie).toBeUndefined();
  });

  it('forwards a GET and hands back the status, body and the headers a download needs', async () => {
    const csv = 'at,type\r\n2026-11-21T12:00:00.000Z,request.completed\r\n';
    const api = await fakeApi(() => ({
      status: 200,
      body: csv,
      headers: {
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': 'attachment; filename="audit.csv"',
        'x-next-cursor': 'abc',
        'set-cookie': 'tracking=1',
      },
    }));
    const proxy = await proxyTo(api.url, { kind: 'iam', region: 'us-east-1', credentials });

    const response = await fetch(`${origin(proxy)}/v1/audit?requestId=req_1&format=csv`, {
      headers: { ...session(proxy), accept: 'text/csv' },
    });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe(csv);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="audit.csv"');
    expect(response.headers.get('x-next-cursor')).toBe('abc');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(api.calls[0]?.method).toBe('GET');
    expect(api.calls[0]?.url.search).toBe('?requestId=req_1&format=csv');
    expect(api.calls[0]?.headers.accept).toBe('text/csv');
    expect(api.calls[0]?.body).toBe('');
  });

  it('passes the API refusals through as they are (a 404 of a report the API does not serve)', async () => {
    const api = await fakeApi(() => ({
      status: 404,
      body: '{"error":{"code":"not_found","message":"No route"}}',
    }));
    const proxy = await proxyTo(api.url, { kind: 'iam', region: 'us-east-1', credentials });
    const response = await fetch(`${origin(proxy)}/v1/reports/deadlines`, { headers: session(proxy) });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'No route' } });
  });

  it('against the local runtime, swaps the session for the local bearer token', async () => {
    const api = await fakeApi();
    const proxy = await proxyTo(api.url, { kind: 'token', token: 'dev-compliance-token' });
    const response = await fetch(`${origin(proxy)}/v1/erasure-requests/req_1`, { headers: session(proxy) });
    expect(response.status).toBe(200);
    expect(api.calls[0]?.headers.authorization).toBe('Bearer dev-compliance-token');
  });

  it('forwards nothing without the page session: no token, a wrong one, or a Host that is not this machine', async () => {
    const api = await fakeApi();
    const proxy = await proxyTo(api.url, { kind: 'iam', region: 'us-east-1', credentials });

    const none = await fetch(`${origin(proxy)}/v1/legal-holds`, { method: 'POST', body: '{}' });
    const wrong = await fetch(`${origin(proxy)}/v1/audit?subjectId=x`, {
      headers: { authorization: 'Bearer guess' },
    });
    // DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends its own Host name.
    const rebound = await withHost(proxy, '/v1/audit?subjectId=x', `evil.example:${proxy.port}`);
    const reboundPage = await withHost(proxy, '/dashboard', `evil.example:${proxy.port}`);

    expect(none.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(rebound).toBe(403);
    expect(reboundPage).toBe(403);
    expect(await withHost(proxy, '/dashboard', `localhost:${proxy.port}`)).toBe(200);
    expect(api.calls).toHaveLength(0);
  });

  it('serves the page and /v1/* only: the API description, health and anything else are not forwarded', async () => {
    const api = await fakeApi();
    const proxy = await proxyTo(api.url, { kind: 'iam', region: 'us-east-1', credentials });

    for (const path of [
      '/openapi.json',
      '/healthz',
      '/livez',
      '/v1',
      '/v1x/audit',
      '/dashboard/../v1/audit/../../healthz',
    ]) {
      const response = await fetch(`${origin(proxy)}${path}`, { headers: session(proxy) });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    expect(api.calls).toHaveLength(0);
    const root = await fetch(`${origin(proxy)}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard');
  });

  it('serves the page with its session (never credentials) and a strict content security policy, and the bundle', async () => {
    const api = await fakeApi();
    const proxy = await proxyTo(`${api.url}/prod/`, { kind: 'iam', region: 'us-east-1', credentials });

    const page = await fetch(proxy.url);
    const html = await page.text();
    const script = await fetch(`${origin(proxy)}/dashboard/app.js`);
    const styles = await fetch(`${origin(proxy)}/dashboard/styles.css`);

    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    const config = JSON.parse(
      /<script type="application\/json" id="erasure-dashboard-config">(.*?)<\/script>/.exec(html)?.[1] ??
        '{}',
    );
    expect(config).toEqual({ token: proxy.sessionToken, apiLabel: `${api.url}/prod` });
    expect(html).not.toContain(credentials.secretAccessKey);
    expect(html).not.toContain(credentials.accessKeyId);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // Nothing is fetched from outside the machine: no absolute URL to another host in the bundle's loads.
    const code = await script.text();
    expect(code.length).toBeGreaterThan(10_000);
    expect(code).not.toMatch(/import\s*\(?\s*["']https?:/);
    expect(styles.status).toBe(200);
    expect(await styles.text()).not.toMatch(/@import|url\(\s*["']?https?:/);
    expect(api.calls).toHaveLength(0);
  }, 30_000);

  it('listens on the loopback interface only', async () => {
    const api = await fakeApi();
    const proxy = await proxyTo(api.url, { kind: 'iam', region: 'us-east-1', credentials });
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}/dashboard`);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal);
    if (external !== undefined) {
      await expect(fetch(`http://${external.address}:${proxy.port}/dashboard`)).rejects.toThrow();
    }
  });

  it('puts /v1 paths under the base URL path', () => {
    expect(upstreamUrl(new URL('https://a.execute-api.eu-west-1.amazonaws.com'), '/v1/audit?x=1').href).toBe(
      'https://a.execute-api.eu-west-1.amazonaws.com/v1/audit?x=1',
    );
    expect(upstreamUrl(new URL('https://api.example.com/prod/'), '/v1/reports/holds').href).toBe(
      'https://api.example.com/prod/v1/reports/holds',
    );
  });
});

describe('erasure dashboard: the command', () => {
  const run = runCli;

  it('--help explains both APIs with examples', async () => {
    const { code, out } = await run(['dashboard', '--help']);
    expect(code).toBe(0);
    const help = out.join('\n');
    expect(help).toContain('--port <port>');
    expect(help).toContain('erasure dashboard --api https://a1b2c3.execute-api.eu-west-1.amazonaws.com');
    expect(help).toContain('SigV4');
  });

  it('serves until interrupted, signing for an execute-api URL, and prints the page address', async () => {
    const api = await fakeApi();
    const interrupt = new AbortController();
    const out: string[] = [];
    const running = main(
      ['dashboard', '--api', api.url, '--auth', 'iam', '--region', 'eu-west-1', '--port', '0'],
      {
        readText: async () => '',
        out: (line) => {
          out.push(line);
        },
        err: () => undefined,
        env: {},
        cwd: tmpdir(),
        credentials,
        signal: interrupt.signal,
      },
    );
    for (let waited = 0; out.length === 0 && waited < 100; waited++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const address = /^Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/dashboard$/.exec(out[0] ?? '')?.[1];
    expect(address).toBeDefined();
    const html = await (await fetch(`${address}/dashboard`)).text();
    const token = JSON.parse(/id="erasure-dashboard-config">(.*?)<\/script>/.exec(html)?.[1] ?? '{}')
      .token as string;
    const answer = await fetch(`${address}/v1/audit/verification?subjectId=s-1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(200);
    expect(api.calls[0]?.headers.authorization).toContain('/eu-west-1/execute-api/aws4_request');

    interrupt.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${address}/dashboard`)).rejects.toThrow();
  });

  it('a port in use is a wrong command line (exit 2)', async () => {
    const api = await fakeApi();
    const taken = await proxyTo(api.url, { kind: 'token', token: 't' });
    const { code, err } = await run(['dashboard', '--api', api.url, '--port', String(taken.port)]);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain(`port ${taken.port} is in use`);
  });
});
