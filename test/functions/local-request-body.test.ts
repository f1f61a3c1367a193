import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../functions/api/router.js';
import { readBody, toApiEvent } from '../../local/runtime.js';

const chunks = (count: number, size: number) =>
  Readable.from(Array.from({ length: count }, (_, index) => Buffer.alloc(size, 97 + (index % 26))));

describe('the local server reading a request body', () => {
  it('keeps a body under the limit whole', async () => {
    const body = await readBody(Readable.from([Buffer.from('{"subjectId":'), Buffer.from('"s-1"}')]));
    expect(body).toBe('{"subjectId":"s-1"}');
  });

  it('keeps only just past the limit of a larger upload, reading the rest to its end', async () => {
    const upload = chunks(64, 64 * 1024); // 4 MiB
    const body = await readBody(upload);
    // Over the limit (so the router answers 413), and at most one chunk more than that.
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES + 64 * 1024);
    expect(upload.readableEnded).toBe(true);
  });
});

describe('the local server building the API event', () => {
  it('passes a repeated query parameter as API Gateway does: its values joined with commas', () => {
    const request = {
      url: '/v1/audit?dataClass=cloud-video&requestId=r-1&dataClass=child-data',
      method: 'GET',
      headers: { host: '127.0.0.1:3000' },
      socket: { remoteAddress: '127.0.0.1' },
    } as unknown as IncomingMessage;

    const event = toApiEvent(request, '');

    expect(event.queryStringParameters).toEqual({ dataClass: 'cloud-video,child-data', requestId: 'r-1' });
    expect(event.rawQueryString).toBe('dataClass=cloud-video&requestId=r-1&dataClass=child-data');
  });
});
