/**
 * The reports' storage on DynamoDB Local: the sparse indexes are kept by the commits that change
 * what they hold (a hold placed and released, a request partially failed and re-driven, a request
 * settled), the erasure counters count concurrent outcomes once each, and each report reads an
 * index or counter items, never a scan.
 */
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redriveRequest, redriveTask, rejectRequest } from '../../domain/erasure/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { LegalHold } from '../../domain/holds.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { sumErasureCounts } from '../../domain/reports/erasures.js';
import type { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import { DynamoReportStore } from '../../functions/adapters/dynamo-report-store.js';
import type { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import type { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { forgetEndedHolds } from '../../functions/services/legal-holds.js';
import { finish } from '../../functions/services/run-task.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, testClients } from '../helpers/emulators.js';
import { runningRequestOf, scheduleApply, scheduleEmpty, scheduleEvent } from '../helpers/factories.js';

const PSEUDONYM_KEY = 'reports-test-pseudonym-key-0123456789abcdef';
const NOW = '2026-11-21T12:00:00.000Z';
const SHARDS = 4;
const clients = testClients();
let resources: OrchestratorResources;
let requests: DynamoRequestStore;
let holds: DynamoHoldStore;
let audit: DynamoAuditLog;
let uow: DynamoUnitOfWork;
let reports: DynamoReportStore;
let scans = 0;
/** Every command the document client sent, by name. */
const sent: string[] = [];

beforeAll(async () => {
  ({ resources, requests, holds, audit, uow } = await createTestAdapters(
    'reports',
    clients,
    PSEUDONYM_KEY,
    SHARDS,
  ));
  reports = new DynamoReportStore(
    clients.documents,
    { requests: resources.tables.requests, schedules: resources.tables.schedules },
    SHARDS,
  );
  // Every report and index read below must be a Query or a GetItem: count any Scan.
  clients.documents.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'ScanCommand') scans++;
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countScans' },
  );
});

afterAll(async () => {
  expect(scans).toBe(0);
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

/** A dispatched request whose tasks are running, stored with its audit entry. */
const runningRequest = async (
  requestId: string,
  targets: readonly string[],
  origin: 'api' | 'schedule' = 'api',
) => {
  const subjectId = `subject-${requestId}`;
  const { request, tasks, receivedEvent } = runningRequestOf({
    requestId,
    subjectId,
    targets,
    at: NOW,
    origin,
  });
  expect(
    await uow.commit([{ kind: 'request.create', request, tasks }], [{ event: receivedEvent, subjectId }]),
  ).toEqual({ committed: true });
  return { request, tasks };
};

const deps = (at = NOW) => ({ requests, uow, audit, clock: () => new Date(at) });

describe('the activeHolds index', () => {
  it('after an upgrade: a hold placed before the index is read by a scan until listActiveHolds lists it', async () => {
    // A hold as an earlier version stored it: no index attributes, not on the list.
    const older: LegalHold = {
      holdId: 'hold_reports_old',
      subjectId: 'subject-held-old',
      reason: 'litigation-2025-007',
      createdAt: '2025-06-01T00:00:00.000Z',
    };
    await clients.documents.send(
      new PutCommand({ TableName: resources.tables.legalHolds, Item: { ...older } }),
    );
    expect((await holds.active(NOW)).map((hold) => hold.holdId)).toEqual(['hold_reports_old']);
    expect(scans).toBeGreaterThan(0);
    // The worker may not scan: it reads the index alone, and misses the older hold until it is in.
    const indexOnly = new DynamoHoldStore(clients.documents, resources.tables.legalHolds, PSEUDONYM_KEY, {
      activeFromIndexOnly: true,
    });
    const scansBefore = scans;
    expect(await indexOnly.active(NOW)).toEqual([]);
    expect(scans).toBe(scansBefore);

    expect(await holds.listActiveHolds()).toBe(1);
    const listedStore = new DynamoHoldStore(clients.documents, resources.tables.legalHolds, PSEUDONYM_KEY);
    scans = 0;
    sent.length = 0;
    expect(await listedStore.active(NOW)).toEqual([older]);
    expect(scans).toBe(0);
    // From now on every store reads the list (the marker once, then one consistent Query).
    expect(await holds.active(NOW)).toEqual([older]);
    expect(await indexOnly.active(NOW)).toEqual([older]);
    expect(scans).toBe(0);
    expect(await uow.commit([{ kind: 'hold.release', hold: older, releasedAt: NOW }])).toEqual({
      committed: true,
    });
    expect(await listedStore.active(NOW)).toEqual([]);
  });

  it('reads the active holds from the list in the table, consistently, not from the index (which may lag)', async () => {
    // Prepare
    const hold: LegalHold = {
      holdId: 'hold_reports_list',
      subjectId: 'subject-held-list',
      reason: 'litigation-2026-070',
      createdAt: NOW,
      identifiers: { email: ['held@example.com'] },
    };
    await holds.listActiveHolds(); // as the API does at its first read after an upgrade
    scans--; // that one scan is the upgrade's
    const reads: { index?: string; consistent?: boolean }[] = [];
    const store = new DynamoHoldStore(clients.documents, resources.tables.legalHolds, PSEUDONYM_KEY, {
      activeFromIndexOnly: true,
    });
    clients.documents.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string; IndexName?: string; ConsistentRead?: boolean };
        if (context.commandName === 'QueryCommand' && input.TableName === resources.tables.legalHolds) {
          reads.push({ index: input.IndexName, consistent: input.ConsistentRead });
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdReads' },
    );

    // Act
    try {
      expect(await uow.commit([{ kind: 'hold.place', hold }])).toEqual({ committed: true });
      const placed = await store.active(NOW);
      expect(await uow.commit([{ kind: 'hold.release', hold, releasedAt: NOW }])).toEqual({
        committed: true,
      });
      const released = await store.active(NOW);

      // Assess
      expect(placed.map((active) => active.holdId)).toContain(hold.holdId);
      expect(placed.find((active) => active.holdId === hold.holdId)).toEqual(hold);
      expect(released.map((active) => active.holdId)).not.toContain(hold.holdId);
      expect(reads).toEqual([
        { index: undefined, consistent: true },
        { index: undefined, consistent: true },
      ]);
      // Released: the list keeps nothing of it (neither the subject nor the e-mail).
      const { Items } = await clients.documents.send(
        new ScanCommand({ TableName: resources.tables.legalHolds, ConsistentRead: true }),
      );
      scans--; // this one is the test's own look at the table
      expect(JSON.stringify(Items)).not.toContain('held@example.com');
      expect(JSON.stringify(Items)).not.toContain('"subject-held-list"');
      expect((await store.find(hold.holdId))?.releasedAt).toBe(NOW);
    } finally {
      clients.documents.middlewareStack.remove('holdReads');
    }
  });

  it('a subject id that starts with # is a subject like any other: its hold is found, listed and released', async () => {
    const hold: LegalHold = {
      holdId: 'hold_reports_hash',
      subjectId: '#hash-subject-1',
      reason: 'litigation-2026-072',
      createdAt: NOW,
    };
    expect(await uow.commit([{ kind: 'hold.place', hold }])).toEqual({ committed: true });

    expect((await holds.find(hold.holdId))?.subjectId).toBe(hold.subjectId);
    expect((await holds.active(NOW)).map((active) => active.holdId)).toContain(hold.holdId);
    expect(await uow.commit([{ kind: 'hold.release', hold, releasedAt: NOW }])).toEqual({ committed: true });
    expect((await holds.find(hold.holdId))?.releasedAt).toBe(NOW);
  });

  it('a hold that ran out: ended() finds it, and forgetEndedHolds moves it to the pseudonym without its identifiers', async () => {
    // Prepare: placed with an end that is past at NOW, and a block counted on it since.
    await holds.listActiveHolds();
    scans--; // that one scan is the upgrade's
    const ranOut: LegalHold = {
      holdId: 'hold_reports_ended',
      subjectId: 'subject-held-ended',
      reason: 'litigation-2026-071',
      createdAt: '2026-10-01T00:00:00.000Z',
      until: '2026-11-20T00:00:00.000Z',
      identifiers: { email: ['ended@example.com'] },
    };
    expect(await uow.commit([{ kind: 'hold.place', hold: ranOut }])).toEqual({ committed: true });
    expect(await uow.commit([{ kind: 'hold.confirm', hold: ranOut }])).toEqual({ committed: true });

    // Act
    const ended = await holds.ended(NOW);
    const forgotten = await forgetEndedHolds({ holds, uow }, NOW);

    // Assess
    expect(ended).toEqual([{ ...ranOut, blockCount: 1 }]);
    expect(forgotten).toBe(1);
    expect(await holds.ended(NOW)).toEqual([]);
    expect((await holds.find(ranOut.holdId))?.releasedAt).toBe(ranOut.until);
    const { Items } = await clients.documents.send(
      new ScanCommand({ TableName: resources.tables.legalHolds, ConsistentRead: true }),
    );
    scans--; // this one is the test's own look at the table
    expect(JSON.stringify(Items)).not.toContain('ended@example.com');
    expect(JSON.stringify(Items)).not.toContain('"subject-held-ended"');
  });

  it('holds a hold from its placement to its release, and HoldStore.active reads it', async () => {
    const hold: LegalHold = {
      holdId: 'hold_reports_1',
      subjectId: 'subject-held-1',
      dataClasses: ['closed-account'],
      reason: 'litigation-2026-001',
      createdAt: NOW,
    };
    const ended: LegalHold = { ...hold, holdId: 'hold_reports_2', until: '2026-11-22T00:00:00.000Z' };
    expect(
      await uow.commit([
        { kind: 'hold.place', hold },
        { kind: 'hold.place', hold: ended },
      ]),
    ).toEqual({
      committed: true,
    });
    const ids = async (at: string) => (await holds.active(at)).map((active) => active.holdId).sort();
    expect(await ids(NOW)).toEqual(['hold_reports_1', 'hold_reports_2']);
    // A hold that ran out is past its end: the index's sort key leaves it out.
    expect(await ids('2026-11-23T00:00:00.000Z')).toEqual(['hold_reports_1']);
    // What a store returns is the hold, without the index's attributes.
    expect(await holds.find(hold.holdId)).toEqual(hold);
    expect((await holds.active(NOW)).find((active) => active.holdId === hold.holdId)).toEqual(hold);

    expect(await uow.commit([{ kind: 'hold.release', hold, releasedAt: NOW }])).toEqual({ committed: true });
    expect(await ids(NOW)).toEqual(['hold_reports_2']);
    expect(await holds.find(hold.holdId)).toMatchObject({ releasedAt: NOW });
  });
});

describe('the byFailure index and openByDeadline', () => {
  it('takes a request in the commit that fails it partially, and lets it go at its re-drive', async () => {
    const { tasks } = await runningRequest('req_reports_fail1', ['user-files', 'partner-services']);
    const [verified, failed] = tasks as [ErasureTask, ErasureTask];
    expect((await reports.openRequests()).map((open) => open.requestId)).toContain('req_reports_fail1');
    const later = '2027-06-01T00:00:00.000Z';
    const overdueBefore = (await requests.deadlineCounts(later, 0)).overdue;

    expect(await finish(deps(), verified, 'verified', undefined, { affectedCount: 3, executedAt: NOW })).toBe(
      true,
    );
    expect(await finish(deps(), failed, 'failed', { message: 'down', code: 'retries-exhausted' })).toBe(true);
    // ALU-3: still owed, so still counted by the sweep's deadline counts.
    expect((await requests.deadlineCounts(later, 0)).overdue).toBe(overdueBefore);

    const found = await reports.failedRequests();
    const entry = found.find((candidate) => candidate.request.requestId === 'req_reports_fail1');
    expect(entry?.request).toMatchObject({ status: 'partially_failed', failedCount: 1 });
    expect(entry?.request).not.toHaveProperty('failedBucket');
    expect(entry?.tasks.find((task) => task.status === 'failed')).toMatchObject({
      taskId: failed.taskId,
      errorCode: 'retries-exhausted',
    });
    // Not fulfilled: it left the open requests' index for the failures' one in the same commit, and
    // the deadline report still reads it, once.
    expect(
      (await reports.openRequests())
        .filter((open) => open.requestId === 'req_reports_fail1')
        .map((open) => open.status),
    ).toEqual(['partially_failed']);

    // Re-drive: back among the open requests, off the failures.
    const stored = await requests.get('req_reports_fail1');
    if (stored === undefined) throw new Error('request not stored');
    const storedFailed = stored.tasks.filter((task) => task.status === 'failed');
    const reopened = redriveRequest(stored.request, storedFailed.length, NOW);
    expect(
      await uow.commit([
        {
          kind: 'request.redrive',
          previous: stored.request,
          next: reopened.next,
          tasks: storedFailed.map((task) => ({ previous: task, next: redriveTask(task, NOW).next })),
        },
      ]),
    ).toEqual({ committed: true });
    expect((await reports.failedRequests()).map((entry) => entry.request.requestId)).not.toContain(
      'req_reports_fail1',
    );
    expect(
      (await reports.openRequests())
        .filter((open) => open.requestId === 'req_reports_fail1')
        .map((open) => open.status),
    ).toEqual(['dispatched']);
  });

  it('takes a request that the settle fallback (request.transition) leaves partially failed, and lets it go when what is left is refused (IMOU-6)', async () => {
    const { request, tasks } = await runningRequest('req_reports_fail2', ['user-files']);
    const [task] = tasks as [ErasureTask];
    // Counted on its own (no count condition), then settled by a transition.
    expect(
      await uow.commit([
        {
          kind: 'task.outcome',
          next: { ...task, status: 'failed', errorCode: 'x', failedAt: NOW },
          expected: task,
        },
      ]),
    ).toEqual({ committed: true });
    const counted = await requests.get(request.requestId);
    if (counted === undefined) throw new Error('request not stored');
    expect(
      await uow.commit([
        {
          kind: 'request.transition',
          next: { ...counted.request, status: 'partially_failed', completedAt: NOW },
          from: ['dispatched'],
          previous: counted.request,
        },
      ]),
    ).toEqual({ committed: true });
    expect((await reports.failedRequests()).map((entry) => entry.request.requestId)).toContain(
      'req_reports_fail2',
    );

    // Refused for a legal reason: final, off the failures and the open requests, subject forgotten.
    const failed = await requests.get(request.requestId);
    if (failed === undefined) throw new Error('request not stored');
    const rejected = rejectRequest(failed.request, 'gdpr-art17-3b-legal-obligation', NOW);
    expect(
      await uow.commit([
        {
          kind: 'request.transition',
          next: rejected.next,
          from: ['partially_failed'],
          previous: failed.request,
          forget: { taskIds: [task.taskId], pseudonym: 'chain-of-fail2', cancelTaskIds: [] },
        },
      ]),
    ).toEqual({ committed: true });
    expect((await reports.failedRequests()).map((entry) => entry.request.requestId)).not.toContain(
      'req_reports_fail2',
    );
    expect((await reports.openRequests()).map((open) => open.requestId)).not.toContain('req_reports_fail2');
    expect((await requests.get(request.requestId))?.request).toMatchObject({
      status: 'rejected',
      subjectId: expect.stringMatching(/chain-of-fail2$/),
    });
  });

  it('answers open requests by deadline, across shards', async () => {
    const open = await reports.openRequests();
    const deadlines = open.map((request) => request.deadline);
    expect(deadlines).toEqual([...deadlines].sort());
    expect(
      open.every((request) =>
        ['received', 'blocked', 'dispatched', 'partially_failed'].includes(request.status),
      ),
    ).toBe(true);
    expect(open[0]).not.toHaveProperty('openBucket');
    expect(open.some((request) => 'failedBucket' in request)).toBe(false);
  });
});

describe('the erasure counters', () => {
  it('ALE-5: twelve outcomes reporting at once are each counted once, and a redelivery not again', async () => {
    const targets = Array.from({ length: 12 }, (_, index) => `target-${index}`);
    const { tasks } = await runningRequest('req_reports_count1', targets, 'schedule');
    const before = sumErasureCounts(await reports.erasureCounts('2026-11', '2026-11')).find(
      (row) => row.ruleRef === 'ALL-1',
    );
    expect(before).toBeUndefined();

    const reported = await Promise.all(
      tasks.map((task) => finish(deps(), task, 'verified', undefined, { affectedCount: 2, executedAt: NOW })),
    );
    expect(reported.every(Boolean)).toBe(true);
    // The same outcome delivered again (another message of the task) is not counted.
    expect(await finish(deps(), tasks[0] as ErasureTask, 'verified', undefined, { affectedCount: 2 })).toBe(
      false,
    );

    const rows = sumErasureCounts(await reports.erasureCounts('2026-10', '2026-12'));
    expect(rows.find((row) => row.ruleRef === 'ALL-1')).toEqual({
      month: '2026-11',
      dataClass: 'closed-account',
      ruleRef: 'ALL-1',
      deletions: 12,
      anonymisations: 0,
      restrictions: 0,
      items: 24,
    });
    expect((await requests.get('req_reports_count1'))?.request.status).toBe('completed');
    // Months outside the range are not read.
    expect(await reports.erasureCounts('2026-12', '2027-02')).toEqual([]);
  });
});

describe('the due index for upcoming work', () => {
  it('answers the deletions and notices due in a window, from the byDueBucket index', async () => {
    const suspended = scheduleEvent('account.suspended', '2026-11-20T09:00:00.000Z', {
      subjectId: 'subject-due-1',
    });
    const { schedule, decisions } = scheduleApply(BUILT_IN_CATALOG, [suspended]);
    expect(
      await uow.commit([
        {
          kind: 'schedule.save',
          previous: { schedule: scheduleEmpty('subject-due-1'), version: 0 },
          next: schedule,
          event: { eventId: suspended.eventId, decisions: decisions[0] ?? [] },
          at: NOW,
        },
      ]),
    ).toEqual({ committed: true });
    const due = await reports.dueBetween(NOW, '2027-03-01T00:00:00.000Z');
    expect(due).toEqual([
      {
        kind: 'entry',
        entry: expect.objectContaining({ dataClass: 'suspended-account', dueAt: '2027-02-20T09:00:00.000Z' }),
      },
    ]);
    expect(await reports.dueBetween(NOW, '2027-02-20T08:59:59.999Z')).toEqual([]);
  });
});

it('costs a fixed number of index queries per report, whatever the tables hold', async () => {
  const cost = async (read: () => Promise<unknown>) => {
    sent.length = 0;
    await read();
    return sent.join(',');
  };
  const queries = (count: number) => Array.from({ length: count }, () => 'QueryCommand').join(',');
  // One query per shard (each a single page here); failures add one per failed request. The
  // deadline report reads the open requests' shards and the failures' ones.
  expect(await cost(() => reports.openRequests())).toBe(queries(8 + 8));
  expect(await cost(() => reports.erasureCounts('2024-01', '2026-12'))).toBe(queries(8));
  const failed = (await reports.failedRequests()).length;
  expect(await cost(() => reports.failedRequests())).toBe(queries(8 + failed));
  // Due buckets: 4 shards here × the months of the window (Nov 2026 to Mar 2027: 5).
  expect(await cost(() => reports.dueBetween(NOW, '2027-03-01T00:00:00.000Z'))).toBe(queries(4 * 5));
  expect(await cost(() => holds.active(NOW))).toBe(queries(1));
});

it('finds no Scan in what the reports read', async () => {
  const { Items } = await clients.documents.send(
    new ScanCommand({ TableName: resources.tables.requests, Limit: 1 }),
  );
  scans--; // this one is the test's own look at the table
  expect(Items?.length).toBe(1);
});
