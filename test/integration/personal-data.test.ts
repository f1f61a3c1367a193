/**
 * No personal data left behind in the orchestrator: after a full flow for a demo subject (a hold
 * placed and released, an erasure request refused, the account deleted and erased), its id, name,
 * e-mail and phone are in none of the orchestrator's tables, no task message and no log line.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoIdentifiersOf } from '../../local/demo.js';
import type { LogRecord } from '../../local/runtime.js';
import { remainingData, startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

const SUBJECT = 'demo-subject-1';
/** The subject's identifiers (its e-mail and camera serials), sent with every call below. */
const IDENTIFIERS = demoIdentifiersOf(SUBJECT);
/** What the demo seeds for demo-subject-1 (local/demo.ts), identifiers included. */
const PERSONAL_DATA = [
  SUBJECT,
  'Demo Customer 1',
  IDENTIFIERS.email,
  '+31 20 555 0101',
  ...IDENTIFIERS.deviceId,
];

const logs: LogRecord[] = [];
const messages: string[] = [];
let runtime: TestRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('personal-data', {
    demoSubjects: 1,
    onLog: (record) => logs.push(record),
    onTaskMessage: (body) => messages.push(body),
  });
});

afterAll(async () => {
  await runtime?.stop();
});

const scanAll = async (): Promise<string> => {
  const items = await Promise.all(
    Object.values(runtime.resources.tables).map(async (TableName) => {
      const found: unknown[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await runtime.clients.documents.send(new ScanCommand({ TableName, ExclusiveStartKey }));
        found.push(...(page.Items ?? []));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey !== undefined);
      return found;
    }),
  );
  return JSON.stringify(items);
};

describe('personal data after a full flow', () => {
  it('ALL-2: nothing of the subject is left in the orchestrator tables, task messages or logs once it is erased', async () => {
    // Prepare: a request blocked by a hold and refused, the hold released, then the account deleted.
    const hold = await runtime.call('POST', '/v1/legal-holds', {
      role: 'compliance',
      body: { subjectId: SUBJECT, reason: 'litigation-2026-7', identifiers: IDENTIFIERS },
    });
    expect(hold.status).toBe(201);
    const refused = await runtime.call('POST', '/v1/erasure-requests', {
      headers: { 'idempotency-key': 'personal-data-refused-1' },
      body: {
        subjectId: SUBJECT,
        dataClasses: ['cloud-video'],
        reason: 'gdpr-art17-request',
        identifiers: IDENTIFIERS,
      },
    });
    expect(refused.status).toBe(202);
    expect(
      (
        await runtime.call('POST', `/v1/erasure-requests/${refused.body.requestId}/rejection`, {
          role: 'compliance',
          body: { legalReason: 'legal-claim-pending' },
        })
      ).status,
    ).toBe(200);
    const released = await runtime.call('DELETE', `/v1/legal-holds/${hold.body.holdId}`, {
      role: 'compliance',
    });
    expect(released.status).toBe(204);
    const deleted = await runtime.call('POST', '/v1/lifecycle-events', {
      body: {
        subjectId: SUBJECT,
        type: 'account.deleted',
        occurredAt: '2026-11-21T11:00:00.000Z',
        identifiers: IDENTIFIERS,
      },
    });
    expect(deleted.status).toBe(202);

    // Act
    await runtime.sweep();
    await runtime.drainQueue();
    await runtime.sweep();

    // Assess: the data is gone, and so is everything the orchestrator knew of the subject.
    expect(await remainingData(runtime, SUBJECT)).toMatchObject({
      customer: undefined,
      deviceVideos: 0,
      marketing: undefined,
    });
    // Suppressed after erasure, as keyed hashes only (the scan below finds no value).
    const suppressed = await runtime.call('POST', '/v1/suppressions/check', {
      body: { subjectId: SUBJECT, identifiers: IDENTIFIERS },
    });
    expect(suppressed.body).toEqual({ suppressed: ['subjectId', 'email', 'deviceId'] });
    const stored = await scanAll();
    const logged = JSON.stringify(logs);
    expect(messages.length).toBeGreaterThan(0);
    for (const value of PERSONAL_DATA) {
      expect(stored).not.toContain(value);
      expect(logged).not.toContain(value);
      expect(messages.join('\n')).not.toContain(value);
    }
  });
});
