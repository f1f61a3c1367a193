import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../functions/api/router.js';
import { readBody } from '../../local/runtime.js';

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
