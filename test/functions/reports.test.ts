/**
 * `GET /v1/reports/*` through the API handler over in-memory ports: each report in JSON and CSV
 * (by `format=csv` and by `Accept: text/csv`), built from what the use cases stored (requests,
 * holds, outcomes, schedules), and every bad query a 400 naming its field before anything is read.
 * The DynamoDB side (indexes kept on place/release/fail/re-drive, counters) is
 * test/integration/reports.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DEADLINES_CSV_COLUMNS,
  ERASURES_CSV_COLUMNS,
  FAILURES_CSV_COLUMNS,
  HOLDS_CSV_COLUMNS,
  UPCOMING_CSV_COLUMNS,
} from '../../domain/reports/index.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import {
  type ApiAnswer,
  bearer,
  callApi,
  SEEDED,
  seedApiState,
  seedCompletedRequest,
  sendSeededCallback,
  watchPorts,
} from '../helpers/api-handler.js';
import { HANDLER_NOW, type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const report = (
  built: HandlerDeps,
  name: string,
  query: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<ApiAnswer> =>
  callApi(built, {
    method: 'GET',
    path: `/v1/reports/${name}`,
    query,
    headers: { ...bearer('compliance'), ...headers },
  });

const seeded = async (): Promise<HandlerDeps> => {
  const built = handlerDeps();
  await seedApiState(built);
  return built;
};

/** An account.suspended event of `subjectId` (ALL-3: its deletion is due three months later). */
const suspend = (built: HandlerDeps, subjectId: string, occurredAt: string): Promise<ApiAnswer> =>
  callApi(built, {
    method: 'POST',
    path: '/v1/lifecycle-events',
    body: { subjectId, type: 'account.suspended', occurredAt },
    headers: bearer('service'),
  });

const csvLines = (answer: ApiAnswer) => answer.raw.split('\r\n').filter((line) => line !== '');

describe('GET /v1/reports/deadlines', () => {
  it('ALU-3: lists the requests not fulfilled with days to their deadline: open ones and partially failed ones, which are still owed', async () => {
    const built = await seeded();
    const answer = await report(built, 'deadlines');
    expect(answer.status).toBe(200);
    const row = (requestId: string, status: string) => ({
      requestId,
      status,
      origin: 'api',
      dataClasses: ['closed-account'],
      receivedAt: '2026-11-21T10:59:00.000Z',
      deadline: '2026-12-21T10:59:00.000Z',
      daysToDeadline: 29,
      overdue: false,
      extended: false,
    });
    expect(answer.body).toEqual({
      asOf: HANDLER_NOW,
      summary: { open: 2, overdue: 0, dueWithin7Days: 0, extended: 0 },
      byDaysToDeadline: [
        { bucket: 'overdue', count: 0 },
        { bucket: '0-7', count: 0 },
        { bucket: '8-14', count: 0 },
        { bucket: '15-21', count: 0 },
        { bucket: '22-30', count: 2 },
        { bucket: '31+', count: 0 },
      ],
      requests: [
        row(SEEDED.failedRequestId, 'partially_failed'),
        row(SEEDED.dispatchedRequestId, 'dispatched'),
      ],
    });
  });

  it("ALU-3: a partially failed request past its deadline is overdue, in the report and in the sweep's counts, until a re-drive completes it", async () => {
    const built = await seeded();
    const later = handlerDeps({ now: '2027-01-05T00:00:00.000Z' });
    later.ports.state = built.ports.state;

    const answer = await report(later, 'deadlines');
    const swept = await sweepDueDeletions(later.deps, '2027-01-05T00:00:00.000Z');

    expect(answer.body?.summary).toMatchObject({ open: 2, overdue: 2 });
    expect(answer.body?.requests).toEqual(
      expect.arrayContaining([expect.objectContaining({ requestId: SEEDED.failedRequestId, overdue: true })]),
    );
    expect(swept.overdue).toBe(2);
  });

  it('ALU-3: an extended deadline shows as extended, an overdue one as overdue', async () => {
    const built = await seeded();
    const extended = await callApi(built, {
      method: 'POST',
      path: `/v1/erasure-requests/${SEEDED.dispatchedRequestId}/deadline-extension`,
      body: { reason: 'complex-request' },
      headers: bearer('compliance'),
    });
    expect(extended.status).toBe(200);
    const later = handlerDeps({ now: '2027-03-01T00:00:00.000Z' });
    later.ports.state = built.ports.state;
    const answer = await report(later, 'deadlines');
    expect(answer.body?.summary).toEqual({ open: 2, overdue: 2, dueWithin7Days: 0, extended: 1 });
    expect(answer.body?.requests).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          requestId: SEEDED.dispatchedRequestId,
          overdue: true,
          extended: true,
          daysToDeadline: -10,
        }),
      ]),
    );
  });

  it('answers CSV for format=csv and for Accept: text/csv, one row per request', async () => {
    const built = await seeded();
    for (const answer of [
      await report(built, 'deadlines', { format: 'csv' }),
      await report(built, 'deadlines', {}, { accept: 'text/csv' }),
    ]) {
      expect(answer.status).toBe(200);
      expect(answer.headers?.['content-type']).toContain('text/csv');
      expect(answer.headers?.['content-disposition']).toBe('attachment; filename="deadlines.csv"');
      expect(csvLines(answer)).toEqual([
        DEADLINES_CSV_COLUMNS.join(','),
        `${SEEDED.failedRequestId},partially_failed,api,closed-account,2026-11-21T10:59:00.000Z,2026-12-21T10:59:00.000Z,29,false,false,,`,
        `${SEEDED.dispatchedRequestId},dispatched,api,closed-account,2026-11-21T10:59:00.000Z,2026-12-21T10:59:00.000Z,29,false,false,,`,
      ]);
    }
  });
});

describe('GET /v1/reports/holds', () => {
  it('lists active holds with the targets they protect, the requests they block and the scheduled deletions they stop; released ones leave', async () => {
    const built = await seeded();
    // Due 2026-11-01, before the handler's now: the hold below is what keeps it from running.
    expect((await suspend(built, 'subject-held', '2026-08-01T00:00:00Z')).status).toBe(202);
    const placed = await callApi(built, {
      method: 'POST',
      path: '/v1/legal-holds',
      body: { subjectId: 'subject-held', reason: 'litigation-2026-002', dataClasses: ['closed-account'] },
      headers: bearer('compliance'),
    });
    const holdId = String(placed.body?.holdId);
    const submitted = await callApi(built, {
      method: 'POST',
      path: '/v1/erasure-requests',
      body: { subjectId: 'subject-held', reason: 'gdpr-art17-request', dataClasses: ['closed-account'] },
      headers: { ...bearer('service'), 'idempotency-key': 'reports-held-1' },
    });
    expect(submitted.body?.status).toBe('blocked');
    // The deadlines report says since when holds have held it back.
    const deadlines = (await report(built, 'deadlines')).body?.requests as Record<string, unknown>[];
    expect(deadlines.find((row) => row.requestId === submitted.body?.requestId)).toMatchObject({
      blockedBy: [holdId],
      blockedSince: HANDLER_NOW,
    });
    const answer = await report(built, 'holds');
    expect(answer.body?.holds).toEqual([
      {
        holdId: SEEDED.holdId,
        subjectId: SEEDED.subjectId,
        dataClasses: ['customer-profile'],
        reason: 'litigation-2026-001',
        placedAt: '2026-11-01T00:00:00.000Z',
        targets: ['customer-records', 'partner-services'],
        identifiers: [],
        blockedRequests: [],
        // The seeded closed account's deletion: its data lives in customer-records too.
        heldDeletions: [
          {
            dataClass: 'closed-account',
            ruleRef: 'ALL-1',
            action: 'delete',
            dueAt: '2026-11-20T09:00:00.000Z',
            due: true,
          },
        ],
      },
      {
        holdId,
        subjectId: 'subject-held',
        dataClasses: ['closed-account'],
        reason: 'litigation-2026-002',
        placedAt: HANDLER_NOW,
        targets: expect.arrayContaining(['user-files']),
        identifiers: [],
        blockedRequests: [{ requestId: submitted.body?.requestId, status: 'blocked' }],
        heldDeletions: [
          {
            dataClass: 'suspended-account',
            ruleRef: 'ALL-3',
            action: 'delete',
            dueAt: '2026-11-01T00:00:00.000Z',
            due: true,
          },
        ],
      },
    ]);
    const csv = await report(built, 'holds', { format: 'csv' });
    expect(csvLines(csv)[0]).toBe(HOLDS_CSV_COLUMNS.join(','));
    expect(csvLines(csv)[2]).toContain(
      `${submitted.body?.requestId}:blocked,suspended-account@2026-11-01T00:00:00.000Z:due`,
    );

    await callApi(built, {
      method: 'DELETE',
      path: `/v1/legal-holds/${holdId}`,
      headers: bearer('compliance'),
    });
    const after = await report(built, 'holds');
    expect(((after.body?.holds ?? []) as { holdId: string }[]).map((hold) => hold.holdId)).toEqual([
      SEEDED.holdId,
    ]);
  });
});

describe('GET /v1/reports/failures', () => {
  it('lists partially failed requests with their failing tasks; a re-drive takes the request off', async () => {
    const built = await seeded();
    const answer = await report(built, 'failures');
    expect(answer.body?.requests).toEqual([
      {
        requestId: SEEDED.failedRequestId,
        origin: 'api',
        dataClasses: ['closed-account'],
        receivedAt: '2026-11-21T10:59:00.000Z',
        deadline: '2026-12-21T10:59:00.000Z',
        redriveCount: 0,
        failedTasks: [
          {
            taskId: SEEDED.failedTaskId,
            target: 'user-files',
            dataClass: 'closed-account',
            action: 'delete',
            attempts: 1,
            errorCode: 'permanent:AccessDenied',
            failedAt: '2026-11-21T11:30:00.000Z',
          },
        ],
      },
    ]);
    const csv = await report(built, 'failures', {}, { accept: 'text/csv' });
    expect(csvLines(csv)).toEqual([
      FAILURES_CSV_COLUMNS.join(','),
      `${SEEDED.failedRequestId},${SEEDED.failedTaskId},user-files,closed-account,delete,1,permanent:AccessDenied,2026-11-21T11:30:00.000Z,2026-12-21T10:59:00.000Z`,
    ]);
    const redriven = await callApi(built, {
      method: 'POST',
      path: `/v1/erasure-requests/${SEEDED.failedRequestId}/redrive`,
      headers: bearer('compliance'),
    });
    expect(redriven.status).toBe(202);
    expect((await report(built, 'failures')).body?.requests).toEqual([]);
  });
});

describe('IMOU-6: refusing what is left of a partially failed request', () => {
  it('ends it with the legal reason: off the failure and deadline reports, the subject forgotten, audited once; no certificate', async () => {
    const built = await seeded();
    const reject = () =>
      callApi(built, {
        method: 'POST',
        path: `/v1/erasure-requests/${SEEDED.failedRequestId}/rejection`,
        body: { legalReason: 'gdpr-art17-3b-legal-obligation' },
        headers: bearer('compliance'),
      });

    const answer = await reject();
    const again = await reject();

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      status: 'rejected',
      rejection: { legalReason: 'gdpr-art17-3b-legal-obligation', rejectedAt: HANDLER_NOW },
    });
    expect(again.status).toBe(200);
    expect((await report(built, 'failures')).body?.requests).toEqual([]);
    const open = (await report(built, 'deadlines')).body?.requests as { requestId: string }[];
    expect(open.map((request) => request.requestId)).not.toContain(SEEDED.failedRequestId);
    expect(built.ports.state.requests.get(SEEDED.failedRequestId)?.subjectId).toMatch(/^pseudonym:/);
    // Its failed task stays failed: the record says what was not erased.
    const failed = [...built.ports.state.tasks.values()].find((task) => task.taskId === SEEDED.failedTaskId);
    expect(failed?.status).toBe('failed');
    const rejections = built.ports.allEntries().filter((entry) => entry.type === 'request.rejected');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]?.detail).toMatchObject({ previousStatus: 'partially_failed', failedTasks: 1 });
    const certificate = await callApi(built, {
      method: 'GET',
      path: `/v1/erasure-requests/${SEEDED.failedRequestId}/certificate`,
      headers: bearer('compliance'),
    });
    expect(certificate.status).toBe(409);
    expect(certificate.body?.error?.code).toBe('no_certificate');
    expect(certificate.body?.error?.message).toBe(
      `Request ${SEEDED.failedRequestId} was rejected (IMOU-6) after a partial erasure: 1 task was not erased, so there is no certificate of erasure; the audit trail proves the tasks that were`,
    );
  });
});

describe('GET /v1/reports/erasures', () => {
  it('ALE-5: a verified task is counted once in its month under its rule, however often its outcome arrives', async () => {
    const built = await seedCompletedRequest();
    // The partner sends its answer again: the outcome is not counted twice (nor audited twice).
    const again = await sendSeededCallback(built);
    expect(again.status).toBe(200);
    const answer = await report(built, 'erasures', { from: '2026-11', to: '2026-11' });
    expect(answer.body).toEqual({
      from: '2026-11',
      to: '2026-11',
      rows: [
        {
          month: '2026-11',
          dataClass: 'closed-account',
          ruleRef: 'ALU-3',
          deletions: 1,
          anonymisations: 0,
          restrictions: 0,
          items: expect.any(Number),
        },
      ],
    });
    const csv = await report(built, 'erasures', { from: '2026-11', to: '2026-11', format: 'csv' });
    expect(csvLines(csv)[0]).toBe(ERASURES_CSV_COLUMNS.join(','));
    expect(csvLines(csv)[1]).toMatch(/^2026-11,closed-account,ALU-3,1,0,0,\d+$/);
    // Months without erasures have no rows; the default is the last 12 months.
    expect((await report(built, 'erasures', { from: '2026-01', to: '2026-10' })).body?.rows).toEqual([]);
    expect((await report(built, 'erasures')).body).toMatchObject({ from: '2025-12', to: '2026-11' });
  });
});

describe('GET /v1/reports/upcoming', () => {
  it('lists deletions due within the days asked, per data class and rule', async () => {
    const built = handlerDeps();
    expect((await suspend(built, 'subject-suspended', '2026-11-20T09:00:00Z')).status).toBe(202);
    expect((await report(built, 'upcoming')).body).toEqual({
      asOf: HANDLER_NOW,
      until: '2026-12-21T12:00:00.000Z',
      rows: [],
    });
    const answer = await report(built, 'upcoming', { days: '120' });
    expect(answer.body?.rows).toEqual([
      {
        dataClass: 'suspended-account',
        ruleRef: 'ALL-3',
        deletions: 1,
        notices: 0,
        firstDueAt: '2027-02-20T09:00:00.000Z',
      },
    ]);
    const csv = await report(built, 'upcoming', { days: '120', format: 'csv' });
    expect(csvLines(csv)).toEqual([
      UPCOMING_CSV_COLUMNS.join(','),
      'suspended-account,ALL-3,1,0,2027-02-20T09:00:00.000Z',
    ]);
  });
});

describe('a bad query', () => {
  it.each([
    ['deadlines', { format: 'xml' }, 'format'],
    ['holds', { format: 'pdf' }, 'format'],
    ['failures', { format: '' }, 'format'],
    ['erasures', { from: '2026-13' }, 'from'],
    ['erasures', { to: 'last-month' }, 'to'],
    ['erasures', { from: '2026-05', to: '2026-04' }, 'from'],
    ['erasures', { from: '2020-01', to: '2026-01' }, 'from'],
    ['upcoming', { days: '0' }, 'days'],
    ['upcoming', { days: '367' }, 'days'],
    ['upcoming', { days: 'ten' }, 'days'],
  ])('%s %o is a 400 naming %s, and reads nothing', async (name, query, field) => {
    const built = watchPorts(await seeded());
    const answer = await report(built, name, query);
    expect(answer.status).toBe(400);
    expect(answer.body?.error).toMatchObject({ code: 'validation_failed', field });
    expect(built.touched.filter((call) => call.startsWith('reports.') || call.startsWith('holds.'))).toEqual(
      [],
    );
  });
});
