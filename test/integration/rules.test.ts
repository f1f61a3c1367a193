/**
 * Every rule of retention-rules.md that pipeline.test.ts does not already prove, end to end: the
 * real API of a local runtime, the real emulators, and independent reads of the demo stores.
 *
 * Three runtimes, each with a clock that only moves forward:
 * - `classes`: one case per data class of the built-in catalog, on a clock a good month past the
 *   real time (S3 stamps objects with the real time, so the video seeded there is older than any
 *   rolling cut-off the cases compute). The cases share one timeline: see its beforeAll.
 * - `dated`: the rules with concrete dates and the request-handling capabilities, in date order.
 * - `live`: the asynchronous partner service (its signed callbacks are checked against the clock,
 *   so that clock must be the real time) and then the IMOU-1 storage period against real S3 stamps.
 *
 * Where one trigger arms more classes than a test is about (subject.active arms six), a legal hold
 * on the others keeps their erasures out of the runtime's sweeps (`isolate`), and a finished
 * subject is held entirely (`retire`) so that its rolling windows do not run on at later sweeps.
 *
 * A sweep reads the due index month by month from a watermark that trails the clock, so a sweep
 * years ahead of the clock reads every month in between. The scenarios therefore keep the clock
 * near their sweeps: a trigger that happened long ago is reported late (the API orders events by
 * `occurredAt`, not by arrival), as pipeline.test.ts does. An entry whose due time is already past
 * when it is written is indexed at the time of writing, so every scenario reports its events while
 * the clock is still at or before the first due time it sweeps at.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import { scheduledRequestId } from '../../domain/erasure/index.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { isRollingWindow } from '../../domain/policy/schema.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';
import { addDuration, subtractDuration } from '../../domain/time.js';
import { targetNamed } from '../../domain/vocabulary/index.js';
import type {
  ErasureRequestReceipt,
  HoldReceipt,
  LifecycleEventResult,
  RequestView,
  ScheduleView,
  SweepReport,
  VerificationAnswer,
} from '../../functions/api/types.js';
import { ANONYMISED_MARKER, RESTRICTED_ATTRIBUTE } from '../../functions/connectors/dynamodb-items.js';
import type { WebhookRequestBody } from '../../functions/connectors/http-webhook.js';
import { runWindows, type WindowRunReport } from '../../functions/services/window-runs.js';
import { demoIdentifiersOf, seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest, postLifecycleEvent, sweepAndDrain } from '../helpers/api.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

/** A decision of the lifecycle-event answer. */
type Decision = LifecycleEventResult['decisions'][number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();
const justBefore = (instant: string, ms = 1): string => iso(Date.parse(instant) - ms);

// ---------------------------------------------------------------------------------------------
// API helpers
// ---------------------------------------------------------------------------------------------

const postEvent = async (
  rt: TestRuntime,
  subjectId: string,
  type: string,
  occurredAt: string,
  attributes?: Record<string, string>,
) => (await postLifecycleEvent(rt, subjectId, type, occurredAt, attributes)).decisions;

const submitErasure = async (
  rt: TestRuntime,
  body: { subjectId: string; reason: string; dataClasses?: string[] },
  idempotencyKey: string,
) => {
  const response = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
    body,
    headers: { 'Idempotency-Key': idempotencyKey },
  });
  expect(response.status).toBe(202);
  return response.body;
};

const scheduleOf = async (rt: TestRuntime, subjectId: string): Promise<ScheduleView> =>
  (await rt.call<ScheduleView>('GET', `/v1/subjects/${subjectId}/schedule`)).body;

const CANCELLED_BY_CLOSING = BUILT_IN_CATALOG.dataClasses
  .filter((policy) => policy.cancelledBy.includes('account.closed'))
  .map((policy) => policy.dataClass);

/** The id of the request a sweep creates for a due entry: deterministic, keyed like the runtime's. */
const scheduledId = (rt: TestRuntime, subjectId: string, dataClass: string, dueAt: string): string =>
  scheduledRequestId(subjectId, dataClass, dueAt, { key: rt.deps.settings.idKey });

const placeHold = async (
  rt: TestRuntime,
  subjectId: string,
  reason: string,
  dataClasses?: readonly string[],
): Promise<string> => {
  const response = await rt.call<HoldReceipt>('POST', '/v1/legal-holds', {
    role: 'compliance',
    body: { subjectId, reason, ...(dataClasses === undefined ? {} : { dataClasses }) },
  });
  expect(response.status).toBe(201);
  return response.body.holdId;
};

/**
 * A trigger may arm more classes than a test is about (subject.active arms six). A legal hold on
 * the others (ALM-3: a hold may cover some classes only) has the runtime's sweeps block their
 * entries, which is cheap, instead of running their erasures; the classes under test run as usual.
 * A hold protects every target its classes live in, so only the others that share no target with
 * the classes under test can be held: the rest run too, and the assertions read per class.
 */
const isolate = async (
  rt: TestRuntime,
  subjectId: string,
  trigger: string,
  underTest: readonly string[],
): Promise<void> => {
  const targetsOf = (dataClass: string) =>
    BUILT_IN_CATALOG.dataClasses.find((policy) => policy.dataClass === dataClass)?.targets ?? [];
  const used = new Set(underTest.flatMap(targetsOf));
  const others = BUILT_IN_CATALOG.dataClasses
    .filter((policy) => (policy.triggers as readonly string[]).includes(trigger))
    .map((policy) => policy.dataClass)
    .filter((dataClass) => !underTest.includes(dataClass))
    .filter((dataClass) => targetsOf(dataClass).every((target) => !used.has(target)));
  if (others.length > 0) await placeHold(rt, subjectId, 'out-of-scope-of-this-test', others);
};

/** Holds all of a subject's data once its test is over: its rolling windows would run forever. */
const retire = async (rt: TestRuntime, subjectId: string): Promise<void> => {
  await placeHold(rt, subjectId, 'test-finished');
};

// ---------------------------------------------------------------------------------------------
// Independent reads
// ---------------------------------------------------------------------------------------------

/** Every erasure request body that really went over the wire to a runtime's webhook. */
let fetchSpy: MockInstance<typeof fetch>;

beforeAll(() => {
  fetchSpy = vi.spyOn(globalThis, 'fetch');
});
afterAll(() => {
  fetchSpy.mockRestore();
});

const sentToWebhook = (rt: TestRuntime, subjectId: string, dataClass?: string): WebhookRequestBody[] =>
  fetchSpy.mock.calls.flatMap(([input, init]) => {
    if (String(input) !== rt.webhook.url || typeof init?.body !== 'string') return [];
    const body = JSON.parse(init.body) as WebhookRequestBody & { type?: string };
    // Advance notices (IMOU-3) go to the same service; this collects erasures only.
    if (body.type === 'retention.notice') return [];
    return body.subjectId === subjectId && (dataClass === undefined || body.dataClass === dataClass)
      ? [body]
      : [];
  });

/** What the demo partner service says it was asked to do for the subject (its own record). */
const partnerErasures = (rt: TestRuntime, subjectId: string) =>
  rt.webhook.received
    .filter((erasure) => erasure.subjectId === subjectId)
    .map(({ dataClass, action }) => ({ dataClass, action }));

type Item = Record<string, unknown>;

/** A subject's data in one target, read with the SDK (or the demo webhook's own record). */
type TargetState =
  | { readonly kind: 'dynamodb-items'; readonly items: Item[] }
  | { readonly kind: 's3-prefix'; readonly keys: string[] }
  | { readonly kind: 'http-webhook'; readonly erasures: { dataClass: string; action: string }[] };

const stateOf = async (
  rt: TestRuntime,
  target: ConnectorTarget,
  subjectId: string,
  dataClass: string,
): Promise<TargetState> => {
  switch (target.kind) {
    case 'dynamodb-items': {
      const { Items = [] } = await rt.clients.documents.send(
        new QueryCommand({
          TableName: target.table,
          IndexName: target.indexName,
          KeyConditionExpression: '#subject = :subject',
          ExpressionAttributeNames: { '#subject': target.subjectAttribute },
          ExpressionAttributeValues: { ':subject': subjectId },
          ConsistentRead: target.indexName === undefined,
        }),
      );
      const items = [...Items].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
      return { kind: target.kind, items };
    }
    case 's3-prefix': {
      const prefix = target.prefixTemplate.split('{subjectId}').join(subjectId);
      const { Contents = [] } = await rt.clients.s3.send(
        new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix }),
      );
      return { kind: target.kind, keys: Contents.flatMap((object) => object.Key ?? []).sort() };
    }
    case 'http-webhook':
      return {
        kind: target.kind,
        erasures: partnerErasures(rt, subjectId).filter((erasure) => erasure.dataClass === dataClass),
      };
  }
};

/** Asserts that `after` is what the class's action leaves of `seeded` in that target. */
const expectActionDone = (
  policy: DataClassPolicy,
  target: ConnectorTarget,
  seeded: TargetState,
  after: TargetState,
): void => {
  const { action } = policy;
  if (
    seeded.kind === 'dynamodb-items' &&
    after.kind === 'dynamodb-items' &&
    target.kind === 'dynamodb-items'
  ) {
    expect(seeded.items.length, `${target.name} was seeded`).toBeGreaterThan(0);
    if (action === 'delete') {
      expect(after.items, `${target.name}: deleted`).toEqual([]);
      return;
    }
    // Anonymised or restricted: every item is still there, changed only as the action says.
    expect(after.items).toHaveLength(seeded.items.length);
    after.items.forEach((item, index) => {
      const original = seeded.items[index] ?? {};
      if (action === 'anonymise') {
        const marked = Object.fromEntries(
          (target.anonymiseAttributes ?? []).map((attribute) => [attribute, ANONYMISED_MARKER]),
        );
        expect(item, `${target.name}: anonymised`).toEqual({ ...original, ...marked });
      } else {
        expect(item, `${target.name}: restricted`).toMatchObject({
          ...original,
          [RESTRICTED_ATTRIBUTE]: true,
        });
      }
    });
    return;
  }
  if (seeded.kind === 's3-prefix' && after.kind === 's3-prefix') {
    // S3 objects can only be deleted (TARGET_ACTIONS), which the catalog's parser enforces.
    expect(action).toBe('delete');
    expect(seeded.keys.length, `${target.name} was seeded`).toBeGreaterThan(0);
    expect(after.keys, `${target.name}: deleted`).toEqual([]);
    return;
  }
  if (seeded.kind === 'http-webhook' && after.kind === 'http-webhook') {
    expect(after.erasures, `${target.name}: asked once`).toEqual([{ dataClass: policy.dataClass, action }]);
    return;
  }
  throw new Error(`target ${target.name} changed kind between reads`);
};

// ---------------------------------------------------------------------------------------------
// Every data class with a trigger
// ---------------------------------------------------------------------------------------------

const TRIGGERED = BUILT_IN_CATALOG.dataClasses.filter((policy) => policy.triggers.length > 0);

/** One class's case: what was set up, and what the sweeps at `dueAt - 1 ms` and `dueAt` left. */
interface ClassCase {
  readonly policy: DataClassPolicy;
  readonly trigger: string;
  readonly subjectId: string;
  readonly occurredAt: string;
  readonly postedAt: string;
  readonly decision: Decision | undefined;
  readonly dueAt: string;
  readonly requestId: string;
  readonly targets: readonly ConnectorTarget[];
  readonly seeded: TargetState[];
  early?: Observation;
  due?: Observation;
  /** Rolling windows: the window runs at `dueAt` (the sweeps of this runtime run none). */
  windows?: readonly WindowRunReport[];
}
interface Observation {
  readonly report: SweepReport;
  readonly states: TargetState[];
  readonly wire: WebhookRequestBody[];
}

describe('every data class with a trigger, end to end', () => {
  let rt: TestRuntime;
  const cases = new Map<string, ClassCase>();

  const observe = async (classCase: ClassCase, report: SweepReport): Promise<Observation> => ({
    report,
    states: await Promise.all(
      classCase.targets.map((target) => stateOf(rt, target, classCase.subjectId, classCase.policy.dataClass)),
    ),
    wire: sentToWebhook(rt, classCase.subjectId, classCase.policy.dataClass),
  });

  const setUp = async (policy: DataClassPolicy, now: string): Promise<ClassCase> => {
    const [trigger = ''] = policy.triggers;
    const subjectId = `class-${policy.dataClass}`;
    const rolling = isRollingWindow(policy);
    // One-off periods: the trigger happened one period ago and is reported now, so the deletion is
    // due now. Rolling windows: the trigger happens now; the first run is the window's next run.
    const occurredAt = rolling ? now : subtractDuration(now, policy.retention);
    // Alarm events carry their own time. Rolling windows: older than the cut-off of their first
    // run. Otherwise the present, so the alarm-events window that subject.active also arms
    // (IMOU-2) leaves them for this class to act on.
    const alarmsAt = rolling ? justBefore(subtractDuration(occurredAt, policy.retention), DAY) : now;
    await seedDemoSubject(rt.clients, rt.stores, subjectId, new Date(alarmsAt));
    rt.webhook.records.set(subjectId, 2);
    const targets = policy.targets.map((name) => targetNamed(rt.deps.config, name));
    const seeded = await Promise.all(
      targets.map((target) => stateOf(rt, target, subjectId, policy.dataClass)),
    );
    await isolate(rt, subjectId, trigger, [policy.dataClass]);
    const decisions = await postEvent(rt, subjectId, trigger, occurredAt);
    const decision = decisions.find((d) => d.dataClass === policy.dataClass && d.change === 'scheduled');
    const dueAt = decision?.dueAt ?? now;
    return {
      policy,
      trigger,
      subjectId,
      occurredAt,
      postedAt: now,
      decision,
      dueAt,
      requestId: scheduledId(rt, subjectId, policy.dataClass, dueAt),
      targets,
      seeded,
    };
  };

  /**
   * For each class: a fresh subject, its first trigger, and sweeps at `dueAt - 1 ms` and `dueAt`,
   * with the class's targets read right after each. Classes due at the same instant share those
   * sweeps (a sweep reads months of the due index and runs whatever else is due), so the
   * one-off periods all fall due at the clock's start and the rolling windows, triggered in the
   * last hour of that month, all at their first run, midnight on the 1st of the next.
   */
  beforeAll(async () => {
    // The 1st of the month after next, 08:00Z: at least 32 days past the real time, so the video
    // seeded now (stamped with the real time by S3) is older than cloud-video-window's 30-day
    // cut-off, and a day below 29, so that `x - P24M + P24M` is `x` again.
    const real = new Date();
    const year = real.getUTCFullYear();
    const month = real.getUTCMonth();
    const start = iso(Date.UTC(year, month + 2, 1, 8));
    const lastHourOfThatMonth = iso(Date.UTC(year, month + 3, 1) - HOUR);
    // Window runs erase by age across every subject, and this clock is weeks past S3's real
    // stamps: they run here only where the rolling classes' cases run them (at their first slot).
    rt = await startTestRuntime('rules-classes', { demoSubjects: 0, clockStart: start, windowRuns: false });

    const phases = [
      { at: start, classes: TRIGGERED.filter((policy) => !isRollingWindow(policy)) },
      { at: lastHourOfThatMonth, classes: TRIGGERED.filter((policy) => isRollingWindow(policy)) },
    ];
    for (const phase of phases) {
      rt.clock.set(phase.at);
      const phaseCases = await Promise.all(phase.classes.map((policy) => setUp(policy, phase.at)));
      for (const classCase of phaseCases) cases.set(classCase.policy.dataClass, classCase);
      const dueTimes = [...new Set(phaseCases.map((classCase) => classCase.dueAt))].sort();
      for (const dueAt of dueTimes) {
        const dueThen = phaseCases.filter((classCase) => classCase.dueAt === dueAt);
        const lastMoment = justBefore(dueAt);
        if (lastMoment > rt.clock.now().toISOString()) rt.clock.set(lastMoment);
        const early = await sweepAndDrain(rt, lastMoment);
        for (const classCase of dueThen) classCase.early = await observe(classCase, early);
        if (dueThen.some((classCase) => isRollingWindow(classCase.policy))) {
          const windows = await runWindows(rt.deps, dueAt);
          for (const classCase of dueThen) classCase.windows = windows;
        }
        const due = await sweepAndDrain(rt, dueAt);
        for (const classCase of dueThen) classCase.due = await observe(classCase, due);
      }
    }
  });
  afterAll(async () => {
    await rt.stop();
  });

  for (const policy of TRIGGERED) {
    const [trigger = ''] = policy.triggers;
    const [ruleRef = ''] = policy.ruleRefs;
    it(`${policy.ruleRefs.join(' / ')}: ${policy.dataClass} — ${trigger} → ${policy.action} after ${policy.retention}`, async () => {
      const classCase = cases.get(policy.dataClass);
      if (classCase?.early === undefined || classCase.due === undefined) {
        throw new Error(`the sweeps never reached ${policy.dataClass}`);
      }
      const { subjectId, occurredAt, dueAt, requestId, targets, seeded, early, due } = classCase;
      const rolling = isRollingWindow(policy);

      // The API's decision: the policy's action and rule, due one period after the trigger
      // (rolling windows: at the window's next run). Not before the trigger was posted, so the
      // entry is indexed at its due time.
      expect(classCase.decision).toMatchObject({ action: policy.action, ruleRef });
      if (rolling) expect(dueAt > occurredAt).toBe(true);
      else expect(dueAt).toBe(addDuration(occurredAt, policy.retention));
      expect(dueAt >= classCase.postedAt).toBe(true);

      // At dueAt - 1 ms: not dispatched, the data intact, the partner service not called.
      expect(early.report.dispatched.map((d) => d.requestId)).not.toContain(requestId);
      expect(early.states).toEqual(seeded);
      expect(early.wire).toEqual([]);

      if (rolling) {
        // At dueAt: no request for the subject; one window run per target erased across subjects.
        expect(classCase.decision).toMatchObject({ change: 'scheduled' });
        expect(due.report.dispatched.map((d) => d.requestId)).not.toContain(requestId);
        const cutoff = subtractDuration(dueAt, policy.retention);
        for (const [index, target] of targets.entries()) {
          expect(classCase.windows).toContainEqual(
            expect.objectContaining({
              dataClass: policy.dataClass,
              ruleRef,
              target: target.name,
              status: 'ran',
            }),
          );
          const chain = await rt.deps.audit.readChainById(`window:${target.name}`);
          const entry = chain.entries.find((candidate) => candidate.dataClass === policy.dataClass);
          expect(entry).toMatchObject({
            type: 'window.run',
            ruleRef,
            detail: expect.objectContaining({ cutoff }),
          });
          expect(verifyChain(chain.entries).ok).toBe(true);
          expect(JSON.stringify(chain.entries)).not.toContain(subjectId);
          if (target.kind === 'http-webhook') {
            expect(rt.webhook.windowRuns).toContainEqual(
              expect.objectContaining({ dataClass: policy.dataClass, olderThan: cutoff }),
            );
            continue;
          }
          const seededState = seeded[index];
          const afterState = due.states[index];
          if (seededState === undefined || afterState === undefined) throw new Error('missing read');
          expectActionDone(policy, target, seededState, afterState);
        }
        return;
      }

      // At dueAt: dispatched, and every target did what the action says.
      expect(due.report.dispatched).toContainEqual({
        requestId,
        dataClass: policy.dataClass,
        ruleRef,
        dueAt,
      });
      const request = await getErasureRequest(rt, requestId);
      expect(request.status).toBe('completed');
      expect(request.tasks.map((task) => task.target).sort()).toEqual([...policy.targets].sort());
      for (const task of request.tasks) {
        expect(task).toMatchObject({
          dataClass: policy.dataClass,
          action: policy.action,
          status: 'verified',
        });
      }
      targets.forEach((target, index) => {
        const seededState = seeded[index];
        const afterState = due.states[index];
        if (seededState === undefined || afterState === undefined) throw new Error('missing read');
        expectActionDone(policy, target, seededState, afterState);
      });
      // What went over the wire to the partner service: a rolling window sends its cut-off.
      if (policy.targets.includes('partner-services')) {
        const olderThan = rolling ? subtractDuration(dueAt, policy.retention) : undefined;
        expect(due.wire).toEqual([
          {
            taskId: expect.any(String),
            requestId,
            subjectId,
            dataClass: policy.dataClass,
            action: policy.action,
            ...(olderThan === undefined ? {} : { olderThan }),
            callbackUrl: expect.any(String),
            nonce: expect.any(String),
          },
        ]);
      }

      // ALE-5: the scheduled erasure is in the subject's audit trail, which verifies.
      const entries = await auditEntriesOf(rt, subjectId);
      const types = entries.filter((entry) => entry.requestId === requestId).map((entry) => entry.type);
      expect(types).toEqual(
        expect.arrayContaining(['request.received', 'request.dispatched', 'request.completed']),
      );
      expect(types.filter((type) => type === 'task.verified')).toHaveLength(policy.targets.length);
      expect(verifyChain(entries).ok).toBe(true);
      expect(JSON.stringify(entries)).not.toContain(subjectId);
      // The trail filtered by the rule finds the erasure as the erasures report counts it.
      const byRule = await rt.call<{ entries: AuditEntry[] }>(
        'GET',
        `/v1/audit?subjectId=${subjectId}&ruleRef=${ruleRef}`,
        { role: 'compliance' },
      );
      const ruled = byRule.body.entries
        .filter((entry) => entry.requestId === requestId)
        .map((entry) => entry.type);
      expect(ruled).toEqual(
        expect.arrayContaining(['request.received', 'request.completed', 'task.verified']),
      );
      expect(ruled.filter((type) => type === 'task.verified')).toHaveLength(policy.targets.length);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Rules with concrete dates, and the request-handling capabilities
// ---------------------------------------------------------------------------------------------

describe('rules with concrete dates, end to end', () => {
  let rt: TestRuntime;

  beforeAll(async () => {
    // Years past S3's real stamps: window runs happen only where the rolling-window cases run them.
    rt = await startTestRuntime('rules-dated', {
      demoSubjects: 0,
      clockStart: '2026-11-21T10:00:00.000Z',
      windowRuns: false,
    });
  });
  afterAll(async () => {
    await rt.stop();
  });

  const seed = async (subjectId: string, webhookRecords = 2) => {
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());
    rt.webhook.records.set(subjectId, webhookRecords);
  };

  it('ALU-3: a request received 2026-11-21T10:00Z is due 2026-12-21T10:00Z and overdue a moment later while unanswered; one extension with a reason code moves the deadline to 2027-02-19T10:00Z, a second one is refused with 409', async () => {
    const subjectId = 'dated-alu3';
    await seed(subjectId);
    // A legal hold keeps the request open (blocked) for as long as the test needs it.
    const holdId = await placeHold(rt, subjectId, 'litigation-2026-031');
    const submitted = await submitErasure(rt, { subjectId, reason: 'gdpr-art17-request' }, 'rules-alu3-1');
    expect(submitted).toMatchObject({ status: 'blocked', deadline: '2026-12-21T10:00:00.000Z' });
    expect(await getErasureRequest(rt, submitted.requestId)).toMatchObject({
      receivedAt: '2026-11-21T10:00:00.000Z',
      deadline: '2026-12-21T10:00:00.000Z',
    });
    // The deadline instant itself is still on time; this request is the runtime's only open one.
    expect(await sweepAndDrain(rt, '2026-12-21T10:00:00.000Z')).toMatchObject({
      overdue: 0,
      nearDeadline: 1,
    });
    expect(await sweepAndDrain(rt, '2026-12-21T10:00:00.001Z')).toMatchObject({
      overdue: 1,
      nearDeadline: 0,
    });

    const path = `/v1/erasure-requests/${submitted.requestId}/deadline-extension`;
    const byService = await rt.call('POST', path, { body: { reason: 'complex-request' } });
    expect(byService.status).toBe(403);
    rt.clock.set('2026-11-21T10:05:00.000Z');
    const extended = await rt.call<RequestView>('POST', path, {
      role: 'compliance',
      body: { reason: 'complex-request' },
    });
    expect(extended.status).toBe(200);
    expect(extended.body).toMatchObject({
      deadline: '2027-02-19T10:00:00.000Z',
      deadlineExtension: { reason: 'complex-request', extendedAt: '2026-11-21T10:05:00.000Z' },
    });
    const again = await rt.call('POST', path, { role: 'compliance', body: { reason: 'still-complex' } });
    expect(again.status).toBe(409);
    expect(again.body.error?.code).toBe('illegal_transition');
    expect(await sweepAndDrain(rt, '2026-12-21T10:00:00.001Z')).toMatchObject({ overdue: 0 });

    // Once the hold is released the next sweep dispatches the request, within the deadline.
    const release = await rt.call('DELETE', `/v1/legal-holds/${holdId}`, { role: 'compliance' });
    expect(release.status).toBe(204);
    expect(await sweepAndDrain(rt, '2026-11-21T10:05:00.000Z')).toMatchObject({ redispatched: 1 });
    const request = await getErasureRequest(rt, submitted.requestId);
    expect(request).toMatchObject({
      status: 'completed',
      completedAt: '2026-11-21T10:05:00.000Z',
      deadline: '2027-02-19T10:00:00.000Z',
      deadlineExtension: { reason: 'complex-request' },
    });
    expect((await remainingData(rt, subjectId)).customer).toBeUndefined();
    const entries = await auditEntriesOf(rt, subjectId);
    expect(entries.filter((entry) => entry.type === 'request.deadline_extended')).toEqual([
      expect.objectContaining({
        ruleRef: 'ALU-3',
        requestId: submitted.requestId,
        detail: expect.objectContaining({
          reason: 'complex-request',
          previousDeadline: '2026-12-21T10:00:00.000Z',
          deadline: '2027-02-19T10:00:00.000Z',
        }),
      }),
    ]);
    expect(entries.find((entry) => entry.type === 'request.completed')?.detail).toMatchObject({
      withinDeadline: true,
    });
  });

  it('IMOU-6: a request a legal hold blocks is rejected by compliance for a stated legal reason; the requester reads status rejected and the reason, nothing is erased, and the audit has request.rejected', async () => {
    rt.clock.set('2026-11-21T10:30:00.000Z');
    const subjectId = 'dated-imou6';
    await seed(subjectId);
    const holdId = await placeHold(rt, subjectId, 'tax-records-retention');
    const submitted = await submitErasure(rt, { subjectId, reason: 'gdpr-art17-request' }, 'rules-imou6-1');
    expect(submitted.status).toBe('blocked');
    expect(await getErasureRequest(rt, submitted.requestId)).toMatchObject({
      status: 'blocked',
      blockedBy: [holdId],
    });

    const path = `/v1/erasure-requests/${submitted.requestId}/rejection`;
    const legalReason = 'gdpr-art17-3b-legal-obligation';
    const byService = await rt.call('POST', path, { body: { legalReason } });
    expect(byService.status).toBe(403);
    const rejected = await rt.call<RequestView>('POST', path, { role: 'compliance', body: { legalReason } });
    expect(rejected.status).toBe(200);
    expect(rejected.body.status).toBe('rejected');
    // A retry is answered as the first was; a second rejection for another reason is refused.
    const again = await rt.call<RequestView>('POST', path, { role: 'compliance', body: { legalReason } });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('rejected');
    const otherReason = await rt.call('POST', path, {
      role: 'compliance',
      body: { legalReason: 'gdpr-art17-3e-legal-claims' },
    });
    expect(otherReason.status).toBe(409);

    // The requester (the service role) asks and is told why.
    const view = await getErasureRequest(rt, submitted.requestId);
    expect(view).toMatchObject({
      status: 'rejected',
      rejection: { legalReason, rejectedAt: '2026-11-21T10:30:00.000Z' },
    });
    // None ran, and none will: they end with the request.
    expect(view.tasks.every((task) => task.status === 'cancelled')).toBe(true);
    expect(await rt.drainQueue()).toBe(0);
    const left = await remainingData(rt, subjectId);
    expect(left).toMatchObject({ alarms: 3, videos: 3, files: 2, webhookErasures: [] });
    expect(left.customer).toBeDefined();

    const entries = await auditEntriesOf(rt, subjectId);
    expect(entries.map((entry) => entry.type)).toEqual(
      expect.arrayContaining(['hold.placed', 'request.received', 'request.blocked', 'request.rejected']),
    );
    expect(entries.find((entry) => entry.type === 'request.rejected')).toMatchObject({
      requestId: submitted.requestId,
      ruleRef: 'IMOU-6',
      detail: { status: 'rejected', legalReason, previousStatus: 'blocked' },
    });
  });

  it('ALE-5: every step of an erasure is in the audit trail — received, dispatched, each task executed and verified (one entry with its count and times), completed — the chain verifies, and no entry holds the subject id', async () => {
    rt.clock.set('2026-11-21T11:00:00.000Z');
    const subjectId = 'dated-ale5-7f3a9c';
    await seed(subjectId);
    const submitted = await submitErasure(rt, { subjectId, reason: 'gdpr-art17-request' }, 'rules-ale5-1');
    await rt.drainQueue();
    const request = await getErasureRequest(rt, submitted.requestId);
    expect(request.status).toBe('completed');
    // One task per store-wide target, one per class at the partner service (it erases per class).
    expect(new Set(request.tasks.map((task) => task.target)).size).toBe(5);
    expect(request.tasks.length).toBeGreaterThan(5);

    const entries = await auditEntriesOf(rt, subjectId);
    const ofRequest = entries.filter((entry) => entry.requestId === submitted.requestId);
    const seqOf = (type: string, taskId?: string) => {
      const found = ofRequest.filter(
        (entry) => entry.type === type && (taskId === undefined || entry.taskId === taskId),
      );
      expect(found, `${type} ${taskId ?? ''}`).toHaveLength(1);
      return found[0]?.seq ?? Number.NaN;
    };
    const received = seqOf('request.received');
    const dispatched = seqOf('request.dispatched');
    const completed = seqOf('request.completed');
    expect(received).toBeLessThan(dispatched);
    for (const task of request.tasks) {
      const verified = seqOf('task.verified', task.taskId);
      expect([dispatched, verified, completed]).toEqual(
        [dispatched, verified, completed].sort((a, b) => a - b),
      );
      expect(ofRequest.find((entry) => entry.seq === verified)).toMatchObject({
        target: task.target,
        dataClass: task.dataClass,
        detail: { affectedCount: task.deletedCount, remaining: 0, attempts: 1, status: 'verified' },
      });
      expect(ofRequest.find((entry) => entry.seq === verified)?.detail).toHaveProperty('executedAt');
    }
    // Proof, not narration: at most 2 × tasks + 3 entries for the request.
    expect(ofRequest.length).toBeLessThanOrEqual(2 * request.tasks.length + 3);
    expect(ofRequest.find((entry) => entry.seq === completed)?.detail).toMatchObject({
      taskCount: request.tasks.length,
      verifiedCount: request.tasks.length,
      failedCount: 0,
    });

    expect(verifyChain(entries).ok).toBe(true);
    const verification = await rt.call<VerificationAnswer>(
      'GET',
      `/v1/audit/verification?subjectId=${subjectId}`,
      { role: 'compliance' },
    );
    expect(verification.status).toBe(200);
    expect(verification.body.verification).toMatchObject({ ok: true, length: entries.length });
    expect(JSON.stringify(entries)).not.toContain(subjectId);
    expect(JSON.stringify(entries)).not.toContain('7f3a9c');
  });

  it('ALE-5: a legal hold whose reason code would put the subject id into the audit trail is refused with 400, and a refused hold blocks nothing', async () => {
    rt.clock.set('2026-11-21T11:30:00.000Z');
    const subjectId = 'dated-ale5-hold-4411';
    await seed(subjectId);
    const hold = await rt.call('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId, reason: `case-${subjectId}` },
    });
    expect(hold.status).toBe(400);

    const submitted = await submitErasure(
      rt,
      { subjectId, reason: 'gdpr-art17-request' },
      'rules-ale5-hold-1',
    );
    expect(submitted.status).toBe('dispatched');
    await rt.drainQueue();
    expect((await getErasureRequest(rt, submitted.requestId)).status).toBe('completed');
    const entries = await auditEntriesOf(rt, subjectId);
    expect(entries.map((entry) => entry.type)).not.toContain('hold.placed');
    // (Hashes may contain any digits: the check is for the subject id itself.)
    expect(JSON.stringify(entries)).not.toContain(subjectId);
    expect(hold.body.error?.field).toBe('reason');
  });

  it('IMOU-2: alarm events are kept 7 days: active 2026-11-21T12:00Z → the window run of 2026-11-22 erases the alarms raised before 2026-11-15, the run of 2026-11-23 those before 2026-11-16; newer ones stay, and no request is made for the subject', async () => {
    rt.clock.set('2026-11-21T12:00:00.000Z');
    const subjectId = 'dated-imou2';
    const alarm = (alarmId: string, createdAt: string) => ({
      PutRequest: { Item: { subjectId, alarmId, createdAt, ipAddress: '192.0.2.7', windowShard: '0' } },
    });
    await rt.clients.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [rt.stores.alarmEventsTable]: [
            alarm('alarm-1114', '2026-11-14T23:59:59.999Z'),
            alarm('alarm-1115', '2026-11-15T00:00:00.000Z'),
            alarm('alarm-1115-late', '2026-11-15T18:30:00.000Z'),
            alarm('alarm-1120', '2026-11-20T09:00:00.000Z'),
          ],
        },
      }),
    );
    const alarmIds = async () => {
      const state = await stateOf(rt, targetNamed(rt.deps.config, 'alarm-events'), subjectId, 'alarm-events');
      return state.kind === 'dynamodb-items' ? state.items.map((item) => String(item.alarmId)).sort() : [];
    };

    await isolate(rt, subjectId, 'subject.active', ['alarm-events']);
    const decisions = await postEvent(rt, subjectId, 'subject.active', '2026-11-21T12:00:00Z');
    expect(decisions).toContainEqual(
      expect.objectContaining({
        dataClass: 'alarm-events',
        dueAt: '2026-11-22T00:00:00.000Z',
        ruleRef: 'IMOU-2',
      }),
    );
    const alarmRun = (runs: readonly WindowRunReport[]) =>
      runs.find((run) => run.dataClass === 'alarm-events');

    rt.clock.set('2026-11-22T00:00:00.000Z');
    const run1 = await runWindows(rt.deps, '2026-11-22T00:00:00.000Z');
    expect(alarmRun(run1)).toMatchObject({ ruleRef: 'IMOU-2', status: 'ran', erased: 1 });
    expect(await alarmIds()).toEqual(['alarm-1115', 'alarm-1115-late', 'alarm-1120']);
    // The same slot again: recorded already, nothing more is erased or audited.
    expect(alarmRun(await runWindows(rt.deps, '2026-11-22T06:00:00.000Z'))?.status).toBe('done');

    rt.clock.set('2026-11-23T00:00:00.000Z');
    const run2 = await runWindows(rt.deps, '2026-11-23T00:00:00.000Z');
    expect(alarmRun(run2)).toMatchObject({ status: 'ran', erased: 2 });
    expect(await alarmIds()).toEqual(['alarm-1120']);
    const swept = await sweepAndDrain(rt, '2026-11-23T00:00:00.000Z');
    expect(swept.dispatched.filter((d) => d.dataClass === 'alarm-events')).toEqual([]);
    const chain = await rt.deps.audit.readChainById('window:alarm-events');
    expect(chain.entries.map((entry) => [entry.type, entry.detail?.cutoff, entry.detail?.erased])).toEqual([
      ['window.run', '2026-11-15T00:00:00.000Z', 1],
      ['window.run', '2026-11-16T00:00:00.000Z', 2],
    ]);
    expect(verifyChain(chain.entries).ok).toBe(true);
    await retire(rt, subjectId);
  });

  it('ALE-3 / ALE-4: active 2026-11-23T09:00Z → the window run of 2026-12-01 has the partner service erase fault traffic older than 6 months (before 2026-06-01), statistics and consumption data older than 24 months (before 2024-12-01), in one call per class for every subject; the run of 2027-01-01 moves every cut-off a month on', async () => {
    rt.clock.set('2026-11-23T09:00:00.000Z');
    const subjectId = 'dated-ale3-ale4';
    await seed(subjectId);
    const classes = ['fault-traffic', 'traffic-statistics', 'consumption-data'];
    await isolate(rt, subjectId, 'subject.active', classes);
    const decisions = await postEvent(rt, subjectId, 'subject.active', '2026-11-23T09:00:00Z');
    for (const dataClass of classes) {
      expect(decisions).toContainEqual(
        expect.objectContaining({ dataClass, change: 'scheduled', dueAt: '2026-12-01T00:00:00.000Z' }),
      );
    }
    const cutOffs = () =>
      Object.fromEntries(
        classes.map((dataClass) => [
          dataClass,
          rt.webhook.windowRuns
            .filter((run) => run.dataClass === dataClass)
            .map((run) => [run.olderThan, run.excludedSubjects.includes(subjectId)]),
        ]),
      );
    const before = Object.fromEntries(
      classes.map((dataClass) => [dataClass, cutOffs()[dataClass]?.length ?? 0]),
    );
    const monthOf = (runs: readonly WindowRunReport[]) =>
      runs.filter((run) => classes.includes(run.dataClass) && run.status === 'ran').map((run) => run.ruleRef);

    rt.clock.set('2026-12-01T00:00:00.000Z');
    const december = await runWindows(rt.deps, '2026-12-01T00:00:00.000Z');
    expect(monthOf(december)).toEqual(['ALE-3', 'ALE-3', 'ALE-4']);
    rt.clock.set('2027-01-01T00:00:00.000Z');
    const january = await runWindows(rt.deps, '2027-01-01T00:00:00.000Z');
    expect(monthOf(january)).toEqual(['ALE-3', 'ALE-3', 'ALE-4']);
    const sent = Object.fromEntries(
      Object.entries(cutOffs()).map(([dataClass, runs]) => [dataClass, runs.slice(before[dataClass] ?? 0)]),
    );
    expect(sent).toEqual({
      'fault-traffic': [
        ['2026-06-01T00:00:00.000Z', false],
        ['2026-07-01T00:00:00.000Z', false],
      ],
      'traffic-statistics': [
        ['2024-12-01T00:00:00.000Z', false],
        ['2025-01-01T00:00:00.000Z', false],
      ],
      'consumption-data': [
        ['2024-12-01T00:00:00.000Z', false],
        ['2025-01-01T00:00:00.000Z', false],
      ],
    });
    // Nothing per subject: no request, no per-subject erasure call.
    expect(sentToWebhook(rt, subjectId).filter((erasure) => classes.includes(erasure.dataClass))).toEqual([]);
    await retire(rt, subjectId);
  });

  it("ALU-4 / ALU-5: a child's data detected 2027-01-02T10:00Z is deleted at once where it can be (records, files, video, alarms) and restricted where it cannot (the partner service, for that data class only)", async () => {
    rt.clock.set('2027-01-02T10:00:00.000Z');
    const subjectId = 'dated-alu4-child';
    await seed(subjectId);
    const decisions = await postEvent(rt, subjectId, 'child_data.detected', '2027-01-02T10:00:00Z');
    expect(decisions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          dataClass: 'child-data',
          action: 'delete',
          dueAt: '2027-01-02T10:00:00.000Z',
        }),
        expect.objectContaining({
          dataClass: 'child-data-restricted',
          action: 'restrict',
          ruleRef: 'ALU-4',
          dueAt: '2027-01-02T10:00:00.000Z',
        }),
      ]),
    );

    const early = await sweepAndDrain(rt, '2027-01-02T09:59:59.999Z');
    expect(early.dispatched.filter((d) => d.dataClass.startsWith('child-data'))).toEqual([]);
    expect(await remainingData(rt, subjectId)).toMatchObject({ alarms: 3, videos: 3, files: 2 });

    const due = await sweepAndDrain(rt, '2027-01-02T10:00:00.000Z');
    const restricted = scheduledId(rt, subjectId, 'child-data-restricted', '2027-01-02T10:00:00.000Z');
    const deleted = scheduledId(rt, subjectId, 'child-data', '2027-01-02T10:00:00.000Z');
    expect(due.dispatched.map((d) => d.requestId)).toEqual(expect.arrayContaining([deleted, restricted]));
    const left = await remainingData(rt, subjectId);
    expect(left).toMatchObject({ customer: undefined, alarms: 0, videos: 0, files: 0 });
    expect(partnerErasures(rt, subjectId)).toEqual([
      { dataClass: 'child-data-restricted', action: 'restrict' },
    ]);
    expect((await getErasureRequest(rt, restricted)).tasks).toMatchObject([
      { target: 'partner-services', action: 'restrict', status: 'verified' },
    ]);
    expect(
      (await getErasureRequest(rt, deleted)).tasks
        .map((task) => [task.target, task.action, task.status])
        .sort(),
    ).toEqual([
      ['alarm-events', 'delete', 'verified'],
      ['cloud-video', 'delete', 'verified'],
      ['customer-records', 'delete', 'verified'],
      ['user-files', 'delete', 'verified'],
    ]);
  });

  it("ALL-5: data found 2027-01-03T09:00Z to come from a user under 18 is deleted at once from records, files, video and alarms; an adult's data in the same stores stays", async () => {
    rt.clock.set('2027-01-03T09:00:00.000Z');
    const minor = 'dated-all5-minor';
    const adult = 'dated-all5-adult';
    await seed(minor);
    await seed(adult);
    const decisions = await postEvent(rt, minor, 'child_data.detected', '2027-01-03T09:00:00Z');
    expect(decisions).toContainEqual(
      expect.objectContaining({
        dataClass: 'child-data',
        ruleRef: 'ALL-5',
        dueAt: '2027-01-03T09:00:00.000Z',
      }),
    );

    await sweepAndDrain(rt, '2027-01-03T08:59:59.999Z');
    expect(await remainingData(rt, minor)).toMatchObject({ alarms: 3, videos: 3, files: 2 });
    const due = await sweepAndDrain(rt, '2027-01-03T09:00:00.000Z');
    expect(due.dispatched).toContainEqual({
      requestId: scheduledId(rt, minor, 'child-data', '2027-01-03T09:00:00.000Z'),
      dataClass: 'child-data',
      ruleRef: 'ALL-5',
      dueAt: '2027-01-03T09:00:00.000Z',
    });
    expect(await remainingData(rt, minor)).toMatchObject({
      customer: undefined,
      alarms: 0,
      videos: 0,
      files: 0,
    });
    const kept = await remainingData(rt, adult);
    expect(kept.customer).toBeDefined();
    expect(kept).toMatchObject({ alarms: 3, videos: 3, files: 2, webhookErasures: [] });
  });

  it('IMOU-4: closing the account on 2027-01-03T11:00Z stops what activity had scheduled (rolling windows, inactivity deletion) and erases its data at once', async () => {
    rt.clock.set('2027-01-03T11:00:00.000Z');
    const subjectId = 'dated-imou4';
    await seed(subjectId);
    await postEvent(rt, subjectId, 'subject.active', '2027-01-03T10:00:00Z');
    const pendingClasses = async () =>
      (await scheduleOf(rt, subjectId)).pending.map((entry) => entry.dataClass).sort();
    expect(await pendingClasses()).toEqual([
      'alarm-events',
      'consumption-data',
      'cookies',
      'fault-traffic',
      'inactive-account',
      'traffic-statistics',
    ]);

    const closing = await postEvent(rt, subjectId, 'account.closed', '2027-01-03T11:00:00Z');
    expect(
      closing
        .filter((d) => d.change === 'cancelled')
        .map((d) => d.dataClass)
        .sort(),
    ).toEqual([
      'alarm-events',
      'consumption-data',
      'fault-traffic',
      'inactive-account',
      'traffic-statistics',
    ]);
    expect(closing).toContainEqual(
      expect.objectContaining({
        dataClass: 'closed-account',
        change: 'scheduled',
        dueAt: '2027-01-03T11:00:00.000Z',
      }),
    );
    const left = await pendingClasses();
    expect(left.filter((dataClass) => CANCELLED_BY_CLOSING.includes(dataClass))).toEqual([]);
    expect(left).toContain('closed-account');

    const due = await sweepAndDrain(rt, '2027-01-03T11:00:00.000Z');
    expect(due.dispatched.map((d) => d.requestId)).toContain(
      scheduledId(rt, subjectId, 'closed-account', '2027-01-03T11:00:00.000Z'),
    );
    expect(await remainingData(rt, subjectId)).toMatchObject({
      customer: undefined,
      alarms: 0,
      videos: 0,
      files: 0,
      webhookErasures: [expect.objectContaining({ dataClass: 'closed-account', action: 'delete' })],
    });
    await retire(rt, subjectId);
  });

  it("ALM-1: consent withdrawn 2027-01-04T14:30Z → the marketing contact is erased at the partner service at once; the customer's records and files stay", async () => {
    rt.clock.set('2027-01-04T14:30:00.000Z');
    const subjectId = 'dated-alm1';
    await seed(subjectId);
    const decisions = await postEvent(rt, subjectId, 'consent.withdrawn', '2027-01-04T14:30:00Z');
    expect(decisions).toEqual([
      expect.objectContaining({
        dataClass: 'marketing-contact',
        action: 'delete',
        ruleRef: 'ALM-1',
        dueAt: '2027-01-04T14:30:00.000Z',
      }),
    ]);
    await sweepAndDrain(rt, '2027-01-04T14:29:59.999Z');
    expect(partnerErasures(rt, subjectId)).toEqual([]);
    const due = await sweepAndDrain(rt, '2027-01-04T14:30:00.000Z');
    expect(due.dispatched.map((d) => d.requestId)).toContain(
      scheduledId(rt, subjectId, 'marketing-contact', '2027-01-04T14:30:00.000Z'),
    );
    expect(partnerErasures(rt, subjectId)).toEqual([{ dataClass: 'marketing-contact', action: 'delete' }]);
    const left = await remainingData(rt, subjectId);
    expect(left.customer).toBeDefined();
    expect(left).toMatchObject({ alarms: 3, videos: 3, files: 2 });
  });

  it('IMOU-5: product cam-x1 withdrawn 2027-01-05T08:00Z → its data anonymised at once at the partner service, not deleted; the stores keep everything', async () => {
    rt.clock.set('2027-01-05T08:00:00.000Z');
    const subjectId = 'dated-imou5';
    await seed(subjectId);
    const decisions = await postEvent(rt, subjectId, 'product.withdrawn', '2027-01-05T08:00:00Z', {
      productId: 'cam-x1',
    });
    expect(decisions).toEqual([
      expect.objectContaining({
        dataClass: 'withdrawn-product-data',
        action: 'anonymise',
        ruleRef: 'IMOU-5',
        dueAt: '2027-01-05T08:00:00.000Z',
      }),
    ]);
    await sweepAndDrain(rt, '2027-01-05T07:59:59.999Z');
    expect(partnerErasures(rt, subjectId)).toEqual([]);
    await sweepAndDrain(rt, '2027-01-05T08:00:00.000Z');
    expect(partnerErasures(rt, subjectId)).toEqual([
      { dataClass: 'withdrawn-product-data', action: 'anonymise' },
    ]);
    const request = await getErasureRequest(
      rt,
      scheduledId(rt, subjectId, 'withdrawn-product-data', '2027-01-05T08:00:00.000Z'),
    );
    expect(request.status).toBe('completed');
    expect(request.tasks).toMatchObject([
      { target: 'partner-services', action: 'anonymise', status: 'verified' },
    ]);
    const left = await remainingData(rt, subjectId);
    expect(left.customer).toMatchObject({ email: { S: demoIdentifiersOf(subjectId).email } });
    expect(left).toMatchObject({ alarms: 3, videos: 3, files: 2 });
  });

  it('IMOU-1: a plan that expired at 12:00 and was renewed at 15:00 keeps its storage-period window, whatever order the two events arrive in', async () => {
    rt.clock.set('2027-01-05T16:00:00.000Z');
    const inOrder = 'dated-imou1-in-order';
    const expiryLate = 'dated-imou1-expiry-late';
    await seed(inOrder);
    await seed(expiryLate);
    const renewed = (subjectId: string, at: string) => postEvent(rt, subjectId, 'plan.renewed', at);
    const expired = (subjectId: string) => postEvent(rt, subjectId, 'plan.expired', '2027-01-05T12:00:00Z');
    await renewed(inOrder, '2027-01-05T10:00:00Z');
    await expired(inOrder);
    await renewed(inOrder, '2027-01-05T15:00:00Z');
    await renewed(expiryLate, '2027-01-05T10:00:00Z');
    await renewed(expiryLate, '2027-01-05T15:00:00Z');
    await expired(expiryLate);

    const window = {
      dataClass: 'cloud-video-window',
      status: 'windowed',
      dueAt: '2027-01-06T00:00:00.000Z',
    };
    const pendingOf = async (subjectId: string) =>
      (await scheduleOf(rt, subjectId)).pending.map(({ dataClass, status, dueAt }) => ({
        dataClass,
        status,
        dueAt,
      }));
    expect(await pendingOf(inOrder)).toEqual([window]);
    expect(await pendingOf(expiryLate)).toEqual([window]);

    // The window applies to both, stored once: the next window run of cloud-video covers them at
    // the default window (no subject window of their own), and no request is made for either.
    const own = await rt.deps.schedules.subjectWindows('cloud-video-window');
    expect(own.filter((window) => [inOrder, expiryLate].includes(window.subjectId))).toEqual([]);
    const run = await sweepAndDrain(rt, '2027-01-06T00:00:00.000Z');
    expect(run.dispatched.filter((d) => d.dataClass === 'cloud-video-window')).toEqual([]);
  });

  it('ALU-2: data stored in PL is deleted after the PL period: contract ended 2026-03-10 → 2027-03-10, where SE data is due 2029-03-10 and data without an override (DE) 2028-03-10', async () => {
    rt.clock.set('2027-03-09T12:00:00.000Z');
    const subjects = { PL: 'dated-alu2-pl', se: 'dated-alu2-se', DE: 'dated-alu2-de' };
    // Country codes are case-insensitive: `se` is Sweden.
    const due = {
      PL: '2027-03-10T00:00:00.000Z',
      se: '2029-03-10T00:00:00.000Z',
      DE: '2028-03-10T00:00:00.000Z',
    };
    for (const [jurisdiction, subjectId] of Object.entries(subjects)) {
      await seed(subjectId);
      const decisions = await postEvent(rt, subjectId, 'contract.ended', '2026-03-10T00:00:00Z', {
        jurisdiction,
      });
      expect(decisions).toContainEqual(
        expect.objectContaining({
          dataClass: 'customer-profile',
          change: 'scheduled',
          dueAt: due[jurisdiction as keyof typeof due],
        }),
      );
    }
    const notACountry = await rt.call('POST', '/v1/lifecycle-events', {
      body: {
        subjectId: subjects.PL,
        type: 'contract.ended',
        occurredAt: '2026-03-11T00:00:00Z',
        attributes: { jurisdiction: 'Poland' },
      },
    });
    expect(notACountry.status).toBe(400);
    expect(notACountry.body.error?.field).toBe('attributes.jurisdiction');
    expect((await scheduleOf(rt, subjects.PL)).pending).toContainEqual(
      expect.objectContaining({ dataClass: 'customer-profile', dueAt: due.PL }),
    );

    await sweepAndDrain(rt, '2027-03-09T23:59:59.999Z');
    expect((await remainingData(rt, subjects.PL)).customer).toBeDefined();
    const atDue = await sweepAndDrain(rt, due.PL);
    expect(atDue.dispatched).toContainEqual({
      requestId: scheduledId(rt, subjects.PL, 'customer-profile', due.PL),
      dataClass: 'customer-profile',
      ruleRef: 'ALE-1',
      dueAt: due.PL,
    });
    expect((await remainingData(rt, subjects.PL)).customer).toBeUndefined();
    expect(partnerErasures(rt, subjects.PL)).toEqual([{ dataClass: 'customer-profile', action: 'delete' }]);
    for (const subjectId of [subjects.se, subjects.DE]) {
      const kept = await remainingData(rt, subjectId);
      expect(kept.customer).toBeDefined();
      expect(kept.webhookErasures).toEqual([]);
    }
  });

  it('ALM-2: business relationship ended 2024-03-20 → contact data deleted 2027-03-20 from the contact records and the partner service, not a moment before', async () => {
    rt.clock.set('2027-03-19T09:00:00.000Z');
    const subjectId = 'dated-alm2';
    await seed(subjectId);
    const decisions = await postEvent(rt, subjectId, 'relationship.ended', '2024-03-20T00:00:00Z');
    expect(decisions).toEqual([
      expect.objectContaining({
        dataClass: 'business-contact',
        ruleRef: 'ALM-2',
        dueAt: '2027-03-20T00:00:00.000Z',
      }),
    ]);
    const requestId = scheduledId(rt, subjectId, 'business-contact', '2027-03-20T00:00:00.000Z');
    const early = await sweepAndDrain(rt, '2027-03-19T23:59:59.999Z');
    expect(early.dispatched.map((d) => d.requestId)).not.toContain(requestId);
    expect((await remainingData(rt, subjectId)).customer).toBeDefined();

    const due = await sweepAndDrain(rt, '2027-03-20T00:00:00.000Z');
    expect(due.dispatched.map((d) => d.requestId)).toContain(requestId);
    const left = await remainingData(rt, subjectId);
    expect(left.customer).toBeUndefined();
    expect(left).toMatchObject({ alarms: 3, videos: 3, files: 2 });
    expect(partnerErasures(rt, subjectId)).toEqual([{ dataClass: 'business-contact', action: 'delete' }]);
  });

  it('IMOU-3: last active 2025-07-15T10:00Z → deletion due 2027-07-15 with a notice on 2027-04-15; activity on 2027-05-02 moves both (2029-05-02, notice 2029-02-02), so nothing is deleted on 2027-07-15', async () => {
    rt.clock.set('2027-04-11T09:00:00.000Z');
    const subjectId = 'dated-imou3';
    await seed(subjectId);
    await isolate(rt, subjectId, 'subject.active', ['inactive-account']);
    const decisions = await postEvent(rt, subjectId, 'subject.active', '2025-07-15T10:00:00Z');
    expect(decisions).toEqual(
      expect.arrayContaining([
        {
          change: 'scheduled',
          dataClass: 'inactive-account',
          action: 'delete',
          ruleRef: 'IMOU-3',
          dueAt: '2027-07-15T10:00:00.000Z',
        },
        {
          change: 'notice',
          dataClass: 'inactive-account',
          action: 'delete',
          ruleRef: 'IMOU-3',
          dueAt: '2027-04-15T10:00:00.000Z',
        },
      ]),
    );
    const notice = { dataClass: 'inactive-account', ruleRef: 'IMOU-3', dueAt: '2027-07-15T10:00:00.000Z' };

    rt.clock.set('2027-04-15T09:59:59.999Z');
    expect((await sweepAndDrain(rt, '2027-04-15T09:59:59.999Z')).notices).not.toContainEqual(notice);
    rt.clock.set('2027-04-15T10:00:00.000Z');
    // The notification service is down: the notice is not claimed as sent, and stays due.
    rt.webhook.setFailure(503);
    try {
      expect((await sweepAndDrain(rt, '2027-04-15T10:00:00.000Z')).notices).not.toContainEqual(notice);
    } finally {
      rt.webhook.setFailure(undefined);
    }
    expect((await auditEntriesOf(rt, subjectId)).map((entry) => entry.type)).not.toContain('notice.sent');
    expect((await sweepAndDrain(rt, '2027-04-15T10:00:00.000Z')).notices).toContainEqual(notice);
    expect(rt.webhook.notices.filter((received) => received.subjectId === subjectId)).toEqual([
      expect.objectContaining({ dataClass: 'inactive-account', deletionDueAt: '2027-07-15T10:00:00.000Z' }),
    ]);
    const sent = (await auditEntriesOf(rt, subjectId)).filter((entry) => entry.type === 'notice.sent');
    expect(sent).toEqual([
      expect.objectContaining({
        target: 'partner-services',
        dataClass: 'inactive-account',
        ruleRef: 'IMOU-3',
        detail: { noticeAt: '2027-04-15T10:00:00.000Z', deletionDueAt: '2027-07-15T10:00:00.000Z' },
      }),
    ]);
    // A notice goes out once, also when the same activity is reported again with other details.
    for (const source of ['app', 'web', 'api']) {
      expect(
        await postEvent(rt, subjectId, 'subject.active', '2025-07-15T10:00:00Z', { source }),
      ).not.toContainEqual(expect.objectContaining({ dataClass: 'inactive-account' }));
    }
    expect((await sweepAndDrain(rt, '2027-04-15T10:00:00.000Z')).notices).not.toContainEqual(notice);

    rt.clock.set('2027-05-02T08:00:00.000Z');
    const activity = await postEvent(rt, subjectId, 'subject.active', '2027-05-02T08:00:00Z');
    expect(activity).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          change: 'rescheduled',
          dataClass: 'inactive-account',
          dueAt: '2029-05-02T08:00:00.000Z',
        }),
        expect.objectContaining({
          change: 'notice',
          dataClass: 'inactive-account',
          dueAt: '2029-02-02T08:00:00.000Z',
        }),
      ]),
    );
    expect((await scheduleOf(rt, subjectId)).pending).toContainEqual(
      expect.objectContaining({
        dataClass: 'inactive-account',
        status: 'pending',
        dueAt: '2029-05-02T08:00:00.000Z',
        noticeAt: '2029-02-02T08:00:00.000Z',
      }),
    );

    rt.clock.set('2027-07-15T10:00:00.000Z');
    const oldDue = await sweepAndDrain(rt, '2027-07-15T10:00:00.000Z');
    expect(oldDue.dispatched.filter((d) => d.dataClass === 'inactive-account')).toEqual([]);
    expect(oldDue.notices).toEqual([]);
    const left = await remainingData(rt, subjectId);
    expect(left.customer).toBeDefined();
    expect(left).toMatchObject({ videos: 3, files: 2 });
    await retire(rt, subjectId);
  });

  it('ALL-4: cookies set at the last activity 2026-07-20T10:00Z would go on 2027-07-20; activity on 2026-10-01 moves their deletion to 2027-10-01T10:00Z, not a moment before', async () => {
    rt.clock.set('2027-07-16T10:00:00.000Z');
    const subjectId = 'dated-all4';
    await seed(subjectId);
    await isolate(rt, subjectId, 'subject.active', ['cookies']);
    expect(await postEvent(rt, subjectId, 'subject.active', '2026-07-20T10:00:00Z')).toContainEqual(
      expect.objectContaining({
        dataClass: 'cookies',
        change: 'scheduled',
        ruleRef: 'ALL-4',
        dueAt: '2027-07-20T10:00:00.000Z',
      }),
    );
    expect(await postEvent(rt, subjectId, 'subject.active', '2026-10-01T10:00:00Z')).toContainEqual(
      expect.objectContaining({
        dataClass: 'cookies',
        change: 'rescheduled',
        dueAt: '2027-10-01T10:00:00.000Z',
      }),
    );
    const cookieErasures = () => partnerErasures(rt, subjectId).filter((e) => e.dataClass === 'cookies');

    rt.clock.set('2027-07-20T10:00:00.000Z');
    const firstDue = await sweepAndDrain(rt, '2027-07-20T10:00:00.000Z');
    expect(firstDue.dispatched.filter((d) => d.dataClass === 'cookies')).toEqual([]);
    rt.clock.set('2027-10-01T09:59:59.999Z');
    await sweepAndDrain(rt, '2027-10-01T09:59:59.999Z');
    expect(cookieErasures()).toEqual([]);
    const due = await sweepAndDrain(rt, '2027-10-01T10:00:00.000Z');
    expect(due.dispatched).toContainEqual({
      requestId: scheduledId(rt, subjectId, 'cookies', '2027-10-01T10:00:00.000Z'),
      dataClass: 'cookies',
      ruleRef: 'ALL-4',
      dueAt: '2027-10-01T10:00:00.000Z',
    });
    expect(cookieErasures()).toEqual([{ dataClass: 'cookies', action: 'delete' }]);
    expect((await remainingData(rt, subjectId)).customer).toBeDefined();
    await retire(rt, subjectId);
  });

  it('ALE-2: billing traffic settled 2025-11-10 is due 2027-11-10, but an invoice unpaid since 2027-06-01 blocks it; settled 2027-11-20 → deleted 2029-11-20', async () => {
    rt.clock.set('2027-11-03T09:00:00.000Z');
    const subjectId = 'dated-ale2';
    await seed(subjectId);
    expect(await postEvent(rt, subjectId, 'invoice.settled', '2025-11-10T00:00:00Z')).toEqual([
      expect.objectContaining({
        dataClass: 'billing-traffic',
        change: 'scheduled',
        ruleRef: 'ALE-2',
        dueAt: '2027-11-10T00:00:00.000Z',
      }),
    ]);
    expect(await postEvent(rt, subjectId, 'invoice.unpaid', '2027-06-01T00:00:00Z')).toEqual([]);
    expect((await scheduleOf(rt, subjectId)).unpaidInvoiceSince).toBe('2027-06-01T00:00:00.000Z');
    const billingErasures = () =>
      partnerErasures(rt, subjectId).filter((e) => e.dataClass === 'billing-traffic');

    rt.clock.set('2027-11-10T00:00:00.000Z');
    const blocked = await sweepAndDrain(rt, '2027-11-10T00:00:00.000Z');
    expect(blocked.blocked).toContainEqual({
      dataClass: 'billing-traffic',
      ruleRef: 'ALE-2',
      dueAt: '2027-11-10T00:00:00.000Z',
      blockers: ['unpaid-invoice'],
    });
    expect(blocked.dispatched.filter((d) => d.dataClass === 'billing-traffic')).toEqual([]);
    expect(billingErasures()).toEqual([]);
    expect(
      (await auditEntriesOf(rt, subjectId)).filter((entry) => entry.type === 'deletion.blocked'),
    ).toEqual([
      expect.objectContaining({
        dataClass: 'billing-traffic',
        ruleRef: 'ALE-2',
        detail: { dueAt: '2027-11-10T00:00:00.000Z', blockers: 'unpaid-invoice' },
      }),
    ]);
    expect((await scheduleOf(rt, subjectId)).pending).toContainEqual(
      expect.objectContaining({ dataClass: 'billing-traffic', status: 'blocked' }),
    );

    rt.clock.set('2027-11-20T00:00:00.000Z');
    expect(await postEvent(rt, subjectId, 'invoice.settled', '2027-11-20T00:00:00Z')).toEqual([
      expect.objectContaining({
        dataClass: 'billing-traffic',
        change: 'rescheduled',
        dueAt: '2029-11-20T00:00:00.000Z',
      }),
    ]);
    expect((await scheduleOf(rt, subjectId)).unpaidInvoiceSince).toBeUndefined();
    const requestId = scheduledId(rt, subjectId, 'billing-traffic', '2029-11-20T00:00:00.000Z');

    rt.clock.set('2029-11-19T23:59:59.999Z');
    const early = await sweepAndDrain(rt, '2029-11-19T23:59:59.999Z');
    expect(early.dispatched.map((d) => d.requestId)).not.toContain(requestId);
    expect(billingErasures()).toEqual([]);
    const due = await sweepAndDrain(rt, '2029-11-20T00:00:00.000Z');
    expect(due.dispatched).toContainEqual({
      requestId,
      dataClass: 'billing-traffic',
      ruleRef: 'ALE-2',
      dueAt: '2029-11-20T00:00:00.000Z',
    });
    expect(billingErasures()).toEqual([{ dataClass: 'billing-traffic', action: 'delete' }]);
    expect((await getErasureRequest(rt, requestId)).status).toBe('completed');
  });
});

// ---------------------------------------------------------------------------------------------
// On the real clock: asynchronous partner services, and IMOU-1's storage period against S3
// ---------------------------------------------------------------------------------------------

describe('on the real clock', () => {
  let rt: TestRuntime;

  beforeAll(async () => {
    rt = await startTestRuntime('rules-live', {
      demoSubjects: 0,
      webhookMode: 'async',
      clockStart: new Date().toISOString(),
      // On the real clock, as S3 stamps objects: the scheduled sweep runs the rolling windows (IMOU-1).
      windowRuns: true,
    });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('a partner service that answers 202 finishes the erasure with a signed callback: its task is verified only after it, and callbacks without a valid signature are refused with 401', async () => {
    const subjectId = 'live-async';
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());
    rt.webhook.records.set(subjectId, 4);
    const submitted = await submitErasure(rt, { subjectId, reason: 'gdpr-art17-request' }, 'rules-async-1');
    await rt.drainQueue();
    const dispatched = await getErasureRequest(rt, submitted.requestId);
    const webhookTask = dispatched.tasks.find((task) => task.target === 'partner-services');
    expect(webhookTask).toBeDefined();
    const callbackPath = `/v1/tasks/${webhookTask?.taskId ?? ''}/callback`;

    const forgedBody = { status: 'failed', error: 'forged' };
    const forged = await rt.call('POST', callbackPath, {
      role: 'none',
      body: forgedBody,
      headers: { 'x-erasure-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    });
    expect(forged.status).toBe(401);
    const unsigned = await rt.call('POST', callbackPath, { role: 'none', body: forgedBody });
    expect(unsigned.status).toBe(401);

    let request = dispatched;
    for (let attempt = 0; attempt < 100 && request.status !== 'completed'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      request = await getErasureRequest(rt, submitted.requestId);
    }
    expect(request.status).toBe('completed');
    expect(request.tasks.every((task) => task.status === 'verified')).toBe(true);
    const partnerTasks = request.tasks.filter((task) => task.target === 'partner-services');
    expect(partnerTasks.reduce((sum, task) => sum + task.deletedCount, 0)).toBe(4);
    expect(partnerErasures(rt, subjectId)).toHaveLength(partnerTasks.length);
    // One signed request per class held there, each with its own task's callback URL.
    const sent = sentToWebhook(rt, subjectId);
    expect(sent).toHaveLength(partnerTasks.length);
    expect(sent.map((body) => body.callbackUrl)).toContain(`${rt.apiUrl}${callbackPath}`);

    const ofTask = (await auditEntriesOf(rt, subjectId)).filter(
      (entry) => entry.taskId === webhookTask?.taskId,
    );
    // The service accepted (202), then its signed callback verified the task: one entry each.
    expect(ofTask.map((entry) => entry.type)).toEqual(['task.awaiting_callback', 'task.verified']);
    expect(ofTask.find((entry) => entry.type === 'task.verified')?.detail).toMatchObject({
      viaCallback: true,
    });
  });

  it('IMOU-1: while a plan runs, its storage period decides at the daily window run: recordings 10 days old are deleted under a P7D plan and kept under the default P30D one', async () => {
    // Renewed 10 days after the videos were stored: S3 stamps them with the real time.
    const short = 'live-imou1-p7d';
    const long = 'live-imou1-default';
    await seedDemoSubject(rt.clients, rt.stores, short, rt.clock.now());
    await seedDemoSubject(rt.clients, rt.stores, long, rt.clock.now());
    rt.clock.set(iso(Date.now() + 10 * DAY));
    const renewedAt = rt.clock.now().toISOString();
    const shortDecisions = await postEvent(rt, short, 'plan.renewed', renewedAt, { storagePeriod: 'P7D' });
    const longDecisions = await postEvent(rt, long, 'plan.renewed', renewedAt);
    const dueAt = shortDecisions.find((d) => d.dataClass === 'cloud-video-window')?.dueAt ?? '';
    expect(dueAt > renewedAt).toBe(true);
    expect(longDecisions).toContainEqual(expect.objectContaining({ dataClass: 'cloud-video-window', dueAt }));
    expect(await rt.deps.schedules.subjectWindows('cloud-video-window')).toContainEqual({
      subjectId: short,
      window: 'P7D',
    });

    rt.clock.set(dueAt);
    // A sweep on demand (POST /v1/sweeps) leaves rolling windows to the scheduled sweep: the API's
    // role may not list a bucket's root or delete across subjects.
    const onDemand = await sweepAndDrain(rt, dueAt);
    expect(onDemand.windows).toEqual([]);
    expect((await remainingData(rt, short)).videos).toBe(3);
    const run = await rt.sweep(new Date(dueAt));
    await rt.drainQueue();
    expect(run.windows).toContainEqual(
      expect.objectContaining({ dataClass: 'cloud-video-window', ruleRef: 'IMOU-1', target: 'cloud-video' }),
    );
    expect(run.dispatched.filter((d) => d.dataClass === 'cloud-video-window')).toEqual([]);
    expect((await remainingData(rt, short)).videos).toBe(0);
    expect((await remainingData(rt, long)).videos).toBe(3);
    // The files of both subjects are not part of the video window.
    expect((await remainingData(rt, short)).files).toBe(2);
    const chain = await rt.deps.audit.readChainById('window:cloud-video');
    expect(chain.entries.at(-1)).toMatchObject({
      type: 'window.run',
      dataClass: 'cloud-video-window',
      detail: expect.objectContaining({ subjectWindows: 1, remainingExpired: 0 }),
    });
  });
});

describe('erasure requests and an unpaid invoice', () => {
  let rt: TestRuntime;
  beforeAll(async () => {
    rt = await startTestRuntime('rules-withheld', { demoSubjects: 0 });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('ALE-2: while an invoice is unpaid, an erasure request keeps the billing traffic and says so; asking for nothing else is refused with 409', async () => {
    const subjectId = 'withheld-ale2-subject';
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());
    expect(await postEvent(rt, subjectId, 'invoice.unpaid', '2026-11-01T00:00:00Z')).toEqual([]);

    const response = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body: { subjectId, reason: 'gdpr-art17-request' },
      headers: { 'Idempotency-Key': 'rules-withheld-1' },
    });
    expect(response.status).toBe(202);
    expect(response.body.withheld).toEqual([{ dataClass: 'billing-traffic', reason: 'unpaid-invoice' }]);
    await rt.drainQueue();

    const request = await getErasureRequest(rt, response.body.requestId);
    expect(request.status).toBe('completed');
    expect(request.tasks.map((task) => task.dataClass)).not.toContain('billing-traffic');
    expect(partnerErasures(rt, subjectId).map((erasure) => erasure.dataClass)).not.toContain(
      'billing-traffic',
    );
    expect((await remainingData(rt, subjectId)).files).toBe(0);
    expect((await auditEntriesOf(rt, subjectId)).map((entry) => entry.type)).toContain('request.withheld');

    const onlyBilling = await rt.call('POST', '/v1/erasure-requests', {
      body: { subjectId, reason: 'gdpr-art17-request', dataClasses: ['billing-traffic'] },
      headers: { 'Idempotency-Key': 'rules-withheld-2' },
    });
    expect(onlyBilling.status).toBe(409);
    expect(onlyBilling.body.error).toMatchObject({ code: 'retention_required', field: 'dataClasses' });
  });
});
