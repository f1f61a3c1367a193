/**
 * Identifiers resolved rather than sent, on the emulators (DynamoDB Local, fauxqs) through the
 * local runtime: the lookup-table resolver's reads of the demo identity table, and a subject whose
 * request names no identifier at all erased completely (video under both camera serials, the
 * marketing record by e-mail) and verified, by what the resolver returned.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResolverError } from '../../domain/errors.js';
import { dynamoIdentifierResolver } from '../../functions/adapters/dynamo-identifier-resolver.js';
import { demoIdentifiersOf, demoResolver } from '../../local/demo.js';
import { type ApiBody, remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const SUBJECT = 'demo-subject-1';
const OTHER = 'demo-subject-2';
let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('resolver', { demoSubjects: 2, resolveIdentifiers: true });
});

afterAll(async () => {
  await runtime?.stop();
});

describe('the dynamodb-lookup resolver', () => {
  it("reads a subject's mapped attributes, a string set as a list, and nothing else of the item", async () => {
    // Prepare
    const resolver = dynamoIdentifierResolver(runtime.clients.documents, demoResolver(runtime.stores));
    await runtime.clients.documents.send(
      new PutCommand({
        TableName: runtime.stores.identityTable,
        Item: {
          subjectId: 'listed-subject',
          email: 'listed@example.test',
          devices: ['CAM-0A0A'],
          name: 'Ana',
        },
      }),
    );

    // Act
    const seeded = await resolver.resolve({ subjectId: SUBJECT, requestId: 'req-1' });
    const listed = await resolver.resolve({ subjectId: 'listed-subject', requestId: 'req-2' });
    const unknown = await resolver.resolve({ subjectId: 'nobody-we-know', requestId: 'req-3' });

    // Assess
    const { email, deviceId } = demoIdentifiersOf(SUBJECT);
    expect(seeded.email).toBe(email);
    expect([...(seeded.deviceId as string[])].sort()).toEqual([...deviceId].sort());
    expect(listed).toEqual({ email: 'listed@example.test', deviceId: ['CAM-0A0A'] });
    expect(unknown).toEqual({});
  });

  it('is unavailable, naming itself, when its table cannot be read', async () => {
    // Prepare
    const resolver = dynamoIdentifierResolver(runtime.clients.documents, {
      ...demoResolver(runtime.stores),
      table: `${runtime.stores.identityTable}-missing`,
    });

    // Act
    const failure = await resolver
      .resolve({ subjectId: SUBJECT, requestId: 'req-4' })
      .catch((error) => error);

    // Assess
    expect(failure).toBeInstanceOf(ResolverError);
    expect(failure.retryable).toBe(true);
    expect(failure.message).toContain("'demo-identity'");
    expect(failure.message).not.toContain(SUBJECT);
  });
});

describe('a subject whose identifiers come only from the resolver', () => {
  it('IMOU-4: video under two camera serials and a marketing record keyed by e-mail are erased and verified', async () => {
    // Prepare
    expect(await remainingData(runtime, SUBJECT)).toMatchObject({
      deviceVideos: 2,
      marketing: expect.anything(),
    });

    // Act: no identifiers in the request.
    const submitted = await runtime.call('POST', '/v1/erasure-requests', {
      headers: { 'idempotency-key': 'resolver-it-0001' },
      body: { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
    });
    await runtime.drainQueue();
    const request = await runtime.call<ApiBody & { tasks: ApiBody[] }>(
      'GET',
      `/v1/erasure-requests/${submitted.body.requestId}`,
    );
    const trail = await runtime.call<{ entries: ApiBody[] }>(
      'GET',
      `/v1/audit?requestId=${submitted.body.requestId}`,
      { role: 'compliance' },
    );

    // Assess
    expect(submitted.status).toBe(202);
    expect(submitted.body.unaddressed).toBeUndefined();
    expect(request.body.status).toBe('completed');
    expect(request.body.tasks.every((task) => task.status === 'verified')).toBe(true);
    expect(request.body.tasks.find((task) => task.target === 'device-video')?.deletedCount).toBe(2);
    expect(request.body.tasks.find((task) => task.target === 'marketing-list')?.deletedCount).toBe(1);
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
    const received = trail.body.entries.find((entry) => entry.type === 'request.received');
    expect(received?.detail).toMatchObject({ resolved: 'email,deviceId', resolvedValues: 3 });
    const text = JSON.stringify(trail.body);
    for (const value of Object.values(demoIdentifiersOf(SUBJECT)).flat()) expect(text).not.toContain(value);
  });
});
