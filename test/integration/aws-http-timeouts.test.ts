import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import type { AuditRecord } from '../../domain/ports/index.js';
import { API_CALL_HTTP } from '../../functions/shared/aws-http.js';
import { clientsFromEnvironment, dynamoStorage } from '../../functions/shared/dependencies.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, emulatorEndpoints, testClients } from '../helpers/emulators.js';

const PSEUDONYM_KEY = 'aws-http-timeouts-test-pseudonym-key-0123';
const clients = testClients();
let resources: OrchestratorResources;
let audit: Awaited<ReturnType<typeof createTestAdapters>>['audit'];

/**
 * A proxy in front of DynamoDB Local that passes the first `stall` TransactWriteItems calls on, so
 * DynamoDB applies them, and never answers them: the connection stays open and silent, as a hung
 * one does. Everything else goes through untouched.
 */
const stallingProxy = async (upstream: string, stall: number) => {
  const target = new URL(upstream);
  let stalled = 0;
  const held: IncomingMessage[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const hang =
        String(incoming.headers['x-amz-target']).endsWith('.TransactWriteItems') && stalled++ < stall;
      const forwarded = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          if (hang) {
            held.push(answer);
            answer.resume();
            return;
          }
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stalled: () => Math.min(stalled, stall),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

/** The functions' clients (functions/shared/dependencies.ts), pointed at `endpoint` for DynamoDB. */
const functionClients = (endpoint: string) => {
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoint);
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  return clientsFromEnvironment();
};

let counter = 0;
const appended = (subjectId: string): AuditRecord => ({
  subjectId,
  event: {
    type: 'task.verified',
    at: '2026-11-30T12:00:00.000Z',
    idempotencyKey: `timeouts-${++counter}`,
    detail: { affectedCount: 1 },
  },
});

beforeAll(async () => {
  ({ resources, audit } = await createTestAdapters('aws-http-timeouts', clients, PSEUDONYM_KEY, 4));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

describe("the functions' DynamoDB client", () => {
  it('gives up on a call that is never answered, and the commits queued behind it on the chain go on', async () => {
    // Prepare: the first transaction reaches DynamoDB and is applied; its answer never comes.
    const proxy = await stallingProxy(emulatorEndpoints().dynamodbEndpoint, 1);
    const aws = functionClients(proxy.url);
    const { uow } = dynamoStorage(aws.documents, resources.tables, PSEUDONYM_KEY);
    const subjectId = `subject-${Date.now()}`;
    const first = appended(subjectId);
    const second = appended(subjectId);

    // Act: two commits on one chain through one unit of work; the second waits for the first.
    const started = performance.now();
    let results: unknown[];
    try {
      results = await Promise.all([uow.commit([], [first]), uow.commit([], [second])]);
    } finally {
      aws.dynamodb.destroy();
      await proxy.close();
    }
    const elapsed = performance.now() - started;

    // Assess: the hung call was given up after the request timeout and sent again; DynamoDB answered
    // the repeat with the idempotency token of the first, so both commits landed once, in order.
    expect(proxy.stalled()).toBe(1);
    expect(results).toEqual([{ committed: true }, { committed: true }]);
    expect(elapsed).toBeGreaterThanOrEqual(API_CALL_HTTP.socketTimeout);
    expect(elapsed).toBeLessThan(API_CALL_HTTP.socketTimeout + 5_000);
    const { entries, head, chainId } = await audit.readChain(subjectId);
    expect(
      verifyChain(entries, { chainId, ...(head === undefined ? {} : { expectedHead: head }) }),
    ).toMatchObject({
      ok: true,
      length: 2,
    });
    expect(entries.map((entry) => entry.idempotencyKey)).toEqual([
      first.event.idempotencyKey,
      second.event.idempotencyKey,
    ]);
  }, 20_000);
});
