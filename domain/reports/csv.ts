/**
 * The reports as RFC 4180 CSV (the same writer as the audit export: CRLF, a header line, fields
 * quoted when they hold `,` `"` CR or LF). One record per element of a report's main array (the
 * failures report: per failed task). The columns are stable and documented in the README
 * ("Reports"); new ones are only ever appended. Lists are joined with `;`.
 */
import { csvField } from '../audit/csv.js';
import type { DeadlineRow } from './deadlines.js';
import type { ErasureCountRow } from './erasures.js';
import type { FailedRequestRow } from './failures.js';
import type { HoldReportRow } from './holds.js';
import type { UpcomingRow } from './upcoming.js';

type Cell = string | number | boolean | undefined | readonly string[];

/**
 * What a spreadsheet would run as a formula: a text cell that starts with `=`, `+`, `-`, `@`, tab
 * or CR. Reports (unlike the audit export, which must re-hash to the trail) carry values others
 * chose, a subject id among them, so such a cell gets a leading `'`, which spreadsheets show as text.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

const cell = (value: Cell): string => {
  if (value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = Array.isArray(value) ? value.join(';') : String(value);
  return csvField(FORMULA_START.test(text) ? `'${text}` : text);
};

const table = <Row>(columns: readonly string[], rows: readonly Row[], cells: (row: Row) => readonly Cell[]) =>
  [columns.join(','), ...rows.map((row) => cells(row).map(cell).join(','))]
    .map((line) => `${line}\r\n`)
    .join('');

export const DEADLINES_CSV_COLUMNS = [
  'requestId',
  'status',
  'origin',
  'dataClasses',
  'receivedAt',
  'deadline',
  'daysToDeadline',
  'overdue',
  'extended',
  'blockedBy',
  'blockedSince',
] as const;

export const HOLDS_CSV_COLUMNS = [
  'holdId',
  'subjectId',
  'dataClasses',
  'reason',
  'placedAt',
  'until',
  'targets',
  'identifiers',
  'blockedRequests',
  'heldDeletions',
] as const;

export const FAILURES_CSV_COLUMNS = [
  'requestId',
  'taskId',
  'target',
  'dataClass',
  'action',
  'attempts',
  'errorCode',
  'failedAt',
  'deadline',
] as const;

export const ERASURES_CSV_COLUMNS = [
  'month',
  'dataClass',
  'ruleRef',
  'deletions',
  'anonymisations',
  'restrictions',
  'items',
] as const;

export const UPCOMING_CSV_COLUMNS = ['dataClass', 'ruleRef', 'deletions', 'notices', 'firstDueAt'] as const;

export const deadlinesCsv = (rows: readonly DeadlineRow[]): string =>
  table(DEADLINES_CSV_COLUMNS, rows, (row) => [
    row.requestId,
    row.status,
    row.origin,
    row.dataClasses,
    row.receivedAt,
    row.deadline,
    row.daysToDeadline,
    row.overdue,
    row.extended,
    row.blockedBy,
    row.blockedSince,
  ]);

/**
 * `blockedRequests` as `requestId:status`, `heldDeletions` as `dataClass@dueAt` (`:due` when due
 * now), each `;`-joined.
 */
export const holdsCsv = (rows: readonly HoldReportRow[]): string =>
  table(HOLDS_CSV_COLUMNS, rows, (row) => [
    row.holdId,
    row.subjectId,
    row.dataClasses,
    row.reason,
    row.placedAt,
    row.until,
    row.targets,
    row.identifiers,
    row.blockedRequests.map((blocked) => `${blocked.requestId}:${blocked.status}`),
    row.heldDeletions.map((held) => `${held.dataClass}@${held.dueAt}${held.due ? ':due' : ''}`),
  ]);

export const failuresCsv = (rows: readonly FailedRequestRow[]): string =>
  table(
    FAILURES_CSV_COLUMNS,
    rows.flatMap((request) => request.failedTasks.map((task) => ({ request, task }))),
    ({ request, task }) => [
      request.requestId,
      task.taskId,
      task.target,
      task.dataClass,
      task.action,
      task.attempts,
      task.errorCode,
      task.failedAt,
      request.deadline,
    ],
  );

export const erasuresCsv = (rows: readonly ErasureCountRow[]): string =>
  table(ERASURES_CSV_COLUMNS, rows, (row) => [
    row.month,
    row.dataClass,
    row.ruleRef,
    row.deletions,
    row.anonymisations,
    row.restrictions,
    row.items,
  ]);

export const upcomingCsv = (rows: readonly UpcomingRow[]): string =>
  table(UPCOMING_CSV_COLUMNS, rows, (row) => [
    row.dataClass,
    row.ruleRef,
    row.deletions,
    row.notices,
    row.firstDueAt,
  ]);
