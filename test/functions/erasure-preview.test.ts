/**
 * A dry run of an erasure request (`dryRun: true`) on the in-memory ports: it judges the plan a
 * real request would get (ALE-2 withholding, ALM-3 holds), asks each planned task's connector to
 * count, and changes nothing but one `request.previewed` audit entry.
 */
import { describe, expect, it } from 'vitest';
import type { ConnectorInvocation, PreviewLimits, PreviewResult } from '../../domain/connectors/types.js';
import { RetentionRequiredError, ValidationError } from '../../domain/errors.js';
import type { LegalHold } from '../../domain/holds.js';
import { ErasurePreviewSchema, OPERATIONS } from '../../functions/api/openapi.js';
import { ConnectorRetryableError } from '../../functions/connectors/errors.js';
import type { ConnectorPlugin, ConnectorRegistry, TargetLike } from '../../functions/connectors/registry.js';
import { type ErasurePreview, previewErasureRequest } from '../../functions/services/erasure-preview.js';
import { getErasureRequest, submitErasureRequest } from '../../functions/services/erasure-requests.js';
import { invocationOf } from '../../functions/services/run-task.js';
import { bearer, callApi } from '../helpers/api-handler.js';
import { stubRegistry } from '../helpers/connectors.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const SUBJECT = 'subject-preview-31';

/** Counts per target name; a webhook without preview support answers unknown, as the real one does. */
const COUNTS: Readonly<Record<string, number>> = {
  'customer-records': 2,
  'user-files': 5,
  'cloud-video': 7,
  'alarm-events': 3,
};

/** A registry whose connectors count from COUNTS and record what they are asked; erasing throws. */
const countingRegistry = (
  count: (
    target: TargetLike,
    invocation: ConnectorInvocation,
    limits?: PreviewLimits,
  ) => Promise<PreviewResult> = async (target) =>
    target.kind === 'http-webhook'
      ? { status: 'unknown', reason: 'not-supported' }
      : { status: 'counted', count: COUNTS[target.name] ?? 0, unit: 'items' },
): ConnectorRegistry & { readonly previewed: { target: string; invocation: ConnectorInvocation }[] } => {
  const previewed: { target: string; invocation: ConnectorInvocation }[] = [];
  const stub = stubRegistry(() => Promise.reject(new Error('a dry run must not erase')));
  const plugin = (kind: string): ConnectorPlugin => ({
    kind,
    execute: stub.execute,
    verify: stub.verify,
    preview: async (target, invocation, limits) => {
      previewed.push({ target: target.name, invocation });
      return count(target, invocation, limits);
    },
  });
  return { ...stub, previewed, connectorFor: (target) => plugin(target.kind) };
};

const built = (registry: ConnectorRegistry = countingRegistry()): HandlerDeps =>
  handlerDeps({ overrides: { connectors: registry } });

const place = async (deps: HandlerDeps, hold: Partial<LegalHold> & Pick<LegalHold, 'holdId'>) => {
  const committed = await deps.ports.uow.commit([
    {
      kind: 'hold.place',
      hold: {
        subjectId: SUBJECT,
        reason: 'litigation-2026-081',
        createdAt: '2026-11-01T00:00:00.000Z',
        ...hold,
      },
    },
  ]);
  expect(committed.committed).toBe(true);
};

/** ALE-2: an invoice of the subject is unpaid. */
const unpaid = (deps: HandlerDeps) => {
  deps.ports.state.subjects.set(SUBJECT, { version: 1, unpaidInvoiceSince: '2026-10-01T00:00:00.000Z' });
};

const byTarget = (preview: ErasurePreview) =>
  Object.fromEntries(
    preview.targets.map((target) => [`${target.target}#${target.dataClasses.join('+')}`, target]),
  );

describe('a dry run of an erasure request', () => {
  it('changes nothing: no request, task, idempotency record or message; one request.previewed entry with counts only', async () => {
    const deps = built();
    const before = deps.ports.snapshot();

    const preview = await previewErasureRequest(
      deps.deps,
      { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
      'preview-key-0001',
    );

    const after = deps.ports.snapshot();
    expect(after.requests).toEqual(before.requests);
    expect(after.tasks).toEqual(before.tasks);
    expect(after.idempotency).toEqual(before.idempotency);
    expect(after.subjects).toEqual(before.subjects);
    expect(after.entries).toEqual(before.entries);
    expect(after.holds).toEqual(before.holds);
    expect(deps.ports.sent).toEqual([]);
    expect(deps.ports.commits.map(({ changes }) => changes)).toEqual([[]]);
    const chain = await deps.ports.audit.readChain(SUBJECT);
    expect(chain.entries.map((entry) => entry.type)).toEqual(['request.previewed']);
    const [entry] = chain.entries;
    expect(entry?.detail).toMatchObject({
      previewId: preview.previewId,
      intake: 'dispatched',
      erase: 2 + 5 + 7 + 3,
      unknown: 1,
      'customer-records#delete.erase': 2,
      'partner-services#delete#closed-account.erase': 'unknown',
    });
    expect(JSON.stringify(chain.entries)).not.toContain(SUBJECT);
  });

  it('refuses a reason the real request would refuse (it carries the subject id), before counting or auditing anything', async () => {
    const registry = countingRegistry();
    const deps = built(registry);
    const before = deps.ports.snapshot();

    const refused = await previewErasureRequest(deps.deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: `asked-by-${SUBJECT.replaceAll('-', '.')}`,
    }).catch((error: unknown) => error);

    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).field).toBe('reason');
    expect(registry.previewed).toEqual([]);
    expect(deps.ports.snapshot().entries).toEqual(before.entries);
  });

  it('counts per task and data class, and plans exactly the tasks a real request gets', async () => {
    const registry = countingRegistry();
    const deps = built(registry);
    const input = {
      subjectId: SUBJECT,
      dataClasses: ['closed-account', 'cookies'],
      reason: 'gdpr-art17-request',
    };

    const preview = await previewErasureRequest(deps.deps, input);
    const receipt = await submitErasureRequest(deps.deps, input, 'real-request-0001');
    const { tasks } = await getErasureRequest(deps.deps, receipt.requestId);

    expect(preview.intake).toBe('dispatched');
    expect(preview.targets.map(({ target, action }) => `${target}:${action}`).sort()).toEqual(
      tasks.map(({ target, action }) => `${target}:${action}`).sort(),
    );
    const targets = byTarget(preview);
    expect(targets['user-files#closed-account']).toMatchObject({ outcome: 'erase', count: 5, unit: 'items' });
    expect(targets['partner-services#cookies']).toMatchObject({
      outcome: 'erase',
      count: null,
      unknown: { reason: 'not-supported' },
    });
    expect(preview.totals).toEqual({ erase: 17, blocked: 0, withheld: 0, unknown: 2, partial: 0 });
    expect(preview.dataClasses.map(({ dataClass, outcome }) => [dataClass, outcome])).toEqual([
      ['closed-account', 'erase'],
      ['cookies', 'erase'],
    ]);
    // Each connector is asked what its erase would be asked (the worker's invocation), for the same data.
    const asked = registry.previewed.map(({ invocation }) => invocation);
    for (const task of tasks) {
      const erase = invocationOf(task);
      expect(asked).toContainEqual(
        expect.objectContaining({
          subjectId: erase.subjectId,
          dataClass: erase.dataClass,
          action: erase.action,
        }),
      );
    }
    expect(asked.every((invocation) => invocation.requestId === preview.previewId)).toBe(true);
  });

  it('ALM-3: shows a task a hold blocks, with the hold, and the request as intake would block it', async () => {
    const deps = built();
    await place(deps, { holdId: 'hold_profile', dataClasses: ['customer-profile'] });

    const preview = await previewErasureRequest(deps.deps, {
      subjectId: SUBJECT,
      dataClasses: ['suspended-account'],
      reason: 'gdpr-art17-request',
    });

    expect(preview.intake).toBe('blocked');
    const targets = byTarget(preview);
    // customer-profile lives in customer-records, which the suspended-account erasure would empty.
    expect(targets['customer-records#suspended-account']).toMatchObject({
      outcome: 'blocked',
      reason: 'legal-hold',
      blockedBy: ['hold_profile'],
      count: 2,
    });
    expect(targets['user-files#suspended-account']).toMatchObject({ outcome: 'erase', count: 5 });
    expect(preview.dataClasses).toEqual([
      {
        dataClass: 'suspended-account',
        action: 'delete',
        outcome: 'blocked',
        reason: 'legal-hold',
        blockedBy: ['hold_profile'],
        targets: ['customer-records', 'user-files'],
      },
    ]);
    expect(preview.totals).toMatchObject({ erase: 5, blocked: 2 });

    // A real request blocks the same task on the same hold.
    const receipt = await submitErasureRequest(
      deps.deps,
      { subjectId: SUBJECT, dataClasses: ['suspended-account'], reason: 'gdpr-art17-request' },
      'real-request-0002',
    );
    expect(receipt.status).toBe('blocked');
    expect(receipt.blockedTasks?.map(({ target, blockedBy }) => [target, blockedBy])).toEqual([
      ['customer-records', ['hold_profile']],
    ]);
  });

  it('ALE-2: names the classes withheld while an invoice is unpaid, and counts what they hold', async () => {
    const deps = built(
      countingRegistry(async (target, invocation) =>
        target.kind === 'http-webhook'
          ? { status: 'counted', count: invocation.dataClass === 'billing-traffic' ? 40 : 1, unit: 'records' }
          : { status: 'counted', count: 0, unit: 'items' },
      ),
    );
    unpaid(deps);

    const preview = await previewErasureRequest(deps.deps, {
      subjectId: SUBJECT,
      dataClasses: ['billing-traffic', 'cookies'],
      reason: 'gdpr-art17-request',
    });

    expect(preview.intake).toBe('dispatched');
    expect(preview.withheld).toEqual([{ dataClass: 'billing-traffic', reason: 'unpaid-invoice' }]);
    const targets = byTarget(preview);
    expect(targets['partner-services#billing-traffic']).toMatchObject({
      outcome: 'withheld',
      reason: 'unpaid-invoice',
      count: 40,
    });
    expect(targets['partner-services#cookies']).toMatchObject({ outcome: 'erase', count: 1 });
    expect(preview.totals).toEqual({ erase: 1, blocked: 0, withheld: 40, unknown: 0, partial: 0 });
    expect(preview.dataClasses.find((item) => item.dataClass === 'billing-traffic')).toMatchObject({
      outcome: 'withheld',
      reason: 'unpaid-invoice',
    });
  });

  it('ALE-2: a request for nothing but withheld classes is previewed as refused, where intake refuses it', async () => {
    const deps = built();
    unpaid(deps);
    const input = { subjectId: SUBJECT, dataClasses: ['billing-traffic'], reason: 'gdpr-art17-request' };

    const preview = await previewErasureRequest(deps.deps, input);

    expect(preview.intake).toBe('refused');
    expect(preview.targets.map(({ outcome }) => outcome)).toEqual(['withheld']);
    await expect(submitErasureRequest(deps.deps, input, 'real-request-0003')).rejects.toBeInstanceOf(
      RetentionRequiredError,
    );
  });

  it('reports a target that could not be read as unknown, with its error code, and still counts the others', async () => {
    const deps = built(
      countingRegistry(async (target) => {
        if (target.name === 'cloud-video') {
          throw new ConnectorRetryableError('throttled', { target: target.name, code: 'SlowDown' });
        }
        return { status: 'counted', count: 1, unit: 'items' };
      }),
    );

    const preview = await previewErasureRequest(deps.deps, {
      subjectId: SUBJECT,
      dataClasses: ['cloud-video', 'alarm-events'],
      reason: 'gdpr-art17-request',
    });

    expect(byTarget(preview)['cloud-video#cloud-video']).toMatchObject({
      count: null,
      unknown: { reason: 'error', code: 'SlowDown' },
    });
    expect(byTarget(preview)['alarm-events#alarm-events']).toMatchObject({ count: 1 });
    expect(preview.totals).toEqual({ erase: 1, blocked: 0, withheld: 0, unknown: 1, partial: 0 });
  });

  it('answers within its time limit: a target still counting then gives what it counted, as a lower bound', async () => {
    // Prepare: cloud-video lists a page of 1,000 every 5 ms and would go on for ever; the rest count at once.
    const limitsSeen: (AbortSignal | undefined)[] = [];
    const deps = built(
      countingRegistry(async (target, _invocation, limits) => {
        limitsSeen.push(limits?.signal);
        if (target.name !== 'cloud-video') return { status: 'counted', count: 3, unit: 'items' };
        let count = 0;
        do {
          await new Promise((resolve) => setTimeout(resolve, 5));
          count += 1000;
        } while (limits?.signal?.aborted !== true);
        return { status: 'counted', count, unit: 'object-versions', partial: true };
      }),
    );
    const started = Date.now();

    // Act
    const preview = await previewErasureRequest(
      deps.deps,
      { subjectId: SUBJECT, dataClasses: ['cloud-video', 'alarm-events'], reason: 'gdpr-art17-request' },
      undefined,
      { countLimitMs: 100 },
    );

    // Assess: answered once the limit passed, with the partial count marked and summed as a bound.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(limitsSeen.every((signal) => signal instanceof AbortSignal)).toBe(true);
    const video = byTarget(preview)['cloud-video#cloud-video'];
    expect(video).toMatchObject({ outcome: 'erase', partial: true, unit: 'object-versions' });
    expect(video?.count).toBeGreaterThanOrEqual(1000);
    expect(byTarget(preview)['alarm-events#alarm-events']).toEqual(
      expect.not.objectContaining({ partial: expect.anything() }),
    );
    expect(preview.totals).toEqual({
      erase: (video?.count ?? 0) + 3,
      blocked: 0,
      withheld: 0,
      unknown: 0,
      partial: 1,
    });
    const [entry] = (await deps.ports.audit.readChain(SUBJECT)).entries;
    expect(entry?.detail).toMatchObject({
      partial: 1,
      'cloud-video#delete.erase': `>=${video?.count}`,
      'alarm-events#delete.erase': 3,
    });
    expect(ErasurePreviewSchema.safeParse(preview).success).toBe(true);
  });

  it('is audited once per Idempotency-Key and body, and leaves the key free for the real request', async () => {
    const deps = built();
    const input = { subjectId: SUBJECT, dataClasses: ['cookies'], reason: 'gdpr-art17-request' };

    const first = await previewErasureRequest(deps.deps, input, 'same-key-0001');
    const retried = await previewErasureRequest(deps.deps, input, 'same-key-0001');
    const otherBody = await previewErasureRequest(
      deps.deps,
      { ...input, dataClasses: ['closed-account'] },
      'same-key-0001',
    );
    await previewErasureRequest(deps.deps, input);
    await previewErasureRequest(deps.deps, input);

    expect(retried.previewId).toBe(first.previewId);
    expect(otherBody.previewId).not.toBe(first.previewId);
    const previewed = (await deps.ports.audit.readChain(SUBJECT)).entries.filter(
      (entry) => entry.type === 'request.previewed',
    );
    // The retry appended nothing; another body and each dry run without a key did.
    expect(previewed).toHaveLength(4);

    const receipt = await submitErasureRequest(deps.deps, input, 'same-key-0001');
    expect(receipt.status).toBe('dispatched');
    expect(deps.ports.state.requests.size).toBe(1);
  });
});

describe('POST /v1/erasure-requests with dryRun', () => {
  it('answers 200 with the preview, needs no Idempotency-Key, and stores no request', async () => {
    const deps = built();

    const answer = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: bearer('service'),
      body: { subjectId: SUBJECT, dataClasses: ['cookies'], reason: 'gdpr-art17-request', dryRun: true },
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ dryRun: true, intake: 'dispatched', totals: { unknown: 1 } });
    expect(deps.ports.state.requests.size).toBe(0);
    expect(deps.ports.sent).toEqual([]);
  });

  it('still checks an Idempotency-Key that is given, and still requires one without dryRun', async () => {
    const deps = built();
    const body = { subjectId: SUBJECT, dataClasses: ['cookies'], reason: 'gdpr-art17-request' };

    const badKey = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: { ...bearer('service'), 'idempotency-key': 'short' },
      body: { ...body, dryRun: true },
    });
    const noKey = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: bearer('service'),
      body: { ...body, dryRun: false },
    });

    expect(badKey.status).toBe(400);
    expect(badKey.body?.error?.field).toBe('Idempotency-Key');
    expect(noKey.status).toBe(400);
    expect(noKey.body?.error?.field).toBe('Idempotency-Key');
  });
});

describe('POST /v1/erasure-previews', () => {
  const body = { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' };

  it('answers compliance 200 with the dry run, where compliance may not submit (not even dryRun: true)', async () => {
    const deps = built();
    await place(deps, { holdId: 'hold_route', dataClasses: ['closed-account'] });
    const before = deps.ports.snapshot();

    const answer = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-previews',
      headers: bearer('compliance'),
      body,
    });
    const submit = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: bearer('compliance'),
      body: { ...body, dryRun: true },
    });

    expect(answer.status).toBe(200);
    expect(ErasurePreviewSchema.strict().safeParse(answer.body).success).toBe(true);
    expect(answer.body).toMatchObject({ dryRun: true, intake: 'blocked' });
    const preview = answer.body as unknown as ErasurePreview;
    expect(preview.targets.find((target) => target.target === 'customer-records')).toMatchObject({
      outcome: 'blocked',
      blockedBy: ['hold_route'],
      count: 2,
    });
    expect(submit.status).toBe(403);
    const after = deps.ports.snapshot();
    expect(after.requests).toEqual(before.requests);
    expect(after.tasks).toEqual(before.tasks);
    expect(after.idempotency).toEqual(before.idempotency);
    expect(deps.ports.sent).toEqual([]);
  });

  it('is the same dry run as dryRun: true: same key and body, same preview id, audited once', async () => {
    const deps = built();
    const key = { 'idempotency-key': 'shared-key-0001' };

    const viaRoute = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-previews',
      headers: { ...bearer('compliance'), ...key },
      body,
    });
    const viaFlag = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: { ...bearer('service'), ...key },
      body: { ...body, dryRun: true },
    });

    expect(viaRoute.status).toBe(200);
    expect(viaFlag.body).toEqual(viaRoute.body);
    const chain = await deps.ports.audit.readChain(SUBJECT);
    expect(chain.entries.map((entry) => entry.type)).toEqual(['request.previewed']);
  });

  it('checks the body and a given Idempotency-Key as the dry run does', async () => {
    const deps = built();

    const badKey = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-previews',
      headers: { ...bearer('compliance'), 'idempotency-key': 'short' },
      body,
    });
    const noReason = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-previews',
      headers: bearer('compliance'),
      body: { subjectId: SUBJECT },
    });

    expect(badKey.status).toBe(400);
    expect(badKey.body?.error?.field).toBe('Idempotency-Key');
    expect(noReason.status).toBe(400);
    expect(noReason.body?.error?.field).toBe('reason');
  });
});

describe('the documented dry-run answer', () => {
  it('has an OpenAPI example and real answers that its schema accepts', async () => {
    const documented = OPERATIONS['POST /v1/erasure-requests'].ok[200]?.example;
    const deps = built();
    await place(deps, { holdId: 'hold_doc', dataClasses: ['customer-profile'] });
    unpaid(deps);

    const real = await previewErasureRequest(deps.deps, { subjectId: SUBJECT, reason: 'gdpr-art17-request' });

    expect(ErasurePreviewSchema.safeParse(documented).success).toBe(true);
    expect(OPERATIONS['POST /v1/erasure-previews'].ok[200]?.example).toEqual(documented);
    expect(ErasurePreviewSchema.strict().safeParse(real).success).toBe(true);
    expect(real.targets.some(({ outcome }) => outcome === 'blocked')).toBe(true);
    expect(real.targets.some(({ outcome }) => outcome === 'withheld')).toBe(true);
  });
});
