/**
 * The tasks of one request report at once (the worker runs a batch concurrently): on DynamoDB
 * Local, their outcome commits race on the request's counts and on the subject's audit chain head.
 * Each loser counts again from fresh state, so every outcome is counted once, the request settles
 * exactly once in the last outcome's commit, and the chain verifies. A worker batch commits its
 * outcomes of one request in groups, counting on what it last wrote until another writer moves it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { UnitOfWork } from '../../domain/ports/index.js';
import type { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import type { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import type { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import type { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { finish, WorkerBatch } from '../../functions/services/run-task.js';
import { destroyLocalClients } from '../../local/aws-clients.js';
import { deleteOrchestratorResources, type OrchestratorResources } from '../../local/resources.js';
import { createTestAdapters, testClients } from '../helpers/emulators.js';
import { runningRequestOf } from '../helpers/factories.js';

const PSEUDONYM_KEY = 'concurrent-outcomes-test-pseudonym-key-01234';
const NOW = '2026-11-21T12:00:00.000Z';
const clients = testClients();
let resources: OrchestratorResources;
let requests: DynamoRequestStore;
let audit: DynamoAuditLog;
let uow: DynamoUnitOfWork;
let holds: DynamoHoldStore;

beforeAll(async () => {
  ({ resources, requests, audit, uow, holds } = await createTestAdapters(
    'outcomes',
    clients,
    PSEUDONYM_KEY,
    4,
  ));
});

afterAll(async () => {
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

it('counts five concurrent outcomes of one request once each and settles it once', async () => {
  // Prepare: a dispatched request whose five tasks are running.
  const subjectId = 'subject-concurrent-1';
  const requestId = 'req_concurrent_outcomes_1';
  const targets = ['customer-records', 'user-files', 'cloud-video', 'alarm-events', 'partner-services'];
  const {
    request,
    tasks: running,
    receivedEvent,
  } = runningRequestOf({ requestId, subjectId, targets, at: NOW });
  expect(
    await uow.commit(
      [{ kind: 'request.create', request, tasks: running }],
      [{ event: receivedEvent, subjectId }],
    ),
  ).toEqual({ committed: true });
  const deps = { requests, uow, audit, clock: () => new Date(NOW) };

  // Act
  const reported = await Promise.all(
    running.map((task) => finish(deps, task, 'verified', undefined, { affectedCount: 2, executedAt: NOW })),
  );

  // Assess
  expect(reported).toEqual([true, true, true, true, true]);
  const stored = await requests.get(requestId);
  expect(stored?.request).toMatchObject({ status: 'completed', verifiedCount: 5, failedCount: 0 });
  expect(stored?.request.subjectId.startsWith('pseudonym:')).toBe(true);
  const { entries, head, chainId } = await audit.readChain(subjectId);
  expect(entries.map((entry) => entry.type).sort()).toEqual(
    ['request.received', 'request.completed', ...targets.map(() => 'task.verified')].sort(),
  );
  expect(verifyChain(entries, { chainId, ...(head === undefined ? {} : { expectedHead: head }) }).ok).toBe(
    true,
  );
});

it('a batch counting on the request it last wrote reads it afresh when another writer moved it', async () => {
  // Prepare
  const subjectId = 'subject-concurrent-2';
  const requestId = 'req_concurrent_outcomes_2';
  const targets = ['customer-records', 'user-files', 'cloud-video', 'alarm-events', 'partner-services'];
  const { request, tasks, receivedEvent } = runningRequestOf({ requestId, subjectId, targets, at: NOW });
  await uow.commit([{ kind: 'request.create', request, tasks }], [{ event: receivedEvent, subjectId }]);
  const commits: { kinds: string[]; committed: boolean }[] = [];
  const recording: UnitOfWork = {
    commit: async (changes, records) => {
      const result = await uow.commit(changes, records);
      commits.push({ kinds: changes.map((change) => change.kind), committed: result.committed });
      return result;
    },
  };
  const deps = { requests, uow: recording, audit, holds, clock: () => new Date(NOW) };
  const batch = new WorkerBatch(deps);
  /** One task's run in the batch: its outcome goes to the batch's group of its request. */
  const inBatch = () => ({ ...deps, batch: batch.enter(requestId) });
  const [first, second, ...rest] = tasks as [ErasureTask, ErasureTask, ...ErasureTask[]];
  const done = { affectedCount: 1, executedAt: NOW };

  // Act: the batch commits one outcome and remembers the request; another writer (a callback, a
  // second batch) counts one; the batch's next group starts from what it remembered.
  const reported = [await finish(inBatch(), first, 'verified', undefined, done)];
  reported.push(await finish(deps, second, 'verified', undefined, done));
  reported.push(
    ...(await Promise.all(rest.map((task) => finish(inBatch(), task, 'verified', undefined, done)))),
  );

  // Assess
  expect(reported).toEqual([true, true, true, true, true]);
  // The stale counts failed one commit, and the group counted again from a fresh read: no outcome
  // fell back to being counted on its own.
  expect(commits.filter((commit) => !commit.committed)).toHaveLength(1);
  expect(commits.flatMap((commit) => commit.kinds)).not.toContain('task.outcome');
  const stored = await requests.get(requestId);
  expect(stored?.request).toMatchObject({ status: 'completed', verifiedCount: 5, failedCount: 0 });
  const { entries, head, chainId } = await audit.readChain(subjectId);
  expect(entries.filter((entry) => entry.type === 'request.completed')).toHaveLength(1);
  expect(entries.filter((entry) => entry.type === 'task.verified')).toHaveLength(5);
  expect(verifyChain(entries, { chainId, ...(head === undefined ? {} : { expectedHead: head }) }).ok).toBe(
    true,
  );
});
