/**
 * http-webhook connector against a real HTTP server on 127.0.0.1 (no mocks): what goes over the
 * wire is what a receiving service would see.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { HttpWebhookTarget } from '../../../domain/connectors/types.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../../../functions/connectors/errors.js';
import { verifySignature } from '../../../functions/connectors/webhook-signature.js';
import {
  failure,
  NOW,
  reply,
  SECRET,
  SUBJECT,
  useWebhookServer,
  webhookConnector,
  webhookInvocation,
  webhookTarget,
} from '../../helpers/webhook-server.js';

const server = useWebhookServer();
const target = (overrides: Partial<HttpWebhookTarget> = {}) => webhookTarget(server, overrides);
const invocation = webhookInvocation;
const connector = webhookConnector;

describe('http-webhook execute', () => {
  it('POSTs the signed JSON body; the signature verifies with verifySignature', async () => {
    server.respond = reply(200, JSON.stringify({ deletedCount: 7 }));

    const outcome = await connector().execute(target(), invocation({ olderThan: '2025-01-01T00:00:00Z' }));

    expect(outcome).toEqual({ status: 'done', affectedCount: 7 });
    expect(server.received).toHaveLength(1);
    const [request] = server.received;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/erase');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe('req-1:task-1');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      taskId: 'task-1',
      requestId: 'req-1',
      subjectId: SUBJECT,
      dataClass: 'crm-contacts',
      action: 'delete',
      olderThan: '2025-01-01T00:00:00Z',
      callbackUrl: 'https://erasure.example.com/v1/tasks/task-1/callback',
    });
    const header = request?.headers['x-erasure-signature'];
    expect(header).toMatch(/^t=1748779200,v1=[0-9a-f]{64}$/);
    const nowSeconds = NOW.getTime() / 1000;
    expect(verifySignature(SECRET, request?.body ?? '', String(header), nowSeconds)).toBe(true);
    expect(verifySignature('another-secret', request?.body ?? '', String(header), nowSeconds)).toBe(false);
  });

  it('omits olderThan and callbackUrl when there are none', async () => {
    server.respond = reply(204);

    const outcome = await connector({ callbackBaseUrl: undefined }).execute(target(), invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 0 });
    expect(Object.keys(JSON.parse(server.received[0]?.body ?? '{}'))).toEqual([
      'taskId',
      'requestId',
      'subjectId',
      'dataClass',
      'action',
    ]);
  });

  it('a 2xx without a usable deletedCount is done with 0', async () => {
    server.respond = reply(200, 'ok, erased');

    await expect(connector().execute(target(), invocation())).resolves.toEqual({
      status: 'done',
      affectedCount: 0,
    });
  });

  it('202 Accepted is pending: the service will call back', async () => {
    server.respond = reply(202, JSON.stringify({ deletedCount: 3 }));

    await expect(connector().execute(target(), invocation())).resolves.toEqual({
      status: 'pending',
      affectedCount: 0,
    });
  });

  it.each([500, 502, 503, 408, 429])('HTTP %i is retryable', async (status) => {
    server.respond = reply(status, JSON.stringify({ error: `could not erase ${SUBJECT}` }));

    const error = await failure(connector().execute(target(), invocation()));

    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect((error as ConnectorRetryableError).statusCode).toBe(status);
    expect((error as Error).message).not.toContain(SUBJECT);
  });

  it('passes Retry-After on as a hint', async () => {
    server.respond = reply(503, '', { 'Retry-After': '30' });

    const error = await failure(connector().execute(target(), invocation()));

    expect((error as ConnectorRetryableError).retryAfterSeconds).toBe(30);
  });

  it.each([400, 401, 403, 404, 409, 422])('HTTP %i is permanent', async (status) => {
    server.respond = reply(status, JSON.stringify({ error: `unknown subject ${SUBJECT}` }));

    const error = await failure(connector().execute(target(), invocation()));

    expect(error).toBeInstanceOf(ConnectorPermanentError);
    expect((error as ConnectorPermanentError).statusCode).toBe(status);
    expect((error as Error).message).not.toContain(SUBJECT);
  });

  it('does not follow a redirect with the signed body: permanent', async () => {
    server.respond = reply(307, '', { Location: `${server.baseUrl}/elsewhere` });

    await expect(connector().execute(target(), invocation())).rejects.toBeInstanceOf(ConnectorPermanentError);
    expect(server.received.map((r) => r.url)).toEqual(['/erase']);
  });

  it('a timeout is retryable', async () => {
    server.respond = () => {
      // Never answers; the connector must give up after timeoutMs.
    };

    const startedAt = Date.now();
    const error = await failure(connector().execute(target({ timeoutMs: 150 }), invocation()));

    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect((error as ConnectorRetryableError).code).toBe('Timeout');
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('a connection refused is retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const error = await failure(
      connector().execute(target({ url: `http://127.0.0.1:${port}/erase` }), invocation()),
    );

    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect((error as ConnectorRetryableError).code).toBe('NetworkError');
  });

  it('keeps the Idempotency-Key stable across retries of the task', async () => {
    let calls = 0;
    server.respond = (req, res) => reply(calls++ === 0 ? 500 : 200)(req, res);
    const c = connector();

    await expect(c.execute(target(), invocation())).rejects.toBeInstanceOf(ConnectorRetryableError);
    await expect(c.execute(target(), invocation())).resolves.toMatchObject({ status: 'done' });

    expect(server.received.map((r) => r.headers['idempotency-key'])).toEqual([
      'req-1:task-1',
      'req-1:task-1',
    ]);
    expect(server.received[0]?.body).toBe(server.received[1]?.body);
  });

  it('uses the injected fetch', async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(String(input));
      return new Response(null, { status: 204 });
    };

    await connector({ fetch: fakeFetch }).execute(
      target({ url: 'https://crm.example.com/gdpr' }),
      invocation(),
    );

    expect(seen).toEqual(['https://crm.example.com/gdpr']);
  });

  it('a secret that cannot be fetched is retryable; an empty secret is permanent', async () => {
    const unavailable = connector({
      secretFor: async () => {
        throw new Error('Secrets Manager unavailable');
      },
    });
    await expect(unavailable.execute(target(), invocation())).rejects.toBeInstanceOf(ConnectorRetryableError);
    await expect(connector({ secretFor: () => '' }).execute(target(), invocation())).rejects.toBeInstanceOf(
      ConnectorPermanentError,
    );
    expect(server.received).toHaveLength(0);
  });

  it.each([
    ['not a URL', { url: 'not a url' }],
    ['not http(s)', { url: 'ftp://crm.example.com/erase' }],
    ['a non-positive timeout', { timeoutMs: 0 }],
  ])('bad target config (%s) is permanent', async (_why, overrides) => {
    await expect(connector().execute(target(overrides), invocation())).rejects.toBeInstanceOf(
      ConnectorPermanentError,
    );
  });
});

describe('http-webhook verify', () => {
  it("is verified: the service's 2xx or signed callback is the proof, nothing can be read back", async () => {
    await expect(connector().verify(target(), invocation())).resolves.toEqual({ verified: true });
    expect(server.received).toHaveLength(0);
  });
});

describe('http-webhook export (ALU-6)', () => {
  const exportInvocation = { exportId: 'exp_42', subjectId: SUBJECT, dataClasses: ['crm-contacts'] };

  it('POSTs a signed export request and returns the records of a 200 answer', async () => {
    server.respond = reply(
      200,
      JSON.stringify({ records: [{ contactId: 'c-1', email: SUBJECT }], truncated: true }),
    );

    const exported = await connector().export?.(target(), exportInvocation);

    expect(exported).toEqual({ records: [{ contactId: 'c-1', email: SUBJECT }], truncated: true });
    const [request] = server.received;
    expect(JSON.parse(request?.body ?? '')).toEqual({
      exportId: 'exp_42',
      subjectId: SUBJECT,
      dataClasses: ['crm-contacts'],
      action: 'export',
    });
    expect(request?.headers['idempotency-key']).toBe('exp_42');
    const signature = request?.headers['x-erasure-signature'];
    expect(
      typeof signature === 'string' &&
        verifySignature(SECRET, request?.body ?? '', signature, Math.floor(NOW.getTime() / 1000)),
    ).toBe(true);
  });

  it.each([
    ['a body without records', 200, JSON.stringify({ deletedCount: 1 }), ConnectorPermanentError],
    ['records that are not objects', 200, JSON.stringify({ records: [1, 2] }), ConnectorPermanentError],
    ['a body that is not JSON', 200, 'ok', ConnectorPermanentError],
    ['202 (exports have no callback)', 202, '', ConnectorPermanentError],
    ['204', 204, '', ConnectorPermanentError],
    ['404', 404, '', ConnectorPermanentError],
    ['503', 503, '', ConnectorRetryableError],
    ['429', 429, '', ConnectorRetryableError],
  ])('refuses %s', async (_name, status, body, expected) => {
    server.respond = reply(status, body);

    const error = await failure(connector().export?.(target(), exportInvocation) ?? Promise.resolve());

    expect(error).toBeInstanceOf(expected);
    // The message may be stored and logged: never the subject id.
    expect(String((error as Error).message)).not.toContain(SUBJECT);
  });
});
