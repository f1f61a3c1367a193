/**
 * Audit entries prove, they do not narrate: a request writes at most 2 × tasks + 3 entries
 * (received and dispatched, one outcome per task with its counts and verification, the
 * completion; failed attempts, holds and blocks only when they happen). The worker runs a batch's
 * records concurrently, so the tasks of one request report at once and settle it exactly once.
 */
import { describe, expect, it, vi } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import type { TaskMessage } from '../../domain/ports/index.js';
import { ConnectorRetryableError } from '../../functions/connectors/errors.js';
import { makeHandler as makeWorker } from '../../functions/run-connector-task.js';
import { submitErasureRequest } from '../../functions/services/erasure-requests.js';
import { stubRegistry } from '../helpers/connectors.js';
import { handlerDeps, lambdaContext, sqsRecord } from '../helpers/handler-deps.js';

const SUBJECT = 'subject-bound-1';

/** Connectors that take a moment (so a batch's records overlap) and count how many run at once. */
const slowConnectors = (failFirst = false) => {
  const tally = { inFlight: 0, most: 0, calls: 0 };
  const registry = stubRegistry(async () => {
    tally.inFlight++;
    tally.most = Math.max(tally.most, tally.inFlight);
    await new Promise((resolve) => setTimeout(resolve, 5));
    tally.inFlight--;
    // The first call of all fails once; its message is delivered again.
    if (failFirst && tally.calls++ === 0) {
      throw new ConnectorRetryableError('503 from the target', { code: 'HTTP503' });
    }
    return { status: 'done', affectedCount: 3 };
  });
  return { registry, tally };
};

/** Commits take a moment, like a DynamoDB round trip: concurrent outcomes read the same counts. */
const slowDownCommits = (built: ReturnType<typeof handlerDeps>): void => {
  const { commit } = built.ports.uow;
  Object.assign(built.deps, {
    uow: {
      commit: async (...args: Parameters<typeof commit>) => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        return commit(...args);
      },
    },
  });
};

/** A closed-account request (five tasks) submitted through the service; its messages wait in `built.ports.sent`. */
const submittedClosedAccount = async (idempotencyKey: string, slowCommits = false) => {
  const { registry, tally } = slowConnectors();
  const built = handlerDeps({ overrides: { connectors: registry } });
  if (slowCommits) slowDownCommits(built);
  const receipt = await submitErasureRequest(
    built.deps,
    { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
    idempotencyKey,
  );
  return { registry, tally, built, receipt };
};

/** Submits through the service, then delivers the queue to the worker until it is empty. */
const eraseThroughWorker = async (dataClasses: readonly string[], failFirst = false, slowCommits = false) => {
  const { registry, tally } = slowConnectors(failFirst);
  const built = handlerDeps({ overrides: { connectors: registry } });
  if (slowCommits) slowDownCommits(built);
  const worker = makeWorker(() => Promise.resolve(built.deps));
  const reads = vi.spyOn(built.deps.requests, 'get');
  const taskReads = vi.spyOn(built.deps.requests, 'getTask');
  const receipt = await submitErasureRequest(
    built.deps,
    { subjectId: SUBJECT, dataClasses, reason: 'gdpr-art17-request' },
    `bound-${dataClasses.join('+')}`,
  );
  let delivery = 0;
  const receives = new Map<string, number>();
  for (let round = 0; round < 5 && built.ports.sent.length > 0; round++) {
    const messages = built.ports.sent.splice(0);
    const records = messages.map((message) => {
      const count = (receives.get(message.taskId) ?? 0) + 1;
      receives.set(message.taskId, count);
      return sqsRecord(`m-${++delivery}`, JSON.stringify(message), { receiveCount: count });
    });
    const { batchItemFailures } = await worker({ Records: records }, lambdaContext('worker'));
    const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
    records.forEach((record, index) => {
      if (failed.has(record.messageId)) built.ports.sent.push(messages[index] as (typeof messages)[number]);
    });
  }
  const requestReads = reads.mock.calls.length + taskReads.mock.calls.length;
  const found = await built.deps.requests.get(receipt.requestId);
  const entries = await built.deps.audit.query({ requestId: receipt.requestId });
  return { built, found, entries, tally, requestReads };
};

describe('audit entries per request', () => {
  it.each([
    { tasks: 1, dataClasses: ['cloud-video'] },
    { tasks: 5, dataClasses: ['closed-account'] },
  ])(
    '$tasks task(s): received, dispatched, one entry per task, completed',
    async ({ tasks, dataClasses }) => {
      // Act
      const { found, entries, built } = await eraseThroughWorker(dataClasses);

      // Assess
      expect(found?.request).toMatchObject({ status: 'completed', verifiedCount: tasks, taskCount: tasks });
      expect(entries.map((entry) => entry.type)).toEqual([
        'request.received',
        'request.dispatched',
        ...Array.from({ length: tasks }, () => 'task.verified'),
        'request.completed',
      ]);
      expect(entries.length).toBeLessThanOrEqual(2 * tasks + 3);
      // Each task's one entry carries what was erased, when it ran and that it was verified.
      for (const entry of entries.filter((candidate) => candidate.type === 'task.verified')) {
        expect(entry.detail).toMatchObject({
          affectedCount: 3,
          remaining: 0,
          attempts: 1,
          status: 'verified',
        });
        expect(entry.detail).toHaveProperty('executedAt');
        expect(entry.detail).toHaveProperty('verifiedAt');
      }
      const chain = await built.deps.audit.readChain(SUBJECT);
      expect(verifyChain(chain.entries, { chainId: chain.chainId }).ok).toBe(true);
    },
  );

  it.each([
    { tasks: 1, dataClasses: ['cloud-video'] },
    { tasks: 5, dataClasses: ['closed-account'] },
  ])(
    '$tasks task(s) with a failed attempt retried in between: the failure is its one extra entry',
    async ({ tasks, dataClasses }) => {
      // Act
      const { found, entries } = await eraseThroughWorker(dataClasses, true);

      // Assess
      expect(found?.request).toMatchObject({ status: 'completed', verifiedCount: tasks });
      expect(entries.map((entry) => entry.type).sort()).toEqual(
        [
          'request.received',
          'request.dispatched',
          'task.attempt_failed',
          ...Array.from({ length: tasks }, () => 'task.verified'),
          'request.completed',
        ].sort(),
      );
      expect(entries.length).toBeLessThanOrEqual(2 * tasks + 3);
      expect(entries.find((entry) => entry.type === 'task.attempt_failed')?.detail).toEqual({
        attempt: 1,
        errorCode: 'HTTP503',
      });
    },
  );
});

describe('a batch of one request runs concurrently', () => {
  it('runs its records at once, commits their outcomes in groups and settles the request exactly once', async () => {
    // Act
    const { found, entries, tally, built, requestReads } = await eraseThroughWorker(
      ['closed-account'],
      false,
      true,
    );

    // Assess
    expect(tally.most).toBeGreaterThan(1);
    expect(found?.request).toMatchObject({ status: 'completed', verifiedCount: 5, failedCount: 0 });
    expect(entries.filter((entry) => entry.type === 'request.completed')).toHaveLength(1);
    expect(entries.filter((entry) => entry.type === 'task.verified')).toHaveLength(5);
    // Completed requests forget whose they were, in the commit that settled them.
    expect(found?.request.subjectId.startsWith('pseudonym:')).toBe(true);
    expect(found?.tasks.every((task) => task.subjectId.startsWith('pseudonym:'))).toBe(true);
    // Outcomes that finished while another committed waited and went in together: none lost a
    // race on the request's counts, and fewer commits than outcomes were made.
    const outcomeCommits = built.ports.commits.filter(
      (commit) => commit.changes[0]?.kind === 'task.outcomes',
    );
    expect(outcomeCommits.every((commit) => commit.result.committed)).toBe(true);
    expect(outcomeCommits.length).toBeLessThan(5);
    expect(
      Math.max(
        ...outcomeCommits.map((commit) => {
          const [change] = commit.changes;
          return change?.kind === 'task.outcomes' ? change.outcomes.length : 0;
        }),
      ),
    ).toBeGreaterThan(1);
    // The batch read the request once, for all its tasks, and the outcome commit counted on it.
    expect(requestReads).toBe(1);
  });

  it("reads the subject's holds once for the request's tasks in the batch, after every task's lease", async () => {
    // Prepare: record, in order, each lease that commits and each read of the holds.
    const { registry, built } = await submittedClosedAccount('bound-holds-once', true);
    const events: string[] = [];
    const { commit } = built.deps.uow;
    Object.assign(built.deps, {
      uow: {
        commit: async (...args: Parameters<typeof commit>) => {
          const result = await commit(...args);
          const [change] = args[0];
          if (result.committed && change?.kind === 'task.transition' && change.next.status === 'running') {
            events.push(`lease ${change.next.taskId}`);
          }
          return result;
        },
      },
    });
    const forSubject = built.deps.holds.forSubject.bind(built.deps.holds);
    vi.spyOn(built.deps.holds, 'forSubject').mockImplementation((subjectId) => {
      events.push('holds read');
      return forSubject(subjectId);
    });
    const records = built.ports.sent
      .splice(0)
      .map((message, index) => sqsRecord(`m-${index}`, JSON.stringify(message)));
    const worker = makeWorker(() => Promise.resolve(built.deps));

    // Act
    const { batchItemFailures } = await worker({ Records: records }, lambdaContext('worker'));

    // Assess: five leases, then one read of the holds for all five tasks.
    expect(batchItemFailures).toEqual([]);
    expect(events.slice(0, 5).every((event) => event.startsWith('lease '))).toBe(true);
    expect(new Set(events.slice(0, 5)).size).toBe(5);
    expect(events.slice(5)).toEqual(['holds read']);
    expect(registry.executed).toHaveLength(5);
  });

  it('a failed shared holds read fails the tasks that shared it, once each; their retry completes the request', async () => {
    // Prepare
    const { registry, built, receipt } = await submittedClosedAccount('bound-holds-read-fails');
    const reads = vi
      .spyOn(built.deps.holds, 'forSubject')
      .mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const worker = makeWorker(() => Promise.resolve(built.deps));
    const messages = built.ports.sent.splice(0);
    const deliver = (receiveCount: number) =>
      worker(
        {
          Records: messages.map((message, index) =>
            sqsRecord(`m-${index}`, JSON.stringify(message), { receiveCount }),
          ),
        },
        lambdaContext('worker'),
      );

    // Act
    const first = await deliver(1);
    const afterFirst = reads.mock.calls.length;
    const second = await deliver(2);

    // Assess: one read, which failed all five; nothing erased until the redelivery.
    expect(first.batchItemFailures).toHaveLength(5);
    expect(afterFirst).toBe(1);
    expect(second.batchItemFailures).toEqual([]);
    expect(registry.executed).toHaveLength(5);
    const found = await built.deps.requests.get(receipt.requestId);
    expect(found?.request).toMatchObject({ status: 'completed', verifiedCount: 5 });
    const entries = await built.deps.audit.query({ requestId: receipt.requestId });
    expect(entries.filter((entry) => entry.type === 'task.attempt_failed')).toHaveLength(5);
  });

  it('outcomes of one request in two batches at once: the loser counts again from fresh counts', async () => {
    // Prepare
    const { built, receipt } = await submittedClosedAccount('bound-two-batches', true);
    const records = built.ports.sent
      .splice(0)
      .map((message, index) => sqsRecord(`m-${index}`, JSON.stringify(message)));
    const worker = makeWorker(() => Promise.resolve(built.deps));

    // Act: two Lambda invocations, each with some of the request's tasks.
    const results = await Promise.all([
      worker({ Records: records.slice(0, 2) }, lambdaContext('worker')),
      worker({ Records: records.slice(2) }, lambdaContext('worker')),
    ]);

    // Assess
    expect(results.flatMap((result) => result.batchItemFailures)).toEqual([]);
    const found = await built.deps.requests.get(receipt.requestId);
    expect(found?.request).toMatchObject({ status: 'completed', verifiedCount: 5, failedCount: 0 });
    const entries = await built.deps.audit.query({ requestId: receipt.requestId });
    expect(entries.filter((entry) => entry.type === 'request.completed')).toHaveLength(1);
    const lost = built.ports.commits.filter(
      (commit) => !commit.result.committed && commit.changes[0]?.kind === 'task.outcomes',
    );
    expect(lost.length).toBeGreaterThan(0);
  });

  it('a failed read of the request fails the tasks that shared it only; the next task reads again', async () => {
    // Prepare
    const { built, receipt } = await submittedClosedAccount('bound-read-fails');
    const reads = vi
      .spyOn(built.deps.requests, 'get')
      .mockRejectedValueOnce(new Error('ProvisionedThroughputExceededException'));
    const worker = makeWorker(() => Promise.resolve(built.deps), 2);
    const records = built.ports.sent
      .splice(0)
      .map((message, index) => sqsRecord(`m-${index}`, JSON.stringify(message)));

    // Act
    const { batchItemFailures } = await worker({ Records: records }, lambdaContext('worker'));

    // Assess: the two tasks that started together shared the failed read and are retried.
    expect(batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(['m-0', 'm-1']);
    const found = await built.deps.requests.get(receipt.requestId);
    expect(found?.tasks.filter((task) => task.status === 'verified')).toHaveLength(3);
    expect(reads.mock.calls.length).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['left succeeded by an older worker', { status: 'succeeded' as const, attempts: 1 }],
    ['out of attempts', { status: 'running' as const, attempts: 20 }],
  ])(
    'a task delivered twice in one batch (%s) reports once, and its siblings are unharmed',
    async (_name, state) => {
      // Prepare: three tasks; the first is delivered twice, the second is at its last receive.
      const built = handlerDeps({ overrides: { connectors: slowConnectors().registry } });
      const receipt = await submitErasureRequest(
        built.deps,
        { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
        'bound-twice',
      );
      const [twice, last] = built.ports.sent.splice(0) as [TaskMessage, TaskMessage];
      const key = `${twice.requestId}\u0000${twice.taskId}`;
      built.ports.state.tasks.set(key, { ...(built.ports.state.tasks.get(key) as ErasureTask), ...state });
      const worker = makeWorker(() => Promise.resolve(built.deps));

      // Act
      const { batchItemFailures } = await worker(
        {
          Records: [
            sqsRecord('m-1', JSON.stringify(twice)),
            sqsRecord('m-2', JSON.stringify(twice)),
            sqsRecord('m-3', JSON.stringify(last), { receiveCount: 5 }),
          ],
        },
        lambdaContext('worker'),
      );

      // Assess
      expect(batchItemFailures).toEqual([]);
      const found = await built.deps.requests.get(receipt.requestId);
      const statuses = new Map(found?.tasks.map((task) => [task.taskId, task.status]));
      expect(statuses.get(last.taskId)).toBe('verified');
      expect(statuses.get(twice.taskId)).toBe(state.status === 'succeeded' ? 'verified' : 'failed');
      const counted = (found?.request.verifiedCount ?? 0) + (found?.request.failedCount ?? 0);
      expect(counted).toBe(2);
      const entries = await built.deps.audit.query({ requestId: receipt.requestId });
      expect(
        entries.filter((entry) => entry.taskId === twice.taskId && entry.type.startsWith('task.')),
      ).toHaveLength(1);
    },
  );

  it('runs at most the given number of records at once', async () => {
    // Prepare
    const { tally, built } = await submittedClosedAccount('bound-limit');
    const worker = makeWorker(() => Promise.resolve(built.deps), 2);
    const records = built.ports.sent
      .splice(0)
      .map((message, index) => sqsRecord(`m-${index}`, JSON.stringify(message)));

    // Act
    const { batchItemFailures } = await worker({ Records: records }, lambdaContext('worker'));

    // Assess
    expect(batchItemFailures).toEqual([]);
    expect(tally.most).toBe(2);
  });
});
