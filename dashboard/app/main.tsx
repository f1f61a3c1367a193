/**
 * The compliance dashboard: open and failed requests against their deadlines, drill-down into a
 * request's tasks and audit entries and a subject's verified chain, legal holds, refusals,
 * extensions, re-drives, CSV and certificate downloads, and two charts. Every figure comes from
 * the API (same origin); a report route the API does not serve shows as "not available".
 */
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { call, config, describeFailure, download, type Query, type Result } from './api.js';
import { BarChart } from './chart.js';
import type {
  AuditPage,
  DeadlinesReport,
  ErasurePreview,
  ErasuresReport,
  FailuresReport,
  HoldsReport,
  RequestDetail,
  UpcomingReport,
  VerificationAnswer,
} from './contract.js';
import {
  deadlineChart,
  deadlineText,
  deadlineTone,
  detailText,
  distinctValues,
  erasureChart,
  filterRows,
  formatInstant,
  heldByText,
  heldDeletionText,
  NO_FILTERS,
  parseIdentifiers,
  parseList,
  previewRows,
  previewSummary,
  type RequestRow,
  type RowFilters,
  requestRows,
  statusText,
  verificationMark,
} from './format.js';

type Loadable<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'ok'; readonly data: T }
  /** The API answered 404 for the route: it does not serve this report (an older API). */
  | { readonly state: 'unavailable' }
  | { readonly state: 'error'; readonly message: string };

const loadableOf = <T,>(result: Result<T>, notFoundMeansUnavailable: boolean): Loadable<T> => {
  if (result.ok) return { state: 'ok', data: result.data };
  if (result.status === 404 && notFoundMeansUnavailable) return { state: 'unavailable' };
  return { state: 'error', message: describeFailure(result) };
};

const REPORT_CSV = ['deadlines', 'failures', 'holds', 'erasures', 'upcoming'] as const;

type Notice = { readonly tone: 'ok' | 'error'; readonly text: string } | undefined;

// --- small parts ---------------------------------------------------------------------------------

const Unavailable = ({ routes, hint }: { routes: readonly string[]; hint?: string }) => (
  <p class="unavailable" role="note">
    <strong>Not available on this API.</strong>{' '}
    {routes.map((route, index) => (
      <span key={route}>
        {index === 0 ? '' : index === routes.length - 1 ? ' and ' : ', '}
        <code>GET {route}</code>
      </span>
    ))}{' '}
    answered 404: this API version does not serve {routes.length === 1 ? 'this report' : 'these reports'} yet.
    {hint === undefined ? '' : ` ${hint}`}
  </p>
);

const Failure = ({ message }: { message: string }) => (
  <p class="failure" role="alert">
    <span aria-hidden="true">✖ </span>
    {message}
  </p>
);

/** A short list inline; a long one (a request for every class) as its count, opened on demand. */
const CompactList = ({ items, noun }: { items: readonly string[]; noun: string }) =>
  items.length <= 3 ? (
    <span>{items.join(', ')}</span>
  ) : (
    <details class="compact">
      <summary>
        {items.length} {noun}
      </summary>
      {items.join(', ')}
    </details>
  );

const Loading = () => <p class="muted">Loading…</p>;

/** What a report's panel shows until its data is there: 404 (with the panel's title), failure, loading. */
const reportState = (report: Loadable<unknown>, title: string, route: string) =>
  report.state === 'unavailable' ? (
    <>
      <h3>{title}</h3>
      <Unavailable routes={[route]} />
    </>
  ) : report.state === 'error' ? (
    <Failure message={report.message} />
  ) : report.state === 'loading' ? (
    <Loading />
  ) : undefined;

const StatusBadge = ({ status }: { status: string }) => (
  <span class={`badge status-${status}`}>{statusText(status)}</span>
);

const DeadlineCell = ({ row }: { row: Pick<RequestRow, 'daysToDeadline' | 'overdue'> }) => {
  const tone = deadlineTone(row);
  return (
    <span class={`deadline deadline-${tone}`}>
      {tone === 'overdue' ? (
        <span aria-hidden="true" class="icon">
          ⚠{' '}
        </span>
      ) : null}
      {deadlineText(row)}
    </span>
  );
};

const Field = (props: {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  hint?: string;
  required?: boolean;
  placeholder?: string;
}) => (
  <div class="field">
    <label for={props.id}>
      {props.label}
      {props.required ? <span class="required"> (required)</span> : null}
    </label>
    <input
      id={props.id}
      type="text"
      value={props.value}
      required={props.required}
      placeholder={props.placeholder}
      aria-describedby={props.hint === undefined ? undefined : `${props.id}-hint`}
      onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      autocomplete="off"
      spellcheck={false}
    />
    {props.hint === undefined ? null : (
      <span id={`${props.id}-hint`} class="hint">
        {props.hint}
      </span>
    )}
  </div>
);

/** The identifiers of a form: one `name=value` a line (`parseIdentifiers`), marked invalid while a line is not. */
const IdentifiersField = (props: {
  id: string;
  value: string;
  onInput: (value: string) => void;
  invalid: boolean;
  rows: number;
  hint: preact.ComponentChildren;
}) => (
  <div class="field">
    <label for={props.id}>Identifiers</label>
    <textarea
      id={props.id}
      rows={props.rows}
      value={props.value}
      placeholder={'email=ana@example.com\ndeviceId=CAM-0001'}
      aria-describedby={`${props.id}-hint`}
      aria-invalid={props.invalid}
      onInput={(event) => props.onInput((event.currentTarget as HTMLTextAreaElement).value)}
      autocomplete="off"
      spellcheck={false}
    />
    <span id={`${props.id}-hint`} class="hint">
      {props.hint}
    </span>
  </div>
);

/** One action that takes a reason code (reject, extend): its field, and a button enabled once it has one. */
const ReasonForm = (props: {
  readonly name: string;
  readonly id: string;
  readonly label: string;
  readonly placeholder: string;
  readonly value: string;
  readonly onInput: (value: string) => void;
  readonly enabled: boolean;
  readonly danger?: boolean;
  readonly button: string;
  readonly onSubmit: (code: string) => void;
}) => (
  <form
    class="inline-form"
    aria-label={props.name}
    onSubmit={(event) => {
      event.preventDefault();
      props.onSubmit(props.value.trim());
    }}
  >
    <Field
      id={props.id}
      label={props.label}
      value={props.value}
      onInput={props.onInput}
      placeholder={props.placeholder}
    />
    <button
      type="submit"
      {...(props.danger === true ? { class: 'danger' } : {})}
      disabled={!props.enabled || props.value.trim() === ''}
    >
      {props.button}
    </button>
  </form>
);

// --- overview ------------------------------------------------------------------------------------

const Summary = ({ deadlines }: { deadlines: Loadable<DeadlinesReport> }) => {
  if (deadlines.state !== 'ok') return null;
  const { summary } = deadlines.data;
  const cards: [string, number, string][] = [
    ['Open requests', summary.open, ''],
    ['Overdue', summary.overdue, summary.overdue > 0 ? 'alert' : ''],
    ['Due within 7 days', summary.dueWithin7Days, summary.dueWithin7Days > 0 ? 'warn' : ''],
    ['Extended', summary.extended, ''],
  ];
  return (
    <ul class="cards" aria-label="Deadline summary">
      {cards.map(([label, value, tone]) => (
        <li class={`card ${tone}`} key={label}>
          <span class="card-value">{value}</span>
          <span class="card-label">
            {tone === 'alert' ? <span aria-hidden="true">⚠ </span> : null}
            {label}
          </span>
        </li>
      ))}
    </ul>
  );
};

const BUCKET_COLOURS = ['#B42318', '#B54708', '#175CD3', '#175CD3', '#175CD3', '#667085'];

const Charts = ({
  deadlines,
  erasures,
  range,
  onRange,
}: {
  deadlines: Loadable<DeadlinesReport>;
  erasures: Loadable<ErasuresReport>;
  range: { from: string; to: string };
  onRange: (range: { from: string; to: string }) => void;
}) => {
  const deadlineData = useMemo(
    () => (deadlines.state === 'ok' ? deadlineChart(deadlines.data) : undefined),
    [deadlines],
  );
  const erasureData = useMemo(
    () => (erasures.state === 'ok' ? erasureChart(erasures.data) : undefined),
    [erasures],
  );
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  return (
    <div class="charts">
      <div class="panel" id="deadline-chart-panel">
        {reportState(deadlines, 'Open requests by days to deadline', '/v1/reports/deadlines') ??
          (deadlineData && (
            <BarChart
              id="deadline-chart"
              title="Open requests by days to deadline"
              data={deadlineData}
              barColours={BUCKET_COLOURS}
              yLabel="requests"
            />
          ))}
      </div>
      <div class="panel" id="erasure-chart-panel">
        {reportState(erasures, 'Erasures per month per data class', '/v1/reports/erasures') ??
          (erasureData && (
            <BarChart
              id="erasure-chart"
              title={`Erasures per month per data class (${erasures.state === 'ok' ? `${erasures.data.from} to ${erasures.data.to}` : ''})`}
              data={erasureData}
              stacked
              yLabel="erasures"
            />
          ))}
        <form
          class="inline-form"
          aria-label="Months of the erasures chart"
          onSubmit={(event) => {
            event.preventDefault();
            onRange({ from, to });
          }}
        >
          <Field id="erasures-from" label="From month" value={from} onInput={setFrom} placeholder="YYYY-MM" />
          <Field id="erasures-to" label="To month" value={to} onInput={setTo} placeholder="YYYY-MM" />
          <button type="submit">Show months</button>
        </form>
      </div>
    </div>
  );
};

// --- requests ------------------------------------------------------------------------------------

const RequestsTable = ({
  rows,
  onOpen,
}: {
  rows: readonly RequestRow[];
  onOpen: (requestId: string) => void;
}) => (
  <div class="table-scroll">
    <table class="data" id="requests-table">
      <caption class="visually-hidden">Open and partially failed requests, soonest deadline first</caption>
      <thead>
        <tr>
          <th scope="col">Request</th>
          <th scope="col">Status</th>
          <th scope="col">Data classes</th>
          <th scope="col">Received</th>
          <th scope="col">Deadline</th>
          <th scope="col">Time left</th>
          <th scope="col">Notes</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr
            key={row.requestId}
            class={row.overdue ? 'row-overdue' : undefined}
            data-request-id={row.requestId}
          >
            <th scope="row">
              <button type="button" class="link" onClick={() => onOpen(row.requestId)}>
                {row.requestId}
              </button>
            </th>
            <td>
              <StatusBadge status={row.status} />
            </td>
            <td>
              <CompactList items={row.dataClasses} noun="data classes" />
            </td>
            <td class="nowrap">{formatInstant(row.receivedAt)}</td>
            <td class="nowrap">{formatInstant(row.deadline)}</td>
            <td>
              <DeadlineCell row={row} />
            </td>
            <td class="notes">
              {/* Spaces between the tags: copied or read aloud, they are separate words. */}
              {row.extended ? <span class="tag">extended</span> : null}{' '}
              {row.blockedBy.length > 0 ? <span class="tag">{heldByText(row)}</span> : null}
              {row.failedTasks.map((task) => (
                <span class="tag tag-error" key={task.taskId}>
                  {task.target}: {task.errorCode}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

const Requests = ({
  deadlines,
  failures,
  onOpen,
}: {
  deadlines: Loadable<DeadlinesReport>;
  failures: Loadable<FailuresReport>;
  onOpen: (requestId: string) => void;
}) => {
  const [filters, setFilters] = useState<RowFilters>(NO_FILTERS);
  const [lookup, setLookup] = useState('');
  const rows = useMemo(
    () =>
      requestRows(
        deadlines.state === 'ok' ? deadlines.data : undefined,
        failures.state === 'ok' ? failures.data : undefined,
      ),
    [deadlines, failures],
  );
  const shown = filterRows(rows, filters);
  const statuses = distinctValues(rows, (row) => [row.status]);
  const classes = distinctValues(rows, (row) => row.dataClasses);
  const anyReport = deadlines.state === 'ok' || failures.state === 'ok';
  return (
    <section aria-labelledby="requests-heading" id="requests">
      <h2 id="requests-heading">Requests</h2>
      <form
        class="inline-form lookup"
        aria-label="Open a request by its id"
        onSubmit={(event) => {
          event.preventDefault();
          if (lookup.trim() !== '') onOpen(lookup.trim());
        }}
      >
        <Field
          id="lookup-request"
          label="Request id"
          value={lookup}
          onInput={setLookup}
          placeholder="req_…"
        />
        <button type="submit">Open request</button>
      </form>
      {deadlines.state === 'unavailable' || failures.state === 'unavailable' ? (
        <Unavailable
          routes={[
            ...(deadlines.state === 'unavailable' ? ['/v1/reports/deadlines'] : []),
            ...(failures.state === 'unavailable' ? ['/v1/reports/failures'] : []),
          ]}
          hint="Open a request by its id above; its tasks, audit entries and actions work all the same."
        />
      ) : null}
      {deadlines.state === 'error' ? <Failure message={deadlines.message} /> : null}
      {failures.state === 'error' ? <Failure message={failures.message} /> : null}
      {deadlines.state === 'loading' || failures.state === 'loading' ? <Loading /> : null}
      {anyReport ? (
        <>
          <form
            class="inline-form filters"
            aria-label="Filter requests"
            onSubmit={(event) => event.preventDefault()}
          >
            <div class="field">
              <label for="filter-status">Status</label>
              <select
                id="filter-status"
                value={filters.status}
                onChange={(event) =>
                  setFilters({ ...filters, status: (event.currentTarget as HTMLSelectElement).value })
                }
              >
                <option value="">Any status</option>
                {statuses.map((status) => (
                  <option value={status} key={status}>
                    {statusText(status)}
                  </option>
                ))}
              </select>
            </div>
            <div class="field">
              <label for="filter-class">Data class</label>
              <select
                id="filter-class"
                value={filters.dataClass}
                onChange={(event) =>
                  setFilters({ ...filters, dataClass: (event.currentTarget as HTMLSelectElement).value })
                }
              >
                <option value="">Any data class</option>
                {classes.map((dataClass) => (
                  <option value={dataClass} key={dataClass}>
                    {dataClass}
                  </option>
                ))}
              </select>
            </div>
            <div class="field checkbox">
              <input
                id="filter-overdue"
                type="checkbox"
                checked={filters.overdueOnly}
                onChange={(event) =>
                  setFilters({ ...filters, overdueOnly: (event.currentTarget as HTMLInputElement).checked })
                }
              />
              <label for="filter-overdue">Overdue only</label>
            </div>
            <button type="button" class="secondary" onClick={() => setFilters(NO_FILTERS)}>
              Clear filters
            </button>
          </form>
          <p class="muted" id="requests-count" aria-live="polite">
            {shown.length} of {rows.length} request{rows.length === 1 ? '' : 's'} shown
          </p>
          {shown.length > 0 ? <RequestsTable rows={shown} onOpen={onOpen} /> : null}
        </>
      ) : null}
    </section>
  );
};

// --- drill-down ----------------------------------------------------------------------------------

/** An entry's small facts: the first few on one line, all of them one click (or Enter) away. */
const Facts = ({ detail }: { detail: AuditPage['entries'][number]['detail'] }) => {
  const all = detailText(detail);
  const entries = Object.keys(detail ?? {}).length;
  if (entries <= 2) return <>{all}</>;
  return (
    <details>
      <summary>{detailText(Object.fromEntries(Object.entries(detail ?? {}).slice(0, 2)))} …</summary>
      {all}
    </details>
  );
};

const AuditTable = ({ entries, caption }: { entries: AuditPage['entries']; caption: string }) => (
  <div class="table-scroll">
    <table class="data audit">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">At</th>
          <th scope="col">Event</th>
          <th scope="col">Seq</th>
          <th scope="col">Task / target</th>
          <th scope="col">Rule</th>
          <th scope="col">Detail</th>
          <th scope="col">Hash</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr key={`${entry.chainId}:${entry.seq}`}>
            <td class="nowrap">{formatInstant(entry.at)}</td>
            <th scope="row">{entry.type}</th>
            <td class="num">{entry.seq}</td>
            <td>
              {entry.target ?? ''}
              {entry.taskId === undefined ? null : (
                <code class="id" title={entry.taskId}>
                  {entry.taskId}
                </code>
              )}
            </td>
            <td>{entry.ruleRef ?? ''}</td>
            <td class="detail">
              <Facts detail={entry.detail} />
            </td>
            <td>
              <code title={entry.hash}>{entry.hash.slice(0, 12)}…</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

const Verification = ({ notify }: { notify: (notice: Notice) => void }) => {
  const [subjectId, setSubjectId] = useState('');
  const [answer, setAnswer] = useState<Loadable<VerificationAnswer> | undefined>(undefined);
  const [chain, setChain] = useState<Loadable<AuditPage> | undefined>(undefined);
  const verify = async () => {
    const subject = subjectId.trim();
    if (subject === '') return;
    setAnswer({ state: 'loading' });
    const [verified, entries] = await Promise.all([
      call<VerificationAnswer>('GET', '/v1/audit/verification', { query: { subjectId: subject } }),
      call<AuditPage>('GET', '/v1/audit', { query: { subjectId: subject, limit: 100 } }),
    ]);
    setAnswer(loadableOf(verified, false));
    setChain(loadableOf(entries, false));
  };
  const mark = answer?.state === 'ok' ? verificationMark(answer.data) : undefined;
  return (
    <div class="panel" id="verification">
      <h3>The subject's audit chain</h3>
      <p class="muted">
        The trail holds pseudonyms only: enter the subject's id to read and verify its chain (hashes and
        anchors).
      </p>
      <form
        class="inline-form"
        aria-label="Verify a subject's audit chain"
        onSubmit={(event) => {
          event.preventDefault();
          void verify();
        }}
      >
        <Field id="verify-subject" label="Subject id" value={subjectId} onInput={setSubjectId} />
        <button type="submit">Verify chain</button>
        <button
          type="button"
          class="secondary"
          disabled={subjectId.trim() === ''}
          onClick={async () => {
            const problem = await download(
              '/v1/audit',
              { subjectId: subjectId.trim(), format: 'csv' },
              'text/csv',
              'audit-subject.csv',
            );
            notify(
              problem === undefined
                ? { tone: 'ok', text: 'Subject audit CSV downloaded' }
                : { tone: 'error', text: problem },
            );
          }}
        >
          Download chain CSV
        </button>
      </form>
      {answer?.state === 'loading' ? <Loading /> : null}
      {answer?.state === 'error' ? <Failure message={answer.message} /> : null}
      {mark === undefined ? null : (
        <p class={`mark ${mark.ok ? 'mark-ok' : 'mark-bad'}`} id="verification-mark" role="status">
          <span aria-hidden="true">{mark.ok ? '✔ ' : '✖ '}</span>
          <strong>{mark.title}</strong>: {mark.detail}
        </p>
      )}
      {chain?.state === 'ok' && chain.data.entries.length > 0 ? (
        <AuditTable
          entries={chain.data.entries}
          caption={`The subject's chain (${chain.data.entries.length} entries${chain.data.nextCursor === undefined ? '' : ', first page'})`}
        />
      ) : null}
    </div>
  );
};

const Detail = ({
  requestId,
  notify,
  onChanged,
}: {
  requestId: string;
  notify: (notice: Notice) => void;
  onChanged: () => void;
}) => {
  const [detail, setDetail] = useState<Loadable<RequestDetail>>({ state: 'loading' });
  const [audit, setAudit] = useState<Loadable<AuditPage>>({ state: 'loading' });
  const [legalReason, setLegalReason] = useState('');
  const [extendReason, setExtendReason] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const load = useCallback(async () => {
    const [found, entries] = await Promise.all([
      call<RequestDetail>('GET', `/v1/erasure-requests/${encodeURIComponent(requestId)}`),
      call<AuditPage>('GET', '/v1/audit', { query: { requestId, limit: 200 } }),
    ]);
    setDetail(loadableOf(found, false));
    setAudit(loadableOf(entries, false));
  }, [requestId]);
  useEffect(() => {
    setDetail({ state: 'loading' });
    void load();
    heading.current?.focus();
  }, [load]);
  const act = async (label: string, path: string, body: unknown) => {
    const result = await call('POST', `/v1/erasure-requests/${encodeURIComponent(requestId)}/${path}`, {
      body,
    });
    notify(
      result.ok
        ? { tone: 'ok', text: `${label}: done` }
        : { tone: 'error', text: `${label}: ${describeFailure(result)}` },
    );
    if (result.ok) {
      await load();
      onChanged();
    }
  };
  const save = async (what: string, path: string, query: Query, accept: string, fileName: string) => {
    const problem = await download(path, query, accept, fileName);
    notify(
      problem === undefined
        ? { tone: 'ok', text: `${what} downloaded` }
        : { tone: 'error', text: `${what}: ${problem}` },
    );
  };
  const request = detail.state === 'ok' ? detail.data : undefined;
  // What the API allows: IMOU-6 refuses a request nothing of which ran, or what is left of a
  // partially failed one; ALU-3 extends any not fulfilled.
  const rejectable =
    request !== undefined && ['received', 'blocked', 'partially_failed'].includes(request.status);
  const extendable =
    request !== undefined &&
    ['received', 'blocked', 'dispatched', 'partially_failed'].includes(request.status);
  const certificatePath = `/v1/erasure-requests/${encodeURIComponent(requestId)}/certificate`;
  return (
    <section aria-labelledby="detail-heading" id="detail" class="panel detail">
      <h2 id="detail-heading" tabIndex={-1} ref={heading}>
        Request {requestId}
      </h2>
      {detail.state === 'loading' ? <Loading /> : null}
      {detail.state === 'error' ? <Failure message={detail.message} /> : null}
      {request === undefined ? null : (
        <>
          <dl class="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <StatusBadge status={request.status} />
              </dd>
            </div>
            <div>
              <dt>Origin</dt>
              <dd>{request.origin}</dd>
            </div>
            <div>
              <dt>Reason</dt>
              <dd>{request.reason}</dd>
            </div>

            <div>
              <dt>Received</dt>
              <dd>{formatInstant(request.receivedAt)}</dd>
            </div>
            <div>
              <dt>Deadline</dt>
              <dd>
                {formatInstant(request.deadline)}
                {request.deadlineExtension === undefined
                  ? ''
                  : ` (extended: ${request.deadlineExtension.reason})`}
              </dd>
            </div>
            {request.completedAt === undefined ? null : (
              <div>
                <dt>Completed</dt>
                <dd>{formatInstant(request.completedAt)}</dd>
              </div>
            )}
            {request.rejection === undefined ? null : (
              <div>
                <dt>Rejected</dt>
                <dd>
                  {request.rejection.legalReason}, {formatInstant(request.rejection.rejectedAt)}
                </dd>
              </div>
            )}
            {request.blockedBy === undefined || request.blockedBy.length === 0 ? null : (
              <div>
                <dt>Held by</dt>
                <dd>{request.blockedBy.join(', ')}</dd>
              </div>
            )}
            <div class="wide">
              <dt>Data classes ({request.dataClasses.length})</dt>
              <dd class="tags">
                {request.dataClasses.map((dataClass) => (
                  <span class="tag" key={dataClass}>
                    {dataClass}
                  </span>
                ))}
              </dd>
            </div>
          </dl>

          <fieldset class="actions">
            <legend>Actions</legend>
            <p class="muted hint-line">
              Reject applies to a request nothing of which has run (received, blocked), or to what is left of
              a partially failed one; extend to one not fulfilled (received, blocked, dispatched, partially
              failed); re-drive to a partially failed one.
            </p>
            <ReasonForm
              name="Reject the request"
              id="reject-reason"
              label="Legal reason code"
              placeholder="gdpr-art17-3b-legal-obligation"
              value={legalReason}
              onInput={setLegalReason}
              enabled={rejectable}
              danger
              button="Reject request"
              onSubmit={(code) => void act('Reject', 'rejection', { legalReason: code })}
            />
            <ReasonForm
              name="Extend the deadline"
              id="extend-reason"
              label="Extension reason code"
              placeholder="complex-request"
              value={extendReason}
              onInput={setExtendReason}
              enabled={extendable}
              button="Extend deadline"
              onSubmit={(code) => void act('Extend deadline', 'deadline-extension', { reason: code })}
            />
            <div class="inline-form">
              <button
                type="button"
                disabled={request.status !== 'partially_failed'}
                onClick={() => void act('Re-drive', 'redrive', {})}
              >
                Re-drive failed tasks
              </button>
            </div>
          </fieldset>

          <fieldset class="downloads">
            <legend class="visually-hidden">Downloads</legend>
            <button
              type="button"
              class="secondary"
              onClick={() =>
                void save(
                  'Audit CSV',
                  '/v1/audit',
                  { requestId, format: 'csv' },
                  'text/csv',
                  `audit-${requestId}.csv`,
                )
              }
            >
              Audit CSV
            </button>
            <button
              type="button"
              class="secondary"
              disabled={request.status !== 'completed'}
              onClick={() =>
                void save(
                  'Certificate',
                  certificatePath,
                  {},
                  'application/json',
                  `certificate-${requestId}.json`,
                )
              }
            >
              Certificate (JSON)
            </button>
            <button
              type="button"
              class="secondary"
              disabled={request.status !== 'completed'}
              onClick={() =>
                void save(
                  'Certificate PDF',
                  certificatePath,
                  { format: 'pdf' },
                  'application/pdf',
                  `certificate-${requestId}.pdf`,
                )
              }
            >
              Certificate (PDF)
            </button>
          </fieldset>

          <div class="table-scroll">
            <table class="data" id="tasks-table">
              <caption>Tasks ({request.tasks.length})</caption>
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Data class</th>
                  <th scope="col">Action</th>
                  <th scope="col">Status</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Erased</th>
                  <th scope="col">Verified</th>
                  <th scope="col">Error / held by</th>
                </tr>
              </thead>
              <tbody>
                {request.tasks.map((task) => (
                  <tr key={task.taskId}>
                    <th scope="row">{task.target}</th>
                    <td>{task.dataClass}</td>
                    <td>{task.action}</td>
                    <td>
                      <StatusBadge status={task.status} />
                    </td>
                    <td class="num">{task.attempts}</td>
                    <td class="num">{task.deletedCount}</td>
                    <td class="nowrap">{formatInstant(task.verifiedAt)}</td>
                    <td>
                      {[task.error, ...(task.blockedBy ?? [])]
                        .filter((value) => value !== undefined)
                        .join(', ')}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {audit.state === 'error' ? <Failure message={audit.message} /> : null}
      {audit.state === 'ok' ? (
        <AuditTable
          entries={audit.data.entries}
          caption={`Audit entries of this request (${audit.data.entries.length}${audit.data.nextCursor === undefined ? '' : ', first page'})`}
        />
      ) : null}
    </section>
  );
};

// --- holds ---------------------------------------------------------------------------------------

interface PlacedHold {
  readonly holdId: string;
  readonly subjectId: string;
  readonly reason: string;
  readonly released: boolean;
}

const Holds = ({
  holds,
  notify,
  onChanged,
}: {
  holds: Loadable<HoldsReport>;
  notify: (notice: Notice) => void;
  onChanged: () => void;
}) => {
  const [subjectId, setSubjectId] = useState('');
  const [reason, setReason] = useState('litigation-hold');
  const [classes, setClasses] = useState('');
  const [until, setUntil] = useState('');
  const [identifiersText, setIdentifiersText] = useState('');
  const identifiers = useMemo(() => parseIdentifiers(identifiersText), [identifiersText]);
  const [releaseId, setReleaseId] = useState('');
  const [placed, setPlaced] = useState<PlacedHold[]>([]);
  // One key per hold being placed: a double click or a retry answers the same hold, not a second.
  // An edited form is another hold: a new key, so a placement whose answer was lost cannot make
  // every later try a 409.
  const [placeKey, setPlaceKey] = useState(() => crypto.randomUUID());
  useEffect(() => {
    setPlaceKey(crypto.randomUUID());
  }, [subjectId, reason, classes, until, identifiersText]);
  const release = async (holdId: string) => {
    const result = await call('DELETE', `/v1/legal-holds/${encodeURIComponent(holdId)}`);
    notify(
      result.ok
        ? { tone: 'ok', text: `Hold ${holdId} released` }
        : { tone: 'error', text: `Release ${holdId}: ${describeFailure(result)}` },
    );
    if (result.ok) {
      setPlaced((current) =>
        current.map((hold) => (hold.holdId === holdId ? { ...hold, released: true } : hold)),
      );
      onChanged();
    }
  };
  const place = async () => {
    if (identifiers.problems.length > 0) {
      notify({ tone: 'error', text: `Place hold: identifiers: ${identifiers.problems.join('; ')}` });
      return;
    }
    const dataClasses = parseList(classes);
    const result = await call<{ holdId: string }>('POST', '/v1/legal-holds', {
      body: {
        subjectId: subjectId.trim(),
        reason: reason.trim(),
        ...(dataClasses.length === 0 ? {} : { dataClasses }),
        ...(until.trim() === '' ? {} : { until: until.trim() }),
        ...(Object.keys(identifiers.identifiers).length === 0
          ? {}
          : { identifiers: identifiers.identifiers }),
      },
      idempotencyKey: placeKey,
    });
    if (!result.ok) {
      notify({ tone: 'error', text: `Place hold: ${describeFailure(result)}` });
      return;
    }
    notify({ tone: 'ok', text: `Hold ${result.data.holdId} placed` });
    setPlaced((current) =>
      current.some((hold) => hold.holdId === result.data.holdId)
        ? current
        : [
            {
              holdId: result.data.holdId,
              subjectId: subjectId.trim(),
              reason: reason.trim(),
              released: false,
            },
            ...current,
          ],
    );
    setPlaceKey(crypto.randomUUID());
    setSubjectId('');
    setIdentifiersText('');
    onChanged();
  };
  return (
    <section aria-labelledby="holds-heading" id="holds">
      <h2 id="holds-heading">Legal holds</h2>
      <div class="holds-forms">
        <form
          class="panel stacked-form"
          aria-labelledby="place-hold-heading"
          onSubmit={(event) => {
            event.preventDefault();
            void place();
          }}
        >
          <h3 id="place-hold-heading">Place a hold</h3>
          <Field id="hold-subject" label="Subject id" value={subjectId} onInput={setSubjectId} required />
          <Field id="hold-reason" label="Reason code" value={reason} onInput={setReason} required />
          <Field
            id="hold-classes"
            label="Data classes"
            value={classes}
            onInput={setClasses}
            hint="Comma-separated; leave empty to hold every class."
          />
          <Field
            id="hold-until"
            label="Until"
            value={until}
            onInput={setUntil}
            placeholder="2027-12-31T00:00:00Z"
            hint="ISO 8601 instant; leave empty for a hold without an end."
          />
          <IdentifiersField
            id="hold-identifiers"
            rows={2}
            value={identifiersText}
            onInput={setIdentifiersText}
            invalid={identifiers.problems.length > 0}
            hint={
              <>
                Optional: the subject's <code>name=value</code>, one a line. Data keyed by them is then
                protected from any subject's request, not only this subject's.
              </>
            }
          />
          <button type="submit" disabled={subjectId.trim() === '' || reason.trim() === ''}>
            Place hold
          </button>
        </form>
        <form
          class="panel stacked-form"
          aria-labelledby="release-hold-heading"
          onSubmit={(event) => {
            event.preventDefault();
            if (releaseId.trim() !== '') void release(releaseId.trim());
          }}
        >
          <h3 id="release-hold-heading">Release a hold by id</h3>
          <Field
            id="release-hold-id"
            label="Hold id"
            value={releaseId}
            onInput={setReleaseId}
            placeholder="hold_…"
          />
          <button type="submit" class="danger" disabled={releaseId.trim() === ''}>
            Release hold
          </button>
        </form>
      </div>
      {placed.length === 0 ? null : (
        <table class="data" id="placed-holds">
          <caption>Holds placed from this page</caption>
          <thead>
            <tr>
              <th scope="col">Hold</th>
              <th scope="col">Subject</th>
              <th scope="col">Reason</th>
              <th scope="col">State</th>
              <th scope="col">
                <span class="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {placed.map((hold) => (
              <tr key={hold.holdId}>
                <th scope="row">
                  <code>{hold.holdId}</code>
                </th>
                <td>{hold.subjectId}</td>
                <td>{hold.reason}</td>
                <td>{hold.released ? 'released' : 'active'}</td>
                <td>
                  {hold.released ? null : (
                    <button type="button" class="danger" onClick={() => void release(hold.holdId)}>
                      Release <span class="visually-hidden">{hold.holdId}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Active holds</h3>
      {holds.state === 'unavailable' ? (
        <Unavailable
          routes={['/v1/reports/holds']}
          hint="Holds placed from this page are listed above, to release."
        />
      ) : null}
      {holds.state === 'error' ? <Failure message={holds.message} /> : null}
      {holds.state === 'loading' ? <Loading /> : null}
      {holds.state === 'ok' && holds.data.holds.length === 0 ? <p class="muted">No active holds.</p> : null}
      {holds.state === 'ok' && holds.data.holds.length > 0 ? (
        <div class="table-scroll">
          <table class="data" id="holds-table">
            <caption class="visually-hidden">Active legal holds and what each blocks</caption>
            <thead>
              <tr>
                <th scope="col">Hold</th>
                <th scope="col">Subject</th>
                <th scope="col">Data classes</th>
                <th scope="col">Reason</th>
                <th scope="col">Placed, until</th>
                <th scope="col">Targets</th>
                <th
                  scope="col"
                  title="Identifiers whose values the hold names: their data is protected from any subject's request"
                >
                  Identifiers
                </th>
                <th scope="col">Blocks</th>
                <th scope="col" title="Scheduled deletions of the subject the hold keeps from running">
                  Stops deletions
                </th>
                <th scope="col">
                  <span class="visually-hidden">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {holds.data.holds.map((hold) => (
                <tr key={hold.holdId} data-hold-id={hold.holdId}>
                  <th scope="row">
                    <code>{hold.holdId}</code>
                  </th>
                  <td>{hold.subjectId}</td>
                  <td>
                    {hold.dataClasses.length === 0 ? (
                      'every class'
                    ) : (
                      <CompactList items={hold.dataClasses} noun="data classes" />
                    )}
                  </td>
                  <td>{hold.reason}</td>
                  <td class="nowrap">
                    {formatInstant(hold.placedAt)}
                    <br />
                    <span class="muted">
                      {hold.until === undefined ? 'no end' : `until ${formatInstant(hold.until)}`}
                    </span>
                  </td>
                  <td>
                    <CompactList items={hold.targets} noun="targets" />
                  </td>
                  <td>
                    {(hold.identifiers ?? []).length === 0 ? 'none' : (hold.identifiers ?? []).join(', ')}
                  </td>
                  <td class="wrap">
                    {hold.blockedRequests
                      .map((blocked) => `${blocked.requestId} (${statusText(blocked.status)})`)
                      .join(', ')}
                  </td>
                  <td class="wrap">
                    {(hold.heldDeletions ?? []).length === 0 ? (
                      'none'
                    ) : (
                      <CompactList
                        items={(hold.heldDeletions ?? []).map(heldDeletionText)}
                        noun="deletions"
                      />
                    )}
                  </td>
                  <td>
                    <button type="button" class="danger" onClick={() => void release(hold.holdId)}>
                      Release <span class="visually-hidden">{hold.holdId}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
};

// --- coming up -----------------------------------------------------------------------------------

/**
 * What the schedules will erase soon, and the advance notices (IMOU-3) due before it, per data
 * class and rule (`GET /v1/reports/upcoming`): what a compliance officer is asked before a
 * deletion run, or when a customer asks what is about to go.
 */
const Upcoming = ({ version }: { version: number }) => {
  const [days, setDays] = useState('30');
  const [shown, setShown] = useState('30');
  const [report, setReport] = useState<Loadable<UpcomingReport>>({ state: 'loading' });
  useEffect(() => {
    void (async () => {
      setReport({ state: 'loading' });
      const result = await call<UpcomingReport>('GET', '/v1/reports/upcoming', { query: { days: shown } });
      setReport(loadableOf(result, true));
    })();
  }, [shown, version]);
  const title = 'Erasures and notices coming up';
  return (
    <section aria-labelledby="upcoming-heading" id="upcoming">
      <h2 id="upcoming-heading">Coming up</h2>
      <form
        class="inline-form"
        aria-label="Days ahead"
        onSubmit={(event) => {
          event.preventDefault();
          setShown(days.trim());
        }}
      >
        <Field id="upcoming-days" label="Days ahead" value={days} onInput={setDays} hint="1 to 366." />
        <button type="submit" disabled={days.trim() === ''}>
          Show
        </button>
      </form>
      {reportState(report, title, '/v1/reports/upcoming') ??
        (report.state === 'ok' && report.data.rows.length === 0 ? (
          <p class="muted">Nothing is due until {formatInstant(report.data.until)}.</p>
        ) : report.state === 'ok' ? (
          <div class="table-scroll">
            <table class="data" id="upcoming-table">
              <caption>
                {title} until {formatInstant(report.data.until)}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Data class</th>
                  <th scope="col">Rule</th>
                  <th scope="col" class="num">
                    Erasures
                  </th>
                  <th scope="col" class="num">
                    Notices
                  </th>
                  <th scope="col">First due</th>
                </tr>
              </thead>
              <tbody>
                {report.data.rows.map((row) => (
                  <tr key={`${row.dataClass} ${row.ruleRef}`}>
                    <th scope="row">{row.dataClass}</th>
                    <td>{row.ruleRef}</td>
                    <td class="num">{row.deletions}</td>
                    <td class="num">{row.notices}</td>
                    <td class="nowrap">{formatInstant(row.firstDueAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null)}
    </section>
  );
};

// --- erasure preview -----------------------------------------------------------------------------

/**
 * A dry run of an erasure request (`POST /v1/erasure-previews`, allowed to the compliance role):
 * per target what it holds for the subject and whether a real request would erase, withhold or be
 * blocked. Nothing is changed but one `request.previewed` audit entry (counts only).
 */
const Preview = () => {
  const [subjectId, setSubjectId] = useState('');
  const [classes, setClasses] = useState('');
  const [reason, setReason] = useState('gdpr-art17-request');
  const [identifiersText, setIdentifiersText] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const [answer, setAnswer] = useState<{ preview: ErasurePreview; subjectId: string } | undefined>(undefined);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const parsed = useMemo(() => parseIdentifiers(identifiersText), [identifiersText]);
  const run = async () => {
    if (parsed.problems.length > 0) {
      setStatus(`Identifiers: ${parsed.problems.join('; ')}`);
      return;
    }
    const dataClasses = parseList(classes);
    setBusy(true);
    setStatus('Previewing…');
    const result = await call<ErasurePreview>('POST', '/v1/erasure-previews', {
      body: {
        subjectId: subjectId.trim(),
        reason: reason.trim(),
        ...(dataClasses.length === 0 ? {} : { dataClasses }),
        ...(Object.keys(parsed.identifiers).length === 0 ? {} : { identifiers: parsed.identifiers }),
      },
    });
    setBusy(false);
    if (!result.ok) {
      setAnswer(undefined);
      setFailure(`Preview: ${describeFailure(result)}`);
      setStatus('Preview failed.');
      return;
    }
    setFailure(undefined);
    setAnswer({ preview: result.data, subjectId: subjectId.trim() });
    const rows = previewRows(result.data);
    setStatus(
      `Preview ready: ${rows.length} ${rows.length === 1 ? 'target' : 'targets'}, ${
        rows.filter((row) => row.outcome === 'blocked').length
      } blocked. Nothing was changed.`,
    );
  };
  const rows = answer === undefined ? [] : previewRows(answer.preview);
  const summary = answer === undefined ? undefined : previewSummary(answer.preview);
  return (
    <section aria-labelledby="preview-heading" id="preview">
      <h2 id="preview-heading">Preview an erasure</h2>
      <p class="muted">
        What an erasure request for a subject would do now, per target, before anyone submits it. A preview
        changes nothing: no request, no task, nothing erased or sent to a partner.
      </p>
      <form
        class="panel stacked-form preview-form"
        aria-labelledby="preview-form-heading"
        onSubmit={(event) => {
          event.preventDefault();
          void run();
        }}
      >
        <h3 id="preview-form-heading" class="visually-hidden">
          Preview an erasure request
        </h3>
        <div class="preview-fields">
          <Field id="preview-subject" label="Subject id" value={subjectId} onInput={setSubjectId} required />
          <Field id="preview-reason" label="Reason code" value={reason} onInput={setReason} required />
          <Field
            id="preview-classes"
            label="Data classes"
            value={classes}
            onInput={setClasses}
            hint="Comma-separated; leave empty for every class."
          />
        </div>
        <IdentifiersField
          id="preview-identifiers"
          rows={3}
          value={identifiersText}
          onInput={setIdentifiersText}
          invalid={parsed.problems.length > 0}
          hint={
            <>
              Optional: one <code>name=value</code> a line; repeat a name for several values.
            </>
          }
        />
        <button type="submit" disabled={busy || subjectId.trim() === '' || reason.trim() === ''}>
          Preview erasure
        </button>
        <p class="preview-status" role="status" aria-live="polite" id="preview-status">
          {status}
        </p>
      </form>
      {failure === undefined ? null : <Failure message={failure} />}
      {answer === undefined || summary === undefined ? null : (
        <div class="preview-answer" id="preview-answer">
          <div class="table-scroll">
            <table class="data" id="preview-table">
              <caption>
                Erasure preview for {answer.subjectId} ({formatInstant(answer.preview.generatedAt)})
              </caption>
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Connector</th>
                  <th scope="col">Action</th>
                  <th scope="col">Data classes</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" class="num">
                    Count
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr
                    key={`${row.target}#${row.dataClasses.join('+')}#${row.outcome}`}
                    data-target={row.target}
                  >
                    <th scope="row">{row.target}</th>
                    <td>{row.connector === '' ? '—' : row.connector}</td>
                    <td>{row.action === '' ? '—' : row.action}</td>
                    <td>
                      {row.dataClasses.length === 0 ? (
                        '—'
                      ) : (
                        <CompactList items={row.dataClasses} noun="data classes" />
                      )}
                    </td>
                    <td>
                      <span class={`badge outcome-${row.outcome}`}>{row.outcomeText}</span>
                    </td>
                    <td class={row.known ? 'num' : 'num muted'}>{row.countText}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p id="preview-totals">
            <strong>Totals:</strong> {summary.totals} {summary.intake}
          </p>
          <p class="preview-unchanged" id="preview-unchanged">
            <span aria-hidden="true">ℹ </span>
            Nothing was changed: no request was stored, no task queued, nothing erased. The preview is
            recorded once in the audit trail as <code>request.previewed</code> ({answer.preview.previewId}),
            with counts only.
          </p>
        </div>
      )}
    </section>
  );
};

// --- the page ------------------------------------------------------------------------------------

const App = () => {
  const [deadlines, setDeadlines] = useState<Loadable<DeadlinesReport>>({ state: 'loading' });
  const [failures, setFailures] = useState<Loadable<FailuresReport>>({ state: 'loading' });
  const [holds, setHolds] = useState<Loadable<HoldsReport>>({ state: 'loading' });
  const [erasures, setErasures] = useState<Loadable<ErasuresReport>>({ state: 'loading' });
  const [range, setRange] = useState({ from: '', to: '' });
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<Notice>(undefined);
  // Bumped by each reload of the reports, so the panels that load their own report follow.
  const [version, setVersion] = useState(0);

  const loadReports = useCallback(async () => {
    setVersion((current) => current + 1);
    const report = <T,>(name: string, query: Query = {}) => call<T>('GET', `/v1/reports/${name}`, { query });
    const [d, f, h] = await Promise.all([
      report<DeadlinesReport>('deadlines'),
      report<FailuresReport>('failures'),
      report<HoldsReport>('holds'),
    ]);
    setDeadlines(loadableOf(d, true));
    setFailures(loadableOf(f, true));
    setHolds(loadableOf(h, true));
  }, []);
  const loadErasures = useCallback(async (months: { from: string; to: string }) => {
    const result = await call<ErasuresReport>('GET', '/v1/reports/erasures', {
      query: months.from !== '' && months.to !== '' ? { from: months.from, to: months.to } : {},
    });
    setErasures(loadableOf(result, true));
  }, []);
  useEffect(() => {
    void loadReports();
  }, [loadReports]);
  useEffect(() => {
    void loadErasures(range);
  }, [loadErasures, range]);

  const saveReport = async (name: string) => {
    const problem = await download(`/v1/reports/${name}`, { format: 'csv' }, 'text/csv', `${name}.csv`);
    setNotice(
      problem === undefined
        ? { tone: 'ok', text: `${name}.csv downloaded` }
        : { tone: 'error', text: `${name}.csv: ${problem}` },
    );
  };

  return (
    <>
      <a class="skip-link" href="#requests-heading">
        Skip to requests
      </a>
      <header class="top">
        <div>
          <h1>Erasure Orchestrator · Compliance</h1>
          <p class="muted">
            Connected to {config.apiLabel}
            {deadlines.state === 'ok' ? ` · reports as of ${formatInstant(deadlines.data.asOf)}` : ''}
          </p>
        </div>
        <button type="button" class="secondary" onClick={() => void loadReports()}>
          Refresh
        </button>
      </header>
      <div class={`notice ${notice?.tone ?? ''}`} role="status" aria-live="polite" id="notice">
        {notice === undefined ? null : (
          <>
            <span aria-hidden="true">{notice.tone === 'ok' ? '✔ ' : '✖ '}</span>
            {notice.text}
          </>
        )}
      </div>
      <main>
        <section aria-labelledby="overview-heading" id="overview">
          <h2 id="overview-heading">Deadlines and erasures</h2>
          <Summary deadlines={deadlines} />
          <Charts deadlines={deadlines} erasures={erasures} range={range} onRange={setRange} />
          <fieldset class="downloads">
            <legend class="visually-hidden">Report CSV downloads</legend>
            <span class="muted">Report CSV:</span>
            {REPORT_CSV.map((name) => (
              <button type="button" class="secondary" key={name} onClick={() => void saveReport(name)}>
                {name}.csv
              </button>
            ))}
          </fieldset>
        </section>
        <Requests deadlines={deadlines} failures={failures} onOpen={setSelected} />
        {selected === undefined ? null : (
          <Detail requestId={selected} notify={setNotice} onChanged={() => void loadReports()} />
        )}
        {/* Always here: an auditor's question often starts from a subject, not from a request. */}
        <section aria-labelledby="subject-proof-heading" id="subject-proof">
          <h2 id="subject-proof-heading">A subject's proof</h2>
          <Verification notify={setNotice} />
        </section>
        <Holds holds={holds} notify={setNotice} onChanged={() => void loadReports()} />
        <Upcoming version={version} />
        <Preview />
      </main>
    </>
  );
};

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
