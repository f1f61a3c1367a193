/**
 * Demo activity for the compliance reports: what `npm start` does once on a fresh (or older) state
 * so that each `GET /v1/reports/*` has something to show. Everything goes through the API, as a
 * product service and compliance staff would: a hold that blocks a request (holds, deadlines,
 * with an extended deadline), an erasure request and a due deletion that complete (erasures), a
 * request the partner service refuses (failures), and lifecycle events whose deletions and notice
 * come due within 30 days (upcoming).
 */
import { addDuration, subtractDuration } from '../domain/time.js';
import { seedDemoSubject } from './demo.js';
import type { LocalRuntime } from './runtime.js';

export const DEMO_ACTIVITY_SUBJECTS = {
  /** Under a legal hold; its erasure request stays blocked, with its deadline extended. */
  held: 'demo-held-1',
  /** Its erasure request completes (every task verified). */
  erased: 'demo-erased-1',
  /** Its account was closed an hour ago: the sweep erases it (ALL-1). */
  closed: 'demo-closed-1',
  /** The partner service refuses its erasure: the request ends partially failed. */
  refused: 'demo-refused-1',
  /** Suspended almost 3 months ago: deleted within the week (ALL-3). */
  suspended: 'demo-suspended-1',
  /** Last active almost 21 months ago: told within 10 days that its account goes (IMOU-3). */
  inactive: 'demo-inactive-1',
  /** Contract ended almost 24 months ago: customer data deleted within 3 weeks (ALE-1). */
  contractEnded: 'demo-contract-1',
} as const;

interface Call {
  readonly method: string;
  readonly path: string;
  readonly role: 'service' | 'compliance';
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** Seeds the activity unless the state already holds it (its hold); true when it seeded. */
export const seedDemoActivity = async (runtime: LocalRuntime, now: Date = new Date()): Promise<boolean> => {
  const subjects = DEMO_ACTIVITY_SUBJECTS;
  // The partner's refusal lives in its memory: set at every start, so a re-drive fails again.
  runtime.webhook.refusing.add(subjects.refused);
  const call = async ({ method, path, role, body, headers = {} }: Call) => {
    const response = await fetch(`${runtime.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${runtime.tokens[role]}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
    };
  };
  const holds = await call({ method: 'GET', path: '/v1/reports/holds', role: 'compliance' });
  const held = (holds.body?.holds as { subjectId: string }[] | undefined) ?? [];
  if (holds.status !== 200 || held.some((hold) => hold.subjectId === subjects.held)) return false;

  const at = now.toISOString();
  for (const subjectId of [subjects.held, subjects.erased, subjects.closed, subjects.refused]) {
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, now);
    runtime.webhook.records.set(subjectId, 2);
  }
  await call({
    method: 'POST',
    path: '/v1/legal-holds',
    role: 'compliance',
    body: { subjectId: subjects.held, reason: 'litigation-2026-001' },
  });
  const request = (subjectId: string, key: string, dataClasses?: readonly string[]) =>
    call({
      method: 'POST',
      path: '/v1/erasure-requests',
      role: 'service',
      headers: { 'idempotency-key': key },
      body: {
        subjectId,
        reason: 'gdpr-art17-request',
        ...(dataClasses === undefined ? {} : { dataClasses }),
      },
    });
  const blocked = await request(subjects.held, 'demo-activity-held');
  await call({
    method: 'POST',
    path: `/v1/erasure-requests/${String(blocked.body?.requestId)}/deadline-extension`,
    role: 'compliance',
    body: { reason: 'complex-request' },
  });
  await request(subjects.erased, 'demo-activity-erased');
  await request(subjects.refused, 'demo-activity-refused', ['customer-profile']);
  const event = (subjectId: string, type: string, occurredAt: string) =>
    call({
      method: 'POST',
      path: '/v1/lifecycle-events',
      role: 'service',
      body: { subjectId, type, occurredAt },
    });
  await event(subjects.closed, 'account.closed', new Date(now.getTime() - 3600_000).toISOString());
  await event(subjects.suspended, 'account.suspended', addDuration(subtractDuration(at, 'P3M'), 'P6D'));
  await event(subjects.inactive, 'subject.active', addDuration(subtractDuration(at, 'P21M'), 'P10D'));
  await event(subjects.contractEnded, 'contract.ended', addDuration(subtractDuration(at, 'P24M'), 'P20D'));
  // The closed account is due (it was indexed when written): sweep now instead of waiting for the
  // timer, then let the tasks run.
  await runtime.sweep(new Date());
  for (let round = 0; round < 20 && (await runtime.drainQueue()) > 0; round++);
  return true;
};
