/**
 * The http-webhook identifier resolver against a real HTTP server on 127.0.0.1 (no mocks): the
 * request is signed as the http-webhook connector signs, and the answers map to what intake does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResolverError } from '../../domain/errors.js';
import type { HttpWebhookResolver } from '../../domain/identifiers/resolver.js';
import { webhookIdentifierResolver } from '../../functions/adapters/webhook-identifier-resolver.js';
import { verifySignature } from '../../functions/connectors/webhook-signature.js';
import { identifierResolverOf } from '../../functions/shared/dependencies.js';
import { resolverConfig } from '../helpers/identifiers.js';

const SUBJECT = 'subject-ana-8f2';
const SECRET = 'identity-signing-secret-0123456789';
const NOW = new Date('2026-11-21T12:00:00.000Z');

interface Received {
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
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
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
  (status: number, body = '') =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(body);
  };

const resolverFor = (overrides: Partial<HttpWebhookResolver> = {}) =>
  webhookIdentifierResolver(
    {
      name: 'identity-service',
      kind: 'http-webhook',
      url: `${baseUrl}/resolve`,
      signingSecretName: 'identity',
      ...overrides,
    },
    { secretFor: () => SECRET, now: () => NOW },
  );

const failureOf = async (promise: Promise<unknown>): Promise<ResolverError> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof ResolverError)) throw new Error(`expected a ResolverError, got ${String(error)}`);
  return error;
};

describe('the http-webhook identifier resolver', () => {
  it('POSTs a signed resolve call and returns the identifiers of the answer', async () => {
    // Prepare
    respond = reply(
      200,
      JSON.stringify({ identifiers: { email: 'ana@example.com', deviceId: ['CAM-00A1'] } }),
    );

    // Act
    const answer = await resolverFor().resolve({ subjectId: SUBJECT, requestId: 'req_1' });

    // Assess
    expect(answer).toEqual({ email: 'ana@example.com', deviceId: ['CAM-00A1'] });
    const [call] = received;
    expect(JSON.parse(call?.body ?? '')).toEqual({
      action: 'resolve',
      subjectId: SUBJECT,
      requestId: 'req_1',
    });
    expect(call?.headers['idempotency-key']).toBe('req_1');
    const signature = call?.headers['x-erasure-signature'];
    expect(verifySignature(SECRET, call?.body ?? '', String(signature), NOW.getTime() / 1000)).toBe(true);
  });

  it('is unavailable (retryable) on 5xx, 429 and timeouts, and failed on other answers', async () => {
    // Act
    respond = reply(503);
    const down = await failureOf(resolverFor().resolve({ subjectId: SUBJECT, requestId: 'r' }));
    respond = reply(429);
    const throttled = await failureOf(resolverFor().resolve({ subjectId: SUBJECT, requestId: 'r' }));
    respond = () => undefined; // never answers
    const slow = await failureOf(
      resolverFor({ timeoutMs: 50 }).resolve({ subjectId: SUBJECT, requestId: 'r' }),
    );
    respond = reply(404);
    const missing = await failureOf(resolverFor().resolve({ subjectId: SUBJECT, requestId: 'r' }));
    respond = reply(302);
    const redirected = await failureOf(resolverFor().resolve({ subjectId: SUBJECT, requestId: 'r' }));
    respond = reply(200, JSON.stringify({ email: 'ana@example.com' }));
    const malformed = await failureOf(resolverFor().resolve({ subjectId: SUBJECT, requestId: 'r' }));

    // Assess
    expect([down, throttled, slow].map((error) => error.code)).toEqual(Array(3).fill('resolver_unavailable'));
    expect(slow.message).toContain('no answer within 50 ms');
    expect([missing, redirected, malformed].map((error) => error.code)).toEqual(
      Array(3).fill('resolver_failed'),
    );
    for (const error of [down, throttled, slow, missing, redirected, malformed]) {
      expect(error.message).toContain("'identity-service'");
      expect(error.message).not.toContain(SUBJECT);
    }
  });

  it('fails without calling when its signing secret is missing', async () => {
    // Prepare
    const resolver = webhookIdentifierResolver(
      { name: 'identity-service', kind: 'http-webhook', url: `${baseUrl}/resolve`, signingSecretName: 'x' },
      {
        secretFor: () => {
          throw new Error("No signing secret named 'x'");
        },
      },
    );

    // Act
    const error = await failureOf(resolver.resolve({ subjectId: SUBJECT, requestId: 'r' }));

    // Assess
    expect(error.code).toBe('resolver_failed');
    expect(received).toEqual([]);
  });
});

describe('wiring (functions/shared/dependencies.ts)', () => {
  it("builds the config's webhook resolver, signing with its secret from the deployment's secrets; none without one", async () => {
    // Prepare
    respond = reply(200, JSON.stringify({ identifiers: {} }));
    const config = resolverConfig({
      name: 'identity-service',
      kind: 'http-webhook',
      url: `${baseUrl}/resolve`,
      signingSecretName: 'identity',
    });
    const documents = {} as Parameters<typeof identifierResolverOf>[1];
    const secrets = { pseudonymKey: 'k'.repeat(32), webhookSecrets: { identity: SECRET } };

    // Act
    const { identifierResolver } = identifierResolverOf(config, documents, secrets);
    const answer = await identifierResolver?.resolve({ subjectId: SUBJECT, requestId: 'req_9' });
    const none = identifierResolverOf({ ...config, identifierResolver: undefined }, documents, secrets);

    // Assess
    expect(identifierResolver?.name).toBe('identity-service');
    expect(answer).toEqual({});
    const [call] = received;
    expect(
      verifySignature(
        SECRET,
        call?.body ?? '',
        String(call?.headers['x-erasure-signature']),
        Date.now() / 1000,
      ),
    ).toBe(true);
    expect(none).toEqual({});
  });
});
