/**
 * Identifiers and suppression through the use cases, on the in-memory ports: a request carries a
 * subject's e-mail and camera serials, its tasks fan out per value, completion forgets the values
 * and lists their keyed hashes for suppression, and the check, the flag on lifecycle events and
 * the lift answer from that list.
 */
import { describe, expect, it } from 'vitest';
import { identifierHash } from '../../domain/identifiers/index.js';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/index.js';
import type { AuditRecord, Change, SweepShardMessage } from '../../domain/ports/index.js';
import { sweepDueDeletions, sweepShard } from '../../functions/services/sweep.js';
import { bearer, callApi, drainTasks, nothingWrittenSince, submitErasure } from '../helpers/api-handler.js';
import { stubRegistry } from '../helpers/connectors.js';
import {
  HANDLER_NOW,
  HANDLER_PSEUDONYM_KEY,
  type HandlerDeps,
  handlerDeps,
} from '../helpers/handler-deps.js';
import { identifierConfig } from '../helpers/identifiers.js';

const SUBJECT = 'subject-ana-8f2';
const EMAIL = 'ana.lindqvist@example.com';
const CAMERAS = ['CAM-00A1', 'CAM-00B2'];

const built = (registry = stubRegistry()): HandlerDeps =>
  handlerDeps({ overrides: { config: identifierConfig(), connectors: registry } });

const submit = (deps: HandlerDeps, body: Record<string, unknown>, key = 'identifiers-0001') =>
  submitErasure(deps, body, key);

const drain = drainTasks;

const everything = (deps: HandlerDeps): string =>
  JSON.stringify({
    requests: [...deps.ports.state.requests.values()],
    tasks: [...deps.ports.state.tasks.values()],
    audit: deps.ports.allEntries(),
    entries: [...deps.ports.state.entries.values()],
    suppressions: [...deps.ports.state.suppressions.values()],
  });

describe('identifiers on an erasure request', () => {
  it('keeps them while open, fans the camera target out per serial, and forgets them on completion', async () => {
    // Prepare
    const registry = stubRegistry();
    const deps = built(registry);

    // Act
    const answer = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      identifiers: { email: EMAIL, deviceId: CAMERAS },
    });
    const requestId = String(answer.body?.requestId);
    const open = deps.ports.state.requests.get(requestId);
    await drain(deps);

    // Assess: while open, the raw values were on the request and on the tasks that need them.
    expect(answer.status).toBe(202);
    expect(answer.body?.unaddressed).toBeUndefined();
    expect(open?.identifiers).toEqual({ email: [EMAIL], deviceId: CAMERAS });
    const cameraCalls = registry.invocations.filter((invocation) => invocation.address?.name === 'deviceId');
    expect(cameraCalls.map((invocation) => invocation.address?.value)).toEqual(CAMERAS);
    expect(registry.invocations.filter((invocation) => invocation.address?.name === 'email')).toHaveLength(1);
    const request = deps.ports.state.requests.get(requestId);
    const tasks = [...deps.ports.state.tasks.values()].filter((task) => task.requestId === requestId);
    expect(request?.status).toBe('completed');
    // One unit of work per serial: the task counts both (the stub erases one item each).
    expect(tasks.find((task) => task.target === 'device-video')?.affectedCount).toBe(2);
    // Forgotten: no raw value anywhere, the keyed hashes kept.
    expect(request?.identifiers).toBeUndefined();
    expect(tasks.every((task) => task.identifiers === undefined)).toBe(true);
    expect(request?.identifierPseudonyms?.deviceId).toEqual(
      CAMERAS.map((serial) => identifierHash(HANDLER_PSEUDONYM_KEY, 'deviceId', serial)),
    );
    const stored = everything(deps);
    for (const value of [SUBJECT, EMAIL, ...CAMERAS]) expect(stored).not.toContain(value);
  });

  it('is verified only when nothing is left under any of the serials', async () => {
    // Prepare: the second camera's prefix still holds an object.
    const registry = stubRegistry(undefined, async (invocation) =>
      invocation.address?.value === CAMERAS[1]
        ? { verified: false, remaining: 1, detail: 'one object left' }
        : { verified: true },
    );
    const deps = built(registry);
    await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['cloud-video'],
      reason: 'gdpr-art17-request',
      identifiers: { deviceId: CAMERAS },
    });

    // Act
    await drain(deps);

    // Assess
    const camera = [...deps.ports.state.tasks.values()].find((task) => task.target === 'device-video');
    expect(camera?.status).toBe('running');
    expect(camera?.lastErrorCode).toBeDefined();
    expect(camera?.error ?? '').not.toContain(CAMERAS[1]);
  });

  it('lists a target keyed by an identifier it was not given as unaddressed, and erases the rest', async () => {
    // Prepare
    const deps = built();

    // Act
    const answer = await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      identifiers: { email: EMAIL },
    });

    // Assess
    expect(answer.body?.unaddressed).toEqual([{ target: 'device-video', identifier: 'deviceId' }]);
    const received = deps.ports.allEntries().find((entry) => entry.type === 'request.received');
    expect(received?.detail).toMatchObject({
      identifiers: 'email',
      identifierValues: 1,
      unaddressed: 'device-video',
    });
  });

  it('refuses an undeclared or malformed identifier with a 400 naming it, writing nothing', async () => {
    // Prepare
    const deps = built();
    const unchanged = nothingWrittenSince(deps.ports);

    // Act
    const wrongSerial = await submit(deps, {
      subjectId: SUBJECT,
      reason: 'gdpr-art17-request',
      identifiers: { deviceId: ['CAM-00A1', 'not a serial'] },
    });
    const undeclared = await submit(deps, {
      subjectId: SUBJECT,
      reason: 'gdpr-art17-request',
      identifiers: { phone: '+46 70 000 00 00' },
    });

    // Assess
    expect(wrongSerial.status).toBe(400);
    expect(wrongSerial.body?.error?.field).toBe('identifiers.deviceId[1]');
    expect(wrongSerial.raw).not.toContain('not a serial');
    expect(undeclared.status).toBe(400);
    expect(undeclared.body?.error?.field).toBe('identifiers.phone');
    unchanged();
  });

  it('a deletion scheduled by a lifecycle event keeps the identifiers for the sweep, and forgets them after', async () => {
    // Prepare
    const registry = stubRegistry();
    const deps = built(registry);
    const event = await callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: {
        subjectId: SUBJECT,
        type: 'consent.withdrawn',
        occurredAt: '2026-11-20T09:00:00Z',
        identifiers: { email: EMAIL },
      },
    });

    // Act
    await sweepDueDeletions(deps.deps, HANDLER_NOW);
    await drain(deps);

    // Assess
    expect(event.status).toBe(202);
    expect(registry.invocations.map((invocation) => invocation.address?.value)).toContain(EMAIL);
    expect([...deps.ports.state.requests.values()].map((request) => request.status)).toEqual(['completed']);
    expect(
      JSON.stringify([...deps.ports.state.requests.values(), ...deps.ports.state.tasks.values()]),
    ).not.toContain(EMAIL);
  });
});

describe('suppression after erasure', () => {
  const check = (deps: HandlerDeps, body: Record<string, unknown>) =>
    callApi(deps, { method: 'POST', path: '/v1/suppressions/check', headers: bearer('service'), body });

  const erased = async (): Promise<HandlerDeps> => {
    const deps = built();
    await submit(deps, {
      subjectId: SUBJECT,
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      identifiers: { email: EMAIL, deviceId: CAMERAS },
    });
    await drain(deps);
    return deps;
  };

  it('lists the erased subject in the commit that completes the request, for the configured period', async () => {
    // Act
    const deps = await erased();

    // Assess
    const completing = deps.ports.commits.find((commit) =>
      commit.audit.some((record) => record.event.type === 'request.completed'),
    );
    const added = completing?.changes.find((change) => change.kind === 'suppression.add');
    expect(added?.kind === 'suppression.add' ? added.entries.length : 0).toBe(4);
    const entry = [...deps.ports.state.suppressions.values()][0];
    // The built-in catalog's longest retention: 36 months.
    expect(entry?.expiresAt.slice(0, 10)).toBe('2029-11-21');
  });

  it('answers which identifiers belong to an erased subject, by name', async () => {
    // Prepare
    const deps = await erased();

    // Act
    const known = await check(deps, { identifiers: { email: EMAIL, deviceId: ['CAM-FFFF', CAMERAS[0]] } });
    const other = await check(deps, { identifiers: { email: 'someone.else@example.com' } });
    const bySubject = await check(deps, { subjectId: SUBJECT });

    // Assess
    expect(known.body).toEqual({ suppressed: ['email', 'deviceId'] });
    expect(other.body).toEqual({ suppressed: [] });
    expect(bySubject.body).toEqual({ suppressed: ['subjectId'] });
  });

  it('flags a lifecycle event for a suppressed identifier in its answer', async () => {
    // Prepare
    const deps = await erased();

    // Act
    const answer = await callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: {
        subjectId: 'subject-reimported-01',
        type: 'subject.active',
        occurredAt: '2026-11-21T08:00:00Z',
        identifiers: { email: EMAIL },
      },
    });

    // Assess
    expect(answer.status).toBe(202);
    expect(answer.body?.suppressed).toEqual(['email']);
  });

  it('lists the subject at account.deleted, with the event', async () => {
    // Prepare
    const deps = built();

    // Act
    await callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: {
        subjectId: SUBJECT,
        type: 'account.deleted',
        occurredAt: '2026-11-21T08:00:00Z',
        identifiers: { email: EMAIL },
      },
    });
    const answer = await check(deps, { subjectId: SUBJECT, identifiers: { email: EMAIL } });

    // Assess
    expect(answer.body).toEqual({ suppressed: ['subjectId', 'email'] });
  });

  it('compliance lifts a suppression, audited with keyed hashes only', async () => {
    // Prepare
    const deps = await erased();

    // Act
    const lifted = await callApi(deps, {
      method: 'POST',
      path: '/v1/suppressions/lift',
      headers: bearer('compliance'),
      body: { identifiers: { email: EMAIL }, reason: 'consent-given-again' },
    });
    const after = await check(deps, { identifiers: { email: EMAIL, deviceId: CAMERAS } });

    // Assess
    expect(lifted.body).toEqual({ lifted: ['email'] });
    expect(after.body).toEqual({ suppressed: ['deviceId'] });
    const entry = deps.ports.allEntries().find((candidate) => candidate.type === 'suppression.lifted');
    expect(entry?.detail).toMatchObject({
      reason: 'consent-given-again',
      names: 'email',
      hashes: identifierHash(HANDLER_PSEUDONYM_KEY, 'email', EMAIL),
    });
    expect(JSON.stringify(entry)).not.toContain(EMAIL);
  });

  it('a lift whose reason carries the subject id or an identifier value it lifts is a 400, and nothing is lifted or audited', async () => {
    // Prepare: the system chain would keep the reason beside the keyed hashes for good.
    const deps = await erased();
    const lift = (body: Record<string, unknown>) =>
      callApi(deps, { method: 'POST', path: '/v1/suppressions/lift', headers: bearer('compliance'), body });

    // Act
    const bySubject = await lift({ subjectId: SUBJECT, reason: SUBJECT.toLowerCase().replaceAll('-', '.') });
    const byEmail = await lift({
      identifiers: { email: EMAIL },
      reason: `consent-${EMAIL.replace('@', '-')}`,
    });

    // Assess
    expect(bySubject.status).toBe(400);
    expect(bySubject.body?.error?.field).toBe('reason');
    expect(byEmail.status).toBe(400);
    expect(byEmail.body?.error?.field).toBe('reason');
    expect(deps.ports.allEntries().filter((entry) => entry.type === 'suppression.lifted')).toEqual([]);
    expect((await check(deps, { subjectId: SUBJECT, identifiers: { email: EMAIL } })).body).toEqual({
      suppressed: ['subjectId', 'email'],
    });
  });

  it('a check needs something to look up, and the service role', async () => {
    // Prepare
    const deps = built();

    // Act
    const empty = await check(deps, {});
    const asCompliance = await callApi(deps, {
      method: 'POST',
      path: '/v1/suppressions/check',
      headers: bearer('compliance'),
      body: { identifiers: { email: EMAIL } },
    });

    // Assess
    expect(empty.status).toBe(400);
    expect(empty.body?.error?.field).toBe('identifiers');
    expect(asCompliance.status).toBe(403);
  });
});

describe("ALM-3 across subjects: a hold protects the identifier values it names, whoever's request names them", () => {
  const STRANGER = 'someone-else-77';
  /** A request for STRANGER that carries the held subject's e-mail and one of its cameras. */
  const claiming = {
    subjectId: STRANGER,
    dataClasses: ['closed-account'],
    reason: 'gdpr-art17-request',
    identifiers: { email: EMAIL, deviceId: [CAMERAS[0] as string] },
  };
  const HELD_TARGETS = ['device-video', 'marketing-list'];

  const placeHold = async (deps: HandlerDeps): Promise<string> => {
    const placed = await callApi(deps, {
      method: 'POST',
      path: '/v1/legal-holds',
      headers: bearer('compliance'),
      body: {
        subjectId: SUBJECT,
        reason: 'litigation-2026-060',
        identifiers: { email: EMAIL, deviceId: CAMERAS },
      },
    });
    expect(placed.status).toBe(201);
    return String(placed.body?.holdId);
  };

  it("a request for another subject id that carries a held subject's e-mail and camera erases nothing keyed by them while the hold stands", async () => {
    // Prepare: the hold names the subject's identifiers; the request claims them for someone else.
    const registry = stubRegistry();
    const deps = built(registry);
    await placeHold(deps);

    // Act
    const answer = await submit(deps, claiming);
    await drain(deps);

    // Assess: nothing addressed by the held values was erased.
    expect(answer.status).toBe(202);
    const touched = registry.invocations.filter((invocation) => invocation.address !== undefined);
    expect(touched).toEqual([]);
    const requestId = String(answer.body?.requestId);
    const tasks = [...deps.ports.state.tasks.values()].filter((task) => task.requestId === requestId);
    const held = tasks.filter((task) => HELD_TARGETS.includes(task.target));
    expect(held.length).toBe(2);
    expect(held.every((task) => task.status === 'pending')).toBe(true);
    expect(deps.ports.state.requests.get(requestId)?.status).not.toBe('completed');
  });

  /** The targets and holds of what `list` says is blocked (a receipt's `blockedTasks`, a view's tasks, a dry run's targets). */
  const blockedIn = (list: unknown) =>
    ((list ?? []) as { target: string; blockedBy?: string[] }[])
      .filter(({ blockedBy }) => blockedBy !== undefined)
      .map(({ target, blockedBy }) => ({ target, blockedBy }))
      .sort((a, b) => a.target.localeCompare(b.target));

  it('intake, the request view and the dry run judge by that hold too: the request is blocked, naming it, and nothing is queued', async () => {
    // Prepare
    const registry = stubRegistry();
    const deps = built(registry);
    const holdId = await placeHold(deps);

    // Act
    const preview = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-previews',
      headers: bearer('service'),
      body: claiming,
    });
    const answer = await submit(deps, claiming);
    const view = await callApi(deps, {
      method: 'GET',
      path: `/v1/erasure-requests/${String(answer.body?.requestId)}`,
      headers: bearer('service'),
    });
    await drain(deps);

    // Assess
    const expected = HELD_TARGETS.map((target) => ({ target, blockedBy: [holdId] }));
    expect(preview.status).toBe(200);
    expect(preview.body?.intake).toBe('blocked');
    expect(blockedIn(preview.body?.targets)).toEqual(expected);
    expect(answer.status).toBe(202);
    expect(answer.body?.status).toBe('blocked');
    expect(blockedIn(answer.body?.blockedTasks)).toEqual(expected);
    expect(view.status).toBe(200);
    expect(blockedIn(view.body?.tasks)).toEqual(expected);
    expect(registry.invocations).toEqual([]);
  });

  it('once the hold is released, the next sweep dispatches the blocked request and the values are erased', async () => {
    // Prepare
    const registry = stubRegistry();
    const deps = built(registry);
    const holdId = await placeHold(deps);
    const answer = await submit(deps, claiming);
    expect(answer.body?.status).toBe('blocked');
    const released = await callApi(deps, {
      method: 'DELETE',
      path: `/v1/legal-holds/${holdId}`,
      headers: bearer('compliance'),
    });
    expect(released.status).toBe(204);

    // Act
    await sweepDueDeletions(deps.deps, HANDLER_NOW);
    await drain(deps);

    // Assess
    expect(deps.ports.state.requests.get(String(answer.body?.requestId))?.status).toBe('completed');
    expect(registry.invocations.map((invocation) => invocation.address?.value)).toEqual(
      expect.arrayContaining([EMAIL, CAMERAS[0]]),
    );
  });

  it('a hold placed after dispatch: the stuck-work review does not send its tasks again while it stands, and the view names it', async () => {
    // Prepare: dispatched before the hold; the worker then holds back the tasks keyed by its values.
    const registry = stubRegistry();
    const deps = built(registry);
    const answer = await submit(deps, claiming);
    expect(answer.body?.status).toBe('dispatched');
    const holdId = await placeHold(deps);
    await drain(deps);
    const requestId = String(answer.body?.requestId);
    const later = new Date(Date.parse(HANDLER_NOW) + 2 * 3_600_000).toISOString();
    const laterDeps = { ...deps.deps, clock: () => new Date(later) };

    // Act
    await sweepDueDeletions(laterDeps, later);
    const view = await callApi(deps, {
      method: 'GET',
      path: `/v1/erasure-requests/${requestId}`,
      headers: bearer('service'),
    });

    // Assess: no message for a held task; both still wait, named by the hold.
    const held = [...deps.ports.state.tasks.values()].filter(
      (task) => task.requestId === requestId && HELD_TARGETS.includes(task.target),
    );
    expect(held.map((task) => task.status)).toEqual(['pending', 'pending']);
    const resent = deps.ports.sent.map((message) => message.taskId);
    expect(held.filter((task) => resent.includes(task.taskId))).toEqual([]);
    expect(blockedIn(view.body?.tasks)).toEqual(
      HELD_TARGETS.map((target) => ({ target, blockedBy: [holdId] })),
    );
    expect(registry.invocations.filter((invocation) => invocation.address !== undefined)).toEqual([]);
  });

  it("a due deletion whose identifiers a hold names is blocked at the sweep's dispatch, naming the hold", async () => {
    // Prepare: the stranger's consent withdrawal schedules a deletion keyed by the held e-mail.
    const registry = stubRegistry();
    const deps = built(registry);
    const holdId = await placeHold(deps);
    const event = await callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: {
        subjectId: STRANGER,
        type: 'consent.withdrawn',
        occurredAt: '2026-11-20T09:00:00Z',
        identifiers: { email: EMAIL },
      },
    });
    expect(event.status).toBe(202);

    // Act
    const swept = await sweepDueDeletions(deps.deps, HANDLER_NOW);
    await drain(deps);

    // Assess: blocked, and the sweep's answer says so.
    const requests = [...deps.ports.state.requests.values()];
    expect(requests.map((request) => [request.subjectId, request.status, request.blockedBy])).toEqual([
      [STRANGER, 'blocked', [holdId]],
    ]);
    expect(swept.dispatched).toEqual([]);
    expect(swept.blocked).toEqual([expect.objectContaining({ blockers: [`legal-hold:${holdId}`] })]);
    expect(deps.ports.sent).toEqual([]);
    expect(registry.invocations).toEqual([]);
  });
});

describe('a request for classes kept only in targets keyed by an identifier it has no value of', () => {
  /** `marketing-contact` lives only in `marketing-list`, keyed by e-mail. */
  const onlyByEmail = (registry = stubRegistry()): HandlerDeps =>
    handlerDeps({
      overrides: {
        connectors: registry,
        config: identifierConfig(
          {},
          {
            catalog: {
              ...BUILT_IN_CATALOG,
              dataClasses: BUILT_IN_CATALOG.dataClasses.map((policy) =>
                policy.dataClass === 'marketing-contact' ? { ...policy, targets: [] } : policy,
              ),
            },
            targets: EXAMPLE_TARGETS,
          },
        ),
      },
    });
  const body = { subjectId: SUBJECT, dataClasses: ['marketing-contact'], reason: 'gdpr-art17-request' };

  it('from the API: 400 naming the identifier, for the request and its dry run, and nothing is stored', async () => {
    // Prepare
    const deps = onlyByEmail();
    const unchanged = nothingWrittenSince(deps.ports);

    // Act
    const first = await submit(deps, body, 'only-by-email-1');
    const retried = await submit(deps, body, 'only-by-email-1');
    const dryRun = await callApi(deps, {
      method: 'POST',
      path: '/v1/erasure-previews',
      headers: bearer('service'),
      body,
    });

    // Assess
    for (const answer of [first, retried, dryRun]) {
      expect(answer.status).toBe(400);
      expect(answer.body?.error?.field).toBe('identifiers.email');
      expect(answer.body?.error?.message).toContain('marketing-list');
    }
    unchanged();
  });

  it('from a schedule, through a shard of its own: the shard writes no suppression (its role may not) and the coordinator completes the request', async () => {
    // Prepare: the coordinator hands buckets to shard workers over a queue, as in AWS; a shard's
    // unit of work refuses a suppression listing, as the shard's has no suppressions store.
    const deps = onlyByEmail();
    await callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: { subjectId: SUBJECT, type: 'consent.withdrawn', occurredAt: '2026-11-20T09:00:00Z' },
    });
    const queued: SweepShardMessage[] = [];
    const coordinator = {
      ...deps.deps,
      sweepShards: {
        send: async (messages: readonly SweepShardMessage[]) => {
          queued.push(...messages);
        },
      },
    };
    const shardDeps = {
      ...deps.deps,
      uow: {
        commit: (changes: readonly Change[], audit?: readonly AuditRecord[]) => {
          if (changes.some((change) => change.kind === 'suppression.add')) {
            throw new TypeError("No store writes 'suppression.add'");
          }
          return deps.deps.uow.commit(changes, audit);
        },
      },
    };

    // Act
    await sweepDueDeletions(coordinator, HANDLER_NOW);
    for (const message of queued.splice(0)) await sweepShard(shardDeps, message);
    const afterShard = [...deps.ports.state.requests.values()].map((request) => request.status);
    await sweepDueDeletions(coordinator, HANDLER_NOW);

    // Assess
    expect(afterShard).toEqual(['dispatched']);
    expect([...deps.ports.state.requests.values()].map((request) => request.status)).toEqual(['completed']);
  });

  it("from a schedule: the request completes at the sweep's review with nothing erased, listing the target it could not address, and forgets the subject", async () => {
    // Prepare: a consent withdrawal without the e-mail; no resolver.
    const registry = stubRegistry();
    const deps = onlyByEmail(registry);
    const event = await callApi(deps, {
      method: 'POST',
      path: '/v1/lifecycle-events',
      headers: bearer('service'),
      body: { subjectId: SUBJECT, type: 'consent.withdrawn', occurredAt: '2026-11-20T09:00:00Z' },
    });
    expect(event.status).toBe(202);

    // Act
    await sweepDueDeletions(deps.deps, HANDLER_NOW);
    await drain(deps);
    await sweepDueDeletions(deps.deps, HANDLER_NOW);

    // Assess
    const requests = [...deps.ports.state.requests.values()];
    expect(requests.map((request) => [request.status, request.taskCount, request.unaddressed])).toEqual([
      ['completed', 0, [{ target: 'marketing-list', identifier: 'email' }]],
    ]);
    expect(registry.invocations).toEqual([]);
    expect(JSON.stringify(requests)).not.toContain(SUBJECT);
    expect(deps.logs.filter((line) => line.level === 'error')).toEqual([]);
    // Nothing was erased: the subject is not listed as erased for suppression.
    expect([...deps.ports.state.suppressions.values()]).toEqual([]);
    const types = deps.ports.allEntries().map((entry) => entry.type);
    expect(types).toEqual(
      expect.arrayContaining(['request.received', 'request.dispatched', 'request.completed']),
    );
    // No certificate of erasure for an erasure of nothing: the refusal says why.
    const certificate = await callApi(deps, {
      method: 'GET',
      path: `/v1/erasure-requests/${requests[0]?.requestId}/certificate`,
      headers: bearer('compliance'),
    });
    expect(certificate.status).toBe(409);
    // Final: never a certificate, so not the `not_ready` a client would wait on.
    expect(certificate.body?.error?.code).toBe('no_certificate');
    expect(certificate.body?.error?.message).toContain('erased nothing');
    expect(certificate.body?.error?.message).toContain('marketing-list by email');
  });
});

describe('a blocked request names the holds that hold it now', () => {
  it("its own hold released while another subject's hold names its e-mail: the sweep blocks it again on that hold, and the holds report lists it there", async () => {
    // Prepare: blocked on the subject's own hold; then another subject's hold names the e-mail.
    const deps = built();
    const own = await callApi(deps, {
      method: 'POST',
      path: '/v1/legal-holds',
      headers: bearer('compliance'),
      body: { subjectId: 'someone-else-79', reason: 'litigation-2026-063' },
    });
    const answer = await submit(deps, {
      subjectId: 'someone-else-79',
      dataClasses: ['closed-account'],
      reason: 'gdpr-art17-request',
      identifiers: { email: EMAIL },
    });
    expect(answer.body?.blockedTasks).toBeDefined();
    const other = await callApi(deps, {
      method: 'POST',
      path: '/v1/legal-holds',
      headers: bearer('compliance'),
      body: { subjectId: SUBJECT, reason: 'litigation-2026-064', identifiers: { email: EMAIL } },
    });
    await callApi(deps, {
      method: 'DELETE',
      path: `/v1/legal-holds/${String(own.body?.holdId)}`,
      headers: bearer('compliance'),
    });

    // Act
    await sweepDueDeletions(deps.deps, HANDLER_NOW);
    const holdsReport = await callApi(deps, {
      method: 'GET',
      path: '/v1/reports/holds',
      headers: bearer('compliance'),
    });

    // Assess
    const requestId = String(answer.body?.requestId);
    expect(deps.ports.state.requests.get(requestId)).toMatchObject({
      status: 'blocked',
      blockedBy: [other.body?.holdId],
    });
    expect(JSON.stringify(holdsReport.body)).toContain(requestId);
    // The report names which identifiers each hold protects from any subject's request (names only).
    const rows = (holdsReport.body?.holds ?? []) as { holdId: string; identifiers: string[] }[];
    expect(rows.find((row) => row.holdId === other.body?.holdId)?.identifiers).toEqual(['email']);
    expect(JSON.stringify(holdsReport.body)).not.toContain(EMAIL);
  });
});

describe("the cost of judging other subjects' holds", () => {
  it('a request without identifier values reads no active holds; a sweep reviewing several held requests reads them once', async () => {
    // Prepare: count the reads of every active hold.
    const deps = built();
    let reads = 0;
    const holds = deps.deps.holds;
    const counted = {
      ...deps,
      deps: {
        ...deps.deps,
        holds: {
          ...holds,
          find: holds.find,
          forSubject: holds.forSubject,
          ended: holds.ended,
          active: (now: string) => {
            reads++;
            return holds.active(now);
          },
        },
      },
    };
    await callApi(counted, {
      method: 'POST',
      path: '/v1/legal-holds',
      headers: bearer('compliance'),
      body: { subjectId: SUBJECT, reason: 'litigation-2026-065', identifiers: { email: EMAIL } },
    });

    // Act
    reads = 0;
    await submit(
      counted,
      { subjectId: 'plain-1', dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
      'plain-1',
    );
    const plainReads = reads;
    for (const [index, subjectId] of ['claims-1', 'claims-2', 'claims-3'].entries()) {
      const answer = await submit(
        counted,
        {
          subjectId,
          dataClasses: ['closed-account'],
          reason: 'gdpr-art17-request',
          identifiers: { email: EMAIL },
        },
        `claims-${index}`,
      );
      expect(answer.body?.status).toBe('blocked');
    }
    reads = 0;
    await sweepDueDeletions(counted.deps, HANDLER_NOW);

    // Assess
    expect(plainReads).toBe(0);
    expect(reads).toBe(1);
  });
});
