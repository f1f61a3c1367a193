/**
 * Identifiers resolved rather than sent, through the use cases on the in-memory ports: intake asks
 * the resolver, merges its answer with the sent identifiers, stores the set on the request (so the
 * tasks, their retries and re-drives use it, never a new answer), and audits names and counts only.
 * A resolver that cannot answer leaves nothing behind (503), and a due deletion waits for it.
 */
import { describe, expect, it } from 'vitest';
import { ResolverError } from '../../domain/errors.js';
import { ConnectorPermanentError } from '../../functions/connectors/errors.js';
import type { ConnectorRegistry } from '../../functions/connectors/registry.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import {
  bearer,
  callApi,
  drainTasks,
  nothingWrittenSince,
  offlineRegistry,
  submitErasure,
} from '../helpers/api-handler.js';
import { stubRegistry } from '../helpers/connectors.js';
import { HANDLER_NOW, type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';
import { resolverConfig } from '../helpers/identifiers.js';
import { InMemoryIdentifierResolver } from '../helpers/in-memory.js';

const SUBJECT = 'subject-ana-8f2';
const EMAIL = 'ana.lindqvist@example.com';
const CAMERAS = ['CAM-00A1', 'CAM-00B2'];

/** Handler deps whose resolver knows Ana's e-mail and cameras, over `registry`. */
const builtWith = <Registry extends ConnectorRegistry>(registry: Registry) => {
  const resolver = new InMemoryIdentifierResolver();
  resolver.known.set(SUBJECT, { email: EMAIL, deviceId: CAMERAS });
  const deps = handlerDeps({
    overrides: { config: resolverConfig(), connectors: registry, identifierResolver: resolver },
  });
  return { deps, resolver, registry };
};

const built = (registry = stubRegistry()) => builtWith(registry);

const submit = (deps: HandlerDeps, body: Record<string, unknown>, key = 'resolver-0001') =>
  submitErasure(deps, body, key);

const drain = drainTasks;

const addressed = (registry: ReturnType<typeof stubRegistry>, name: string) =>
  registry.invocations
    .filter((invocation) => invocation.address?.name === name)
    .map((invocation) => invocation.address?.value);

describe('identifiers resolved at intake', () => {
  it('erases by the identifiers the resolver returns, when none are sent, and audits names and counts only', async () => {
    // Prepare
    const { deps, resolver, registry } = built();

    // Act
    const answer = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
    });
    const requestId = String(answer.body?.requestId);
    const open = deps.ports.state.requests.get(requestId);
    await drain(deps);

    // Assess
    expect(answer.status).toBe(202);
    expect(answer.body?.unaddressed).toBeUndefined();
    expect(resolver.queries).toEqual([{ subjectId: SUBJECT, requestId }]);
    expect(open?.identifiers).toEqual({ email: [EMAIL], deviceId: CAMERAS });
    expect(addressed(registry, 'deviceId')).toEqual(CAMERAS);
    expect(addressed(registry, 'email')).toEqual([EMAIL]);
    expect(deps.ports.state.requests.get(requestId)?.status).toBe('completed');
    const received = deps.ports.allEntries().find((entry) => entry.type === 'request.received');
    expect(received?.detail).toMatchObject({
      identifiers: 'email,deviceId',
      identifierValues: 3,
      resolved: 'email,deviceId',
      resolvedValues: 3,
    });
    const trail = JSON.stringify(deps.ports.allEntries());
    for (const value of [EMAIL, ...CAMERAS]) expect(trail).not.toContain(value);
  });

  it('goes on with the sent identifiers for a subject the resolver does not know, listing what stays unaddressed', async () => {
    // Prepare
    const { deps, resolver } = built();
    resolver.known.clear();

    // Act
    const answer = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      identifiers: { email: EMAIL },
    });

    // Assess
    expect(answer.status).toBe(202);
    expect(answer.body?.unaddressed).toEqual([{ target: 'device-video', identifier: 'deviceId' }]);
    const received = deps.ports.allEntries().find((entry) => entry.type === 'request.received');
    expect(received?.detail).toMatchObject({ identifiers: 'email', resolved: '', resolvedValues: 0 });
  });

  it('merges the sent identifiers with the resolved ones, each value once', async () => {
    // Prepare
    const { deps, registry } = built();

    // Act
    const answer = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['cloud-video'],
      reason: 'gdpr-art17-request',
      identifiers: { deviceId: ['CAM-00FF', CAMERAS[0]] },
    });
    await drain(deps);

    // Assess
    const request = deps.ports.state.requests.get(String(answer.body?.requestId));
    expect(request?.identifierPseudonyms?.deviceId).toHaveLength(3);
    expect(addressed(registry, 'deviceId')).toEqual(['CAM-00FF', ...CAMERAS]);
  });

  it('answers 503 naming the resolver when it cannot answer, and stores nothing; the same key succeeds later', async () => {
    // Prepare
    const { deps, resolver } = built();
    resolver.failing = new Error('connect ECONNREFUSED (subject-ana-8f2)');
    const unchanged = nothingWrittenSince(deps.ports);
    const body = { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' };

    // Act
    const refused = await submit(deps, body);
    unchanged();
    resolver.failing = undefined;
    const later = await submit(deps, body);

    // Assess
    expect(refused.status).toBe(503);
    expect(refused.body?.error?.code).toBe('resolver_unavailable');
    expect(refused.body?.error?.message).toContain("'identity-lookup'");
    expect(refused.raw).not.toContain(SUBJECT);
    expect(later.status).toBe(202);
  });

  it('answers 502 naming the identifier, never the value, when the resolver returns one that does not match its pattern', async () => {
    // Prepare
    const { deps, resolver } = built();
    resolver.known.set(SUBJECT, { email: EMAIL, deviceId: ['CAM-00A1', 'camera seven'] });
    const unchanged = nothingWrittenSince(deps.ports);

    // Act
    const refused = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
    });

    // Assess
    expect(refused.status).toBe(502);
    expect(refused.body?.error?.code).toBe('resolver_failed');
    expect(refused.body?.error?.message).toContain('identifiers.deviceId[1]');
    expect(refused.raw).not.toContain('camera seven');
    unchanged();
  });

  it('refuses an answer with an identifier the config does not declare', async () => {
    // Prepare
    const { deps, resolver } = built();
    resolver.known.set(SUBJECT, { phone: '+46700000000' });

    // Act
    const refused = await submit(deps, { subjectId: SUBJECT, reason: 'gdpr-art17-request' });

    // Assess
    expect(refused.status).toBe(502);
    expect(refused.body?.error?.message).toContain('identifiers.phone');
  });

  it('a re-drive runs the failed task with the set resolved at intake, without asking the resolver again', async () => {
    // Prepare: the second camera's prefix cannot be erased the first time.
    let broken = true;
    const registry = stubRegistry(async (invocation) => {
      if (broken && invocation.address?.value === CAMERAS[1]) {
        throw new ConnectorPermanentError('bucket policy denies the delete', { code: 'AccessDenied' });
      }
      return { status: 'done', affectedCount: 1 };
    });
    const { deps, resolver } = built(registry);
    const answer = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['cloud-video'],
      reason: 'gdpr-art17-request',
    });
    const requestId = String(answer.body?.requestId);
    await drain(deps);
    expect(deps.ports.state.requests.get(requestId)?.status).toBe('partially_failed');
    // The resolver now knows other serials, and is down: neither may matter to the re-drive.
    resolver.known.set(SUBJECT, { deviceId: ['CAM-0999'] });
    resolver.failing = new Error('down');
    broken = false;
    registry.invocations.splice(0);

    // Act
    const redriven = await callApi(deps, {
      method: 'POST',
      path: `/v1/erasure-requests/${requestId}/redrive`,
      headers: bearer('compliance'),
    });
    await drain(deps);

    // Assess
    expect(redriven.status).toBe(202);
    expect(resolver.queries).toHaveLength(1);
    expect(addressed(registry, 'deviceId')).toEqual(CAMERAS);
    expect(deps.ports.state.requests.get(requestId)?.status).toBe('completed');
  });
});

describe('identifiers resolved for a scheduled deletion', () => {
  const consentWithdrawn = (deps: HandlerDeps) =>
    callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: { subjectId: SUBJECT, type: 'consent.withdrawn', occurredAt: '2026-11-20T09:00:00Z' },
    });

  it('leaves the due entry for the next sweep while the resolver is down, then erases by what it resolves', async () => {
    // Prepare
    const { deps, resolver, registry } = built();
    expect((await consentWithdrawn(deps)).status).toBe(202);
    resolver.failing = new ResolverError("Identifier resolver 'identity-lookup' is unavailable", 'x', true);

    // Act
    await sweepDueDeletions(deps.deps, HANDLER_NOW);
    const afterFailure = [...deps.ports.state.requests.values()];
    resolver.failing = undefined;
    await sweepDueDeletions(deps.deps, HANDLER_NOW);
    await drain(deps);

    // Assess
    expect(afterFailure).toEqual([]);
    expect(deps.logs.some((line) => line.message.startsWith('due item failed'))).toBe(true);
    const requests = [...deps.ports.state.requests.values()];
    expect(requests.map((request) => request.status)).toEqual(['completed']);
    expect(addressed(registry, 'email')).toEqual([EMAIL]);
    const received = deps.ports.allEntries().find((entry) => entry.type === 'request.received');
    expect(received?.detail).toMatchObject({ resolved: 'email,deviceId', resolvedValues: 3 });
  });
});

describe('identifiers resolved for a dry run', () => {
  it('previews by the resolved identifiers, lists what stays unaddressed, and changes nothing', async () => {
    // Prepare: the resolver knows the e-mail only.
    const { deps, resolver } = built();
    resolver.known.set(SUBJECT, { email: EMAIL });
    const before = deps.ports.snapshot();

    // Act
    const answer = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-requests',
      headers: bearer('service'),
      body: {
        subjectId: SUBJECT,
        dataClasses: ['closed-account'],
        reason: 'gdpr-art17-request',
        dryRun: true,
      },
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body?.unaddressed).toEqual([{ target: 'device-video', identifier: 'deviceId' }]);
    expect(resolver.queries).toHaveLength(1);
    const after = deps.ports.snapshot();
    expect(after.requests).toEqual(before.requests);
    expect(after.tasks).toEqual(before.tasks);
    const previewed = deps.ports.allEntries().find((entry) => entry.type === 'request.previewed');
    expect(previewed?.detail).toMatchObject({
      resolved: 'email',
      resolvedValues: 1,
      unaddressed: 'device-video',
    });
  });
});

describe('identifiers resolved for an export', () => {
  it('reads the targets keyed by resolved identifiers, once per value, and audits what was resolved', async () => {
    // Prepare
    const { deps, registry } = builtWith(offlineRegistry());

    // Act
    const answer = await callApi(deps, {
      method: 'POST',
      path: `/v1/subjects/${SUBJECT}/export`,
      headers: bearer('service'),
      body: { dataClasses: ['closed-account'] },
    });

    // Assess
    expect(answer.status).toBe(200);
    const sources = answer.body?.sources as { target: string; unaddressed?: string }[];
    expect(sources.filter((source) => source.unaddressed !== undefined)).toEqual([]);
    expect(registry.exported.filter((target) => target === 'device-video')).toHaveLength(2);
    expect(registry.exported).toContain('marketing-list');
    const generated = deps.ports.allEntries().find((entry) => entry.type === 'export.generated');
    expect(generated?.detail).toMatchObject({ resolved: 'email,deviceId', resolvedValues: 3 });
  });

  it("reads no value the resolver does not know for the subject: another person's e-mail or camera is a 400 naming it, and nothing is read", async () => {
    // Prepare: a service asks for a stranger's subject id with Ana's e-mail and camera.
    const { deps, registry } = builtWith(offlineRegistry());
    const exportOf = (subjectId: string, identifiers: Record<string, unknown>) =>
      callApi(deps, {
        method: 'POST',
        path: `/v1/subjects/${subjectId}/export`,
        headers: bearer('service'),
        body: { dataClasses: ['closed-account'], identifiers },
      });

    // Act
    const stranger = await exportOf('nobody-9', { email: EMAIL });
    const camera = await exportOf(SUBJECT, { deviceId: ['CAM-00A1', 'CAM-0FFF'] });
    const own = await exportOf(SUBJECT, { email: EMAIL });

    // Assess
    expect(stranger.status).toBe(400);
    expect(stranger.body?.error).toMatchObject({
      field: 'identifiers.email[0]',
      message: expect.stringContaining(
        "is not an identifier the resolver 'identity-lookup' knows for this subject",
      ),
    });
    expect(JSON.stringify(stranger.body)).not.toContain(EMAIL);
    expect(camera.status).toBe(400);
    expect(camera.body?.error?.field).toBe('identifiers.deviceId[1]');
    expect(own.status).toBe(200);
    expect(registry.exported.filter((target) => target === 'device-video')).toHaveLength(2);
    expect(deps.ports.allEntries().filter((entry) => entry.type === 'export.generated')).toHaveLength(1);
  });
});

describe('a legal hold asks the resolver for its subject’s identifiers', () => {
  const placeHold = (deps: HandlerDeps, subjectId: string) =>
    callApi(deps, {
      method: 'POST',
      path: '/v1/legal-holds',
      headers: bearer('compliance'),
      body: { subjectId, reason: 'litigation-2026-070' },
    });

  it("so a request for another subject id carrying the held subject's e-mail and cameras erases none of it", async () => {
    // Prepare: the hold names no identifiers; the deployment's resolver knows them.
    const { deps, registry } = built();
    expect((await placeHold(deps, SUBJECT)).status).toBe(201);

    // Act
    await submit(deps, {
      subjectId: 'someone-else-78',
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      identifiers: { email: EMAIL, deviceId: [CAMERAS[1]] },
    });
    await drain(deps);

    // Assess
    const held = [...deps.ports.state.holds.values()][0];
    expect(held?.identifiers).toEqual({ email: [EMAIL], deviceId: CAMERAS });
    expect(registry.invocations.filter((invocation) => invocation.address !== undefined)).toEqual([]);
  });

  it('is placed all the same when the resolver cannot answer: a hold never waits on a lookup', async () => {
    const { deps, resolver } = built();
    resolver.failing = new Error('identity service down');

    const placed = await placeHold(deps, SUBJECT);

    expect(placed.status).toBe(201);
    expect([...deps.ports.state.holds.values()][0]?.identifiers).toBeUndefined();
    expect(deps.logs.some((line) => line.message.includes('resolver'))).toBe(true);
  });
});
