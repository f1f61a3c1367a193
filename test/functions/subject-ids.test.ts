/**
 * Any subject id that passes validation works end to end (issue: an id equal to a word of the
 * audit trail, such as `request` or `delete`, was refused or stuck). And a request refused for the
 * data it would put in the trail leaves no trace, whatever is retried.
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES } from '../../domain/audit/events.js';
import { LIFECYCLE_EVENT_TYPES } from '../../domain/events.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { makeHandler as makeWorker } from '../../functions/run-connector-task.js';
import { submitErasureRequest } from '../../functions/services/erasure-requests.js';
import { placeLegalHold, releaseLegalHold } from '../../functions/services/legal-holds.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { stubRegistry } from '../helpers/connectors.js';
import { type HandlerDeps, handlerDeps, lambdaContext, sqsRecord } from '../helpers/handler-deps.js';

const words = (names: readonly string[]) => names.flatMap((name) => [name, ...name.split(/[^A-Za-z0-9_]+/)]);

/** Every event type and its words, every action, status and data-class name. */
const WORD_IDS = [
  ...new Set(
    [
      ...words(AUDIT_EVENT_TYPES),
      ...words(LIFECYCLE_EVENT_TYPES),
      'delete',
      'anonymise',
      'restrict',
      ...['received', 'rejected', 'blocked', 'dispatched', 'completed', 'partially_failed'],
      ...['pending', 'running', 'succeeded', 'verified', 'failed'],
      ...BUILT_IN_CATALOG.dataClasses.map((policy) => policy.dataClass),
    ].filter((id) => id.length > 0),
  ),
];

/** Runs every queued message once through the worker handler. */
const drain = async (built: HandlerDeps) => {
  const worker = makeWorker(() => Promise.resolve(built.deps));
  const messages = built.ports.sent.splice(0);
  const records = messages.map((message, index) => sqsRecord(`m-${index}`, JSON.stringify(message)));
  return worker({ Records: records }, lambdaContext('worker'));
};

describe('subject ids that are words of the audit trail', () => {
  it.each(WORD_IDS)(
    "'%s' works end to end: events, holds, and an erasure to completed",
    async (subjectId) => {
      // Prepare
      const built = handlerDeps({ overrides: { connectors: stubRegistry() } });
      const { deps } = built;

      // Act
      const event = await recordLifecycleEvent(deps, {
        subjectId,
        type: 'account.suspended',
        occurredAt: '2026-11-20T09:00:00.000Z',
        attributes: {},
      });
      const hold = await placeLegalHold(deps, { subjectId, reason: 'litigation-2026-7' });
      await releaseLegalHold(deps, hold.holdId);
      const receipt = await submitErasureRequest(
        deps,
        { subjectId, dataClasses: ['suspended-account'], reason: 'gdpr-art17-request' },
        `key-${subjectId}`,
      );
      const { batchItemFailures } = await drain(built);

      // Assess
      expect(event.decisions.length).toBeGreaterThan(0);
      expect(receipt.status).toBe('dispatched');
      expect(batchItemFailures).toEqual([]);
      expect(built.ports.state.requests.get(receipt.requestId)?.status).toBe('completed');
    },
  );
});

describe('a refused request', () => {
  it('leaves no trace, and the same Idempotency-Key gets the same refusal', async () => {
    // Prepare: a reason that would put the subject id into the audit trail.
    const built = handlerDeps();
    const before = built.ports.snapshot();
    const input = { subjectId: 'customer-4711', reason: 'gdpr-customer-4711' };

    // Act, Assess
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(submitErasureRequest(built.deps, input, 'key-refused-1')).rejects.toMatchObject({
        field: 'reason',
      });
      expect(built.ports.snapshot()).toEqual(before);
      expect(built.ports.sent).toEqual([]);
    }
  });
});
