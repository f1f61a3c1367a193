import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../domain/audit/index.js';
import type {
  ErasureRequestReceipt,
  HoldReceipt,
  RequestView,
  SweepReport,
  VerificationAnswer,
} from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest, postLifecycleEvent, sweepAndDrain } from '../helpers/api.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('pipeline', { demoSubjects: 0 });
});

afterAll(async () => {
  await runtime.stop();
});

const postEvent = (
  subjectId: string,
  type: string,
  occurredAt: string,
  attributes?: Record<string, string>,
) => postLifecycleEvent(runtime, subjectId, type, occurredAt, attributes);
const sweep = (now: string) => sweepAndDrain(runtime, now);
const getRequest = (requestId: string) => getErasureRequest(runtime, requestId);
const auditOf = (subjectId: string) => auditEntriesOf(runtime, subjectId);

describe('scheduled deletions, end to end', () => {
  it('ALE-1 / ALU-1: contract ended 2026-01-31 → customer data deleted 2028-01-31, not a day before', async () => {
    const subjectId = 'pipeline-ale1';
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());

    const { decisions } = await postEvent(subjectId, 'contract.ended', '2026-01-31T00:00:00Z');
    expect(decisions).toContainEqual(
      expect.objectContaining({
        dataClass: 'customer-profile',
        dueAt: '2028-01-31T00:00:00.000Z',
        change: 'scheduled',
      }),
    );

    const early = await sweep('2028-01-30T23:59:59.999Z');
    expect(early.dispatched.filter((d) => d.dataClass === 'customer-profile')).toEqual([]);
    expect((await remainingData(runtime, subjectId)).customer).toBeDefined();

    const due = await sweep('2028-01-31T00:00:00.000Z');
    const dispatched = due.dispatched.find((d) => d.dataClass === 'customer-profile');
    expect(dispatched?.ruleRef).toBe('ALE-1');
    expect((await remainingData(runtime, subjectId)).customer).toBeUndefined();
    const request = await getRequest(dispatched?.requestId ?? '');
    expect(request.status).toBe('completed');
    expect(request.tasks.every((task) => task.status === 'verified')).toBe(true);
  });

  it('ALL-3: suspended 2026-11-30 → deleted 2027-02-28; restored 2027-01-15 → nothing deleted', async () => {
    runtime.clock.set('2027-01-20T00:00:00.000Z');
    const deleted = 'pipeline-all3-kept-suspended';
    const restored = 'pipeline-all3-restored';
    await seedDemoSubject(runtime.clients, runtime.stores, deleted, runtime.clock.now());
    await seedDemoSubject(runtime.clients, runtime.stores, restored, runtime.clock.now());

    const suspension = await postEvent(deleted, 'account.suspended', '2026-11-30T00:00:00Z');
    expect(suspension.decisions).toContainEqual(
      expect.objectContaining({ dataClass: 'suspended-account', dueAt: '2027-02-28T00:00:00.000Z' }),
    );
    await postEvent(restored, 'account.suspended', '2026-11-30T00:00:00Z');
    const restore = await postEvent(restored, 'account.restored', '2027-01-15T00:00:00Z');
    expect(restore.decisions).toContainEqual(
      expect.objectContaining({ dataClass: 'suspended-account', change: 'cancelled' }),
    );

    await sweep('2027-02-27T23:59:59.999Z');
    expect((await remainingData(runtime, deleted)).files).toBe(2);
    await sweep('2027-03-01T00:00:00.000Z');

    const gone = await remainingData(runtime, deleted);
    expect(gone.customer).toBeUndefined();
    expect(gone.files).toBe(0);
    const kept = await remainingData(runtime, restored);
    expect(kept.customer).toBeDefined();
    expect(kept.files).toBe(2);
    expect(kept.videos).toBe(3);
  });

  it('ALM-3: a legal hold blocks a due deletion and the audit records it; releasing it lets it run', async () => {
    runtime.clock.set('2027-05-01T00:00:00.000Z');
    const subjectId = 'pipeline-alm3-held';
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
    await postEvent(subjectId, 'account.suspended', '2027-01-10T00:00:00Z');
    const hold = await runtime.call<HoldReceipt>('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId, reason: 'litigation-2027-014' },
    });
    expect(hold.status).toBe(201);

    const blocked = await sweep('2027-05-01T00:00:00.000Z');
    expect(blocked.blocked).toContainEqual(
      expect.objectContaining({
        dataClass: 'suspended-account',
        blockers: [`legal-hold:${hold.body.holdId}`],
      }),
    );
    expect((await remainingData(runtime, subjectId)).files).toBe(2);
    expect((await auditOf(subjectId)).map((entry) => entry.type)).toContain('deletion.blocked');

    const release = await runtime.call('DELETE', `/v1/legal-holds/${hold.body.holdId}`, {
      role: 'compliance',
    });
    expect(release.status).toBe(204);
    const after = await sweep('2027-05-01T00:05:00.000Z');

    expect(after.dispatched.map((d) => d.dataClass)).toContain('suspended-account');
    expect((await remainingData(runtime, subjectId)).files).toBe(0);
  });
});

describe('scheduled deletions on the real clock', () => {
  // Its own runtime: the other tests move their clock into the future, and clocks do not go back.
  let realTime: TestRuntime;
  beforeAll(async () => {
    realTime = await startTestRuntime('pipeline-real-time', {
      demoSubjects: 0,
      clockStart: new Date().toISOString(),
    });
  });
  afterAll(async () => {
    await realTime.stop();
  });

  it('IMOU-1: plan expired → cloud video deleted; renewed before the sweep → kept', async () => {
    // Real time here: the renewed plan's rolling window (IMOU-1) keeps videos younger than its
    // window, and S3 stamps the seeded videos with the real time.
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    realTime.clock.set(at(0));
    const expired = 'pipeline-imou1-expired';
    const renewed = 'pipeline-imou1-renewed';
    await seedDemoSubject(realTime.clients, realTime.stores, expired, realTime.clock.now());
    await seedDemoSubject(realTime.clients, realTime.stores, renewed, realTime.clock.now());
    await postLifecycleEvent(realTime, expired, 'plan.expired', at(10));
    await postLifecycleEvent(realTime, renewed, 'plan.expired', at(10));
    const renewal = await postLifecycleEvent(realTime, renewed, 'plan.renewed', at(5));
    expect(renewal.decisions).toContainEqual(
      expect.objectContaining({ dataClass: 'cloud-video', change: 'cancelled' }),
    );

    const report = await sweepAndDrain(realTime, at(0));

    expect(report.dispatched.filter((d) => d.dataClass === 'cloud-video')).toHaveLength(1);
    expect((await remainingData(realTime, expired)).videos).toBe(0);
    expect((await remainingData(realTime, renewed)).videos).toBe(3);
  });
});

describe('erasure requests, end to end', () => {
  it('ALL-2 / IMOU-4: an erasure request across S3, DynamoDB and a webhook completes, verified by independent reads; the audit chain verifies', async () => {
    runtime.clock.set('2027-06-01T00:00:00.000Z');
    const subjectId = 'pipeline-erasure-all';
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
    runtime.webhook.records.set(subjectId, 4);

    const submitted = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body: { subjectId, reason: 'gdpr-art17-request' },
      headers: { 'Idempotency-Key': 'pipeline-erasure-all-1' },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.deadline).toBe('2027-07-01T00:00:00.000Z');
    await runtime.drainQueue();

    const request = await getRequest(submitted.body.requestId);
    expect(request.status).toBe('completed');
    expect([...new Set(request.tasks.map((task) => task.target))].sort()).toEqual([
      'alarm-events',
      'cloud-video',
      'customer-records',
      'partner-services',
      'user-files',
    ]);
    // The partner service erases per class: it is told every requested class it holds.
    const partnerClasses = request.tasks
      .filter((task) => task.target === 'partner-services')
      .map((task) => task.dataClass);
    expect(request.tasks.every((task) => task.status === 'verified' && task.verifiedAt !== undefined)).toBe(
      true,
    );
    const left = await remainingData(runtime, subjectId);
    expect(left).toMatchObject({ customer: undefined, alarms: 0, videos: 0, files: 0 });
    expect(left.webhookErasures.map((erasure) => erasure.dataClass).sort()).toEqual(
      [...partnerClasses].sort(),
    );
    expect(partnerClasses).toContain('marketing-contact');
    expect(runtime.webhook.records.has(subjectId)).toBe(false);

    const entries = await auditOf(subjectId);
    expect(verifyChain(entries).ok).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(subjectId);
    // Once verified, the request itself no longer holds whose data it was.
    const stored = await runtime.clients.documents.send(
      new QueryCommand({
        TableName: runtime.resources.tables.requests,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `request#${submitted.body.requestId}` },
      }),
    );
    expect(stored.Items?.length).toBe(1 + request.tasks.length);
    expect(JSON.stringify(stored.Items)).not.toContain(subjectId);
    const verification = await runtime.call<VerificationAnswer>(
      'GET',
      `/v1/audit/verification?subjectId=${subjectId}`,
      { role: 'compliance' },
    );
    expect(verification.body.verification).toMatchObject({ ok: true, length: entries.length });
  });

  it('ALM-3: a legal hold placed after dispatch stops the tasks before they erase; they run once it is released', async () => {
    runtime.clock.set('2027-06-10T00:00:00.000Z');
    const subjectId = 'pipeline-hold-after-dispatch';
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
    const submitted = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body: { subjectId, reason: 'gdpr-art17-request', dataClasses: ['cloud-video'] },
      headers: { 'Idempotency-Key': 'pipeline-hold-after-dispatch-1' },
    });
    expect(submitted.body.status).toBe('dispatched');
    const hold = await runtime.call<HoldReceipt>('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId, reason: 'litigation-2027-031' },
    });

    await runtime.drainQueue();

    expect((await remainingData(runtime, subjectId)).videos).toBe(3);
    expect((await getRequest(submitted.body.requestId)).tasks.map((task) => task.status)).toEqual([
      'pending',
    ]);
    expect((await auditOf(subjectId)).map((entry) => entry.type)).toContain('task.held');

    await runtime.call('DELETE', `/v1/legal-holds/${hold.body.holdId}`, { role: 'compliance' });
    runtime.clock.set('2027-06-10T00:31:00.000Z');
    await sweep('2027-06-10T00:31:00.000Z');

    expect((await remainingData(runtime, subjectId)).videos).toBe(0);
    expect((await getRequest(submitted.body.requestId)).status).toBe('completed');
  });

  it('re-sending a request with the same Idempotency-Key returns the same request; a different body is a 409', async () => {
    const body = {
      subjectId: 'pipeline-idempotent',
      reason: 'gdpr-art17-request',
      dataClasses: ['cloud-video'],
    };
    const headers = { 'Idempotency-Key': 'pipeline-idempotent-1' };
    const first = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body,
      headers,
    });
    const again = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
      body,
      headers,
    });
    const conflict = await runtime.call('POST', '/v1/erasure-requests', {
      body: { ...body, dataClasses: ['customer-profile'] },
      headers,
    });

    expect(again.body.requestId).toBe(first.body.requestId);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error?.code).toBe('idempotency_conflict');
    await runtime.drainQueue();
  });

  it('a body over the limit is a 413 naming the limit, and nothing is written', async () => {
    const subjectId = 'pipeline-oversized';
    const answer = await fetch(`${runtime.apiUrl}/v1/erasure-requests`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${runtime.tokens.service}` },
      // 4 MiB: the local server keeps only what the router needs to refuse it.
      body: JSON.stringify({ subjectId, reason: 'gdpr-art17-request', note: 'x'.repeat(4 * 1024 * 1024) }),
    });
    const body = (await answer.json()) as { error?: { code?: string; message?: string } };

    expect(answer.status).toBe(413);
    expect(body.error?.message).toContain('256 KiB');
    expect(await auditOf(subjectId)).toEqual([]);
  });

  it('duplicate SQS delivery and a re-run sweep change nothing', async () => {
    runtime.clock.set('2027-07-02T00:00:00.000Z');
    const subjectId = 'pipeline-duplicates';
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
    await postEvent(subjectId, 'plan.expired', '2027-07-01T00:00:00Z');

    const first = await runtime.call<SweepReport>('POST', '/v1/sweeps', {
      body: { now: '2027-07-02T00:00:00Z' },
    });
    const rerun = await runtime.call<SweepReport>('POST', '/v1/sweeps', {
      body: { now: '2027-07-02T00:00:00Z' },
    });
    const requestId = first.body.dispatched.find((d) => d.dataClass === 'cloud-video')?.requestId ?? '';
    expect(rerun.body.dispatched.map((d) => d.requestId)).not.toContain(requestId);
    // Deliver every task message twice: the second delivery must find the work done.
    const { tasks } = await getRequest(requestId);
    await runtime.deps.queue.send(tasks.map((task) => ({ taskId: task.taskId, requestId })));
    await runtime.drainQueue();

    const request = await getRequest(requestId);
    expect(request.status).toBe('completed');
    expect(request.tasks.map((task) => task.status)).toEqual(tasks.map(() => 'verified'));
    const entries = await auditOf(subjectId);
    const completions = entries.filter(
      (entry) => entry.type === 'request.completed' && entry.requestId === requestId,
    );
    expect(completions).toHaveLength(1);
    const verified = entries.filter(
      (entry) => entry.type === 'task.verified' && entry.requestId === requestId,
    );
    expect(verified).toHaveLength(tasks.length);
  });

  it('a connector that keeps failing ends in the DLQ; the request is partially_failed with the error visible, and a re-drive after the fix completes it', async () => {
    const subjectId = 'pipeline-dlq';
    runtime.webhook.setFailure(503);
    try {
      const submitted = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
        body: { subjectId, reason: 'gdpr-art17-request', dataClasses: ['marketing-contact', 'cloud-video'] },
        headers: { 'Idempotency-Key': 'pipeline-dlq-1' },
      });
      await runtime.drainQueue();

      const request = await getRequest(submitted.body.requestId);
      expect(request.status).toBe('partially_failed');
      const webhookTask = request.tasks.find((task) => task.target === 'partner-services');
      expect(webhookTask?.status).toBe('failed');
      expect(webhookTask?.error).toMatch(/503/);
      expect(request.tasks.find((task) => task.target === 'cloud-video')?.status).toBe('verified');
      const { Attributes } = await runtime.clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: runtime.resources.taskDeadLetterQueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      expect(Number(Attributes?.ApproximateNumberOfMessages)).toBe(1);

      // The partner service is back: compliance re-drives the failed task and the request completes.
      runtime.webhook.setFailure(undefined);
      const redrive = await runtime.call<RequestView>(
        'POST',
        `/v1/erasure-requests/${submitted.body.requestId}/redrive`,
        { role: 'compliance' },
      );
      expect(redrive.status).toBe(202);
      expect(redrive.body.status).toBe('dispatched');
      await runtime.drainQueue();
      const redriven = await getRequest(submitted.body.requestId);
      expect(redriven.status).toBe('completed');
      expect(redriven.tasks.map((task) => task.status)).toEqual(['verified', 'verified']);
      expect(runtime.webhook.received.filter((erasure) => erasure.subjectId === subjectId)).toHaveLength(1);
      const again = await runtime.call('POST', `/v1/erasure-requests/${submitted.body.requestId}/redrive`, {
        role: 'compliance',
      });
      expect(again.status).toBe(409);
    } finally {
      runtime.webhook.setFailure(undefined);
    }
  });
});
