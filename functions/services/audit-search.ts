import { auditCsvHeader, auditCsvRow, decodeCursor, encodeCursor } from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import type { AuditFilters, AuditPosition } from '../../domain/ports/index.js';
import type { ServiceDeps } from './deps.js';

export type AuditSearchDeps = Pick<ServiceDeps, 'audit' | 'settings'>;

/** What `GET /v1/audit` searches: a scope (request, subject, or time window) and filters. */
export interface AuditSearch extends AuditFilters {
  readonly subjectId?: string;
  readonly requestId?: string;
  readonly from?: string;
  readonly to?: string;
}

export interface AuditSearchPage {
  readonly entries: readonly AuditEntry[];
  /** Hand it back as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

/** Entries per store page when exporting CSV: memory holds one such page at a time. */
export const CSV_PAGE_SIZE = 500;

/**
 * The search a cursor is bound to. The subject goes in as its pseudonym: cursors are readable
 * base64, and the trail's rule holds for them too (no subject id in the clear).
 */
const searchIdentity = (deps: AuditSearchDeps, search: AuditSearch) => ({
  ...search,
  subjectId: search.subjectId === undefined ? undefined : deps.audit.chainIdFor(search.subjectId),
});

/** The position a cursor holds, or a 400 naming `cursor`; checked before anything is read. */
export const auditCursorPosition = (
  deps: AuditSearchDeps,
  search: AuditSearch,
  cursor: string | undefined,
): AuditPosition | undefined =>
  cursor === undefined ? undefined : decodeCursor(deps.settings.idKey, searchIdentity(deps, search), cursor);

const cursorOf = (deps: AuditSearchDeps, search: AuditSearch, next: AuditPosition | undefined) =>
  next === undefined ? undefined : encodeCursor(deps.settings.idKey, searchIdentity(deps, search), next);

/** One page of at most `limit` entries; a short page may still have a next one (filters). */
export const searchAudit = async (
  deps: AuditSearchDeps,
  search: AuditSearch,
  options: { readonly after?: AuditPosition; readonly limit: number },
): Promise<AuditSearchPage> => {
  const page = await deps.audit.page({
    ...search,
    limit: options.limit,
    ...(options.after === undefined ? {} : { after: options.after }),
  });
  const nextCursor = cursorOf(deps, search, page.next);
  return { entries: page.entries, ...(nextCursor === undefined ? {} : { nextCursor }) };
};

/**
 * The search as RFC 4180 CSV, one chunk per store page: the header, then each page's rows as it is
 * read. Memory holds one page however long the range. With a byte budget (a buffered answer) it
 * stops after the page that reaches it and returns the cursor where the rest starts.
 */
export async function* auditCsv(
  deps: AuditSearchDeps,
  search: AuditSearch,
  after: AuditPosition | undefined,
  budgetBytes: number | undefined,
): AsyncGenerator<string, string | undefined> {
  let written = 0;
  const header = auditCsvHeader();
  yield header;
  written += header.length;
  let position = after;
  for (;;) {
    const page = await deps.audit.page({
      ...search,
      limit: CSV_PAGE_SIZE,
      ...(position === undefined ? {} : { after: position }),
    });
    if (page.entries.length > 0) {
      const rows = page.entries.map(auditCsvRow).join('');
      written += Buffer.byteLength(rows, 'utf8');
      yield rows;
    }
    if (page.next === undefined) return undefined;
    position = page.next;
    if (budgetBytes !== undefined && written >= budgetBytes) return cursorOf(deps, search, position);
  }
}
