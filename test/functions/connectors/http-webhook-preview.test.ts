/**
 * The http-webhook connector's dry-run preview against a real HTTP server on 127.0.0.1 (no
 * mocks): only a target that declares `preview: true` is called, with a signed body that no
 * service can take for an erasure, and only a 200 with a count counts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorInvocation, HttpWebhookTarget } from '../../../domain/connectors/types.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../../../functions/connectors/errors.js';
import {
  createHttpWebhookConnector,
  type HttpWebhookConnectorDeps,
} from '../../../functions/connectors/http-webhook.js';
import { verifySignature } from '../../../functions/connectors/webhook-signature.js';

const SUBJECT = 'subj-4d0e@example.com';
const SECRET = 'whsec-test-0123456789';
const NOW = new Date('2025-06-01T12:00:00.000Z');

interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let server: Server;
let baseUrl: string;
const received: Received[] = [];
let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received.length = 0;
  respond = (_req, res) => res.end();
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const reply =
  (status: number, body = '', headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body);
  };

const target = (overrides: Partial<HttpWebhookTarget> = {}): HttpWebhookTarget => ({
  name: 'crm',
  kind: 'http-webhook',
  url: `${baseUrl}/erase`,
  signingSecretName: 'crm-signing-secret',
  ...overrides,
});
const invocation = (overrides: Partial<ConnectorInvocation> = {}): ConnectorInvocation => ({
  taskId: 'task-1',
  requestId: 'req-1',
  subjectId: SUBJECT,
  dataClass: 'crm-contacts',
  action: 'delete',
  idempotencyKey: 'req-1:task-1',
  ...overrides,
});
const connector = (overrides: Partial<HttpWebhookConnectorDeps> = {}) =>
  createHttpWebhookConnector({
    secretFor: (name) => (name === 'crm-signing-secret' ? SECRET : ''),
    callbackBaseUrl: 'https://erasure.example.com/',
    now: () => NOW,
    ...overrides,
  });

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('http-webhook preview', () => {
  it('never calls a target that does not declare preview: its count is unknown', async () => {
    const answer = await connector().preview?.(target(), invocation());

    expect(answer).toEqual({ status: 'unknown', reason: 'not-supported' });
    expect(received).toEqual([]);
  });

  it("POSTs the erasure's body signed, with action 'preview', the erasure's action, and no callback or nonce", async () => {
    respond = reply(200, JSON.stringify({ count: 12 }));

    const answer = await connector().preview?.(
      target({ preview: true }),
      invocation({ action: 'anonymise', callbackNonce: 'n-attempt-1' }),
    );

    expect(answer).toEqual({ status: 'counted', count: 12, unit: 'records' });
    const [request] = received;
    expect(request?.headers['idempotency-key']).toBe('req-1:task-1');
    const signature = request?.headers['x-erasure-signature'];
    expect(
      typeof signature === 'string' &&
        verifySignature(SECRET, request?.body ?? '', signature, NOW.getTime() / 1000),
    ).toBe(true);
    expect(JSON.parse(request?.body ?? '')).toEqual({
      taskId: 'task-1',
      requestId: 'req-1',
      subjectId: SUBJECT,
      dataClass: 'crm-contacts',
      action: 'preview',
      erasureAction: 'anonymise',
    });
  });

  it('reports a 200 without a whole count as not counted', async () => {
    for (const body of ['{"count":null}', '{"count":-1}', '{"count":1.5}', 'not json', '']) {
      respond = reply(200, body);
      await expect(connector().preview?.(target({ preview: true }), invocation())).resolves.toEqual({
        status: 'unknown',
        reason: 'not-counted',
      });
    }
  });

  it('refuses a 202 (a preview has no callback), and maps errors as an erasure does', async () => {
    respond = reply(202);
    const accepted = await failure(
      connector().preview?.(target({ preview: true }), invocation()) ?? Promise.resolve(),
    );
    respond = reply(503);
    const unavailable = await failure(
      connector().preview?.(target({ preview: true }), invocation()) ?? Promise.resolve(),
    );
    respond = reply(403);
    const refused = await failure(
      connector().preview?.(target({ preview: true }), invocation()) ?? Promise.resolve(),
    );

    expect(accepted).toBeInstanceOf(ConnectorPermanentError);
    expect(unavailable).toBeInstanceOf(ConnectorRetryableError);
    expect(refused).toBeInstanceOf(ConnectorPermanentError);
  });
});
