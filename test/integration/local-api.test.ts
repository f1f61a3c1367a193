/**
 * The local runtime's HTTP server as a browser on this machine meets it: the API and the dashboard
 * answer only a loopback Host, so a page that rebinds its own name to 127.0.0.1 (DNS rebinding)
 * cannot drive the API with the local tokens.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** GET `path` with the given Host header (fetch does not let a caller set it). */
const getWithHost = (runtime: TestRuntime, path: string, host: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(path, runtime.apiUrl);
    const sent = request(
      url,
      { headers: { host, authorization: `Bearer ${runtime.tokens.compliance}` } },
      (answer) => {
        let body = '';
        answer.setEncoding('utf8');
        answer.on('data', (chunk: string) => {
          body += chunk;
        });
        answer.on('end', () => resolve({ status: answer.statusCode ?? 0, body }));
      },
    );
    sent.on('error', reject);
    sent.end();
  });

describe('the local API and its Host header', () => {
  let runtime: TestRuntime;

  beforeAll(async () => {
    runtime = await startTestRuntime('local-api-host');
  });

  afterAll(async () => {
    await runtime.stop();
  });

  it('answers a loopback Host (127.0.0.1, localhost) on its port', async () => {
    const port = new URL(runtime.apiUrl).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`]) {
      expect((await getWithHost(runtime, '/v1/reports/holds', host)).status).toBe(200);
    }
  });

  it('refuses any other Host with a 403 before the API reads anything, as the dashboard does', async () => {
    const port = new URL(runtime.apiUrl).port;
    for (const host of [`evil.test:${port}`, `127.0.0.1.nip.io:${port}`, `127.0.0.1:${Number(port) + 1}`]) {
      const answer = await getWithHost(runtime, '/v1/reports/holds', host);
      expect(answer.status, host).toBe(403);
      expect(JSON.parse(answer.body)).toEqual({
        error: {
          code: 'forbidden_host',
          message: 'The local API answers only http://127.0.0.1 or http://localhost on its own port.',
        },
      });
    }
    expect((await getWithHost(runtime, '/dashboard', `evil.test:${port}`)).status).toBe(403);
  });
});
