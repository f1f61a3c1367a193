/**
 * ALL-3 when the restore arrives late: a cancelling event that happened before the deletion was
 * due, delivered after the sweep claimed it. Its own runtime: the clock here goes back in time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepReport } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest, postLifecycleEvent, sweepAndDrain } from '../helpers/api.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('late-cancel', { demoSubjects: 0 });
});

afterAll(async () => {
  await runtime.stop();
});

const postEvent = (subjectId: string, type: string, occurredAt: string) =>
  postLifecycleEvent(runtime, subjectId, type, occurredAt);
const sweep = (now: string) => sweepAndDrain(runtime, now);
const getRequest = (requestId: string) => getErasureRequest(runtime, requestId);
const auditOf = (subjectId: string) => auditEntriesOf(runtime, subjectId);

describe('a late restore', () => {
  it('ALL-3: a restore that happened before the due date but arrives after the sweep claimed the deletion withdraws it: nothing erased, request cancelled', async () => {
    // Prepare: suspended 2026-05-01 (due 2026-08-01); the sweep claims the deletion, no task has run.
    runtime.clock.set('2026-08-02T00:00:00.000Z');
    const subject = 'pipeline-all3-late-restore';
    await seedDemoSubject(runtime.clients, runtime.stores, subject, runtime.clock.now());
    await postEvent(subject, 'account.suspended', '2026-05-01T00:00:00Z');
    const claimed = await runtime.call<SweepReport>('POST', '/v1/sweeps', {
      body: { now: '2026-08-02T01:00:00Z' },
    });
    const [dispatched] = claimed.body.dispatched.filter((item) => item.dataClass === 'suspended-account');
    expect(dispatched).toBeDefined();

    // Act: the restore of 2026-07-15 is delivered late.
    const restore = await postEvent(subject, 'account.restored', '2026-07-15T00:00:00Z');
    await runtime.drainQueue();

    // Assess
    expect(restore.decisions).toContainEqual(
      expect.objectContaining({ dataClass: 'suspended-account', change: 'cancelled' }),
    );
    const request = await getRequest(dispatched?.requestId ?? '');
    expect(request.status).toBe('cancelled');
    expect(request.tasks.every((task) => task.status === 'cancelled')).toBe(true);
    const kept = await remainingData(runtime, subject);
    expect(kept.customer).toBeDefined();
    expect(kept.files).toBe(2);
    expect((await auditOf(subject)).map((entry) => entry.type)).toContain('request.cancelled');
  });

  it('ALL-3: a restore that arrives after the deletion ran is answered too_late, naming what was erased, and audited', async () => {
    // Prepare: the deletion of 2026-08-01 ran before the restore of 2026-07-15 was delivered.
    runtime.clock.set('2026-08-02T00:00:00.000Z');
    const subject = 'pipeline-all3-too-late';
    await seedDemoSubject(runtime.clients, runtime.stores, subject, runtime.clock.now());
    await postEvent(subject, 'account.suspended', '2026-05-01T00:00:00Z');
    await sweep('2026-08-02T01:00:00Z');

    // Act
    const restore = await postEvent(subject, 'account.restored', '2026-07-15T00:00:00Z');

    // Assess
    const [late] = restore.decisions.filter((decision) => decision.dataClass === 'suspended-account');
    expect(late).toMatchObject({ change: 'too_late', dueAt: '2026-08-01T00:00:00.000Z' });
    expect(late?.erased?.map((erased) => erased.target).sort()).toEqual(
      expect.arrayContaining(['customer-records', 'user-files']),
    );
    const trail = await auditOf(subject);
    expect(trail.find((entry) => entry.type === 'deletion.too_late')?.detail).toMatchObject({
      eventType: 'account.restored',
      occurredAt: '2026-07-15T00:00:00.000Z',
    });
    // The same event re-sent gets the same answer.
    expect((await postEvent(subject, 'account.restored', '2026-07-15T00:00:00Z')).decisions).toEqual(
      restore.decisions,
    );
  });
});
