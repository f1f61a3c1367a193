/**
 * The fault matrix (issue 8): connectors that throw, time out or answer 5xx a few times, S3
 * `SlowDown` and DynamoDB throttling injected through SDK middleware, a worker that dies between
 * erasing and recording, duplicate and out-of-order events, and two sweeps at once. Every case runs
 * on its own runtime on the emulators (its own clock, queue and faults) and ends with the same
 * invariants: no request lost, nothing erased under a hold or after a restore, final states as
 * expected, the audit chain of every subject verifies and holds no idempotency key twice.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type {
  ErasureRequestReceipt,
  HoldReceipt,
  RequestDetail,
  SweepReport,
  VerificationAnswer,
} from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest, postLifecycleEvent } from '../helpers/api.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

// ---------------------------------------------------------------------------------------------
// Fault injection: one middleware per SDK client, consulting the faults a case has armed.

type ClientName = 'dynamodb' | 's3';

interface FaultSpec {
  readonly client: ClientName;
  /** The SDK command name (`DeleteObjectsCommand`, `TransactWriteItemsCommand`, ...). */
  readonly command: string;
  /** Only calls whose input (table, bucket, ...) matches. @default every call of the command */
  readonly when?: (input: Record<string, unknown>) => boolean;
  /** How many matching calls fail; later ones pass. */
  readonly times: number;
  /** Only after this many matching calls passed (to fail the call after a step succeeded). */
  readonly afterPassing?: number;
  readonly error: () => Error;
  /** Runs right before the fault is thrown (a hold placed while the call fails, ...). */
  readonly during?: (hit: number) => Promise<void>;
}

interface Fault {
  readonly spec: FaultSpec;
  hits: number;
  passed: number;
}

interface Faults {
  arm(spec: FaultSpec): Fault;
  clear(): void;
}

const installFaults = (runtime: TestRuntime): Faults => {
  let armed: Fault[] = [];
  const middleware =
    (client: ClientName) =>
    // biome-ignore lint/suspicious/noExplicitAny: the middleware sits on clients of different services
    (next: (args: any) => Promise<any>, context: { commandName?: string }) =>
    // biome-ignore lint/suspicious/noExplicitAny: see above
    async (args: any) => {
      const input = (args.input ?? {}) as Record<string, unknown>;
      for (const fault of armed) {
        const { spec } = fault;
        if (spec.client !== client || spec.command !== context.commandName) continue;
        if (spec.when !== undefined && !spec.when(input)) continue;
        if (fault.passed < (spec.afterPassing ?? 0)) {
          fault.passed++;
          continue;
        }
        if (fault.hits >= spec.times) continue;
        fault.hits++;
        await spec.during?.(fault.hits);
        throw spec.error();
      }
      return next(args);
    };
  // `initialize`: before the SDK's own retries, so the code under test meets every injected fault.
  // The document client shares the DynamoDB client's stack.
  runtime.clients.dynamodb.middlewareStack.add(middleware('dynamodb'), {
    step: 'initialize',
    name: 'faultMatrix',
  });
  runtime.clients.s3.middlewareStack.add(middleware('s3'), { step: 'initialize', name: 'faultMatrix' });
  return {
    arm: (spec) => {
      const fault = { spec, hits: 0, passed: 0 };
      armed.push(fault);
      return fault;
    },
    clear: () => {
      armed = [];
    },
  };
};

const slowDown = () =>
  new S3ServiceException({
    name: 'SlowDown',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Please reduce your request rate.',
  });
const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });
const connectionReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
const timedOut = () =>
  Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
/** Not an AWS error: what a worker that dies mid-call leaves behind, as far as the code can tell. */
const crashed = () => new Error('worker stopped');

const bucketIs = (bucket: string) => (input: Record<string, unknown>) => input.Bucket === bucket;
const tableIs = (table: string) => (input: Record<string, unknown>) => input.TableName === table;
/** A TransactWriteItems that writes to the given table (the request store's task commits). */
const transactsOn = (table: string) => (input: Record<string, unknown>) =>
  JSON.stringify(input.TransactItems ?? []).includes(`"TableName":"${table}"`);

// ---------------------------------------------------------------------------------------------
// Driving the pipeline

const ADVANCE_MS = 31 * 60 * 1000;
const FINAL = new Set(['completed', 'partially_failed', 'cancelled', 'rejected']);

const advance = (runtime: TestRuntime, ms: number): Date => {
  runtime.clock.set(new Date(runtime.clock.now().getTime() + ms).toISOString());
  return runtime.clock.now();
};

/**
 * Drains the queue; while a request is still open, lets the stuck-work review elapse (31 minutes)
 * and sweeps again, which re-sends tasks that stopped. Returns the number of rounds it took.
 */
const driveUntilSettled = async (runtime: TestRuntime, requestIds: readonly string[]): Promise<number> => {
  for (let round = 1; round <= 6; round++) {
    await runtime.drainQueue();
    const statuses = await Promise.all(
      requestIds.map(async (id) => (await getErasureRequest(runtime, id)).status),
    );
    if (statuses.every((status) => FINAL.has(status))) return round;
    await runtime.sweep(advance(runtime, ADVANCE_MS));
  }
  await runtime.drainQueue();
  return Number.POSITIVE_INFINITY;
};

const submitErasure = async (
  runtime: TestRuntime,
  subjectId: string,
  dataClasses: readonly string[],
  key = `${subjectId}-1`,
): Promise<ErasureRequestReceipt> => {
  const submitted = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
    body: { subjectId, reason: 'gdpr-art17-request', dataClasses },
    headers: { 'Idempotency-Key': key },
  });
  expect(submitted.status).toBe(202);
  return submitted.body;
};

const placeHold = async (runtime: TestRuntime, subjectId: string): Promise<string> => {
  const hold = await runtime.call<HoldReceipt>('POST', '/v1/legal-holds', {
    role: 'compliance',
    body: { subjectId, reason: 'litigation-2027-101' },
  });
  expect(hold.status).toBe(201);
  return hold.body.holdId;
};

const seed = async (runtime: TestRuntime, ...subjectIds: string[]) => {
  for (const subjectId of subjectIds) {
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
    runtime.webhook.records.set(subjectId, 2);
  }
};

// ---------------------------------------------------------------------------------------------
// The invariants

/** What the demo stores hold of a seeded subject, and what each erasure empties. */
type Store = 'customer' | 'alarms' | 'videos' | 'files' | 'partner';
const SEEDED: Record<Exclude<Store, 'customer' | 'partner'>, number> = { alarms: 3, videos: 3, files: 2 };

interface Expectations {
  /** Every request the API accepted (or a sweep dispatched) and the state it must end in. */
  readonly requests: readonly { readonly requestId: string; readonly status: string }[];
  /** Every subject involved and which of its stores must be empty; the others must be intact. */
  readonly subjects: Readonly<Record<string, readonly Store[]>>;
}

const assertInvariants = async (runtime: TestRuntime, expectations: Expectations): Promise<void> => {
  // No request lost, and each in the state the case expects (completed: every task verified).
  for (const { requestId, status } of expectations.requests) {
    const request: RequestDetail = await getErasureRequest(runtime, requestId);
    expect(request.status, `request ${requestId}`).toBe(status);
    if (status === 'completed') {
      expect(request.tasks.map((task) => task.status)).toEqual(request.tasks.map(() => 'verified'));
    }
  }
  for (const [subjectId, erased] of Object.entries(expectations.subjects)) {
    // Independent reads of the stores: erased where expected, untouched everywhere else.
    const left = await remainingData(runtime, subjectId);
    const gone = (store: Store) => erased.includes(store);
    expect(left.customer === undefined, `${subjectId}: customer record erased`).toBe(gone('customer'));
    for (const store of ['alarms', 'videos', 'files'] as const) {
      expect(left[store], `${subjectId}: ${store}`).toBe(gone(store) ? 0 : SEEDED[store]);
    }
    expect(runtime.webhook.records.has(subjectId), `${subjectId}: partner records kept`).toBe(
      !gone('partner'),
    );
    // Every partner erasure of a task carries that task's own idempotency key.
    for (const erasure of left.webhookErasures) expect(erasure.idempotencyKey).toBe(erasure.taskId);

    // The audit trail verifies, and no event was appended twice.
    const verification = await runtime.call<VerificationAnswer>(
      'GET',
      `/v1/audit/verification?subjectId=${subjectId}`,
      { role: 'compliance' },
    );
    expect(verification.status).toBe(200);
    expect(verification.body.verification, `${subjectId}: audit chain`).toMatchObject({ ok: true });
    const keys = (await auditEntriesOf(runtime, subjectId)).map((entry) => entry.idempotencyKey);
    expect(keys.length).toBeGreaterThan(0);
    expect(
      keys.filter((key, index) => keys.indexOf(key) !== index),
      `${subjectId}: keys appended twice`,
    ).toEqual([]);
  }
};

/** Each task's `task.verified` entry exists exactly once: the task ran to its end once. */
const expectVerifiedOnce = async (runtime: TestRuntime, subjectId: string, requestId: string) => {
  const { tasks } = await getErasureRequest(runtime, requestId);
  const entries = await auditEntriesOf(runtime, subjectId);
  for (const task of tasks) {
    expect(
      entries.filter((entry) => entry.type === 'task.verified' && entry.taskId === task.taskId),
    ).toHaveLength(1);
  }
  expect(
    entries.filter((entry) => entry.type === 'request.completed' && entry.requestId === requestId),
  ).toHaveLength(1);
};

// ---------------------------------------------------------------------------------------------
// The cases

interface Case {
  readonly name: string;
  /** Sets up, injects the fault, drives the pipeline and says what must hold at the end. */
  readonly run: (runtime: TestRuntime, faults: Faults) => Promise<Expectations>;
}

const erasureWith =
  (
    subjectId: string,
    dataClasses: readonly string[],
    erased: readonly Store[],
    inject: (runtime: TestRuntime, faults: Faults) => Fault,
    expectedHits: number,
  ): Case['run'] =>
  async (runtime, faults) => {
    await seed(runtime, subjectId);
    const { requestId } = await submitErasure(runtime, subjectId, dataClasses);
    const fault = inject(runtime, faults);
    await driveUntilSettled(runtime, [requestId]);
    expect(fault.hits).toBe(expectedHits);
    faults.clear();
    await driveUntilSettled(runtime, [requestId]);
    await expectVerifiedOnce(runtime, subjectId, requestId);
    return { requests: [{ requestId, status: 'completed' }], subjects: { [subjectId]: erased } };
  };

const CASES: readonly Case[] = [
  {
    name: 'the partner service answers 503 three times, then erases',
    run: async (runtime) => {
      const subjectId = 'faults-webhook-5xx';
      await seed(runtime, subjectId);
      let failures = 0;
      runtime.webhook.setFailure(503);
      taskMessageHook = () => {
        // Each receive of the webhook task is one request to the partner: the fourth one passes.
        failures++;
        if (failures > 3) runtime.webhook.setFailure(undefined);
      };
      const { requestId } = await submitErasure(runtime, subjectId, ['marketing-contact']);
      await driveUntilSettled(runtime, [requestId]);
      expect(failures).toBe(4);
      expect(runtime.webhook.received.filter((erasure) => erasure.subjectId === subjectId)).toHaveLength(1);
      const trail = await auditEntriesOf(runtime, subjectId);
      expect(trail.filter((entry) => entry.type === 'task.attempt_failed')).toHaveLength(3);
      await expectVerifiedOnce(runtime, subjectId, requestId);
      return { requests: [{ requestId, status: 'completed' }], subjects: { [subjectId]: ['partner'] } };
    },
  },
  {
    name: 'the DynamoDB connector throws (connection reset) twice, then erases',
    run: erasureWith(
      'faults-dynamo-throws',
      ['alarm-events'],
      ['alarms'],
      (runtime, faults) =>
        faults.arm({
          client: 'dynamodb',
          command: 'QueryCommand',
          when: tableIs(runtime.stores.alarmEventsTable),
          times: 2,
          error: connectionReset,
        }),
      2,
    ),
  },
  {
    name: 'the S3 connector times out twice, then erases',
    run: erasureWith(
      'faults-s3-timeout',
      ['cloud-video'],
      ['videos'],
      (runtime, faults) =>
        faults.arm({
          client: 's3',
          command: 'ListObjectsV2Command',
          when: bucketIs(runtime.stores.cloudVideoBucket),
          times: 2,
          error: timedOut,
        }),
      2,
    ),
  },
  {
    name: 'S3 answers SlowDown to three deletes, then erases',
    run: erasureWith(
      'faults-s3-slowdown',
      ['cloud-video'],
      ['videos'],
      (runtime, faults) =>
        faults.arm({
          client: 's3',
          command: 'DeleteObjectsCommand',
          when: bucketIs(runtime.stores.cloudVideoBucket),
          times: 3,
          error: slowDown,
        }),
      3,
    ),
  },
  {
    name: 'DynamoDB throttles the connector’s deletes three times, then erases',
    run: erasureWith(
      'faults-dynamo-throttled',
      ['alarm-events'],
      ['alarms'],
      (runtime, faults) =>
        faults.arm({
          client: 'dynamodb',
          command: 'BatchWriteItemCommand',
          when: (input) => JSON.stringify(input.RequestItems ?? {}).includes(runtime.stores.alarmEventsTable),
          times: 3,
          error: throttled,
        }),
      3,
    ),
  },
  {
    name: 'DynamoDB throttles the worker’s own task commits twice; the task still completes once',
    run: erasureWith(
      'faults-dynamo-throttled-commits',
      ['cloud-video'],
      ['videos'],
      (runtime, faults) =>
        faults.arm({
          client: 'dynamodb',
          command: 'TransactWriteItemsCommand',
          when: transactsOn(runtime.resources.tables.requests),
          // Armed after intake: the worker's first two commits are throttled.
          times: 2,
          error: throttled,
        }),
      2,
    ),
  },
  {
    name: 'the worker dies after the delete and before recording it; the redelivered task re-runs idempotently',
    run: async (runtime, faults) => {
      const subjectId = 'faults-worker-dies';
      await seed(runtime, subjectId);
      let deleted = false;
      let videosAtCrash: number | undefined;
      // The commit right after a successful delete: the one that records the task succeeded.
      const commit = faults.arm({
        client: 'dynamodb',
        command: 'TransactWriteItemsCommand',
        when: (input) => deleted && transactsOn(runtime.resources.tables.requests)(input),
        times: 1,
        error: crashed,
        during: async () => {
          videosAtCrash = (await remainingData(runtime, subjectId)).videos;
        },
      });
      runtime.clients.s3.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeleteObjectsCommand') deleted = true;
          return result;
        },
        { step: 'initialize', name: 'faultMatrixDeleted' },
      );
      const { requestId } = await submitErasure(runtime, subjectId, ['cloud-video']);
      await driveUntilSettled(runtime, [requestId]);
      expect(commit.hits).toBe(1);
      // The worker stopped with the data already gone and nothing recorded.
      expect(videosAtCrash).toBe(0);
      await expectVerifiedOnce(runtime, subjectId, requestId);
      return { requests: [{ requestId, status: 'completed' }], subjects: { [subjectId]: ['videos'] } };
    },
  },
  {
    name: 'the worker dies hard after the delete (nothing recorded, the message stays invisible); the sweep re-sends the task',
    run: async (runtime, faults) => {
      const subjectId = 'faults-worker-dies-hard';
      await seed(runtime, subjectId);
      let deleted = false;
      runtime.clients.s3.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'DeleteObjectsCommand') deleted = true;
          return result;
        },
        { step: 'initialize', name: 'faultMatrixDeleted' },
      );
      // Every commit fails until the runtime "restarts": neither the outcome nor the failed
      // attempt is recorded, and the worker reports the message failed without moving its visibility.
      const commits = faults.arm({
        client: 'dynamodb',
        command: 'TransactWriteItemsCommand',
        when: () => deleted,
        times: 2,
        error: crashed,
      });
      const { requestId } = await submitErasure(runtime, subjectId, ['cloud-video']);
      await runtime.drainQueue();
      expect(commits.hits).toBe(2);
      expect((await getErasureRequest(runtime, requestId)).status).toBe('dispatched');
      faults.clear();
      const rounds = await driveUntilSettled(runtime, [requestId]);
      expect(rounds).toBeGreaterThan(1);
      await expectVerifiedOnce(runtime, subjectId, requestId);
      return { requests: [{ requestId, status: 'completed' }], subjects: { [subjectId]: ['videos'] } };
    },
  },
  {
    name: 'the same lifecycle event twice: one deletion, run once',
    run: async (runtime) => {
      const subjectId = 'faults-duplicate-event';
      await seed(runtime, subjectId);
      const first = await postLifecycleEvent(runtime, subjectId, 'account.suspended', '2026-11-01T00:00:00Z');
      const again = await postLifecycleEvent(runtime, subjectId, 'account.suspended', '2026-11-01T00:00:00Z');
      expect(again).toEqual(first);
      runtime.clock.set('2027-02-02T00:00:00.000Z');
      const report = await runtime.sweep(runtime.clock.now());
      const dispatched = report.dispatched.filter((item) => item.dataClass === 'suspended-account');
      expect(dispatched).toHaveLength(1);
      const requestId = dispatched[0]?.requestId ?? '';
      await driveUntilSettled(runtime, [requestId]);
      await expectVerifiedOnce(runtime, subjectId, requestId);
      const trail = await auditEntriesOf(runtime, subjectId);
      expect(trail.filter((entry) => entry.type === 'lifecycle.recorded')).toHaveLength(1);
      return {
        requests: [{ requestId, status: 'completed' }],
        subjects: { [subjectId]: ['customer', 'files'] },
      };
    },
  },
  {
    name: 'events out of order: the restore arrives before the suspension it ends → nothing erased',
    run: async (runtime) => {
      const subjectId = 'faults-restore-first';
      await seed(runtime, subjectId);
      await postLifecycleEvent(runtime, subjectId, 'account.restored', '2026-11-15T00:00:00Z');
      await postLifecycleEvent(runtime, subjectId, 'account.suspended', '2026-11-01T00:00:00Z');
      runtime.clock.set('2027-03-01T00:00:00.000Z');
      const report = await runtime.sweep(runtime.clock.now());
      await runtime.drainQueue();
      expect(report.dispatched).toEqual([]);
      return { requests: [], subjects: { [subjectId]: [] } };
    },
  },
  {
    name: 'restored before the deletion was due, while S3 answers SlowDown → nothing erased',
    run: async (runtime, faults) => {
      const subjectId = 'faults-restored-before-due';
      await seed(runtime, subjectId);
      faults.arm({ client: 's3', command: 'DeleteObjectsCommand', times: 2, error: slowDown });
      await postLifecycleEvent(runtime, subjectId, 'account.suspended', '2026-11-01T00:00:00Z');
      const restore = await postLifecycleEvent(
        runtime,
        subjectId,
        'account.restored',
        '2026-11-20T00:00:00Z',
      );
      expect(restore.decisions).toContainEqual(
        expect.objectContaining({ dataClass: 'suspended-account', change: 'cancelled' }),
      );
      runtime.clock.set('2027-03-01T00:00:00.000Z');
      const report = await runtime.sweep(runtime.clock.now());
      await runtime.drainQueue();
      expect(report.dispatched).toEqual([]);
      return { requests: [], subjects: { [subjectId]: [] } };
    },
  },
  {
    name: 'two sweeps at once: one request per due entry, each task run once',
    run: async (runtime) => {
      const subjects = Array.from({ length: 6 }, (_, index) => `faults-two-sweeps-${index + 1}`);
      const messages: string[] = [];
      taskMessageHook = (body) => messages.push(body);
      await seed(runtime, ...subjects);
      for (const subjectId of subjects) {
        await postLifecycleEvent(runtime, subjectId, 'account.suspended', '2026-11-01T00:00:00Z');
      }
      runtime.clock.set('2027-02-02T00:00:00.000Z');
      const reports: SweepReport[] = await Promise.all([
        runtime.sweep(runtime.clock.now()),
        runtime.sweep(runtime.clock.now()),
      ]);
      const requestIds = reports.flatMap((report) =>
        report.dispatched
          .filter((item) => item.dataClass === 'suspended-account')
          .map((item) => item.requestId),
      );
      expect(requestIds).toHaveLength(subjects.length);
      expect(new Set(requestIds).size).toBe(subjects.length);
      expect(await driveUntilSettled(runtime, requestIds)).toBe(1);
      // Each task was queued once: the sweep that lost the claim neither re-sent nor reported it.
      const taskIds = messages.map((body) => (JSON.parse(body) as { taskId: string }).taskId);
      expect(taskIds).toHaveLength(subjects.length * 2);
      expect(new Set(taskIds).size).toBe(taskIds.length);
      for (const subjectId of subjects) {
        const trail = await auditEntriesOf(runtime, subjectId);
        const verified = trail.filter((entry) => entry.type === 'task.verified');
        expect(verified).toHaveLength(2);
      }
      return {
        requests: requestIds.map((requestId) => ({ requestId, status: 'completed' })),
        subjects: Object.fromEntries(
          subjects.map((subjectId) => [subjectId, ['customer', 'files'] as Store[]]),
        ),
      };
    },
  },
  {
    name: 'a hold placed while a task retries a SlowDown: nothing erased under it; released, the task completes',
    run: async (runtime, faults) => {
      const subjectId = 'faults-hold-while-retrying';
      await seed(runtime, subjectId);
      let holdId = '';
      faults.arm({
        client: 's3',
        command: 'DeleteObjectsCommand',
        when: bucketIs(runtime.stores.cloudVideoBucket),
        times: 1,
        error: slowDown,
        during: async () => {
          holdId = await placeHold(runtime, subjectId);
        },
      });
      const { requestId } = await submitErasure(runtime, subjectId, ['cloud-video']);
      await driveUntilSettled(runtime, [requestId]);
      faults.clear();
      await driveUntilSettled(runtime, [requestId]);
      expect(holdId).not.toBe('');
      const held = await getErasureRequest(runtime, requestId);
      expect(held.tasks.map((task) => task.status)).toEqual(['pending']);
      expect((await auditEntriesOf(runtime, subjectId)).map((entry) => entry.type)).toContain('task.held');
      await assertInvariants(runtime, {
        requests: [{ requestId, status: 'dispatched' }],
        subjects: { [subjectId]: [] },
      });

      const release = await runtime.call('DELETE', `/v1/legal-holds/${holdId}`, { role: 'compliance' });
      expect(release.status).toBe(204);
      await runtime.sweep(advance(runtime, ADVANCE_MS));
      await driveUntilSettled(runtime, [requestId]);
      return { requests: [{ requestId, status: 'completed' }], subjects: { [subjectId]: ['videos'] } };
    },
  },
];

// ---------------------------------------------------------------------------------------------

let runtime: TestRuntime | undefined;
/** Told of every task message the queue consumer receives (set by a case, reset after it). */
let taskMessageHook: ((body: string) => void) | undefined;

afterEach(async () => {
  taskMessageHook = undefined;
  await runtime?.stop();
  runtime = undefined;
});

describe('fault matrix', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, { run }) => {
    runtime = await startTestRuntime('faults', {
      demoSubjects: 0,
      onTaskMessage: (body) => taskMessageHook?.(body),
    });
    const faults = installFaults(runtime);
    const expectations = await run(runtime, faults);
    faults.clear();
    runtime.webhook.setFailure(undefined);
    await assertInvariants(runtime, expectations);
  });
});
