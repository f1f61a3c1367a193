/**
 * Calls of the API of a test runtime that the end-to-end tests share, typed with the API's own
 * answer types (functions/api/types.ts). Each asserts the status a success answers with.
 */
import { expect } from 'vitest';
import type { AuditEntry } from '../../domain/audit/types.js';
import type {
  AuditList,
  LifecycleEventResult,
  RequestDetail,
  SweepReport,
} from '../../functions/api/types.js';
import type { TestRuntime } from './runtime.js';

/** `POST /v1/lifecycle-events` → 202. */
export const postLifecycleEvent = async (
  rt: TestRuntime,
  subjectId: string,
  type: string,
  occurredAt: string,
  attributes?: Record<string, string>,
): Promise<LifecycleEventResult> => {
  const response = await rt.call<LifecycleEventResult>('POST', '/v1/lifecycle-events', {
    body: { subjectId, type, occurredAt, ...(attributes === undefined ? {} : { attributes }) },
  });
  expect(response.status).toBe(202);
  return response.body;
};

/** `POST /v1/sweeps` for `now` → 200, then the task queue drained. */
export const sweepAndDrain = async (rt: TestRuntime, now: string): Promise<SweepReport> => {
  const response = await rt.call<SweepReport>('POST', '/v1/sweeps', { body: { now } });
  expect(response.status).toBe(200);
  await rt.drainQueue();
  return response.body;
};

/** `GET /v1/erasure-requests/{requestId}` → 200. */
export const getErasureRequest = async (rt: TestRuntime, requestId: string): Promise<RequestDetail> => {
  const response = await rt.call<RequestDetail>('GET', `/v1/erasure-requests/${requestId}`);
  expect(response.status).toBe(200);
  return response.body;
};

/** `GET /v1/audit?subjectId=` as compliance → 200: the subject's audit entries. */
export const auditEntriesOf = async (rt: TestRuntime, subjectId: string): Promise<readonly AuditEntry[]> => {
  const response = await rt.call<AuditList>('GET', `/v1/audit?subjectId=${subjectId}`, {
    role: 'compliance',
  });
  expect(response.status).toBe(200);
  return response.body.entries;
};
