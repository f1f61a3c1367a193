/**
 * The compliance answers that are not JSON, end to end through the local runtime's HTTP server
 * and DynamoDB Local: the audit CSV streamed as it is read (chunked, no content-length), the
 * JSON pages followed by cursor, the PDF certificate delivered as bytes (the base64 that Lambda
 * hands API Gateway, decoded as API Gateway would), and the OpenAPI document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS } from '../../domain/audit/csv.js';
import type { ErasureRequestReceipt } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { DEFAULT_TOKENS } from '../../local/runtime.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

let runtime: TestRuntime;
const SUBJECT = 'compliance-exports-subject';
let requestId: string;

beforeAll(async () => {
  runtime = await startTestRuntime('compliance-exports', { demoSubjects: 0 });
  runtime.clock.set('2027-06-10T00:00:00.000Z');
  await seedDemoSubject(runtime.clients, runtime.stores, SUBJECT, runtime.clock.now());
  const submitted = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
    body: { subjectId: SUBJECT, reason: 'gdpr-art17-request', dataClasses: ['cloud-video'] },
    headers: { 'Idempotency-Key': 'compliance-exports-1' },
  });
  expect(submitted.status).toBe(202);
  requestId = submitted.body.requestId;
  await runtime.drainQueue();
});

afterAll(async () => {
  await runtime?.stop();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${runtime.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${DEFAULT_TOKENS.compliance}`, ...headers },
  });

describe('compliance exports through the local runtime', () => {
  it("streams the request's audit trail as CSV", async () => {
    const response = await get(`/v1/audit?requestId=${requestId}&format=csv`);
    const text = await response.text();

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    // Streamed: sent in chunks as the pages come, so no length is known up front.
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    expect(response.headers.get('content-length')).toBeNull();
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.slice(1, -1).every((line) => line.includes(requestId))).toBe(true);
    expect(text).not.toContain(SUBJECT);
  });

  it('pages the subject by cursor, each entry once, and filters by type', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const response = await get(
        `/v1/audit?subjectId=${SUBJECT}&limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}`,
      );
      const body = (await response.json()) as { entries: { seq: number }[]; nextCursor?: string };
      expect(response.status).toBe(200);
      seen.push(...body.entries.map((entry) => entry.seq));
      cursor = body.nextCursor;
    } while (cursor !== undefined);
    const completed = await get(`/v1/audit?subjectId=${SUBJECT}&type=request.completed`);
    const bad = await get(`/v1/audit?subjectId=${SUBJECT}&cursor=abc.def`);

    expect(seen).toEqual(Array.from({ length: seen.length }, (_, index) => index + 1));
    expect(seen.length).toBeGreaterThan(2);
    expect(
      ((await completed.json()) as { entries: { type: string }[] }).entries.map((entry) => entry.type),
    ).toEqual(['request.completed']);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('cursor');
  });

  it('answers the PDF certificate as PDF bytes', async () => {
    const response = await get(`/v1/erasure-requests/${requestId}/certificate`, {
      accept: 'application/pdf',
    });
    const bytes = Buffer.from(await response.arrayBuffer());

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(bytes.subarray(-8).toString('latin1')).toContain('%%EOF');
  });

  it('serves the OpenAPI document without credentials', async () => {
    const response = await fetch(`${runtime.apiUrl}/openapi.json`);
    const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };

    expect(response.status).toBe(200);
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toContain('/v1/audit');
  });
});
