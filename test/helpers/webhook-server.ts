/**
 * A real HTTP server on 127.0.0.1 for the http-webhook tests (no mocks): it records every call and
 * answers with `respond`, which each test sets and which resets after each test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ConnectorInvocation, HttpWebhookTarget } from '../../domain/connectors/types.js';
import {
  createHttpWebhookConnector,
  type HttpWebhookConnectorDeps,
} from '../../functions/connectors/http-webhook.js';

export const SUBJECT = 'subj-4d0e@example.com';
export const SECRET = 'whsec-test-0123456789';
export const NOW = new Date('2025-06-01T12:00:00.000Z');

export interface Received {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Responder = (req: IncomingMessage, res: ServerResponse) => void;
const answerEmpty: Responder = (_req, res) => res.end();

export interface WebhookServer {
  readonly baseUrl: string;
  readonly received: Received[];
  respond: Responder;
}

/** Starts the server before the file's tests and stops it after them. */
export const useWebhookServer = (): WebhookServer => {
  let server: Server;
  const state: WebhookServer = { baseUrl: '', received: [], respond: answerEmpty };
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        state.received.push({
          method: req.method,
          url: req.url,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        state.respond(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    (state as { baseUrl: string }).baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    state.received.length = 0;
    state.respond = answerEmpty;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
};

export const reply =
  (status: number, body = '', headers: Record<string, string> = {}): Responder =>
  (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(body);
  };

export const webhookTarget = (
  server: WebhookServer,
  overrides: Partial<HttpWebhookTarget> = {},
): HttpWebhookTarget => ({
  name: 'crm',
  kind: 'http-webhook',
  url: `${server.baseUrl}/erase`,
  signingSecretName: 'crm-signing-secret',
  ...overrides,
});

export const webhookInvocation = (overrides: Partial<ConnectorInvocation> = {}): ConnectorInvocation => ({
  taskId: 'task-1',
  requestId: 'req-1',
  subjectId: SUBJECT,
  dataClass: 'crm-contacts',
  action: 'delete',
  idempotencyKey: 'req-1:task-1',
  ...overrides,
});

export const webhookConnector = (overrides: Partial<HttpWebhookConnectorDeps> = {}) =>
  createHttpWebhookConnector({
    secretFor: (name) => (name === 'crm-signing-secret' ? SECRET : ''),
    callbackBaseUrl: 'https://erasure.example.com/',
    now: () => NOW,
    ...overrides,
  });

/** The error a promise rejects with, or undefined when it resolves. */
export const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );
