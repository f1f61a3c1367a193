import { performance } from 'node:perf_hooks';
import type { ErasureRequestReceipt, RequestDetail } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import type { LocalRuntime } from '../../local/runtime.js';
import type { BenchContext, SectionResult } from './context.js';
import { formatNumber, median, progress, type Row } from './stats.js';

const call = async <T>(runtime: LocalRuntime, method: string, path: string, body?: unknown, headers = {}) => {
  const response = await fetch(`${runtime.apiUrl}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${runtime.tokens.service}`,
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
};

const FINAL = new Set(['completed', 'partially_failed', 'rejected', 'cancelled']);
const TIMEOUT_MS = 60_000;

/**
 * 5. End to end: a subject with data in all five demo targets (customer record, 3 alarm events,
 * 3 videos, 2 files, partner-service records), an erasure request through the HTTP API (all delete
 * classes: five tasks), then the queue drained through the Lambda task handler until the request
 * reads `completed`. One request at a time, so each latency is one request's own.
 */
export const benchEndToEnd = async ({ runtime, config }: BenchContext): Promise<SectionResult> => {
  const submitted: number[] = [];
  const completed: number[] = [];
  for (let index = 0; index < config.e2eRequests; index++) {
    const subjectId = `bench-e2e-${String(index).padStart(4, '0')}`;
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, new Date());
    runtime.webhook.records.set(subjectId, 2);

    const start = performance.now();
    const receipt = await call<ErasureRequestReceipt>(
      runtime,
      'POST',
      '/v1/erasure-requests',
      { subjectId, reason: 'gdpr-art17-request' },
      { 'idempotency-key': `bench-e2e-${index}-${Date.now()}` },
    );
    submitted.push(performance.now() - start);
    let view: RequestDetail | undefined;
    while (view === undefined || !FINAL.has(view.status)) {
      if (performance.now() - start > TIMEOUT_MS)
        throw new Error(`Request ${receipt.requestId} did not finish`);
      const ran = await runtime.drainQueue();
      view = await call<RequestDetail>(runtime, 'GET', `/v1/erasure-requests/${receipt.requestId}`);
      if (ran === 0 && !FINAL.has(view.status)) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    completed.push(performance.now() - start);
    const targets = new Set(view.tasks.map((task) => task.target));
    if (
      view.status !== 'completed' ||
      targets.size !== 5 ||
      view.tasks.some((t) => t.status !== 'verified')
    ) {
      throw new Error(`Request ${receipt.requestId} ended ${view.status} with ${JSON.stringify(view.tasks)}`);
    }
  }
  progress(`e2e: submit → completed median ${formatNumber(median(completed))} ms`);
  const rows: Row[] = [
    { what: 'erasure request, submit (POST → 202, tasks queued)', samples: submitted, unit: 'ms' },
    {
      what: 'erasure request, 5 targets, submit → completed (drainQueue)',
      samples: completed,
      unit: 'ms',
    },
  ];
  return { rows };
};
