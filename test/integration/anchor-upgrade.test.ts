/**
 * After an upgrade the audit table holds chain heads written before the `byUnanchored` index:
 * without the `unanchored` mark, anchoring (which reads only the index) would never see them. The
 * sweep's audit log marks them (`markOlderHeads`) on DynamoDB Local: a bounded part per run, the
 * progress kept in a marker item, and a finished scan remembered so no run scans again.
 */
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pseudonymise } from '../../domain/audit/index.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import { type AuditLogOptions, DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import type { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { anchorAuditTrail, verifyAuditTrail } from '../../functions/services/anchors.js';
import { dynamoStorage } from '../../functions/shared/dependencies.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, testClients } from '../helpers/emulators.js';
import { TEST_SIGNER } from '../helpers/handler-deps.js';
import { InMemoryAnchorStore } from '../helpers/in-memory.js';
import { startTestRuntime } from '../helpers/runtime.js';

const PSEUDONYM_KEY = 'anchor-upgrade-test-pseudonym-key-0123';
const NOW = '2026-11-30T12:00:00.000Z';
const MARKER_KEY = { chainId: '#index unanchored-heads', seq: 0 };

const clients = testClients();
/** DynamoDB calls by command name, counted on the shared client. */
const calls = new Map<string, number>();
/** The ExclusiveStartKey of each Scan, in order. */
const scanStarts: (Record<string, unknown> | undefined)[] = [];
clients.documents.middlewareStack.add(
  (next, context) => async (args) => {
    const name = context.commandName ?? 'unknown';
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (name === 'ScanCommand') {
      scanStarts.push((args.input as { ExclusiveStartKey?: Record<string, unknown> }).ExclusiveStartKey);
    }
    return next(args);
  },
  { step: 'initialize', name: 'countCalls' },
);
const count = (command: string): number => calls.get(command) ?? 0;
/** GetItem, whichever client's name the SDK gives it. */
const gets = (counted: ReadonlyMap<string, number>): number =>
  (counted.get('GetCommand') ?? 0) + (counted.get('GetItemCommand') ?? 0);
const resetCounts = () => {
  calls.clear();
  scanStarts.length = 0;
};

let resources: OrchestratorResources;
let uow: DynamoUnitOfWork;
let anchors: InMemoryAnchorStore;

beforeEach(async () => {
  ({ resources, uow } = await createTestAdapters('anchor-upgrade', clients, PSEUDONYM_KEY, 2));
  anchors = new InMemoryAnchorStore();
  resetCounts();
});

afterEach(async () => {
  await deleteOrchestratorResources(clients, resources);
});

afterAll(() => destroyLocalClients(clients));

let events = 0;
const anEvent = (): AuditEvent => ({ type: 'hold.placed', at: NOW, idempotencyKey: `event-${++events}` });

/** An audit log as the sweep builds it (or, without options, as every other function does). */
const auditLog = (options: AuditLogOptions = { markOlderHeads: true }) =>
  new DynamoAuditLog(clients.documents, resources.tables.audit, PSEUDONYM_KEY, options);

const proofDeps = (audit: DynamoAuditLog) => ({
  audit,
  anchors,
  signer: TEST_SIGNER,
  clock: () => new Date(NOW),
});

/** Appends `entries` entries to each subject's chain, as this version does (heads marked). */
const append = async (subjects: readonly string[], entries = 1): Promise<void> => {
  for (let round = 0; round < entries; round++) {
    expect(
      await uow.commit(
        [],
        subjects.map((subjectId) => ({ event: anEvent(), subjectId })),
      ),
    ).toEqual({ committed: true });
  }
};

const chainIdOf = (subjectId: string) => auditLog({}).chainIdFor(subjectId);

/** Rewrites each subject's head item as a version before the index wrote it: no `unanchored`. */
const asWrittenBeforeTheIndex = async (subjects: readonly string[]): Promise<void> => {
  for (const subjectId of subjects) {
    const Key = { chainId: chainIdOf(subjectId), seq: 0 };
    const { Item } = await clients.documents.send(
      new GetCommand({ TableName: resources.tables.audit, Key, ConsistentRead: true }),
    );
    expect(Item?.headSeq).toBeGreaterThan(0);
    const { unanchored: _mark, ...older } = Item ?? {};
    await clients.documents.send(new PutCommand({ TableName: resources.tables.audit, Item: older }));
  }
};

/** Items at seq 0 that carry a mark (heads, and anything that should not have one). */
const markedItems = async (): Promise<string[]> => {
  const { Items } = await clients.documents.send(
    new ScanCommand({
      TableName: resources.tables.audit,
      FilterExpression: 'attribute_exists(unanchored)',
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((item) => String(item.chainId)).sort();
};

const marker = async () =>
  (
    await clients.documents.send(
      new GetCommand({ TableName: resources.tables.audit, Key: MARKER_KEY, ConsistentRead: true }),
    )
  ).Item;

const anchoredChains = () =>
  new Set(anchors.anchors.flatMap((anchor) => anchor.heads.map((head) => head.chainId)));

const subjects = (prefix: string, n: number) => Array.from({ length: n }, (_, index) => `${prefix}-${index}`);

describe('heads written before the byUnanchored index, after an upgrade', () => {
  it('are marked by the sweep, anchored, and verify as anchored; idempotency markers and the marker stay unmarked', async () => {
    // Prepare: three chains never anchored before the upgrade, one anchored at seq 2 that moved to
    // seq 3 before the upgrade, and one appended after it (marked as every append is now).
    const never = subjects('never-anchored', 3);
    await append(never, 2);
    await asWrittenBeforeTheIndex(never);
    await append(['moved-after-anchor'], 2);
    await anchorAuditTrail(proofDeps(auditLog({})));
    expect([...anchoredChains()]).toEqual([chainIdOf('moved-after-anchor')]);
    await append(['moved-after-anchor']);
    await asWrittenBeforeTheIndex(['moved-after-anchor']);
    await append(['after-upgrade']);
    // Before the sweep marks them, anchoring sees only the head appended since the upgrade.
    expect(await auditLog({}).unanchoredHeads()).toEqual([
      expect.objectContaining({ chainId: chainIdOf('after-upgrade') }),
    ]);

    // Act
    const result = await anchorAuditTrail(proofDeps(auditLog()));

    // Assess
    expect(result.anchoredChains).toBe(5);
    expect(result.anchor?.heads.find((head) => head.chainId === chainIdOf('moved-after-anchor'))?.seq).toBe(
      3,
    );
    for (const subjectId of [...never, 'moved-after-anchor', 'after-upgrade']) {
      const { verification } = await verifyAuditTrail(proofDeps(auditLog({})), { subjectId });
      expect(verification).toMatchObject({ ok: true, unanchored: 0, anchor: { anchorSeq: 2 } });
    }
    expect(count('ScanCommand')).toBe(1);
    // The marks were cleared once anchored; no idempotency marker (`key#…`) nor the marker got one.
    expect(await markedItems()).toEqual([]);
    expect(await marker()).toEqual({ ...MARKER_KEY, done: true });
  });

  it('a second run reads the marker and scans no more; the same container does not even read it', async () => {
    // Prepare
    await append(subjects('older', 2));
    await asWrittenBeforeTheIndex(subjects('older', 2));
    const sweepAudit = auditLog();
    expect((await anchorAuditTrail(proofDeps(sweepAudit))).anchoredChains).toBe(2);
    await append(['later']);
    resetCounts();

    // Act
    const sameContainer = await anchorAuditTrail(proofDeps(sweepAudit));
    const sameContainerCalls = new Map(calls);
    resetCounts();
    const otherContainer = await anchorAuditTrail(proofDeps(auditLog()));

    // Assess
    expect(sameContainer.anchoredChains).toBe(1);
    expect(sameContainerCalls.get('ScanCommand')).toBeUndefined();
    expect(gets(sameContainerCalls)).toBe(0);
    expect(otherContainer).toEqual({ anchoredChains: 0 });
    expect(count('ScanCommand')).toBe(0);
    // The marker alone.
    expect(gets(calls)).toBe(1);
  });

  it('a run stopped after N pages anchors what it marked and the next resumes from the saved progress', async () => {
    // Prepare: 12 older chains of one entry: 12 heads, 12 entries, 12 idempotency markers.
    const older = subjects('paged', 12);
    await append(older);
    await asWrittenBeforeTheIndex(older);
    const bounded = (): DynamoAuditLog =>
      auditLog({ markOlderHeads: true, markPagesPerRun: 2, markPageItems: 5 });

    // Act: each run is a fresh container, as sweeps on Lambda may be.
    const first = await anchorAuditTrail(proofDeps(bounded()));
    const firstScans = count('ScanCommand');
    const savedProgress = (await marker())?.progress;
    const firstAnchored = anchoredChains().size;
    resetCounts();
    const second = await bounded().markOlderHeads();

    // Assess: the first run read two pages of five items and wrote where it stopped.
    expect(firstScans).toBe(2);
    expect(typeof savedProgress).toBe('string');
    expect((await marker())?.done).toBeUndefined();
    expect(first.anchoredChains).toBe(firstAnchored);
    expect(first.anchoredChains).toBeLessThan(older.length);
    // The second starts where the first stopped, not at the beginning.
    expect(scanStarts[0]).toEqual(JSON.parse(String(savedProgress)));
    expect(second).toMatchObject({ pages: 2, done: false });

    // Act: sweeps go on until the scan has been through the table (36 items and the marker, 5 per
    // page: 8 pages).
    let runs = 2;
    for (let run = await bounded().markOlderHeads(); !run.done; run = await bounded().markOlderHeads()) {
      runs++;
      expect(runs).toBeLessThan(10);
    }
    const scansAfter = count('ScanCommand');
    await anchorAuditTrail(proofDeps(bounded()));

    // Assess: every older chain is anchored, each page was read once.
    expect(firstScans + scansAfter).toBeLessThanOrEqual(8);
    expect(anchoredChains()).toEqual(new Set(older.map(chainIdOf)));
    expect(await marker()).toEqual({ ...MARKER_KEY, done: true });
    expect(await markedItems()).toEqual([]);
  });

  it('runs at the same time mark each head, never harm an append, and end with the marker done', async () => {
    // Prepare
    const older = subjects('concurrent', 10);
    await append(older);
    await asWrittenBeforeTheIndex(older);

    // Act: three containers at once, while a chain moves.
    const runs = await Promise.all([
      auditLog({ markOlderHeads: true, markPageItems: 7 }).markOlderHeads(),
      auditLog({ markOlderHeads: true, markPageItems: 7 }).markOlderHeads(),
      auditLog({ markOlderHeads: true, markPageItems: 4 }).markOlderHeads(),
      append(['concurrent-0']),
    ]);
    const result = await anchorAuditTrail(proofDeps(auditLog()));

    // Assess
    expect([runs[0].done, runs[1].done, runs[2].done]).toEqual([true, true, true]);
    expect(result.anchoredChains).toBe(older.length);
    expect(result.anchor?.heads.find((head) => head.chainId === chainIdOf('concurrent-0'))?.seq).toBe(2);
    const { verification } = await verifyAuditTrail(proofDeps(auditLog({})), { subjectId: 'concurrent-0' });
    expect(verification).toMatchObject({ ok: true, unanchored: 0 });
    expect(await marker()).toEqual({ ...MARKER_KEY, done: true });
  });

  it('a fresh table: the first sweep finds nothing to mark and writes the marker', async () => {
    // Act
    const run = await auditLog().markOlderHeads();
    const result = await anchorAuditTrail(proofDeps(auditLog()));

    // Assess
    expect(run).toEqual({ marked: 0, pages: 1, done: true });
    expect(result).toEqual({ anchoredChains: 0 });
    expect(await marker()).toEqual({ ...MARKER_KEY, done: true });
  });
});

describe('the local runtime (npm start)', () => {
  it('its sweep marks older heads and writes the marker; the API neither scans nor writes it', async () => {
    // Prepare: fresh tables, one subject's chain written before the index.
    const runtime = await startTestRuntime('anchor-upgrade-local', {
      demoSubjects: 0,
      pseudonymKey: PSEUDONYM_KEY,
    });
    try {
      const table = runtime.resources.tables.audit;
      const markerItem = async () =>
        (
          await runtime.clients.documents.send(
            new GetCommand({ TableName: table, Key: MARKER_KEY, ConsistentRead: true }),
          )
        ).Item;
      const stores = dynamoStorage(runtime.clients.documents, runtime.resources.tables, PSEUDONYM_KEY);
      expect(await stores.uow.commit([], [{ event: anEvent(), subjectId: 'local-older' }])).toEqual({
        committed: true,
      });
      const Key = { chainId: pseudonymise(PSEUDONYM_KEY, 'local-older'), seq: 0 };
      const { Item } = await runtime.clients.documents.send(
        new GetCommand({ TableName: table, Key, ConsistentRead: true }),
      );
      const { unanchored: _mark, ...older } = Item ?? {};
      await runtime.clients.documents.send(new PutCommand({ TableName: table, Item: older }));
      const scans: string[] = [];
      runtime.clients.documents.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ScanCommand')
            scans.push(String((args.input as { TableName?: string }).TableName));
          return next(args);
        },
        { step: 'initialize', name: 'countScans' },
      );

      // Act: a sweep on demand (the API's), then the scheduled sweep's handler.
      const onDemand = await runtime.call('POST', '/v1/sweeps', { body: {} });
      const afterApi = await markerItem();
      await runtime.sweep();

      // Assess
      expect(onDemand.status).toBe(200);
      expect(afterApi).toBeUndefined();
      expect(scans.filter((name) => name === table)).toHaveLength(1);
      expect(await markerItem()).toEqual({ ...MARKER_KEY, done: true });
      const verified = await runtime.call<{ verification: Record<string, unknown> }>(
        'GET',
        '/v1/audit/verification?subjectId=local-older',
        { role: 'compliance' },
      );
      expect(verified.body.verification).toMatchObject({ ok: true, unanchored: 0, anchor: {} });
    } finally {
      await runtime.stop();
    }
  });
});
