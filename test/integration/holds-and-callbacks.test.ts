/**
 * Guarantees that must hold against careless and hostile use, end to end on the emulators through
 * the local runtime: a hold protects the data its classes live in, a webhook that never calls back
 * cannot keep a request open for ever, and a replayed signed callback cannot settle a later attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLBACK_TIMEOUT_MS } from '../../domain/erasure/recovery.js';
import type { ErasureRequestReceipt, HoldReceipt, RequestView } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest, postLifecycleEvent, sweepAndDrain } from '../helpers/api.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

describe('on a clock the tests move', () => {
  let rt: TestRuntime;

  beforeAll(async () => {
    rt = await startTestRuntime('holds-callbacks', { demoSubjects: 0 });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('ALM-3: a hold on customer-profile keeps a suspended-account erasure from the customer record, names the task and the hold, and the erasure runs once the hold is released', async () => {
    rt.clock.set('2027-01-10T00:00:00.000Z');
    const subjectId = 'holds-profile-shared-target';
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());
    const hold = await rt.call<HoldReceipt>('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId, dataClasses: ['customer-profile'], reason: 'litigation-2027-002' },
    });
    expect(hold.status).toBe(201);
    const { holdId } = hold.body;

    const submitted = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body: { subjectId, dataClasses: ['suspended-account'], reason: 'gdpr-art17-request' },
      headers: { 'Idempotency-Key': 'holds-profile-shared-target-1' },
    });
    await rt.drainQueue();

    // The answer and the request name the blocked task and its hold; the customer record is kept.
    expect(submitted.status).toBe(202);
    expect(submitted.body.status).toBe('blocked');
    expect(submitted.body.blockedTasks).toEqual([
      expect.objectContaining({
        target: 'customer-records',
        dataClass: 'suspended-account',
        blockedBy: [holdId],
      }),
    ]);
    const blocked = await getErasureRequest(rt, submitted.body.requestId);
    expect(blocked.blockedBy).toEqual([holdId]);
    expect(blocked.tasks.find((task) => task.target === 'customer-records')).toMatchObject({
      status: 'pending',
      blockedBy: [holdId],
    });
    expect(blocked.tasks.find((task) => task.target === 'user-files')?.blockedBy).toBeUndefined();
    expect((await remainingData(rt, subjectId)).customer).toBeDefined();

    // Released: the next sweep dispatches the request and the customer record is erased.
    const release = await rt.call('DELETE', `/v1/legal-holds/${holdId}`, { role: 'compliance' });
    expect(release.status).toBe(204);
    // A retried DELETE (its first answer lost) finds the hold released, and its subject a pseudonym.
    const again = await rt.call('DELETE', `/v1/legal-holds/${holdId}`, { role: 'compliance' });
    expect(again.status).toBe(204);
    await sweepAndDrain(rt, '2027-01-10T00:01:00.000Z');

    const done = await getErasureRequest(rt, submitted.body.requestId);
    expect(done.status).toBe('completed');
    // Neither the request nor a task reads as held once it ran; the trail keeps request.blocked.
    expect(done.blockedBy).toBeUndefined();
    expect(done.tasks.every((task) => task.status === 'verified' && task.blockedBy === undefined)).toBe(true);
    const left = await remainingData(rt, subjectId);
    expect(left.customer).toBeUndefined();
    expect(left.files).toBe(0);
    const types = (await auditEntriesOf(rt, subjectId)).map((entry) => entry.type);
    expect(types).toEqual(
      expect.arrayContaining(['hold.placed', 'request.blocked', 'hold.released', 'request.completed']),
    );
    expect(types.filter((type) => type === 'hold.released')).toHaveLength(1);
  });

  it('ALM-3 at the scheduled sweep, under its own functions and grants: a held due deletion is blocked, and runs once the hold is released', async () => {
    // Prepare: a suspension 3 months ago (ALL-3) and a hold on the class that shares its target.
    rt.clock.set('2027-03-01T00:00:00.000Z');
    const subjectId = 'holds-scheduled-sweep';
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());
    await postLifecycleEvent(rt, subjectId, 'account.suspended', '2026-11-20T00:00:00.000Z');
    const hold = await rt.call<HoldReceipt>('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId, dataClasses: ['customer-profile'], reason: 'litigation-2027-003' },
    });
    expect(hold.status).toBe(201);

    // Act: the sweep function and its shard workers (not the API's sweep), before and after release.
    const whileHeld = await rt.sweep(new Date('2027-03-01T00:00:00.000Z'));
    await rt.drainQueue();
    const kept = await remainingData(rt, subjectId);
    const release = await rt.call('DELETE', `/v1/legal-holds/${hold.body.holdId}`, { role: 'compliance' });
    const released = await rt.sweep(new Date('2027-03-01T00:05:00.000Z'));
    await rt.drainQueue();

    // Assess
    expect(whileHeld.blocked).toEqual([expect.objectContaining({ dataClass: 'suspended-account' })]);
    expect(whileHeld.dispatched).toEqual([]);
    expect(kept.customer).toBeDefined();
    expect(release.status).toBe(204);
    expect(released.dispatched).toEqual([expect.objectContaining({ dataClass: 'suspended-account' })]);
    expect((await remainingData(rt, subjectId)).customer).toBeUndefined();
  });

  it('ALU-3: a partner that answers 202 and never calls back is asked again after each callback timeout, and once the attempts are spent the task fails (callback-timeout), the request ends partially_failed within its deadline, and a re-drive completes it', async () => {
    let now = Date.parse('2027-02-01T00:00:00.000Z');
    rt.clock.set(new Date(now).toISOString());
    const subjectId = 'callbacks-never-come';
    rt.webhook.setMode('silent');
    try {
      const submitted = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
        body: { subjectId, dataClasses: ['marketing-contact'], reason: 'gdpr-art17-request' },
        headers: { 'Idempotency-Key': 'callbacks-never-come-1' },
      });
      await rt.drainQueue();
      const waiting = await getErasureRequest(rt, submitted.body.requestId);
      expect(waiting.tasks).toMatchObject([{ target: 'partner-services', status: 'running', attempts: 1 }]);

      // Each sweep after a callback timeout sends the task again; the worker asks the partner again.
      let request = waiting;
      for (let sweep = 0; sweep < 30 && request.status === 'dispatched'; sweep++) {
        now += CALLBACK_TIMEOUT_MS + 60_000;
        const at = new Date(now).toISOString();
        rt.clock.set(at);
        await sweepAndDrain(rt, at);
        request = await getErasureRequest(rt, submitted.body.requestId);
      }

      expect(request.status).toBe('partially_failed');
      const [task] = request.tasks;
      expect(task).toMatchObject({ status: 'failed', error: expect.stringMatching(/No callback/) });
      const asked = rt.webhook.received.filter((erasure) => erasure.subjectId === subjectId);
      expect(asked.length).toBe(task?.attempts);
      expect(new Date(now).toISOString() < request.deadline).toBe(true);
      const failed = (await auditEntriesOf(rt, subjectId)).filter((entry) => entry.type === 'task.failed');
      expect(failed.map((entry) => entry.detail?.errorCode)).toEqual(['callback-timeout']);

      // The partner is fixed: compliance re-drives the request and it completes.
      rt.webhook.setMode('sync');
      const redrive = await rt.call<RequestView>(
        'POST',
        `/v1/erasure-requests/${submitted.body.requestId}/redrive`,
        {
          role: 'compliance',
        },
      );
      expect(redrive.status).toBe(202);
      await rt.drainQueue();
      expect((await getErasureRequest(rt, submitted.body.requestId)).status).toBe('completed');
    } finally {
      rt.webhook.setMode('sync');
    }
  }, 180_000);
});

describe('on the real clock (callback signatures are checked against it)', () => {
  let rt: TestRuntime;

  beforeAll(async () => {
    rt = await startTestRuntime('holds-callbacks-live', {
      demoSubjects: 0,
      webhookMode: 'silent',
      clockStart: new Date().toISOString(),
    });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it("a captured signed `failed` callback replayed after a re-drive is refused with 409 and fails nothing; the partner's answer to the new attempt completes the request", async () => {
    const subjectId = 'callbacks-replayed';
    rt.webhook.records.set(subjectId, 1);
    const submitted = await rt.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body: { subjectId, dataClasses: ['marketing-contact'], reason: 'gdpr-art17-request' },
      headers: { 'Idempotency-Key': 'callbacks-replayed-1' },
    });
    await rt.drainQueue();
    const [task] = (await getErasureRequest(rt, submitted.body.requestId)).tasks;
    const taskId = task?.taskId ?? '';

    // The partner answers the first attempt `failed`; compliance re-drives once it is fixed.
    const failed = await rt.webhook.callBack(taskId, { status: 'failed', error: 'store-offline' });
    expect(failed.status).toBe(200);
    expect((await getErasureRequest(rt, submitted.body.requestId)).status).toBe('partially_failed');
    const redrive = await rt.call('POST', `/v1/erasure-requests/${submitted.body.requestId}/redrive`, {
      role: 'compliance',
    });
    expect(redrive.status).toBe(202);
    await rt.drainQueue();
    const asked = rt.webhook.received.filter((erasure) => erasure.taskId === taskId);
    expect(asked).toHaveLength(2);
    expect(asked[1]?.nonce).not.toBe(asked[0]?.nonce);

    // Someone replays the captured, validly signed `failed`.
    const replay = await fetch(failed.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-erasure-signature': failed.signature },
      body: failed.body,
    });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('stale_callback');
    const afterReplay = await getErasureRequest(rt, submitted.body.requestId);
    expect(afterReplay.status).toBe('dispatched');
    expect(afterReplay.tasks).toMatchObject([{ taskId, status: 'running' }]);
    const failures = (await auditEntriesOf(rt, subjectId)).filter((entry) => entry.type === 'task.failed');
    expect(failures).toHaveLength(1);

    // The partner's answer to the re-driven attempt is taken.
    const done = await rt.webhook.callBack(taskId, { status: 'done', deletedCount: 1 });
    expect(done.status).toBe(200);
    const request = await getErasureRequest(rt, submitted.body.requestId);
    expect(request.status).toBe('completed');
    expect(request.tasks).toMatchObject([{ status: 'verified', deletedCount: 1 }]);
  });
});
