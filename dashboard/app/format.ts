/**
 * What the dashboard shows, computed from the API's answers: pure functions (no DOM, no fetch,
 * no clock), so the rendering of every report is unit-tested with contract-shaped data
 * (test/unit/dashboard-format.test.ts) whether or not the API at hand serves the report.
 */
import {
  DEADLINE_BUCKETS,
  type DeadlineBucket,
  type DeadlinesReport,
  type ErasurePreview,
  type ErasuresReport,
  type FailuresReport,
  type HeldDeletion,
  type VerificationAnswer,
} from './contract.js';

const DAY_MS = 86_400_000;

/** One line of the requests table: an open request (deadlines report) or a partially failed one. */
export interface RequestRow {
  readonly requestId: string;
  readonly status: string;
  readonly origin: string;
  readonly dataClasses: readonly string[];
  readonly receivedAt: string;
  readonly deadline: string;
  readonly daysToDeadline: number;
  readonly overdue: boolean;
  readonly extended: boolean;
  readonly blockedBy: readonly string[];
  readonly blockedSince?: string;
  /** Failed tasks with their error codes (failures report), ready to re-drive. */
  readonly failedTasks: readonly {
    readonly taskId: string;
    readonly target: string;
    readonly errorCode: string;
  }[];
}

/** Whole days from `asOf` to `deadline`, rounded down as the deadlines report does (negative: overdue). */
export const daysBetween = (asOf: string, deadline: string): number =>
  Math.floor((Date.parse(deadline) - Date.parse(asOf)) / DAY_MS);

/**
 * The requests table: the requests not fulfilled of the deadlines report (partially failed ones
 * included) with the failing tasks of the failures report, one row per request, by deadline
 * (soonest first). Either report may be
 * missing (an API that does not serve it).
 */
export const requestRows = (
  deadlines: DeadlinesReport | undefined,
  failures: FailuresReport | undefined,
): RequestRow[] => {
  const rows = new Map<string, RequestRow>();
  for (const request of deadlines?.requests ?? []) {
    rows.set(request.requestId, {
      requestId: request.requestId,
      status: request.status,
      origin: request.origin,
      dataClasses: request.dataClasses,
      receivedAt: request.receivedAt,
      deadline: request.deadline,
      daysToDeadline: request.daysToDeadline,
      overdue: request.overdue,
      extended: request.extended,
      blockedBy: request.blockedBy ?? [],
      ...(request.blockedSince === undefined ? {} : { blockedSince: request.blockedSince }),
      failedTasks: [],
    });
  }
  for (const request of failures?.requests ?? []) {
    const days = daysBetween(failures?.asOf ?? request.receivedAt, request.deadline);
    // The deadlines report lists partially failed requests too: its row keeps what the failures
    // report does not say (an extension); the failures report adds the failing tasks.
    const listed = rows.get(request.requestId);
    if (listed !== undefined) {
      rows.set(request.requestId, {
        ...listed,
        failedTasks: request.failedTasks.map((task) => ({
          taskId: task.taskId,
          target: task.target,
          errorCode: task.errorCode,
        })),
      });
      continue;
    }
    rows.set(request.requestId, {
      requestId: request.requestId,
      status: 'partially_failed',
      origin: request.origin,
      dataClasses: request.dataClasses,
      receivedAt: request.receivedAt,
      deadline: request.deadline,
      daysToDeadline: days,
      overdue: days < 0,
      extended: false,
      blockedBy: [],
      failedTasks: request.failedTasks.map((task) => ({
        taskId: task.taskId,
        target: task.target,
        errorCode: task.errorCode,
      })),
    });
  }
  return [...rows.values()].sort(
    (a, b) => a.deadline.localeCompare(b.deadline) || a.requestId.localeCompare(b.requestId),
  );
};

export interface RowFilters {
  /** '' for every status. */
  readonly status: string;
  /** '' for every data class. */
  readonly dataClass: string;
  readonly overdueOnly: boolean;
}

export const NO_FILTERS: RowFilters = { status: '', dataClass: '', overdueOnly: false };

export const filterRows = (rows: readonly RequestRow[], filters: RowFilters): RequestRow[] =>
  rows.filter(
    (row) =>
      (filters.status === '' || row.status === filters.status) &&
      (filters.dataClass === '' || row.dataClasses.includes(filters.dataClass)) &&
      (!filters.overdueOnly || row.overdue),
  );

/** The choices of a filter: the values the rows hold, sorted, each once. */
export const distinctValues = (rows: readonly RequestRow[], pick: (row: RequestRow) => readonly string[]) =>
  [...new Set(rows.flatMap(pick))].sort();

/** How a deadline reads in words, so colour is never the only signal. */
export const deadlineText = (row: Pick<RequestRow, 'daysToDeadline' | 'overdue'>): string => {
  if (row.overdue) {
    const late = Math.max(1, -row.daysToDeadline);
    return `Overdue by ${late} day${late === 1 ? '' : 's'}`;
  }
  if (row.daysToDeadline <= 0) return 'Due today';
  return `${row.daysToDeadline} day${row.daysToDeadline === 1 ? '' : 's'} left`;
};

/** `overdue` (past the deadline), `soon` (within 7 days) or `ok`: the row's emphasis. */
export const deadlineTone = (
  row: Pick<RequestRow, 'daysToDeadline' | 'overdue'>,
): 'overdue' | 'soon' | 'ok' => (row.overdue ? 'overdue' : row.daysToDeadline <= 7 ? 'soon' : 'ok');

/** `2026-11-21T12:00:00.000Z` → `2026-11-21 12:00 UTC`: one unambiguous form for every instant. */
export const formatInstant = (iso: string | undefined): string => {
  if (iso === undefined || iso === '') return '';
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  const text = new Date(time).toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
};

/**
 * A deletion a hold stops, as the holds table shows it: `suspended-account (ALL-3), due since
 * 2026-11-01 00:00 UTC` when it is due now, `… due 2028-11-01 00:00 UTC` when it falls due later.
 */
export const heldDeletionText = (held: HeldDeletion): string =>
  `${held.dataClass} (${held.ruleRef}), due ${held.due ? 'since ' : ''}${formatInstant(held.dueAt)}`;

/** The note of a request holds keep back: `held by hold_1 since 2026-11-25 08:00 UTC`. */
export const heldByText = (row: Pick<RequestRow, 'blockedBy' | 'blockedSince'>): string =>
  `held by ${row.blockedBy.join(', ')}${row.blockedSince === undefined ? '' : ` since ${formatInstant(row.blockedSince)}`}`;

/** `partially_failed` → `partially failed`. */
export const statusText = (status: string): string => status.replaceAll('_', ' ');

export const BUCKET_LABELS: Readonly<Record<DeadlineBucket, string>> = {
  overdue: 'Overdue',
  '0-7': '0–7 days',
  '8-14': '8–14 days',
  '15-21': '15–21 days',
  '22-30': '22–30 days',
  '31+': '31+ days',
};

export interface BarSeries {
  readonly label: string;
  readonly values: readonly number[];
}

export interface ChartData {
  readonly labels: readonly string[];
  readonly series: readonly BarSeries[];
}

/** Open requests by days to deadline: the six buckets in their fixed order (a missing one counts 0). */
export const deadlineChart = (report: DeadlinesReport): ChartData => {
  const counts = new Map(report.byDaysToDeadline.map((bucket) => [bucket.bucket, bucket.count]));
  return {
    labels: DEADLINE_BUCKETS.map((bucket) => BUCKET_LABELS[bucket]),
    series: [{ label: 'Open requests', values: DEADLINE_BUCKETS.map((bucket) => counts.get(bucket) ?? 0) }],
  };
};

/** Every month from `from` to `to` (YYYY-MM, inclusive); at most 120 so a bad answer cannot hang the page. */
export const monthsBetween = (from: string, to: string): string[] => {
  const months: string[] = [];
  let [year, month] = from.split('-').map(Number) as [number, number];
  const end = to;
  while (months.length < 120) {
    const current = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
    if (current > end) break;
    months.push(current);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return months;
};

/** Erasures (deletions + anonymisations + restrictions) per month, one series per data class. */
export const erasureChart = (report: ErasuresReport): ChartData => {
  const fromRows = report.rows.map((row) => row.month);
  const months = [
    ...new Set([...monthsBetween(report.from, report.to), ...fromRows].filter((month) => month !== '')),
  ].sort();
  const classes = [...new Set(report.rows.map((row) => row.dataClass))].sort();
  const series = classes.map((dataClass) => {
    const perMonth = new Map<string, number>();
    for (const row of report.rows) {
      if (row.dataClass !== dataClass) continue;
      const erasures = row.deletions + row.anonymisations + row.restrictions;
      perMonth.set(row.month, (perMonth.get(row.month) ?? 0) + erasures);
    }
    return { label: dataClass, values: months.map((month) => perMonth.get(month) ?? 0) };
  });
  return { labels: months, series };
};

/** A chart's data as table rows (the chart's text alternative): one row per label. */
export const chartTable = (chart: ChartData): { header: string[]; rows: string[][] } => ({
  header: ['', ...chart.series.map((series) => series.label)],
  rows: chart.labels.map((label, index) => [
    label,
    ...chart.series.map((series) => String(series.values[index] ?? 0)),
  ]),
});

/** The verification mark of a subject's chain: ok or broken, and the facts behind it, in words. */
export const verificationMark = (
  answer: VerificationAnswer,
): { ok: boolean; title: string; detail: string } => {
  const chain = answer.verification;
  if (!chain.ok) return { ok: false, title: 'Chain broken', detail: chain.message };
  if (!answer.anchors.ok) {
    return {
      ok: false,
      title: 'Anchors broken',
      detail: answer.anchors.message ?? 'the anchor chain does not verify',
    };
  }
  const entries = `${chain.length} entr${chain.length === 1 ? 'y' : 'ies'}, hashes intact`;
  const anchored =
    chain.anchor === undefined
      ? 'not anchored yet'
      : `anchored in anchor ${chain.anchor.anchorSeq}${chain.unanchored > 0 ? `, ${chain.unanchored} newer entries not yet anchored` : ''}`;
  return { ok: true, title: 'Verified', detail: `${entries}; ${anchored}` };
};

/** `a, b  c` → `['a', 'b', 'c']`: the data classes typed into a field. */
export const parseList = (text: string): string[] =>
  text
    .split(/[\s,;]+/)
    .map((item) => item.trim())
    .filter((item) => item !== '');

/** `{a: 1, b: 'x'}` → `a=1 b=x`: an audit entry's small facts on one line. */
export const detailText = (
  detail: Readonly<Record<string, string | number | boolean>> | undefined,
): string =>
  detail === undefined
    ? ''
    : Object.entries(detail)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ');

// --- erasure preview -------------------------------------------------------------------------------

/**
 * The identifiers field of the preview form: one `name=value` a line; a name given on several
 * lines is a multi-valued identifier. Blank lines are skipped; a line without a name or `=` is a
 * problem named by its line number (the page shows it and sends nothing).
 */
export const parseIdentifiers = (
  text: string,
): { readonly identifiers: Record<string, string | string[]>; readonly problems: readonly string[] } => {
  const values = new Map<string, string[]>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const at = line.indexOf('=');
    const name = at < 0 ? '' : line.slice(0, at).trim();
    const value = at < 0 ? '' : line.slice(at + 1).trim();
    if (name === '' || value === '') {
      problems.push(`line ${index + 1}: expected name=value`);
      return;
    }
    values.set(name, [...(values.get(name) ?? []), value]);
  });
  const identifiers: Record<string, string | string[]> = {};
  for (const [name, list] of values) identifiers[name] = list.length === 1 ? (list[0] as string) : list;
  return { identifiers, problems };
};

/** One line of the preview table: a planned task, or a target the request cannot address. */
export interface PreviewRow {
  readonly target: string;
  readonly connector: string;
  readonly action: string;
  readonly dataClasses: readonly string[];
  readonly outcome: 'erase' | 'withheld' | 'blocked' | 'unaddressed';
  /** The outcome in words, with the holds or the reason. */
  readonly outcomeText: string;
  /** `12 object versions`, `at least 412000 object versions (counting stopped at the time limit)`, or `unknown: …` with the reason. */
  readonly countText: string;
  readonly known: boolean;
}

const UNITS: Readonly<Record<string, readonly [string, string]>> = {
  'object-versions': ['object version', 'object versions'],
  items: ['item', 'items'],
  records: ['record', 'records'],
};

/** `1 item`, `12 object versions`; an unknown unit as the API names it. */
export const countText = (count: number, unit: string | undefined): string => {
  const [one, many] = UNITS[unit ?? ''] ?? [unit ?? '', unit ?? ''];
  return `${count}${many === '' ? '' : ` ${count === 1 ? one : many}`}`;
};

const UNKNOWN_REASONS: Readonly<Record<string, string>> = {
  'not-supported': 'its connector cannot count',
  'not-counted': 'not counted',
  error: 'the read failed',
};

const outcomeText = (task: ErasurePreview['targets'][number]): string => {
  if (task.outcome === 'blocked') {
    const holds = task.blockedBy ?? [];
    return holds.length === 0 ? 'Blocked' : `Blocked by ${holds.join(', ')}`;
  }
  if (task.outcome === 'withheld')
    return task.reason === 'unpaid-invoice' ? 'Withheld: unpaid invoice (ALE-2)' : 'Withheld';
  return 'Would be erased';
};

/** The preview table: each planned task in the API's order, then the targets it cannot address. */
export const previewRows = (preview: ErasurePreview): PreviewRow[] => [
  ...preview.targets.map((task): PreviewRow => {
    const reason = task.unknown?.reason ?? 'not-counted';
    const why = UNKNOWN_REASONS[reason] ?? reason;
    return {
      target: task.target,
      connector: task.connector,
      action: task.action,
      dataClasses: task.dataClasses,
      outcome: task.outcome,
      outcomeText: outcomeText(task),
      countText:
        task.count === null
          ? `unknown: ${why}${task.unknown?.code === undefined ? '' : ` (${task.unknown.code})`}`
          : task.partial === true
            ? `at least ${countText(task.count, task.unit)} (counting stopped at the time limit)`
            : countText(task.count, task.unit),
      known: task.count !== null,
    };
  }),
  ...(preview.unaddressed ?? []).map(
    (item): PreviewRow => ({
      target: item.target,
      connector: '',
      action: '',
      dataClasses: [],
      outcome: 'unaddressed',
      outcomeText: `Unaddressed: no ${item.identifier} given or resolved`,
      countText: 'not counted',
      known: false,
    }),
  ),
];

const INTAKE: Readonly<Record<ErasurePreview['intake'], string>> = {
  dispatched: 'A real request now would be dispatched.',
  blocked: 'A real request now would be stored but blocked by legal holds (ALM-3) until they are released.',
  refused: 'A real request now would be refused: every class asked for is withheld (ALE-2).',
};

/** The sentences under the table: the totals and what intake would answer. */
export const previewSummary = (
  preview: ErasurePreview,
): { readonly totals: string; readonly intake: string } => {
  const { erase, blocked, withheld, unknown, partial = 0 } = preview.totals;
  const without = unknown === 0 ? '' : `; ${unknown} ${unknown === 1 ? 'task' : 'tasks'} without a count`;
  const inPart =
    partial === 0
      ? ''
      : ` ${partial === 1 ? 'One task was' : `${partial} tasks were`} counted only in part, as far as the time limit allowed: these are lower bounds.`;
  return {
    totals: `Of the known counts, ${erase} would be erased, ${blocked} blocked and ${withheld} withheld${without}.${inPart}`,
    intake: INTAKE[preview.intake] ?? `A real request now would be ${preview.intake}.`,
  };
};
