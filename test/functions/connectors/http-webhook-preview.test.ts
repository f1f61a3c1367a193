/**
 * The http-webhook connector's dry-run preview against a real HTTP server on 127.0.0.1 (no
 * mocks): only a target that declares `preview: true` is called, with a signed body that no
 * service can take for an erasure, and only a 200 with a count counts.
 */
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

describe('http-webhook preview', () => {
  it('never calls a target that does not declare preview: its count is unknown', async () => {
    const answer = await connector().preview?.(target(), invocation());

    expect(answer).toEqual({ status: 'unknown', reason: 'not-supported' });
    expect(server.received).toEqual([]);
  });

  it("POSTs the erasure's body signed, with action 'preview', the erasure's action, and no callback or nonce", async () => {
    server.respond = reply(200, JSON.stringify({ count: 12 }));

    const answer = await connector().preview?.(
      target({ preview: true }),
      invocation({ action: 'anonymise', callbackNonce: 'n-attempt-1' }),
    );

    expect(answer).toEqual({ status: 'counted', count: 12, unit: 'records' });
    const [request] = server.received;
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
      server.respond = reply(200, body);
      await expect(connector().preview?.(target({ preview: true }), invocation())).resolves.toEqual({
        status: 'unknown',
        reason: 'not-counted',
      });
    }
  });

  it('refuses a 202 (a preview has no callback), and maps errors as an erasure does', async () => {
    server.respond = reply(202);
    const accepted = await failure(
      connector().preview?.(target({ preview: true }), invocation()) ?? Promise.resolve(),
    );
    server.respond = reply(503);
    const unavailable = await failure(
      connector().preview?.(target({ preview: true }), invocation()) ?? Promise.resolve(),
    );
    server.respond = reply(403);
    const refused = await failure(
      connector().preview?.(target({ preview: true }), invocation()) ?? Promise.resolve(),
    );

    expect(accepted).toBeInstanceOf(ConnectorPermanentError);
    expect(unavailable).toBeInstanceOf(ConnectorRetryableError);
    expect(refused).toBeInstanceOf(ConnectorPermanentError);
  });

  it("stops waiting when the dry run's time is up, before its own timeout: not counted, no error", async () => {
    server.respond = () => {
      // Never answers.
    };
    const startedAt = Date.now();

    const answer = await connector().preview?.(target({ preview: true, timeoutMs: 30_000 }), invocation(), {
      signal: AbortSignal.timeout(150),
    });

    expect(answer).toEqual({ status: 'unknown', reason: 'not-counted' });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(server.received).toHaveLength(1);
  });
});
