/**
 * `erasure events import <file>`: sends a CSV or NDJSON file of lifecycle events to
 * `POST /v1/lifecycle-events`, a bounded number at a time.
 *
 * - Each row is checked first with the API's own schema (functions/api/schemas.ts) and time
 *   bound; a bad row is reported with its line number and the import goes on.
 * - Resuming never duplicates: the server gives an event the same id whatever sends it
 *   (lifecycleEventId over subject, type, occurredAt and attributes) and answers a re-sent event
 *   from its record without auditing it again. On top of that a checkpoint file keeps the key of
 *   every row the server accepted, so a second run skips them without calling the API; rows in
 *   flight when a run stopped are simply sent again.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { requireEventTime } from '../domain/bounds.js';
import { ValidationError } from '../domain/errors.js';
import { LifecycleEventBody, parseBody } from '../functions/api/schemas.js';
import { type ApiClient, apiErrorOf } from './api-client.js';

export type ImportFormat = 'csv' | 'ndjson';

/** One row of the input, as read: its line number and its fields (or why it could not be read). */
export interface InputRow {
  readonly line: number;
  readonly value?: unknown;
  readonly problem?: string;
}

export interface ImportProgress {
  /** Rows settled so far (imported, skipped or failed). */
  readonly done: number;
  readonly imported: number;
  readonly skipped: number;
  readonly failed: number;
}

export interface ImportOptions {
  readonly file: string;
  readonly format: ImportFormat;
  readonly checkpointPath: string;
  /** Ignore (and overwrite) an existing checkpoint. */
  readonly restart: boolean;
  readonly concurrency: number;
  /** Attempts of a row on a network error, 429 or 5xx. @default 5 */
  readonly maxAttempts?: number;
  /** First retry delay, doubled each time. @default 500 */
  readonly retryDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told of each bad row as it is found. */
  readonly onProblem?: (failure: RowFailure) => void;
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface RowFailure {
  readonly line: number;
  /** HTTP status when the server refused it; absent for a row refused before sending. */
  readonly status?: number;
  readonly reason: string;
}

export interface ImportSummary {
  readonly imported: number;
  /** Rows the checkpoint shows were imported by an earlier run. */
  readonly alreadyImported: number;
  /** Rows identical to an earlier row of this file (the same event). */
  readonly repeated: number;
  readonly failed: readonly RowFailure[];
  /**
   * Imported rows whose subject id or identifiers belong to an erased subject (the server's
   * `suppressed` answer, suppression after erasure): re-collected data to look at. Absent when none.
   */
  readonly suppressed?: readonly { readonly line: number; readonly names: readonly string[] }[];
  /** The run was interrupted: rows from this line on were not sent. */
  readonly interruptedAtLine?: number;
  readonly checkpointPath: string;
}

const CHECKPOINT_HEADER = 'erasure-events-import-checkpoint v1';

/** The format a file's name says, if it says one. */
export const formatOfFile = (file: string): ImportFormat | undefined =>
  /\.csv$/i.test(file) ? 'csv' : /\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : undefined;

/** Columns of a CSV row: the event body's fields, attributes as JSON or one `attributes.<name>` column each. */
const CSV_FIELDS = ['subjectId', 'type', 'occurredAt', 'attributes'] as const;

/** Checks a CSV header; a column the import would ignore is a mistake worth stopping for. */
export const checkCsvHeader = (columns: readonly string[]): string | undefined => {
  const unknown = columns.filter(
    (column) => !(CSV_FIELDS as readonly string[]).includes(column) && !/^attributes\.[^.]+$/.test(column),
  );
  if (unknown.length > 0)
    return `unknown column(s) ${unknown.join(', ')}: expected ${CSV_FIELDS.join(', ')} or attributes.<name>`;
  for (const required of ['subjectId', 'type', 'occurredAt'])
    if (!columns.includes(required)) return `the header has no ${required} column`;
  return undefined;
};

/** A CSV record as the event body: empty cells are absent, `attributes.x` columns become attributes. */
export const csvRecordToBody = (record: Readonly<Record<string, string | undefined>>): unknown => {
  const body: Record<string, unknown> = {};
  const attributes: Record<string, unknown> = {};
  let hasAttributes = false;
  // One value per attribute: the JSON column and an `attributes.<name>` column naming the same
  // one would otherwise let the column further right win silently (SE or PL: 36 or 12 months).
  const set = (name: string, value: unknown) => {
    if (Object.hasOwn(attributes, name)) {
      throw new ValidationError(
        `attributes.${name} is given twice (in the attributes column and its own): give it once`,
        `attributes.${name}`,
      );
    }
    attributes[name] = value;
    hasAttributes = true;
  };
  for (const [column, cell] of Object.entries(record)) {
    if (cell === undefined || cell === '') continue;
    if (column === 'attributes') {
      const parsed: unknown = JSON.parse(cell);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new ValidationError('must be a JSON object of strings', 'attributes');
      for (const [name, value] of Object.entries(parsed)) set(name, value);
    } else if (column.startsWith('attributes.')) {
      set(column.slice('attributes.'.length), cell);
    } else body[column] = cell;
  }
  if (hasAttributes) body.attributes = attributes;
  return body;
};

/** The header as the parser's columns; a column named twice would silently lose one of its cells. */
const headerColumns = (header: string[]): string[] => {
  const twice = header.find((column, index) => header.indexOf(column) !== index);
  if (twice !== undefined) {
    throw new ValidationError(`line 1: the header names ${twice} twice: each column once`, 'header');
  }
  return header;
};

async function* csvRows(file: string): AsyncGenerator<InputRow> {
  const parser = createReadStream(file).pipe(
    parse({
      bom: true,
      // Trimmed here too: `trim` applies to cells once the header is read.
      columns: (header: string[]) => headerColumns(header.map((column) => column.trim())),
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }),
  );
  let header: string | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: Record<string, string | undefined>;
      info: {
        lines: number;
        index: number;
        columns: unknown[];
        error?: { code?: string; record?: readonly string[] };
      };
    }>) {
      if (header === undefined) {
        header = checkCsvHeader(Object.keys(record)) ?? '';
        if (header !== '') throw new ValidationError(`line 1: ${header}`, 'header');
      }
      // More cells than columns: the parser keeps the first ones and drops the rest, which is
      // usually a row an unquoted comma shifted; empty ones (a trailing comma) lose nothing.
      // Fewer: the cells left out are empty.
      const dropped = info.error?.code === 'CSV_RECORD_INCONSISTENT_COLUMNS' ? (info.error.record ?? []) : [];
      if (dropped.slice(info.columns.length).some((cell) => cell.trim() !== '')) {
        yield {
          line: info.lines,
          problem: `has ${info.index} cells where the header has ${info.columns.length} (an unquoted comma?): nothing of it imported`,
        };
        continue;
      }
      try {
        yield { line: info.lines, value: csvRecordToBody(record) };
      } catch (error) {
        yield { line: info.lines, problem: problemOf(error) };
      }
    }
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    // A broken quote ends the file's readable part: report where, stop reading.
    const line = (error as { lines?: number }).lines;
    yield { line: line ?? 0, problem: `unreadable CSV, import stopped here: ${(error as Error).message}` };
  }
}

async function* ndjsonRows(file: string): AsyncGenerator<InputRow> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { line, value: JSON.parse(text) };
    } catch {
      yield { line, problem: 'not a JSON object' };
    }
  }
}

export const readRows = (file: string, format: ImportFormat): AsyncGenerator<InputRow> =>
  format === 'csv' ? csvRows(file) : ndjsonRows(file);

/** Data rows of a file, roughly (lines that are not blank, less a CSV header): the progress bar's total. */
export const countRows = async (file: string, format: ImportFormat): Promise<number> => {
  let count = 0;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const text of lines) if (text.trim() !== '') count++;
  return format === 'csv' ? Math.max(0, count - 1) : count;
};

const problemOf = (error: unknown): string =>
  error instanceof ValidationError
    ? error.message
    : error instanceof SyntaxError
      ? `not valid JSON: ${error.message}`
      : String((error as Error)?.message ?? error);

type EventBody = ReturnType<typeof LifecycleEventBody.parse>;

/**
 * A row's key: the same inputs the server derives the event's id from (subject, type, canonical
 * occurredAt, sorted attributes), hashed. Two rows with one key are one event to the server.
 */
export const rowKey = (body: EventBody): string => {
  const attributes = Object.entries(body.attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(JSON.stringify([body.subjectId, body.type, body.occurredAt, attributes]))
    .digest('hex')
    .slice(0, 32);
};

/** The keys an earlier run of this import recorded, checking the checkpoint belongs to this API. */
const loadCheckpoint = async (path: string, api: string, restart: boolean): Promise<Set<string>> => {
  const header = `${CHECKPOINT_HEADER} ${api}\n`;
  let text: string | undefined;
  if (!restart) {
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  if (text === undefined || text === '') {
    await writeFile(path, header, { mode: 0o600 });
    return new Set();
  }
  const [first, ...keys] = text.split('\n');
  if (`${first}\n` !== header)
    throw new ValidationError(
      `the checkpoint ${path} belongs to another import (${first}); give --restart to start over or --checkpoint <other file>`,
      'checkpoint',
    );
  return new Set(keys.filter((key) => /^[0-9a-f]{32}$/.test(key)));
};

const retryable = (status: number) => status === 429 || status >= 500;

/** Imports the file; resolves with the summary (never throws for a bad row). */
export const importEvents = async (client: ApiClient, options: ImportOptions): Promise<ImportSummary> => {
  const api = client.baseUrl.toString();
  const done = await loadCheckpoint(options.checkpointPath, api, options.restart);
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 500;
  const seen = new Set<string>();
  const failed: RowFailure[] = [];
  const suppressed: { line: number; names: string[] }[] = [];
  let imported = 0;
  let alreadyImported = 0;
  let repeated = 0;
  let interruptedAtLine: number | undefined;
  // Appends are chained so the checkpoint's lines never interleave.
  let checkpointWrites: Promise<void> = Promise.resolve();

  const progress = () =>
    options.onProgress?.({
      done: imported + alreadyImported + repeated + failed.length,
      imported,
      skipped: alreadyImported + repeated,
      failed: failed.length,
    });
  const fail = (failure: RowFailure) => {
    failed.push(failure);
    options.onProblem?.(failure);
    progress();
  };

  const send = async (line: number, key: string, body: EventBody): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      let failure: RowFailure;
      try {
        const response = await client.send('POST', '/v1/lifecycle-events', { body });
        if (response.ok) {
          const answer = (await response.json().catch(() => ({}))) as { suppressed?: unknown };
          if (Array.isArray(answer.suppressed) && answer.suppressed.length > 0) {
            suppressed.push({ line, names: answer.suppressed.map(String) });
          }
          imported++;
          checkpointWrites = checkpointWrites.then(() => appendFile(options.checkpointPath, `${key}\n`));
          progress();
          return;
        }
        const error = await apiErrorOf(response);
        failure = { line, status: error.status, reason: error.describe() };
        if (!retryable(response.status)) return fail(failure);
      } catch (error) {
        failure = { line, reason: `network: ${(error as Error).message}` };
      }
      if (attempt >= maxAttempts) return fail(failure);
      await sleep(retryDelayMs * 2 ** (attempt - 1));
    }
  };

  const inFlight = new Set<Promise<void>>();
  for await (const row of readRows(options.file, options.format)) {
    if (options.signal?.aborted) {
      interruptedAtLine = row.line;
      break;
    }
    if (row.problem !== undefined) {
      fail({ line: row.line, reason: row.problem });
      continue;
    }
    let body: EventBody;
    try {
      body = parseBody(LifecycleEventBody, row.value);
      requireEventTime(body.occurredAt, now().toISOString());
    } catch (error) {
      fail({ line: row.line, reason: problemOf(error) });
      continue;
    }
    const key = rowKey(body);
    if (done.has(key) || seen.has(key)) {
      if (done.has(key)) alreadyImported++;
      else repeated++;
      progress();
      continue;
    }
    seen.add(key);
    const sending = send(row.line, key, body).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await checkpointWrites;
  failed.sort((a, b) => a.line - b.line);
  return {
    imported,
    alreadyImported,
    repeated,
    failed,
    ...(suppressed.length === 0 ? {} : { suppressed: suppressed.sort((a, b) => a.line - b.line) }),
    ...(interruptedAtLine === undefined ? {} : { interruptedAtLine }),
    checkpointPath: options.checkpointPath,
  };
};
