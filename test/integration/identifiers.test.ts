/**
 * Identifiers and suppression end to end on the emulators (DynamoDB Local, fauxqs), through the
 * local runtime's API, queue and worker: a subject whose cloud video is kept under two camera
 * serials and whose marketing record is keyed by e-mail is erased completely and verified, and
 * the erased e-mail is then reported by the suppression check.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIdentifiersOf } from '../../local/demo.js';
import { type ApiBody, remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const SUBJECT = 'demo-subject-1';
const OTHER = 'demo-subject-2';
let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('identifiers', { demoSubjects: 2 });
});

afterAll(async () => {
  await runtime?.stop();
});

/** A legal hold on OTHER naming its e-mail and camera serials. */
const holdOther = async (reason: string) => {
  const identifiers = demoIdentifiersOf(OTHER);
  const placed = await runtime.call('POST', '/v1/legal-holds', {
    role: 'compliance',
    body: { subjectId: OTHER, reason, identifiers },
  });
  expect(placed.status).toBe(201);
  return { identifiers, placed };
};

describe("ALM-3 across subjects: a hold on a subject protects its identifiers from another subject's request", () => {
  it("a request for another subject id carrying the held subject's e-mail and camera serials erases none of that data", async () => {
    // Prepare: OTHER is held, with its identifiers; a request claims them for a stranger.
    const { identifiers, placed } = await holdOther('litigation-2026-061');
    const before = await remainingData(runtime, OTHER);

    // Act
    const submitted = await runtime.call('POST', '/v1/erasure-requests', {
      headers: { 'idempotency-key': 'identifiers-it-bypass' },
      body: {
        subjectId: 'someone-else-77',
        dataClasses: ['closed-account'],
        reason: 'gdpr-art17-request',
        identifiers,
      },
    });
    await runtime.drainQueue();

    // Assess: the held person's marketing record and camera videos are all still there, and intake
    // said why: blocked by that hold.
    expect(submitted.status).toBe(202);
    expect(submitted.body.status).toBe('blocked');
    expect(submitted.body.blockedTasks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'marketing-list', blockedBy: [placed.body.holdId] }),
      ]),
    );
    expect(await remainingData(runtime, OTHER)).toEqual(before);
    const released = await runtime.call('DELETE', `/v1/legal-holds/${String(placed.body.holdId)}`, {
      role: 'compliance',
    });
    expect(released.status).toBe(204);
  });
});

describe("ALM-3 across subjects at the sweep's dispatch", () => {
  it("a due deletion keyed by the held subject's e-mail is blocked by a sweep shard, which never scans the holds table", async () => {
    // Prepare: this runtime's first sweep, so its shard reads holds before the coordinator has
    // listed any (as after an upgrade); only the coordinator and the API may scan the holds table.
    // A stranger's consent withdrawal claims the held e-mail.
    const { identifiers, placed } = await holdOther('litigation-2026-062');
    const before = await remainingData(runtime, OTHER);
    const event = await runtime.call('POST', '/v1/lifecycle-events', {
      body: {
        subjectId: 'someone-else-78',
        type: 'consent.withdrawn',
        occurredAt: '2026-11-20T09:00:00Z',
        identifiers: { email: identifiers.email },
      },
    });
    expect(event.status).toBe(202);

    // Act
    await runtime.sweep();
    await runtime.drainQueue();

    // Assess: the shard blocked the request on the other subject's hold; nothing of it was erased.
    const deadlines = await runtime.call<ApiBody & { requests: ApiBody[] }>('GET', '/v1/reports/deadlines', {
      role: 'compliance',
    });
    expect(
      deadlines.body.requests
        .filter((request) => JSON.stringify(request.blockedBy).includes(String(placed.body.holdId)))
        .filter((request) => request.origin === 'schedule')
        .map((request) => [request.status, request.blockedBy]),
    ).toEqual([['blocked', [placed.body.holdId]]]);
    expect(await remainingData(runtime, OTHER)).toEqual(before);
    expect(
      (await runtime.call('DELETE', `/v1/legal-holds/${String(placed.body.holdId)}`, { role: 'compliance' }))
        .status,
    ).toBe(204);
  });
});

describe('a subject with many identifiers', () => {
  it('IMOU-4: video under two camera serials and a marketing record keyed by e-mail are erased and verified', async () => {
    // Prepare
    const identifiers = demoIdentifiersOf(SUBJECT);
    const before = await remainingData(runtime, SUBJECT);
    expect(before).toMatchObject({ deviceVideos: 2, marketing: expect.anything() });

    // Act
    const submitted = await runtime.call('POST', '/v1/erasure-requests', {
      headers: { 'idempotency-key': 'identifiers-it-0001' },
      body: {
        subjectId: SUBJECT,
        dataClasses: ['closed-account'],
        reason: 'gdpr-art17-request',
        identifiers,
      },
    });
    await runtime.drainQueue();
    const request = await runtime.call<ApiBody & { tasks: ApiBody[] }>(
      'GET',
      `/v1/erasure-requests/${submitted.body.requestId}`,
    );

    // Assess: every task verified, the camera task covering both serials.
    expect(submitted.status).toBe(202);
    expect(submitted.body.unaddressed).toBeUndefined();
    expect(request.body.status).toBe('completed');
    expect(request.body.tasks.every((task) => task.status === 'verified')).toBe(true);
    const camera = request.body.tasks.find((task) => task.target === 'device-video');
    expect(camera?.deletedCount).toBe(2);
    const marketing = request.body.tasks.find((task) => task.target === 'marketing-list');
    expect(marketing?.deletedCount).toBe(1);
    // Independent reads: nothing left of the subject, the other subject's cameras untouched.
    expect(await remainingData(runtime, SUBJECT)).toMatchObject({
      deviceVideos: 0,
      marketing: undefined,
      videos: 0,
      files: 0,
      customer: undefined,
    });
    expect(await remainingData(runtime, OTHER)).toMatchObject({
      deviceVideos: 2,
      marketing: expect.anything(),
    });
    const listed = await runtime.clients.s3.send(
      new ListObjectsV2Command({ Bucket: runtime.stores.cloudVideoBucket, Prefix: 'devices/' }),
    );
    expect((listed.Contents ?? []).map((object) => object.Key).sort()).toEqual(
      demoIdentifiersOf(OTHER)
        .deviceId.map((serial) => `devices/${serial}/clip-1.mp4`)
        .sort(),
    );
  });

  it('reports the erased e-mail as suppressed, and flags a lifecycle event that brings it back', async () => {
    // Prepare
    const { email } = demoIdentifiersOf(SUBJECT);

    // Act
    const check = await runtime.call('POST', '/v1/suppressions/check', {
      body: { identifiers: { email, deviceId: demoIdentifiersOf(OTHER).deviceId } },
    });
    const reimported = await runtime.call('POST', '/v1/lifecycle-events', {
      body: {
        subjectId: 'imported-from-backup-1',
        type: 'subject.active',
        occurredAt: '2026-11-21T11:00:00Z',
        identifiers: { email },
      },
    });
    const otherCheck = await runtime.call('POST', '/v1/suppressions/check', {
      body: { identifiers: { email: demoIdentifiersOf(OTHER).email } },
    });

    // Assess
    expect(check.status).toBe(200);
    expect(check.body).toEqual({ suppressed: ['email'] });
    expect(reimported.status).toBe(202);
    expect(reimported.body.suppressed).toEqual(['email']);
    expect(otherCheck.body).toEqual({ suppressed: [] });
  });
});
