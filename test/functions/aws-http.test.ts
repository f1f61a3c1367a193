import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_CALL_HTTP } from '../../functions/shared/aws-http.js';
import { clientsFromEnvironment } from '../../functions/shared/dependencies.js';

const SILENCE_MS = 300;
const BODY = 'twelve bytes';
const TRICKLE_EVERY_MS = 100;

/** An S3 endpoint that never answers a listing, and sends an object's bytes one at a time. */
const slowS3 = async () => {
  const silent: ServerResponse[] = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    if (request.method === 'GET' && request.url?.includes('list-type=2')) {
      silent.push(response);
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) });
    let sent = 0;
    const trickle = setInterval(() => {
      response.write(BODY[sent++]);
      if (sent === BODY.length) {
        clearInterval(trickle);
        response.end();
      }
    }, TRICKLE_EVERY_MS);
    response.on('close', () => clearInterval(trickle));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("the functions' S3 client", () => {
  it('gives up on a connection that falls silent, but not on a slow object that keeps coming', async () => {
    // Prepare: the functions' clients with the S3 limit shortened, pointed at the slow endpoint.
    const endpoint = await slowS3();
    vi.stubEnv('AWS_ENDPOINT_URL_S3', endpoint.url);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
    const { s3 } = clientsFromEnvironment(process.env, {
      api: API_CALL_HTTP,
      s3: { connectionTimeout: 1_000, socketTimeout: SILENCE_MS },
    });

    // Act
    const started = performance.now();
    const listing = s3
      .send(new ListObjectsV2Command({ Bucket: 'bucket', Prefix: 'files/' }))
      .catch((error: unknown) => error);
    const object = s3.send(new GetObjectCommand({ Bucket: 'bucket', Key: 'files/a.txt' }));
    let content: string | undefined;
    let failure: unknown;
    try {
      content = await (await object).Body?.transformToString();
      failure = await listing;
    } finally {
      s3.destroy();
      await endpoint.close();
    }
    const elapsed = performance.now() - started;

    // Assess: the listing failed as a timeout after its attempts (no hang); the object, 1.2 s in
    // coming but never silent for 300 ms, arrived whole.
    expect(failure).toMatchObject({ name: 'TimeoutError' });
    expect(content).toBe(BODY);
    expect(elapsed).toBeGreaterThanOrEqual(BODY.length * TRICKLE_EVERY_MS - TRICKLE_EVERY_MS);
    expect(elapsed).toBeLessThan(5_000);
  }, 10_000);
});
