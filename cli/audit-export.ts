/**
 * `erasure audit export`: the audit entries matching the filters, page after page, as CSV (or
 * NDJSON). A server that answers `GET /v1/audit?format=csv` with `text/csv` streams its own CSV,
 * passed through untouched; one that answers JSON gets its entries written as CSV here, with the
 * columns below (`--csv-source` chooses instead of detecting).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { auditCsvHeader, auditCsvRow } from '../domain/audit/csv.js';
import type { AuditEntry } from '../domain/audit/types.js';
import { type ApiClient, apiErrorOf, type Query, UsageError } from './api-client.js';

/** The columns of the server's CSV (domain/audit/csv.ts), so both ways of exporting write the same file. */
export { AUDIT_CSV_COLUMNS } from '../domain/audit/csv.js';

export interface AuditFilters {
  readonly subjectId?: string;
  readonly requestId?: string;
  readonly dataClass?: string;
  readonly ruleRef?: string;
  readonly type?: string;
  readonly from?: string;
  readonly to?: string;
}

export type CsvSource = 'auto' | 'server' | 'client';

export interface ExportOptions {
  readonly filters: AuditFilters;
  readonly format: 'csv' | 'ndjson';
  readonly csvSource: CsvSource;
  readonly output: Writable;
}

/** RFC 4180 with the server's columns and quoting: CRLF line ends, fields quoted when they need it. */
export const auditCsv = (entries: readonly AuditEntry[], header: boolean): string =>
  (header ? auditCsvHeader() : '') + entries.map(auditCsvRow).join('');

/** The filters a server without them would ignore are applied here too, so the export is right either way. */
const matches = (filters: AuditFilters) => (entry: AuditEntry) =>
  (filters.dataClass === undefined || entry.dataClass === filters.dataClass) &&
  (filters.ruleRef === undefined || entry.ruleRef === filters.ruleRef) &&
  (filters.type === undefined || entry.type === filters.type);

const write = async (output: Writable, chunk: string | Uint8Array) => {
  if (!output.write(chunk)) await once(output, 'drain');
};

/** The cursor of the next page, whichever way the answer carries it. */
const nextCursorOf = (response: Response, body?: Record<string, unknown>): string | undefined => {
  const fromBody = body?.nextCursor ?? body?.cursor;
  if (typeof fromBody === 'string' && fromBody !== '') return fromBody;
  const header = response.headers.get('x-next-cursor');
  return header === null || header === '' ? undefined : header;
};

/** Streams a CSV page to the output, leaving out its header line when it is not the first page. */
export const passThroughCsv = async (response: Response, output: Writable, skipHeader: boolean) => {
  if (response.body === null) return;
  let skipping = skipHeader;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    let part = chunk;
    if (skipping) {
      const newline = part.indexOf(0x0a);
      if (newline === -1) continue;
      part = part.subarray(newline + 1);
      skipping = false;
    }
    if (part.length > 0) await write(output, part);
  }
};

/** Writes the export; resolves with the number of pages and, when written here, of entries. */
export const exportAudit = async (
  client: ApiClient,
  options: ExportOptions,
): Promise<{ pages: number; entries?: number; csvFrom: 'server' | 'client' | 'none' }> => {
  const { filters, output } = options;
  const query: Query = { ...filters };
  const askServerCsv = options.format === 'csv' && options.csvSource !== 'client';
  let csvFrom: 'server' | 'client' | 'none' = options.format === 'csv' ? 'client' : 'none';
  let cursor: string | undefined;
  const cursorsSeen = new Set<string>();
  let pages = 0;
  let entries = 0;
  for (;;) {
    const serverCsv = askServerCsv && (pages === 0 || csvFrom === 'server');
    const response = await client.send('GET', '/v1/audit', {
      query: {
        ...query,
        ...(cursor === undefined ? {} : { cursor }),
        ...(serverCsv ? { format: 'csv' } : {}),
      },
      headers: { accept: serverCsv ? 'text/csv' : 'application/json' },
    });
    if (!response.ok) throw await apiErrorOf(response);
    pages++;
    const contentType = response.headers.get('content-type') ?? '';
    if (serverCsv && contentType.startsWith('text/csv')) {
      csvFrom = 'server';
      const next = nextCursorOf(response);
      await passThroughCsv(response, output, pages > 1);
      if (next === undefined) return { pages, csvFrom };
      cursor = next;
    } else {
      if (options.csvSource === 'server' && options.format === 'csv')
        throw new UsageError(
          'this API does not answer GET /v1/audit?format=csv with CSV yet: use --csv-source client (or auto)',
        );
      const body = (await response.json()) as { entries?: AuditEntry[] } & Record<string, unknown>;
      const page = (body.entries ?? []).filter(matches(filters));
      entries += page.length;
      if (options.format === 'csv') await write(output, auditCsv(page, pages === 1));
      else for (const entry of page) await write(output, `${JSON.stringify(entry)}\n`);
      const next = nextCursorOf(response, body);
      if (next === undefined) return { pages, entries, csvFrom };
      cursor = next;
    }
    if (cursorsSeen.has(cursor)) throw new Error('the API answered the same cursor twice: export stopped');
    cursorsSeen.add(cursor);
  }
};
