/**
 * `DynamoAuditLog.page` against DynamoDB Local: each scope reads its own index partition (the
 * request's, the subject's chain, one per day), filters narrow it, and following `next` page by
 * page yields every matching entry exactly once, in order, with a bounded read per page.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditEntry, AuditEvent } from '../../domain/audit/types.js';
import type { AuditPageQuery, AuditPosition } from '../../domain/ports/index.js';
import type { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import type { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, testClients } from '../helpers/emulators.js';

const PSEUDONYM_KEY = 'audit-search-test-pseudonym-key-0123';
const clients = testClients();
let resources: OrchestratorResources;
let audit: DynamoAuditLog;
let uow: DynamoUnitOfWork;

const SUBJECT = 'search-subject';
const OTHER = 'search-other';
const at = (day: string, minutes: number) =>
  new Date(Date.parse(`${day}T00:00:00.000Z`) + minutes * 60_000).toISOString();
const event = (key: string, when: string, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  type: 'task.verified',
  at: when,
  idempotencyKey: key,
  requestId: 'req_search_a',
  dataClass: 'cloud-video',
  ruleRef: 'IMOU-2',
  ...overrides,
});

/** 30 entries of the subject over three days (every third of another class), 5 of another subject. */
const subjectEvents = Array.from({ length: 30 }, (_, index) =>
  event(`s-${index}`, at(['2032-05-01', '2032-05-02', '2032-05-04'][index % 3] as string, index), {
    ...(index % 3 === 0 ? { dataClass: 'invoices', ruleRef: 'ALE-5', type: 'request.completed' } : {}),
  }),
);
const otherEvents = Array.from({ length: 5 }, (_, index) =>
  event(`o-${index}`, at('2032-05-02', 100 + index), { requestId: 'req_search_b' }),
);

beforeAll(async () => {
  ({ resources, audit, uow } = await createTestAdapters('audit-search', clients, PSEUDONYM_KEY, 2));
  expect(
    await uow.commit(
      [],
      subjectEvents.map((stored) => ({ event: stored, subjectId: SUBJECT })),
    ),
  ).toEqual({ committed: true });
  expect(
    await uow.commit(
      [],
      otherEvents.map((stored) => ({ event: stored, subjectId: OTHER })),
    ),
  ).toEqual({ committed: true });
});

afterAll(async () => {
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

/** Every page of a search; counts the Query calls and refuses any Scan. */
const readAll = async (query: Omit<AuditPageQuery, 'after'>) => {
  const send = vi.spyOn(clients.documents, 'send');
  try {
    const pages: AuditEntry[][] = [];
    let after: AuditPosition | undefined;
    do {
      const page = await audit.page({ ...query, ...(after === undefined ? {} : { after }) });
      expect(page.entries.length).toBeLessThanOrEqual(query.limit);
      pages.push(page.entries);
      after = page.next;
      // A position survives a JSON round trip: it travels in a cursor.
      if (after !== undefined) after = JSON.parse(JSON.stringify(after)) as AuditPosition;
    } while (after !== undefined && pages.length < 100);
    const calls = send.mock.calls.map(([command]) => command);
    expect(calls.some((command) => command instanceof ScanCommand)).toBe(false);
    return {
      pages,
      keys: pages.flat().map((entry) => entry.idempotencyKey),
      queries: calls.filter((command) => command instanceof QueryCommand).length,
    };
  } finally {
    send.mockRestore();
  }
};

const keysOf = (events: readonly AuditEvent[]) => events.map((stored) => stored.idempotencyKey);

describe('audit search pages', () => {
  it("pages through a subject's chain in seq order, each entry once", async () => {
    const { pages, keys } = await readAll({ subjectId: SUBJECT, limit: 7 });

    expect(keys).toEqual(keysOf(subjectEvents));
    expect(pages.slice(0, -1).every((page) => page.length === 7)).toBe(true);
  });

  it('filters a subject by data class, rule ref and event type without losing or repeating entries', async () => {
    const expected = keysOf(subjectEvents.filter((_, index) => index % 3 === 0));

    const byClass = await readAll({ subjectId: SUBJECT, dataClass: 'invoices', limit: 4 });
    const byRule = await readAll({ subjectId: SUBJECT, ruleRef: 'ALE-5', limit: 4 });
    const byType = await readAll({ subjectId: SUBJECT, type: 'request.completed', limit: 100 });
    const none = await readAll({
      subjectId: SUBJECT,
      dataClass: 'cloud-video',
      type: 'request.completed',
      limit: 5,
    });

    expect(byClass.keys).toEqual(expected);
    expect(byRule.keys).toEqual(expected);
    expect(byType.keys).toEqual(expected);
    expect(none.keys).toEqual([]);
  });

  it('pages a request across chains, narrowed to one subject when asked', async () => {
    const request = await readAll({ requestId: 'req_search_b', limit: 2 });
    const narrowed = await readAll({ requestId: 'req_search_a', subjectId: OTHER, limit: 10 });

    expect(request.keys).toEqual(keysOf(otherEvents));
    expect(narrowed.keys).toEqual([]);
  });

  it("gives a request's entries written in the same millisecond in seq order (received before dispatched)", async () => {
    const same = '2032-06-01T10:00:00.000Z';
    const keys = Array.from({ length: 6 }, (_, index) => `same-${index}`);
    expect(
      await uow.commit(
        [],
        keys.map((key) => ({
          event: event(key, same, { requestId: 'req_search_same' }),
          subjectId: SUBJECT,
        })),
      ),
    ).toEqual({ committed: true });

    const { pages } = await readAll({ requestId: 'req_search_same', limit: 10 });

    expect(pages.flat().map((entry) => entry.idempotencyKey)).toEqual(keys);
  });

  it('pages a time window day by day (byDay index), skipping empty days, in time order per day', async () => {
    const window = { from: '2032-05-01T00:00:00.000Z', to: '2032-05-04T23:59:59.999Z' };

    const all = await readAll({ ...window, limit: 6 });
    const filtered = await readAll({ ...window, dataClass: 'invoices', limit: 3 });

    const byTime = [...subjectEvents, ...otherEvents].sort(
      (a, b) => a.at.slice(0, 10).localeCompare(b.at.slice(0, 10)) || a.at.localeCompare(b.at),
    );
    expect(all.keys).toEqual(keysOf(byTime));
    expect(filtered.keys).toEqual(keysOf(byTime.filter((stored) => stored.dataClass === 'invoices')));
    // Four day partitions (one empty) and a page per 6 entries: bounded, never a scan.
    expect(all.queries).toBeLessThanOrEqual(4 + Math.ceil(35 / 6) + 1);
  });

  it('never returns storage-only attributes', async () => {
    const { pages } = await readAll({
      from: '2032-05-02T00:00:00.000Z',
      to: '2032-05-02T23:59:59.999Z',
      limit: 50,
    });

    expect(pages.flat().every((entry) => !('day' in entry))).toBe(true);
  });
});
