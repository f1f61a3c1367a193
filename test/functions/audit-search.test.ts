/**
 * `GET /v1/audit` through the API handler over in-memory ports: filters, the signed cursor, CSV
 * by `format=csv` or `Accept: text/csv`, and the CSV's paging (buffered with a budget and
 * `x-next-cursor`, streamed page by page). The DynamoDB side of paging is
 * test/integration/audit-search.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS } from '../../domain/audit/csv.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import { routeHandlers } from '../../functions/api/handlers.js';
import { dispatchStreaming, type StreamedResult } from '../../functions/api/router.js';
import { auditCsv, auditCursorPosition, CSV_PAGE_SIZE } from '../../functions/services/audit-search.js';
import { type ApiBody, bearer, callApi } from '../helpers/api-handler.js';
import { apiEvent, type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const SUBJECT = 'audit-subject-1';
const OTHER = 'audit-subject-2';
const at = (minutes: number) =>
  new Date(Date.parse('2026-11-10T00:00:00.000Z') + minutes * 60_000).toISOString();
const event = (index: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  type: 'task.verified',
  at: at(index),
  idempotencyKey: `event-${index}`,
  requestId: 'req_audit1',
  dataClass: index % 2 === 0 ? 'cloud-video' : 'invoices',
  ruleRef: index % 2 === 0 ? 'IMOU-2' : 'ALE-5',
  ...overrides,
});

/** `count` entries on the subject's chain, and three of another subject and request. */
const seeded = async (count = 9): Promise<HandlerDeps> => {
  const built = handlerDeps();
  await built.ports.uow.commit(
    [],
    Array.from({ length: count }, (_, index) => ({ event: event(index), subjectId: SUBJECT })),
  );
  await built.ports.uow.commit(
    [],
    [1000, 1001, 1002].map((index) => ({
      event: event(index, { requestId: 'req_audit2', detail: { note: 'a "quoted", multi\nline value' } }),
      subjectId: OTHER,
    })),
  );
  return built;
};

const audit = (built: HandlerDeps, query: Record<string, string>, headers: Record<string, string> = {}) =>
  callApi(built, {
    method: 'GET',
    path: '/v1/audit',
    query,
    headers: { ...bearer('compliance'), ...headers },
  });

const keys = (body: ApiBody | undefined) =>
  ((body?.entries ?? []) as { idempotencyKey: string }[]).map((entry) => entry.idempotencyKey);

describe('GET /v1/audit: filters and pages', () => {
  it('follows nextCursor page by page to every entry of the subject, each once', async () => {
    const built = await seeded();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const answer = await audit(built, { subjectId: SUBJECT, limit: '4', ...(cursor ? { cursor } : {}) });
      expect(answer.status).toBe(200);
      seen.push(...keys(answer.body));
      cursor = answer.body?.nextCursor as string | undefined;
      pages++;
    } while (cursor !== undefined);

    expect(seen).toEqual(Array.from({ length: 9 }, (_, index) => `event-${index}`));
    expect(pages).toBe(3);
  });

  it('filters by data class, rule ref, event type, request and time', async () => {
    const built = await seeded();

    const byClass = await audit(built, { subjectId: SUBJECT, dataClass: 'invoices' });
    const byRule = await audit(built, { subjectId: SUBJECT, ruleRef: 'IMOU-2' });
    const byType = await audit(built, { requestId: 'req_audit1', type: 'request.completed' });
    const byRequest = await audit(built, { requestId: 'req_audit2' });
    const byTime = await audit(built, { from: at(2), to: at(4) });

    expect(keys(byClass.body)).toEqual(['event-1', 'event-3', 'event-5', 'event-7']);
    expect(keys(byRule.body)).toEqual(['event-0', 'event-2', 'event-4', 'event-6', 'event-8']);
    expect(keys(byType.body)).toEqual([]);
    expect(keys(byRequest.body)).toEqual(['event-1000', 'event-1001', 'event-1002']);
    expect(keys(byTime.body)).toEqual(['event-2', 'event-3', 'event-4']);
  });

  it.each([
    ['a rule ref that is no rule id', { subjectId: SUBJECT, ruleRef: 'alu3' }, 'ruleRef'],
    ['an event type of the wrong shape', { subjectId: SUBJECT, type: 'DROP TABLE' }, 'type'],
    ['an empty data class', { subjectId: SUBJECT, dataClass: '' }, 'dataClass'],
    ['a limit of 0', { subjectId: SUBJECT, limit: '0' }, 'limit'],
    ['a limit over 1000', { subjectId: SUBJECT, limit: '1001' }, 'limit'],
    ['a format other than json or csv', { subjectId: SUBJECT, format: 'xml' }, 'format'],
    ['a cursor that is not one', { subjectId: SUBJECT, cursor: 'not-a-cursor' }, 'cursor'],
    ['filters alone, without a scope', { dataClass: 'invoices' }, 'subjectId'],
  ])('refuses %s with a 400 naming the field', async (_name, query, field) => {
    const built = await seeded(1);

    const answer = await audit(built, query);

    expect(answer.status).toBe(400);
    expect(answer.body?.error).toMatchObject({ code: 'validation_failed', field });
  });

  it('refuses an altered cursor and a cursor of another search with a 400 naming cursor', async () => {
    const built = await seeded();
    const first = await audit(built, { subjectId: SUBJECT, limit: '2' });
    const cursor = first.body?.nextCursor as string;
    const [payload, signature] = cursor.split('.') as [string, string];
    const forged = Buffer.from(
      Buffer.from(payload, 'base64url').toString('utf8').replace('"offset":2', '"offset":0'),
    ).toString('base64url');

    const altered = await audit(built, { subjectId: SUBJECT, limit: '2', cursor: `${forged}.${signature}` });
    const otherSearch = await audit(built, { subjectId: SUBJECT, dataClass: 'invoices', cursor });
    const otherSubject = await audit(built, { subjectId: OTHER, cursor });

    for (const answer of [altered, otherSearch, otherSubject]) {
      expect(answer.status).toBe(400);
      expect(answer.body?.error).toMatchObject({ code: 'validation_failed', field: 'cursor' });
    }
  });

  it('keeps the subject id out of the cursor (it carries the pseudonym only)', async () => {
    const built = await seeded();

    const first = await audit(built, { subjectId: SUBJECT, limit: '2' });
    const cursor = String(first.body?.nextCursor);
    const payload = Buffer.from(cursor.split('.')[0] as string, 'base64url');

    expect(payload.toString('utf8')).not.toContain(SUBJECT);
    expect(payload.toString('utf8')).toContain(built.deps.audit.chainIdFor(SUBJECT));
  });
});

describe('GET /v1/audit as CSV (RFC 4180)', () => {
  const parseCsv = (text: string): string[][] => {
    // A small RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks.
    const rows: string[][] = [];
    let row: string[] = [];
    let field = '';
    let quoted = false;
    for (let index = 0; index < text.length; index++) {
      const char = text[index] as string;
      if (quoted) {
        if (char === '"' && text[index + 1] === '"') {
          field += '"';
          index++;
        } else if (char === '"') quoted = false;
        else field += char;
      } else if (char === '"') quoted = true;
      else if (char === ',') {
        row.push(field);
        field = '';
      } else if (char === '\r' && text[index + 1] === '\n') {
        row.push(field);
        rows.push(row);
        row = [];
        field = '';
        index++;
      } else field += char;
    }
    expect(field).toBe('');
    return rows;
  };

  it('answers format=csv and Accept: text/csv with the documented columns, quoting what needs it', async () => {
    const built = await seeded(2);

    const byFormat = await audit(built, { requestId: 'req_audit2', format: 'csv' });
    const byAccept = await audit(built, { requestId: 'req_audit2' }, { accept: 'text/csv' });

    expect(byFormat.status).toBe(200);
    expect(byFormat.headers?.['content-type']).toMatch(/^text\/csv/);
    expect(byFormat.headers?.['content-disposition']).toContain('audit.csv');
    expect(byAccept.raw).toBe(byFormat.raw);
    expect(byFormat.raw.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(byFormat.raw);
    expect(header).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows).toHaveLength(3);
    const record = Object.fromEntries(AUDIT_CSV_COLUMNS.map((column, index) => [column, rows[0]?.[index]]));
    const [entry] = built.ports.allEntries().filter((stored) => stored.requestId === 'req_audit2');
    expect(record).toMatchObject({
      at: entry?.at,
      type: 'task.verified',
      seq: '1',
      requestId: 'req_audit2',
      hash: entry?.hash,
      detail: '{"note":"a \\"quoted\\", multi\\nline value"}',
    });
  });

  it('format=json wins over Accept: text/csv', async () => {
    const built = await seeded(2);

    const answer = await audit(built, { subjectId: SUBJECT, format: 'json' }, { accept: 'text/csv' });

    expect(answer.headers?.['content-type']).toBe('application/json');
  });

  it('buffered, stops at its byte budget and resumes from the cursor it returns without loss', async () => {
    const built = await seeded(CSV_PAGE_SIZE * 2 + 10);
    const search = { subjectId: SUBJECT };
    const read = async (generator: AsyncGenerator<string, string | undefined>) => {
      const chunks: string[] = [];
      for (;;) {
        const step = await generator.next();
        if (step.done === true) return { chunks, next: step.value };
        chunks.push(step.value);
      }
    };

    const whole = await read(auditCsv(built.deps, search, undefined, undefined));
    const first = await read(auditCsv(built.deps, search, undefined, 1));
    const rest = await read(
      auditCsv(built.deps, search, auditCursorPosition(built.deps, search, first.next), undefined),
    );

    // Header, then one chunk per store page: memory holds a page, not the range.
    expect(whole.chunks).toHaveLength(1 + 3);
    expect(whole.next).toBeUndefined();
    expect(first.chunks).toHaveLength(2);
    expect(first.next).toEqual(expect.any(String));
    expect([...first.chunks, ...rest.chunks.slice(1)].join('')).toBe(whole.chunks.join(''));
  });

  it('streamed (the local runtime), comes page by page after the headers', async () => {
    const built = await seeded(CSV_PAGE_SIZE + 1);

    const result = (await dispatchStreaming(
      apiEvent({
        method: 'GET',
        path: '/v1/audit',
        query: { subjectId: SUBJECT, format: 'csv' },
        headers: bearer('compliance'),
      }),
      routeHandlers(built.deps),
      built.deps.authorisation,
      built.deps.log,
      'req-1',
    )) as StreamedResult;
    const chunks: string[] = [];
    for await (const chunk of result.stream) chunks.push(chunk);

    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toMatch(/^text\/csv/);
    expect(chunks).toHaveLength(3);
    expect(chunks.join('').split('\r\n')).toHaveLength(1 + CSV_PAGE_SIZE + 1 + 1);
  });
});
