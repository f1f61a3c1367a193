/**
 * Audit entries as RFC 4180 CSV: CRLF line ends, a header line, and fields quoted when they hold
 * a comma, a quote, CR or LF (quotes doubled). The columns are stable (README, "For compliance
 * staff"): new ones are only ever appended, so scripts reading by position keep working.
 */
import { canonicalJson } from './canonical.js';
import type { AuditEntry } from './types.js';

export const AUDIT_CSV_COLUMNS = [
  'at',
  'type',
  'chainId',
  'seq',
  'requestId',
  'taskId',
  'dataClass',
  'ruleRef',
  'target',
  'subjectPseudonym',
  'detail',
  'idempotencyKey',
  'prevHash',
  'hash',
] as const;

const NEEDS_QUOTES = /[",\r\n]/;

/** One field: as it is, or quoted with its quotes doubled. */
export const csvField = (value: string): string =>
  NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;

export const auditCsvHeader = (): string => `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;

/** One entry as one CSV record; `detail` is its canonical JSON (keys sorted), empty when absent. */
export const auditCsvRow = (entry: AuditEntry): string =>
  `${AUDIT_CSV_COLUMNS.map((column) => {
    const value = entry[column];
    if (value === undefined) return '';
    return csvField(column === 'detail' ? canonicalJson(value) : String(value));
  }).join(',')}\r\n`;
