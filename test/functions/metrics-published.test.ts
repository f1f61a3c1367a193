/**
 * Every function publishes what an invocation counted when the invocation ends, however it ends.
 * Powertools buffers metrics until they are published; the API never published them, so a count
 * it made (`DeletionTooLate`, a commit's `CommitRetried` or `CommitGaveUp`) never
 * reached the alarms that read it. An invocation that counted nothing publishes nothing.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { makeHandler as makeWorker } from '../../functions/run-connector-task.js';
import { powertoolsMetrics } from '../../functions/shared/observability.js';
import { makeHandler as makeSweep } from '../../functions/sweep-due-deletions.js';
import { makeHandler as makeSweepShard } from '../../functions/sweep-shard.js';
import { bearer, callApi } from '../helpers/api-handler.js';
import { HANDLER_NOW, handlerDeps, lambdaContext, sqsRecord } from '../helpers/handler-deps.js';

/** handlerDeps whose metrics sink records counts and publications in order. */
const recorded = () => {
  const events: string[] = [];
  const built = handlerDeps({
    overrides: {
      metrics: {
        count: (name, value) => events.push(`count ${name} ${value}`),
        flush: () => events.push('publish'),
      },
    },
  });
  return { built, events };
};

describe('metrics are published at the end of every invocation', () => {
  it('by the API, for an answer and for a refusal alike', async () => {
    // Prepare
    const { built, events } = recorded();

    // Act
    const found = await callApi(built, { method: 'GET', path: '/livez' });
    const refused = await callApi(built, {
      method: 'GET',
      path: '/v1/erasure-requests/req_unknown',
      headers: bearer('service'),
    });

    // Assess
    expect([found.status, refused.status]).toEqual([200, 404]);
    expect(events).toEqual(['publish', 'publish']);
  });

  it('by the worker, after what its batch counted', async () => {
    // Prepare: a message for a task that does not exist is dropped, counting nothing.
    const { built, events } = recorded();
    const worker = makeWorker(() => Promise.resolve(built.deps));

    // Act
    await worker(
      { Records: [sqsRecord('m-1', JSON.stringify({ taskId: 'task_none', requestId: 'req_none' }))] },
      lambdaContext('worker'),
    );

    // Assess
    expect(events.at(-1)).toBe('publish');
  });

  it('by a sweep shard, even when its message was malformed', async () => {
    // Prepare
    const { built, events } = recorded();
    const shard = makeSweepShard(() => Promise.resolve(built.deps));

    // Act
    const answer = await shard({ Records: [sqsRecord('m-1', 'not json')] }, lambdaContext('sweep-shard'));

    // Assess
    expect(answer.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(events).toEqual(['publish']);
  });

  it('by the sweep, after the deadline counts it publishes', async () => {
    // Prepare
    const { built, events } = recorded();
    const sweep = makeSweep(() => Promise.resolve(built.deps));

    // Act
    await sweep(
      {
        version: '0',
        id: 'e-1',
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '123456789012',
        time: HANDLER_NOW,
        region: 'eu-west-1',
        resources: [],
        detail: {},
      },
      lambdaContext('sweep'),
    );

    // Assess
    expect(events).toContain('count RequestsOverdue 0');
    expect(events.at(-1)).toBe('publish');
  });

  it('publishes nothing when nothing was counted (no warning in every log)', () => {
    // Prepare
    const published: string[] = [];
    const buffer = (stored: boolean) =>
      ({
        addMetric: () => undefined,
        hasStoredMetrics: () => stored,
        publishStoredMetrics: () => published.push(stored ? 'metrics' : 'empty'),
      }) as unknown as Metrics;

    // Act
    powertoolsMetrics(buffer(false)).flush();
    powertoolsMetrics(buffer(true)).flush();

    // Assess
    expect(published).toEqual(['metrics']);
  });
});
