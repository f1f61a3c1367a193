/**
 * Guarantees that must hold against careless and hostile use, end to end on the emulators through
 * the local runtime: a hold protects the data its classes live in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErasureRequestReceipt, HoldReceipt } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest, sweepAndDrain } from '../helpers/api.js';
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
    expect(blocked.tasks.find((task) => task.target === 'customer-records')).toMatchObject({
      status: 'pending',
      blockedBy: [holdId],
    });
    expect(blocked.tasks.find((task) => task.target === 'user-files')?.blockedBy).toBeUndefined();
    expect((await remainingData(rt, subjectId)).customer).toBeDefined();

    // Released: the next sweep dispatches the request and the customer record is erased.
    const release = await rt.call('DELETE', `/v1/legal-holds/${holdId}`, { role: 'compliance' });
    expect(release.status).toBe(204);
    await sweepAndDrain(rt, '2027-01-10T00:01:00.000Z');

    const done = await getErasureRequest(rt, submitted.body.requestId);
    expect(done.status).toBe('completed');
    expect(done.tasks.every((task) => task.status === 'verified' && task.blockedBy === undefined)).toBe(true);
    const left = await remainingData(rt, subjectId);
    expect(left.customer).toBeUndefined();
    expect(left.files).toBe(0);
    expect((await auditEntriesOf(rt, subjectId)).map((entry) => entry.type)).toEqual(
      expect.arrayContaining(['hold.placed', 'request.blocked', 'hold.released', 'request.completed']),
    );
  });
});
