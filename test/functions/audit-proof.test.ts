/**
 * The trail's proof through the API on in-memory ports: anchors at every sweep and on demand,
 * verification against the newest covering anchor, the anchor chain and key rotation. Tampering
 * is done to the stored state, as someone with write access to the table or the store would.
 */
import { describe, expect, it } from 'vitest';
import { type Anchor, chainEntry, rootFromProof } from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import { bearer, callApi, SEEDED, seedApiState } from '../helpers/api-handler.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const compliance = bearer('compliance');

const seeded = async (): Promise<HandlerDeps> => {
  const built = handlerDeps();
  await seedApiState(built);
  return built;
};

/** The seeded subject with a few entries: the seed, then what a sweep of its due deletion appends. */
const swept = async (): Promise<HandlerDeps> => {
  const built = await seeded();
  await callApi(built, { method: 'POST', path: '/v1/sweeps', body: {}, headers: bearer('service') });
  expect(chainOf(built).entries.length).toBeGreaterThanOrEqual(2);
  return built;
};

const anchorNow = (built: HandlerDeps) =>
  callApi(built, { method: 'POST', path: '/v1/audit/anchors', headers: compliance });

const verify = (built: HandlerDeps, subjectId: string = SEEDED.subjectId) =>
  callApi(built, {
    method: 'GET',
    path: '/v1/audit/verification',
    query: { subjectId },
    headers: compliance,
  });

const chainOf = (built: HandlerDeps): { chainId: string; entries: AuditEntry[] } => {
  const chainId = built.ports.chainIdFor(SEEDED.subjectId);
  return { chainId, entries: built.ports.state.chains.get(chainId) ?? [] };
};

describe('anchors of the audit trail', () => {
  it('POST /v1/audit/anchors anchors every chain that moved, and nothing when none did', async () => {
    // Prepare
    const built = await seeded();

    // Act
    const first = await anchorNow(built);
    const second = await anchorNow(built);

    // Assess
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ anchor: { seq: 1, format: 'erasure-orchestrator.anchor.v1' } });
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ anchoredChains: 0 });
    expect(built.anchors.anchors).toHaveLength(1);
  });

  it('two anchorings racing for one seq: one writes it, the other is told to try again (409)', async () => {
    // Prepare
    const built = await seeded();

    // Act
    const answers = await Promise.all([anchorNow(built), anchorNow(built)]);

    // Assess
    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409]);
    expect(answers.find((answer) => answer.status === 409)?.body).toMatchObject({
      error: { code: 'concurrent_modification' },
    });
    expect(built.anchors.anchors).toHaveLength(1);
  });

  it('every sweep anchors what moved since the last anchor', async () => {
    // Prepare
    const built = await seeded();
    await anchorNow(built);

    // Act
    const sweep = await callApi(built, {
      method: 'POST',
      path: '/v1/sweeps',
      body: {},
      headers: bearer('service'),
    });

    // Assess: the seeded schedule had a deletion due, so the sweep appended and anchored it.
    expect(sweep.status).toBe(200);
    expect(sweep.body).toMatchObject({ anchor: { seq: 2 } });
    const { entries } = chainOf(built);
    const last = entries.at(-1) as AuditEntry;
    expect(built.anchors.anchors[1]?.heads).toContainEqual({
      chainId: last.chainId,
      seq: last.seq,
      hash: last.hash,
    });
  });

  it('GET /v1/audit/anchors lists them by time with the check of the anchor chain; public keys too', async () => {
    // Prepare
    const built = await seeded();
    await anchorNow(built);

    // Act
    const listed = await callApi(built, { method: 'GET', path: '/v1/audit/anchors', headers: compliance });
    const none = await callApi(built, {
      method: 'GET',
      path: '/v1/audit/anchors',
      query: { to: '2020-01-01T00:00:00.000Z' },
      headers: compliance,
    });
    const keys = await callApi(built, { method: 'GET', path: '/v1/audit/public-keys', headers: compliance });

    // Assess
    expect(listed.body).toMatchObject({ anchors: [{ seq: 1 }], verification: { ok: true, count: 1 } });
    expect(none.body).toMatchObject({ anchors: [], verification: { ok: true } });
    expect(keys.body).toEqual({ keys: await built.signer.publicKeys() });
  });

  it('a removed or altered anchor breaks the anchor chain, named by seq', async () => {
    // Prepare
    const built = await seeded();
    await anchorNow(built);
    await callApi(built, { method: 'POST', path: '/v1/sweeps', body: {}, headers: bearer('service') });
    built.ports.state.chains.set('f'.repeat(64), [
      chainEntry(
        undefined,
        { type: 'hold.placed', at: '2026-11-21T12:00:00.000Z', idempotencyKey: 'x' },
        'f'.repeat(64),
      ),
    ]);
    await anchorNow(built);
    const [one, two, three] = built.anchors.anchors as [Anchor, Anchor, Anchor];
    const list = () => callApi(built, { method: 'GET', path: '/v1/audit/anchors', headers: compliance });

    // Act + Assess
    built.anchors.anchors = [one, three];
    expect((await list()).body).toMatchObject({ verification: { ok: false, seq: 2, problem: 'missing' } });
    built.anchors.anchors = [one, { ...two, at: '2026-11-21T12:30:00.000Z' }, three];
    expect((await list()).body).toMatchObject({ verification: { ok: false, seq: 2, problem: 'modified' } });
    expect((await verify(built)).body).toMatchObject({ anchors: { ok: false, seq: 2 } });
  });

  it('anchors signed before a key rotation stay verifiable', async () => {
    // Prepare
    const before = await seeded();
    await anchorNow(before);
    const rotated = before.signer.rotated();
    const after = { ...before, deps: { ...before.deps, signer: rotated } };
    await callApi(after, { method: 'POST', path: '/v1/sweeps', body: {}, headers: bearer('service') });

    // Act
    const listed = await callApi(after, { method: 'GET', path: '/v1/audit/anchors', headers: compliance });
    const keys = await callApi(after, { method: 'GET', path: '/v1/audit/public-keys', headers: compliance });

    // Assess
    expect(listed.body).toMatchObject({ verification: { ok: true, count: 2 } });
    const anchors = before.anchors.anchors;
    expect(anchors[0]?.keyId).not.toBe(anchors[1]?.keyId);
    expect(keys.body?.keys).toHaveLength(2);
  });
});

describe('GET /v1/audit/verification against the newest covering anchor', () => {
  it('an intact chain is ok, with the anchor and an inclusion proof that reaches its root', async () => {
    // Prepare
    const built = await seeded();
    await anchorNow(built);

    // Act
    const answer = await verify(built);

    // Assess
    expect(answer.status).toBe(200);
    const verification = answer.body?.verification as {
      ok: boolean;
      unanchored: number;
      anchor: { head: { chainId: string; seq: number; hash: string }; proof: never[]; root: string };
    };
    expect(verification).toMatchObject({ ok: true, unanchored: 0, anchor: { anchorSeq: 1 } });
    expect(rootFromProof(verification.anchor.head, verification.anchor.proof)).toBe(verification.anchor.root);
    expect(answer.body?.anchors).toMatchObject({ ok: true });
  });

  it('the last entry deleted and the head moved back: truncated, from the removed seq', async () => {
    // Prepare
    const built = await swept();
    await anchorNow(built);
    const { chainId, entries } = chainOf(built);
    built.ports.state.chains.set(chainId, entries.slice(0, -1));

    // Act
    const answer = await verify(built);

    // Assess
    expect(answer.body).toMatchObject({
      verification: { ok: false, problem: 'truncated', seq: entries.length },
    });
  });

  it('a chain rewritten and re-hashed from seq 2 is reported from there', async () => {
    // Prepare
    // Anchored after seq 1 (POST /v1/audit/anchors), then after seq 2 (the sweep anchors itself).
    const built = await seeded();
    await anchorNow(built);
    await callApi(built, { method: 'POST', path: '/v1/sweeps', body: {}, headers: bearer('service') });
    expect(built.anchors.anchors).toHaveLength(2);
    const { chainId, entries } = chainOf(built);
    const forged: AuditEntry[] = [entries[0] as AuditEntry];
    for (const original of entries.slice(1)) {
      const last = forged.at(-1) as AuditEntry;
      const { hash: _h, seq: _s, prevHash: _p, chainId: _c, subjectPseudonym: _sp, ...event } = original;
      forged.push(
        chainEntry(
          { seq: last.seq, hash: last.hash },
          { ...event, type: 'request.rejected' },
          chainId,
          chainId,
        ),
      );
    }
    built.ports.state.chains.set(chainId, forged);

    // Act
    const answer = await verify(built);

    // Assess
    expect(answer.body).toMatchObject({ verification: { ok: false, problem: 'rewritten', seq: 2 } });
  });

  it('a chain deleted whole is chain_missing; a subject that never had one is 404 no_chain', async () => {
    // Prepare
    const built = await seeded();
    await anchorNow(built);
    built.ports.state.chains.delete(chainOf(built).chainId);

    // Act
    const deleted = await verify(built);
    const never = await verify(built, 'never-seen-subject-42');

    // Assess
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ verification: { ok: false, problem: 'chain_missing', seq: 1 } });
    expect(never.status).toBe(404);
    expect(never.body).toMatchObject({ error: { code: 'no_chain' } });
  });
});
