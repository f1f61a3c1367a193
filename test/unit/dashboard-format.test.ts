/**
 * The dashboard's rendering of the reports, at its lowest layer: pure functions fed with answers
 * shaped exactly as the `/v1/reports/*` contract says. The browser test checks the page on a
 * running API; these hold whether or not that API serves the reports.
 */
import { describe, expect, it } from 'vitest';
import type {
  DeadlinesReport,
  ErasurePreview,
  ErasuresReport,
  FailuresReport,
  VerificationAnswer,
} from '../../dashboard/app/contract.js';
import {
  chartTable,
  countText,
  daysBetween,
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
  monthsBetween,
  NO_FILTERS,
  parseIdentifiers,
  parseList,
  previewRows,
  previewSummary,
  requestRows,
  verificationMark,
} from '../../dashboard/app/format.js';

const deadlines: DeadlinesReport = {
  asOf: '2026-11-30T12:00:00.000Z',
  summary: { open: 3, overdue: 1, dueWithin7Days: 1, extended: 1 },
  byDaysToDeadline: [
    { bucket: 'overdue', count: 1 },
    { bucket: '0-7', count: 1 },
    { bucket: '8-14', count: 0 },
    { bucket: '15-21', count: 0 },
    { bucket: '22-30', count: 1 },
    { bucket: '31+', count: 0 },
  ],
  requests: [
    {
      requestId: 'req_late',
      status: 'blocked',
      origin: 'api',
      dataClasses: ['customer-records'],
      receivedAt: '2026-10-20T09:00:00.000Z',
      deadline: '2026-11-19T09:00:00.000Z',
      daysToDeadline: -12,
      overdue: true,
      extended: false,
      blockedBy: ['hold_1'],
    },
    {
      requestId: 'req_soon',
      status: 'dispatched',
      origin: 'schedule',
      dataClasses: ['cloud-video'],
      receivedAt: '2026-11-05T09:00:00.000Z',
      deadline: '2026-12-05T09:00:00.000Z',
      daysToDeadline: 4,
      overdue: false,
      extended: false,
    },
    {
      requestId: 'req_far',
      status: 'received',
      origin: 'api',
      dataClasses: ['customer-records', 'cloud-video'],
      receivedAt: '2026-11-29T09:00:00.000Z',
      deadline: '2026-12-29T09:00:00.000Z',
      daysToDeadline: 28,
      overdue: false,
      extended: true,
    },
  ],
};

const failures: FailuresReport = {
  asOf: '2026-11-30T12:00:00.000Z',
  requests: [
    {
      requestId: 'req_failed',
      origin: 'api',
      dataClasses: ['user-files'],
      receivedAt: '2026-11-10T09:00:00.000Z',
      deadline: '2026-12-10T09:00:00.000Z',
      redriveCount: 0,
      failedTasks: [
        {
          taskId: 'task_1',
          target: 'user-files',
          dataClass: 'user-files',
          action: 'delete',
          attempts: 5,
          errorCode: 'AccessDenied',
          failedAt: '2026-11-10T10:00:00.000Z',
        },
      ],
    },
  ],
};

const erasures: ErasuresReport = {
  from: '2026-09',
  to: '2026-11',
  rows: [
    {
      month: '2026-09',
      dataClass: 'cloud-video',
      ruleRef: 'IMOU-1',
      deletions: 4,
      anonymisations: 0,
      restrictions: 0,
      items: 40,
    },
    {
      month: '2026-11',
      dataClass: 'cloud-video',
      ruleRef: 'IMOU-1',
      deletions: 2,
      anonymisations: 0,
      restrictions: 0,
      items: 9,
    },
    {
      month: '2026-11',
      dataClass: 'customer-records',
      ruleRef: 'ALL-1',
      deletions: 1,
      anonymisations: 2,
      restrictions: 0,
      items: 3,
    },
    {
      month: '2026-11',
      dataClass: 'customer-records',
      ruleRef: 'ALU-2',
      deletions: 0,
      anonymisations: 0,
      restrictions: 1,
      items: 1,
    },
  ],
};

describe('dashboard: the requests table', () => {
  it('lists open and partially failed requests once each, soonest deadline first', () => {
    const rows = requestRows(deadlines, failures);
    expect(rows.map((row) => row.requestId)).toEqual(['req_late', 'req_soon', 'req_failed', 'req_far']);
    const failed = rows.find((row) => row.requestId === 'req_failed');
    expect(failed).toMatchObject({
      status: 'partially_failed',
      daysToDeadline: 9,
      overdue: false,
      failedTasks: [{ taskId: 'task_1', target: 'user-files', errorCode: 'AccessDenied' }],
    });
    expect(rows[0]).toMatchObject({ overdue: true, blockedBy: ['hold_1'] });
    expect(heldByText({ blockedBy: rows[0]?.blockedBy ?? [] })).toBe('held by hold_1');
    expect(heldByText({ blockedBy: ['hold_1', 'hold_2'], blockedSince: '2026-11-25T08:00:00.000Z' })).toBe(
      'held by hold_1, hold_2 since 2026-11-25 08:00 UTC',
    );
  });

  it('a partially failed request both reports list keeps the deadlines row (its extension) and gains the failing tasks', () => {
    const [failedRequest] = failures.requests;
    if (failedRequest === undefined) throw new Error('no failed request');
    const listedToo = {
      ...deadlines,
      requests: [
        ...deadlines.requests,
        {
          requestId: failedRequest.requestId,
          status: 'partially_failed' as const,
          origin: failedRequest.origin,
          dataClasses: failedRequest.dataClasses,
          receivedAt: failedRequest.receivedAt,
          deadline: failedRequest.deadline,
          daysToDeadline: 9,
          overdue: false,
          extended: true,
        },
      ],
    };

    const rows = requestRows(listedToo, failures).filter((row) => row.requestId === failedRequest.requestId);

    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      extended: true,
      failedTasks: [{ taskId: 'task_1', target: 'user-files', errorCode: 'AccessDenied' }],
    });
  });

  it('shows what it has when an API serves one report and not the other', () => {
    expect(requestRows(undefined, failures).map((row) => row.requestId)).toEqual(['req_failed']);
    expect(requestRows(deadlines, undefined)).toHaveLength(3);
    expect(requestRows(undefined, undefined)).toEqual([]);
  });

  it('filters by status, data class and overdue, together', () => {
    const rows = requestRows(deadlines, failures);
    expect(filterRows(rows, NO_FILTERS)).toHaveLength(4);
    expect(
      filterRows(rows, { ...NO_FILTERS, status: 'partially_failed' }).map((row) => row.requestId),
    ).toEqual(['req_failed']);
    expect(filterRows(rows, { ...NO_FILTERS, dataClass: 'cloud-video' }).map((row) => row.requestId)).toEqual(
      ['req_soon', 'req_far'],
    );
    expect(filterRows(rows, { ...NO_FILTERS, overdueOnly: true }).map((row) => row.requestId)).toEqual([
      'req_late',
    ]);
    expect(filterRows(rows, { status: 'blocked', dataClass: 'cloud-video', overdueOnly: false })).toEqual([]);
    expect(distinctValues(rows, (row) => row.dataClasses)).toEqual([
      'cloud-video',
      'customer-records',
      'user-files',
    ]);
  });

  it('says a deadline in words, so colour is never the only sign of an overdue request', () => {
    expect(deadlineText({ daysToDeadline: -12, overdue: true })).toBe('Overdue by 12 days');
    expect(deadlineText({ daysToDeadline: -1, overdue: true })).toBe('Overdue by 1 day');
    // Floor of a deadline a few hours past: -1 day; one a few hours ahead: 0 days, due today.
    expect(deadlineText({ daysToDeadline: 0, overdue: true })).toBe('Overdue by 1 day');
    expect(deadlineText({ daysToDeadline: 0, overdue: false })).toBe('Due today');
    expect(deadlineText({ daysToDeadline: 1, overdue: false })).toBe('1 day left');
    expect(deadlineText({ daysToDeadline: 28, overdue: false })).toBe('28 days left');
    expect(deadlineTone({ daysToDeadline: -3, overdue: true })).toBe('overdue');
    expect(deadlineTone({ daysToDeadline: 7, overdue: false })).toBe('soon');
    expect(deadlineTone({ daysToDeadline: 8, overdue: false })).toBe('ok');
  });

  it('counts days to a deadline as the deadlines report does (floor)', () => {
    expect(daysBetween('2026-11-30T12:00:00Z', '2026-11-30T18:00:00Z')).toBe(0);
    expect(daysBetween('2026-11-30T12:00:00Z', '2026-11-30T06:00:00Z')).toBe(-1);
    expect(daysBetween('2026-11-30T12:00:00Z', '2026-12-30T12:00:00Z')).toBe(30);
  });
});

describe('dashboard: charts', () => {
  it('ALU-3: open requests by days to deadline, the six buckets in their order', () => {
    const chart = deadlineChart(deadlines);
    expect(chart.labels).toEqual([
      'Overdue',
      '0–7 days',
      '8–14 days',
      '15–21 days',
      '22–30 days',
      '31+ days',
    ]);
    expect(chart.series).toEqual([{ label: 'Open requests', values: [1, 1, 0, 0, 1, 0] }]);
    // A bucket the answer leaves out counts 0, and the order is the chart's, not the answer's.
    const shuffled = deadlineChart({
      ...deadlines,
      byDaysToDeadline: [
        { bucket: '31+', count: 5 },
        { bucket: 'overdue', count: 2 },
      ],
    });
    expect(shuffled.series[0]?.values).toEqual([2, 0, 0, 0, 0, 5]);
  });

  it('ALE-5: erasures per month, one series per data class, every month of the range', () => {
    const chart = erasureChart(erasures);
    expect(chart.labels).toEqual(['2026-09', '2026-10', '2026-11']);
    expect(chart.series).toEqual([
      { label: 'cloud-video', values: [4, 0, 2] },
      // Deletions, anonymisations and restrictions all count, across rule refs.
      { label: 'customer-records', values: [0, 0, 4] },
    ]);
    expect(chartTable(chart)).toEqual({
      header: ['', 'cloud-video', 'customer-records'],
      rows: [
        ['2026-09', '4', '0'],
        ['2026-10', '0', '0'],
        ['2026-11', '2', '4'],
      ],
    });
    expect(erasureChart({ from: '2026-01', to: '2026-02', rows: [] })).toEqual({
      labels: ['2026-01', '2026-02'],
      series: [],
    });
  });

  it('walks months across a year end, and stops on a range too long to be real', () => {
    expect(monthsBetween('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsBetween('2026-03', '2026-02')).toEqual([]);
    expect(monthsBetween('1900-01', '2999-12')).toHaveLength(120);
  });
});

describe('dashboard: values', () => {
  it('writes instants one way, in UTC', () => {
    expect(formatInstant('2026-11-21T12:00:00.000Z')).toBe('2026-11-21 12:00 UTC');
    expect(formatInstant('2026-11-21T13:30:00+01:00')).toBe('2026-11-21 12:30 UTC');
    expect(formatInstant(undefined)).toBe('');
    expect(formatInstant('not a date')).toBe('not a date');
  });

  it('says of each deletion a hold stops whether it is due now or later, with its rule', () => {
    const held = {
      dataClass: 'suspended-account',
      ruleRef: 'ALL-3',
      action: 'delete',
      dueAt: '2026-11-01T00:00:00.000Z',
    };
    expect(heldDeletionText({ ...held, due: true })).toBe(
      'suspended-account (ALL-3), due since 2026-11-01 00:00 UTC',
    );
    expect(heldDeletionText({ ...held, due: false })).toBe(
      'suspended-account (ALL-3), due 2026-11-01 00:00 UTC',
    );
  });

  it('marks a verified chain with its facts, and a broken one with its reason', () => {
    const ok: VerificationAnswer = {
      chainId: 'abc',
      verification: { ok: true, length: 5, headHash: 'h', anchor: { anchorSeq: 3 }, unanchored: 1 },
      anchors: { ok: true, count: 3 },
    };
    expect(verificationMark(ok)).toEqual({
      ok: true,
      title: 'Verified',
      detail: '5 entries, hashes intact; anchored in anchor 3, 1 newer entries not yet anchored',
    });
    expect(
      verificationMark({ ...ok, verification: { ok: true, length: 1, headHash: 'h', unanchored: 1 } }).detail,
    ).toBe('1 entry, hashes intact; not anchored yet');
    expect(
      verificationMark({
        ...ok,
        verification: { ok: false, seq: 2, problem: 'modified', message: 'Entry 2 does not match its hash' },
      }),
    ).toEqual({ ok: false, title: 'Chain broken', detail: 'Entry 2 does not match its hash' });
    expect(verificationMark({ ...ok, anchors: { ok: false, message: 'Anchor 2 is missing' } })).toMatchObject(
      {
        ok: false,
        title: 'Anchors broken',
      },
    );
  });

  it('reads a typed list of data classes, and an entry detail on one line', () => {
    expect(parseList(' customer-records, cloud-video;invoices  x ')).toEqual([
      'customer-records',
      'cloud-video',
      'invoices',
      'x',
    ]);
    expect(parseList('  ')).toEqual([]);
    expect(detailText({ attempts: 2, verified: true, code: 'x' })).toBe('attempts=2 verified=true code=x');
    expect(detailText(undefined)).toBe('');
  });
});

describe('the erasure preview', () => {
  const preview: ErasurePreview = {
    dryRun: true,
    previewId: 'prv_1',
    generatedAt: '2026-11-30T12:00:00.000Z',
    intake: 'blocked',
    targets: [
      {
        target: 'customer-records',
        connector: 'dynamodb-items',
        action: 'delete',
        dataClasses: ['closed-account'],
        outcome: 'blocked',
        reason: 'legal-hold',
        blockedBy: ['hold_a', 'hold_b'],
        count: 1,
        unit: 'items',
      },
      {
        target: 'user-files',
        connector: 's3-prefix',
        action: 'delete',
        dataClasses: ['closed-account'],
        outcome: 'erase',
        count: 12,
        unit: 'object-versions',
      },
      {
        target: 'billing',
        connector: 'dynamodb-items',
        action: 'anonymise',
        dataClasses: ['invoices'],
        outcome: 'withheld',
        reason: 'unpaid-invoice',
        count: 0,
        unit: 'records',
      },
      {
        target: 'partner-services',
        connector: 'http-webhook',
        action: 'delete',
        dataClasses: ['closed-account'],
        outcome: 'erase',
        count: null,
        unknown: { reason: 'not-supported' },
      },
      {
        target: 'alarm-events',
        connector: 'dynamodb-items',
        action: 'delete',
        dataClasses: ['closed-account'],
        outcome: 'erase',
        count: null,
        unknown: { reason: 'error', code: 'AccessDenied' },
      },
    ],
    unaddressed: [{ target: 'cloud-video', identifier: 'deviceId' }],
    totals: { erase: 12, blocked: 1, withheld: 0, unknown: 2, partial: 0 },
  };

  it('shows each task: the outcome in words with its holds or reason, the count with its unit or why it is unknown', () => {
    const rows = previewRows(preview);
    expect(rows.map((row) => [row.target, row.outcome, row.outcomeText, row.countText])).toEqual([
      ['customer-records', 'blocked', 'Blocked by hold_a, hold_b', '1 item'],
      ['user-files', 'erase', 'Would be erased', '12 object versions'],
      ['billing', 'withheld', 'Withheld: unpaid invoice (ALE-2)', '0 records'],
      ['partner-services', 'erase', 'Would be erased', 'unknown: its connector cannot count'],
      ['alarm-events', 'erase', 'Would be erased', 'unknown: the read failed (AccessDenied)'],
      ['cloud-video', 'unaddressed', 'Unaddressed: no deviceId given or resolved', 'not counted'],
    ]);
    expect(rows.map((row) => row.known)).toEqual([true, true, true, false, false, false]);
    expect(rows[0]).toMatchObject({
      connector: 'dynamodb-items',
      action: 'delete',
      dataClasses: ['closed-account'],
    });
  });

  it('counts in the unit the API names, singular for one', () => {
    expect(countText(1, 'object-versions')).toBe('1 object version');
    expect(countText(0, 'items')).toBe('0 items');
    expect(countText(3, 'rows')).toBe('3 rows');
    expect(countText(3, undefined)).toBe('3');
  });

  it('sums up the totals and what intake would answer', () => {
    expect(previewSummary(preview)).toEqual({
      totals: 'Of the known counts, 12 would be erased, 1 blocked and 0 withheld; 2 tasks without a count.',
      intake:
        'A real request now would be stored but blocked by legal holds (ALM-3) until they are released.',
    });
    expect(
      previewSummary({
        ...preview,
        intake: 'refused',
        totals: { erase: 0, blocked: 0, withheld: 4, unknown: 0, partial: 0 },
      }),
    ).toEqual({
      totals: 'Of the known counts, 0 would be erased, 0 blocked and 4 withheld.',
      intake: 'A real request now would be refused: every class asked for is withheld (ALE-2).',
    });
  });

  it('says a count that stopped at the time limit is a lower bound, in its row and under the table', () => {
    // Prepare: the user-files listing ran out of time after 412,000 object versions.
    const stopped: ErasurePreview = {
      ...preview,
      targets: preview.targets.map((task) =>
        task.target === 'user-files' ? { ...task, count: 412_000, partial: true } : task,
      ),
      totals: { ...preview.totals, erase: 412_000, partial: 1 },
    };

    // Act
    const rows = previewRows(stopped);

    // Assess
    expect(rows.find((row) => row.target === 'user-files')).toMatchObject({
      countText: 'at least 412000 object versions (counting stopped at the time limit)',
      known: true,
    });
    expect(previewSummary(stopped).totals).toBe(
      'Of the known counts, 412000 would be erased, 1 blocked and 0 withheld; 2 tasks without a count. ' +
        'One task was counted only in part, as far as the time limit allowed: these are lower bounds.',
    );
  });

  it('reads identifiers as name=value lines, a repeated name as several values, and names a broken line', () => {
    expect(parseIdentifiers('')).toEqual({ identifiers: {}, problems: [] });
    expect(parseIdentifiers('email = ana@example.com\n\ndeviceId=CAM-1\r\ndeviceId=CAM-2\nnote=a=b')).toEqual(
      {
        identifiers: { email: 'ana@example.com', deviceId: ['CAM-1', 'CAM-2'], note: 'a=b' },
        problems: [],
      },
    );
    expect(parseIdentifiers('email\n=x\nphone=').problems).toEqual([
      'line 1: expected name=value',
      'line 2: expected name=value',
      'line 3: expected name=value',
    ]);
  });
});
