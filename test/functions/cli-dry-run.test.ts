/**
 * `erasure requests submit --dry-run` against a fake API on 127.0.0.1: it calls the preview route,
 * makes up no Idempotency-Key (a dry run reserves none), prints the preview and a summary.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { closedAfterEach, runCli } from '../helpers/cli.js';

const PREVIEW = {
  dryRun: true,
  previewId: 'prv_1',
  generatedAt: '2026-11-21T12:00:00.000Z',
  intake: 'blocked',
  dataClasses: [],
  targets: [],
  totals: { erase: 12, blocked: 1, withheld: 0, unknown: 1, partial: 0 },
};

const servers = closedAfterEach();

const fakeApi = async (
  seen: { headers: IncomingMessage['headers']; body: unknown; path?: string }[],
  answer: object = PREVIEW,
) => {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    seen.push({
      headers: request.headers,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      path: `${request.method} ${request.url}`,
    });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

const run = runCli;

/** `requests submit --dry-run` for customer-42 against `api`, with `extra` options. */
const dryRun = (api: string, ...extra: string[]) =>
  run([
    'requests',
    'submit',
    '--subject',
    'customer-42',
    '--reason',
    'gdpr-art17-request',
    ...extra,
    '--dry-run',
    '--api',
    api,
  ]);

describe('erasure requests submit --dry-run', () => {
  it('asks the preview route (which compliance may call) without a made-up key, prints the preview and a one-line summary', async () => {
    const seen: { headers: IncomingMessage['headers']; body: unknown; path?: string }[] = [];
    const api = await fakeApi(seen);

    const result = await dryRun(api, '--data-class', 'closed-account');

    expect(result.code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toEqual({
      subjectId: 'customer-42',
      reason: 'gdpr-art17-request',
      dataClasses: ['closed-account'],
    });
    expect(seen[0]?.path).toBe('POST /v1/erasure-previews');
    expect(seen[0]?.headers['idempotency-key']).toBeUndefined();
    expect(JSON.parse(result.out.join('\n'))).toEqual(PREVIEW);
    expect(result.err).toEqual([
      'dry run, nothing changed: intake would be blocked; would erase 12, blocked 1, withheld 0, 1 task(s) without a count',
    ]);
  });

  it('passes a given key on, to keep a retried dry run from being audited twice', async () => {
    const seen: { headers: IncomingMessage['headers']; body: unknown }[] = [];
    const api = await fakeApi(seen);

    await dryRun(api, '--idempotency-key', 'dry-run-key-01');

    expect(seen[0]?.headers['idempotency-key']).toBe('dry-run-key-01');
  });

  it('says when counts stopped at the time limit: the figures are then lower bounds', async () => {
    const api = await fakeApi([], { ...PREVIEW, totals: { ...PREVIEW.totals, erase: 412_000, partial: 1 } });

    const result = await dryRun(api);

    expect(result.code).toBe(0);
    expect(result.err).toEqual([
      'dry run, nothing changed: intake would be blocked; would erase 412000, blocked 1, withheld 0, 1 task(s) ' +
        'without a count, 1 task(s) counted only in part (time limit): the figures are lower bounds',
    ]);
  });
});
