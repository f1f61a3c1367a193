/**
 * The compliance reports' domain: where a request stands against its ALU-3 deadline, the ALE-5
 * erasure counts, what is due next, what each hold protects, and the reports' CSV.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deadlineWithin, MS_PER_DAY } from '../../domain/erasure/deadline.js';
import type { ErasureRequest, RequestStatus } from '../../domain/erasure/types.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import type { DueItem } from '../../domain/ports/index.js';
import {
  DEADLINE_BUCKETS,
  DEADLINES_CSV_COLUMNS,
  daysToDeadline,
  deadlineBucket,
  deadlineReport,
  deadlinesCsv,
  type ErasureCountRow,
  erasureRuleRef,
  erasureTally,
  failureRows,
  failuresCsv,
  holdRows,
  holdsCsv,
  reportMonths,
  sumErasureCounts,
  sumTallies,
  TALLY_SHARDS,
  upcomingDays,
  upcomingRows,
  upcomingUntil,
} from '../../domain/reports/index.js';
import { scheduleApply, scheduleEvent, scheduleHold, validationErrorOf } from '../helpers/factories.js';

const NOW = '2026-11-30T12:00:00.000Z';
const NOW_MS = Date.parse(NOW);
const iso = (ms: number) => new Date(ms).toISOString();

const request = (overrides: Partial<ErasureRequest> = {}): ErasureRequest => ({
  requestId: 'req_1',
  subjectId: 'subject-1',
  origin: 'api',
  dataClasses: ['closed-account'],
  reason: 'gdpr-art17-request',
  status: 'dispatched',
  receivedAt: '2026-11-20T12:00:00.000Z',
  deadline: '2026-12-20T12:00:00.000Z',
  taskCount: 1,
  verifiedCount: 0,
  failedCount: 0,
  ...overrides,
});

/** A deadline within ±120 days of NOW, to the millisecond. */
const offsetMs = fc.integer({ min: -120 * MS_PER_DAY, max: 120 * MS_PER_DAY });
const OPEN: readonly RequestStatus[] = ['received', 'blocked', 'dispatched', 'partially_failed'];
const ANY: readonly RequestStatus[] = [...OPEN, 'completed', 'partially_failed', 'rejected', 'cancelled'];

describe('daysToDeadline and its buckets', () => {
  it('ALU-3: whole days rounded down, negative exactly when the deadline has passed', () => {
    fc.assert(
      fc.property(offsetMs, (offset) => {
        const days = daysToDeadline(iso(NOW_MS + offset), NOW);
        expect(days * MS_PER_DAY).toBeLessThanOrEqual(offset);
        expect(offset).toBeLessThan((days + 1) * MS_PER_DAY);
        expect(days < 0).toBe(offset < 0);
        expect(deadlineBucket(days) === 'overdue').toBe(offset < 0);
      }),
    );
  });

  it('puts every number of days in one bucket, in the order of the buckets', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), (a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        expect(DEADLINE_BUCKETS.indexOf(deadlineBucket(low))).toBeLessThanOrEqual(
          DEADLINE_BUCKETS.indexOf(deadlineBucket(high)),
        );
      }),
    );
    expect([-1, 0, 7, 8, 14, 15, 21, 22, 30, 31].map(deadlineBucket)).toEqual([
      'overdue',
      '0-7',
      '0-7',
      '8-14',
      '8-14',
      '15-21',
      '15-21',
      '22-30',
      '22-30',
      '31+',
    ]);
  });
});

describe('deadlineReport', () => {
  const requests = fc.array(
    fc.record({
      offset: offsetMs,
      status: fc.constantFrom(...ANY),
      extended: fc.boolean(),
    }),
    { maxLength: 30 },
  );

  it('ALU-3: counts unfulfilled requests only (open or partially failed), every bucket once in order, summary as the rows say', () => {
    fc.assert(
      fc.property(requests, (drawn) => {
        const stored = drawn.map(({ offset, status, extended }, index) =>
          request({
            requestId: `req_${String(index).padStart(3, '0')}`,
            status,
            deadline: iso(NOW_MS + offset),
            ...(extended ? { deadlineExtension: { reason: 'complex-request', extendedAt: NOW } } : {}),
          }),
        );
        const report = deadlineReport(stored, NOW);
        const open = stored.filter((candidate) => OPEN.includes(candidate.status));
        expect(report.asOf).toBe(NOW);
        expect(report.summary.open).toBe(open.length);
        expect(report.byDaysToDeadline.map((row) => row.bucket)).toEqual([...DEADLINE_BUCKETS]);
        expect(report.byDaysToDeadline.reduce((sum, row) => sum + row.count, 0)).toBe(open.length);
        expect(report.summary.overdue).toBe(open.filter((candidate) => candidate.deadline < NOW).length);
        expect(report.summary.overdue).toBe(report.byDaysToDeadline[0]?.count);
        // The 7-day window is the sweep's (deadlineWithin), exact to the millisecond.
        expect(report.summary.dueWithin7Days).toBe(
          open.filter((candidate) => deadlineWithin(candidate, NOW, 7 * MS_PER_DAY)).length,
        );
        expect(report.summary.extended).toBe(report.requests.filter((row) => row.extended).length);
        const deadlines = report.requests.map((row) => row.deadline);
        expect(deadlines).toEqual([...deadlines].sort());
        for (const row of report.requests) expect(row.overdue).toBe(row.daysToDeadline < 0);
      }),
    );
  });

  it('ALU-3: a request on its deadline instant is due today, not overdue; a millisecond later it is', () => {
    const onTime = deadlineReport([request({ deadline: NOW })], NOW);
    const late = deadlineReport([request({ deadline: iso(NOW_MS - 1) })], NOW);
    expect(onTime.requests[0]).toMatchObject({ daysToDeadline: 0, overdue: false });
    expect(onTime.summary).toMatchObject({ overdue: 0, dueWithin7Days: 1 });
    expect(late.requests[0]).toMatchObject({ daysToDeadline: -1, overdue: true });
    expect(late.summary).toMatchObject({ overdue: 1, dueWithin7Days: 0 });
  });

  it('lists the holds that block a request, and no empty blockedBy', () => {
    const report = deadlineReport(
      [
        request({
          requestId: 'req_a',
          status: 'blocked',
          blockedBy: ['hold_1'],
          blockedAt: '2026-11-25T08:00:00.000Z',
        }),
        request({ requestId: 'req_b', blockedBy: [] }),
        // Dispatched once its hold was released: the stored blockedBy is a record, not a hold now.
        request({
          requestId: 'req_c',
          status: 'dispatched',
          blockedBy: ['hold_1'],
          blockedAt: '2026-11-25T08:00:00.000Z',
        }),
      ],
      NOW,
    );
    expect(report.requests[0]).toMatchObject({
      blockedBy: ['hold_1'],
      blockedSince: '2026-11-25T08:00:00.000Z',
    });
    expect(report.requests[1]).not.toHaveProperty('blockedBy');
    expect(report.requests[2]).toMatchObject({ requestId: 'req_c', status: 'dispatched' });
    expect(report.requests[2]).not.toHaveProperty('blockedBy');
    expect(report.requests[2]).not.toHaveProperty('blockedSince');
    expect(deadlinesCsv(report.requests).split('\r\n')[1]).toMatch(/,hold_1,2026-11-25T08:00:00\.000Z$/);
  });
});

describe('erasure counts (ALE-5)', () => {
  it('a scheduled deletion counts under its rule, an erasure request under ALU-3', () => {
    expect(erasureRuleRef({ origin: 'schedule', reason: 'retention:all-3' })).toBe('ALL-3');
    expect(erasureRuleRef({ origin: 'schedule', reason: 'retention:imou-2' })).toBe('IMOU-2');
    expect(erasureRuleRef({ origin: 'api', reason: 'gdpr-art17-request' })).toBe('ALU-3');
  });

  it('a tally is counted in the month of its verification, on a stable shard', () => {
    const tally = erasureTally({
      at: '2026-11-30T23:59:59.999Z',
      dataClass: 'cloud-video',
      ruleRef: 'IMOU-1',
      action: 'delete',
      items: 4,
      key: 'task_1',
    });
    expect(tally).toMatchObject({ month: '2026-11', items: 4 });
    expect(Number(tally.shard)).toBeLessThan(TALLY_SHARDS);
    expect(erasureTally({ ...tally, at: '2026-12-01T00:00:00.000Z', key: 'task_1' }).shard).toBe(tally.shard);
  });

  it('ALE-5: tallies committed together add up per counter item, and count what went in', () => {
    const tally = fc.record({
      at: fc.constantFrom('2026-11-02T00:00:00.000Z', '2026-12-02T00:00:00.000Z'),
      dataClass: fc.constantFrom('cloud-video', 'closed-account'),
      ruleRef: fc.constantFrom('ALL-1', 'IMOU-1'),
      action: fc.constantFrom('delete' as const, 'anonymise' as const),
      items: fc.nat(1000),
      key: fc.constantFrom('task_1', 'task_2', 'task_3', 'task_4'),
    });
    fc.assert(
      fc.property(fc.array(tally, { maxLength: 12 }), (inputs) => {
        // Prepare
        const tallies = inputs.map(erasureTally);
        const item = (t: (typeof tallies)[number]) =>
          JSON.stringify([t.shard, t.month, t.dataClass, t.ruleRef, t.action]);

        // Act
        const summed = sumTallies(tallies);

        // Assess
        expect(new Set(summed.map(item)).size).toBe(summed.length);
        for (const key of new Set(tallies.map(item))) {
          const of = (list: typeof tallies) => list.filter((t) => item(t) === key);
          const total = (list: typeof tallies, field: 'erasures' | 'items') =>
            of(list).reduce((sum, t) => sum + t[field], 0);
          expect(total(summed, 'erasures')).toBe(of(tallies).length);
          expect(total(summed, 'items')).toBe(total(tallies, 'items'));
        }
      }),
    );
  });

  it('ALE-5: the shards of a month, class and rule sum to the counts that went in', () => {
    const row = fc.record({
      month: fc.constantFrom('2026-10', '2026-11'),
      dataClass: fc.constantFrom('cloud-video', 'closed-account'),
      ruleRef: fc.constantFrom('ALL-1', 'IMOU-1'),
      deletions: fc.nat(50),
      anonymisations: fc.nat(50),
      restrictions: fc.nat(50),
      items: fc.nat(5000),
    });
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows: ErasureCountRow[]) => {
        const summed = sumErasureCounts(rows);
        const total = (list: readonly ErasureCountRow[], key: 'deletions' | 'items') =>
          list.reduce((sum, item) => sum + item[key], 0);
        expect(total(summed, 'deletions')).toBe(total(rows, 'deletions'));
        expect(total(summed, 'items')).toBe(total(rows, 'items'));
        const keys = summed.map((item) => `${item.month}|${item.dataClass}|${item.ruleRef}`);
        expect(new Set(keys).size).toBe(keys.length);
        expect(keys).toEqual([...keys].sort());
      }),
    );
  });

  it('months: the last 12 by default, inclusive, at most 36; a bad query names its field', () => {
    expect(reportMonths({}, NOW)).toEqual({ from: '2025-12', to: '2026-11' });
    expect(reportMonths({ from: '2026-01', to: '2026-01' }, NOW)).toEqual({ from: '2026-01', to: '2026-01' });
    expect(reportMonths({ to: '2026-03' }, NOW)).toEqual({ from: '2025-04', to: '2026-03' });
    expect(reportMonths({ from: '2024-01', to: '2026-12' }, NOW)).toEqual({ from: '2024-01', to: '2026-12' });
    expect(validationErrorOf(() => reportMonths({ from: '2023-12', to: '2026-12' }, NOW)).field).toBe('from');
    expect(validationErrorOf(() => reportMonths({ from: '2026-05', to: '2026-04' }, NOW)).field).toBe('from');
    expect(validationErrorOf(() => reportMonths({ from: '2026-13' }, NOW)).field).toBe('from');
    expect(validationErrorOf(() => reportMonths({ to: '26-01' }, NOW)).field).toBe('to');
  });

  it('any span of 1 to 36 months is answered, and any longer one refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: 80 }), (start, span) => {
        const month = (index: number) =>
          `${String(2000 + Math.floor(index / 12))}-${String((index % 12) + 1).padStart(2, '0')}`;
        const query = { from: month(start), to: month(start + span - 1) };
        if (span <= 36) expect(reportMonths(query, NOW)).toEqual(query);
        else expect(validationErrorOf(() => reportMonths(query, NOW)).field).toBe('from');
      }),
    );
  });
});

describe('upcoming', () => {
  const entry = (dataClass: string, ruleRef: string, dueAt: string): DueItem => ({
    kind: 'entry',
    entry: {
      subjectId: 'subject-1',
      dataClass,
      status: 'pending',
      action: 'delete',
      ruleRef,
      dueAt,
      trigger: { eventId: 'evt_1', type: 'account.closed', occurredAt: NOW },
      lastEvent: { eventId: 'evt_1', type: 'account.closed', occurredAt: NOW },
      lastChange: 'scheduled',
    } as never,
  });
  const notice = (dataClass: string, ruleRef: string, noticeAt: string): DueItem => ({
    kind: 'notice',
    subjectId: 'subject-2',
    dataClass,
    ruleRef,
    noticeAt,
    dueAt: '2027-03-01T00:00:00.000Z',
  });

  it('counts erasures and notices due within [now, until] per class and rule, with the first due time', () => {
    const until = upcomingUntil(NOW, 30);
    expect(until).toBe('2026-12-30T12:00:00.000Z');
    const rows = upcomingRows(
      [
        entry('closed-account', 'ALL-1', '2026-12-02T00:00:00.000Z'),
        entry('closed-account', 'ALL-1', '2026-12-01T00:00:00.000Z'),
        notice('inactive-account', 'IMOU-3', '2026-12-05T00:00:00.000Z'),
        entry('closed-account', 'ALL-1', '2027-01-05T00:00:00.000Z'),
        entry('cookies', 'ALL-4', '2026-11-01T00:00:00.000Z'),
      ],
      NOW,
      until,
    );
    expect(rows).toEqual([
      {
        dataClass: 'closed-account',
        ruleRef: 'ALL-1',
        deletions: 2,
        notices: 0,
        firstDueAt: '2026-12-01T00:00:00.000Z',
      },
      {
        dataClass: 'inactive-account',
        ruleRef: 'IMOU-3',
        deletions: 0,
        notices: 1,
        firstDueAt: '2026-12-05T00:00:00.000Z',
      },
    ]);
  });

  it('days: 1 to 366, default 30; anything else names `days`', () => {
    expect(upcomingDays(undefined)).toBe(30);
    expect(upcomingDays('1')).toBe(1);
    expect(upcomingDays('366')).toBe(366);
    for (const bad of ['0', '367', '-1', '1.5', 'x', '']) {
      expect(validationErrorOf(() => upcomingDays(bad)).field).toBe('days');
    }
  });
});

describe('holds and failures', () => {
  it('a hold protects every target its classes live in; one of every class, every target', () => {
    const open = [
      request({ requestId: 'req_b', status: 'blocked', blockedBy: ['hold-1'] }),
      request({ requestId: 'req_c', status: 'blocked', blockedBy: ['hold-2'] }),
      // Running again: what once held it back is no longer blocking it.
      request({ requestId: 'req_d', status: 'dispatched', blockedBy: ['hold-1'] }),
    ];
    const [classHold, everything] = holdRows(
      [
        scheduleHold({ holdId: 'hold-1', dataClasses: ['suspended-account'] }),
        scheduleHold({ holdId: 'hold-2', createdAt: '2027-02-01T00:00:00.000Z' }),
      ],
      BUILT_IN_CATALOG,
      open,
      [],
      NOW,
    );
    expect(classHold).toMatchObject({
      holdId: 'hold-1',
      dataClasses: ['suspended-account'],
      targets: ['customer-records', 'user-files'],
      blockedRequests: [{ requestId: 'req_b', status: 'blocked' }],
    });
    const allTargets = [...new Set(BUILT_IN_CATALOG.dataClasses.flatMap((policy) => policy.targets))].sort();
    expect(everything).toMatchObject({ dataClasses: [], targets: allTargets });
    expect(everything?.blockedRequests).toEqual([{ requestId: 'req_c', status: 'blocked' }]);
  });

  it('lists the scheduled deletions each hold keeps from running: due ones, and later ones due before its end', () => {
    // Prepare: suspended-account due 2026-11-01 (before NOW), customer-profile due 2028-11-01.
    const { schedule } = scheduleApply(BUILT_IN_CATALOG, [
      scheduleEvent('account.suspended', '2026-08-01'),
      scheduleEvent('contract.ended', '2026-11-01'),
    ]);
    const blocked = {
      ...schedule,
      entries: schedule.entries.map((entry) =>
        entry.dataClass === 'suspended-account' ? { ...entry, status: 'blocked' as const } : entry,
      ),
    };
    const other = {
      subjectId: 'subject-2',
      entries: schedule.entries.map((e) => ({ ...e, subjectId: 'subject-2', status: 'dispatched' as const })),
    };
    const holds = [
      // Covers customer-records, where customer-profile lives too.
      scheduleHold({ holdId: 'hold-1', dataClasses: ['suspended-account'], createdAt: NOW }),
      // Every class, but ends before customer-profile is due.
      scheduleHold({ holdId: 'hold-2', until: '2027-06-01T00:00:00.000Z', createdAt: NOW }),
      // Another subject, whose deletions have all run.
      scheduleHold({ holdId: 'hold-3', subjectId: 'subject-2', createdAt: NOW }),
    ];

    // Act
    const [one, two, three] = holdRows(holds, BUILT_IN_CATALOG, [], [blocked, other], NOW);

    // Assess
    const suspended = {
      dataClass: 'suspended-account',
      ruleRef: 'ALL-3',
      action: 'delete',
      dueAt: '2026-11-01T00:00:00.000Z',
      due: true,
    };
    expect(one?.heldDeletions).toEqual([
      suspended,
      {
        dataClass: 'customer-profile',
        ruleRef: 'ALE-1',
        action: 'delete',
        dueAt: '2028-11-01T00:00:00.000Z',
        due: false,
      },
    ]);
    expect(two?.heldDeletions).toEqual([suspended]);
    expect(three?.heldDeletions).toEqual([]);
  });

  it('lists partially failed requests with their failed tasks only', () => {
    const failed = request({ requestId: 'req_f', status: 'partially_failed', redriveCount: 1 });
    const task = {
      requestId: 'req_f',
      subjectId: 'subject-1',
      dataClass: 'closed-account',
      action: 'delete' as const,
      connector: 'http-webhook',
      attempts: 5,
      affectedCount: 0,
    };
    const rows = failureRows([
      {
        request: failed,
        tasks: [
          {
            ...task,
            taskId: 't2',
            target: 'partner-services',
            status: 'failed',
            errorCode: 'retries-exhausted',
            failedAt: NOW,
          },
          { ...task, taskId: 't1', target: 'user-files', status: 'verified' },
        ],
      },
      { request: request({ requestId: 'req_ok', status: 'completed' }), tasks: [] },
    ]);
    expect(rows).toEqual([
      {
        requestId: 'req_f',
        origin: 'api',
        dataClasses: ['closed-account'],
        receivedAt: failed.receivedAt,
        deadline: failed.deadline,
        redriveCount: 1,
        failedTasks: [
          {
            taskId: 't2',
            target: 'partner-services',
            dataClass: 'closed-account',
            action: 'delete',
            attempts: 5,
            errorCode: 'retries-exhausted',
            failedAt: NOW,
          },
        ],
      },
    ]);
    expect(failuresCsv(rows)).toBe(
      'requestId,taskId,target,dataClass,action,attempts,errorCode,failedAt,deadline\r\n' +
        `req_f,t2,partner-services,closed-account,delete,5,retries-exhausted,${NOW},${failed.deadline}\r\n`,
    );
  });
});

describe('report CSV (RFC 4180)', () => {
  it('has the documented header, CRLF ends, lists joined with ; and fields quoted when needed', () => {
    const report = deadlineReport(
      [
        request({
          dataClasses: ['closed-account', 'cloud-video'],
          status: 'blocked',
          blockedBy: ['h1', 'h2'],
        }),
      ],
      NOW,
    );
    const csv = deadlinesCsv(report.requests);
    expect(csv.split('\r\n')[0]).toBe(DEADLINES_CSV_COLUMNS.join(','));
    expect(csv).toBe(
      'requestId,status,origin,dataClasses,receivedAt,deadline,daysToDeadline,overdue,extended,blockedBy,blockedSince\r\n' +
        'req_1,blocked,api,closed-account;cloud-video,2026-11-20T12:00:00.000Z,2026-12-20T12:00:00.000Z,20,false,false,h1;h2,\r\n',
    );
    const quoted = holdsCsv([
      {
        holdId: 'h1',
        subjectId: 'odd,"id"',
        dataClasses: [],
        reason: 'litigation',
        placedAt: NOW,
        targets: ['a'],
        identifiers: ['email', 'deviceId'],
        blockedRequests: [],
        heldDeletions: [
          { dataClass: 'cloud-video', ruleRef: 'IMOU-3', action: 'delete', dueAt: NOW, due: true },
          {
            dataClass: 'closed-account',
            ruleRef: 'ALE-1',
            action: 'delete',
            dueAt: '2027-01-01T00:00:00.000Z',
            due: false,
          },
        ],
      },
    ]);
    expect(quoted.split('\r\n')[1]).toBe(
      `h1,"odd,""id""",,litigation,${NOW},,a,email;deviceId,,cloud-video@${NOW}:due;closed-account@2027-01-01T00:00:00.000Z`,
    );
  });

  it('writes a text cell a spreadsheet would run as a formula as text (a leading quote); numbers stay numbers', () => {
    const row = (subjectId: string) => ({
      holdId: 'h1',
      subjectId,
      dataClasses: [],
      reason: 'litigation',
      placedAt: NOW,
      targets: ['a'],
      identifiers: [],
      blockedRequests: [],
      heldDeletions: [],
    });
    const subjectCell = (subjectId: string) =>
      holdsCsv([row(subjectId)])
        .split('\r\n')[1]
        ?.split(',')[1];

    expect(subjectCell('=HYPERLINK("https://evil.test")')).toBe(`"'=HYPERLINK(""https://evil.test"")"`);
    for (const start of ['+1+2', '-1+2', '@SUM(1)']) expect(subjectCell(start)).toBe(`'${start}`);
    expect(subjectCell('customer-42')).toBe('customer-42');
    const overdue = deadlinesCsv(
      deadlineReport([request({ requestId: 'req_late', deadline: '2026-11-20T12:00:00.000Z' })], NOW)
        .requests,
    );
    expect(overdue.split('\r\n')[1]).toContain(',-10,true,');
  });
});
