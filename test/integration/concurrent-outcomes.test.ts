/**
 * The tasks of one request report at once (the worker runs a batch concurrently): on DynamoDB
 * Local, their outcome commits race on the request's counts and on the subject's audit chain head.
 * Each loser counts again from fresh state, so every outcome is counted once, the request settles
 * exactly once in the last outcome's commit, and the chain verifies.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import type { DynamoAuditLog } from '../../functions/adapters/dynamo-audit-log.js';
import type { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import type { DynamoUnitOfWork } from '../../functions/adapters/dynamo-unit-of-work.js';
import { finish } from '../../functions/services/run-task.js';
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

beforeAll(async () => {
  ({ resources, requests, audit, uow } = await createTestAdapters('outcomes', clients, PSEUDONYM_KEY, 4));
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
