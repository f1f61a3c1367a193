/**
 * Anchoring reads only the chains that moved since the last anchor (the unanchored marks) and the
 * latest anchor, never every chain or every anchor; a head that moves while it runs, or a crash
 * between the append and the clearing of the marks, never breaks the anchor chain.
 */
import { describe, expect, it } from 'vitest';
import { verifyAnchorChain } from '../../domain/audit/index.js';
import type { AuditEvent } from '../../domain/audit/types.js';
import { anchorAuditTrail } from '../../functions/services/anchors.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

let events = 0;
const anEvent = (): AuditEvent => ({
  type: 'hold.placed',
  at: '2026-11-21T11:00:00.000Z',
  idempotencyKey: `event-${++events}`,
});

/** Appends one entry to each subject's chain. */
const move = async (built: HandlerDeps, subjects: readonly string[]): Promise<void> => {
  const result = await built.ports.uow.commit(
    [],
    subjects.map((subjectId) => ({ event: anEvent(), subjectId })),
  );
  expect(result).toEqual({ committed: true });
};

const subjects = (count: number): string[] => Array.from({ length: count }, (_, index) => `subject-${index}`);

const anchor = (built: HandlerDeps) => anchorAuditTrail(built.deps);

const chainVerification = async (built: HandlerDeps) =>
  verifyAnchorChain(built.anchors.anchors, await built.signer.publicKeys());

describe('anchoring reads what moved', () => {
  it('after N chains of which k moved, reads k heads and anchors k, chained to the latest anchor', async () => {
    // Prepare
    const built = handlerDeps();
    const all = subjects(200);
    await move(built, all);
    const first = await anchor(built);
    const readBefore = built.ports.unanchoredHeadsRead;
    await move(built, all.slice(0, 3));

    // Act
    const second = await anchor(built);

    // Assess
    expect(first.anchoredChains).toBe(200);
    expect(built.ports.unanchoredHeadsRead - readBefore).toBe(3);
    expect(second.anchoredChains).toBe(3);
    expect(second.anchor).toMatchObject({ seq: 2, prevHash: first.anchor?.hash, headCount: 3 });
    expect(await chainVerification(built)).toMatchObject({ ok: true, count: 2 });
  });

  it('nothing moved: reads no head and writes nothing', async () => {
    // Prepare
    const built = handlerDeps();
    await move(built, subjects(20));
    await anchor(built);
    const readBefore = built.ports.unanchoredHeadsRead;

    // Act
    const again = await anchor(built);

    // Assess
    expect(again).toEqual({ anchoredChains: 0 });
    expect(built.ports.unanchoredHeadsRead - readBefore).toBe(0);
    expect(built.anchors.anchors).toHaveLength(1);
  });

  it('a head that moves during anchoring keeps its mark and goes into the next anchor', async () => {
    // Prepare
    const built = handlerDeps();
    await move(built, ['busy', 'quiet']);
    const read = built.ports.audit.unanchoredHeads;
    let racing = true;
    built.deps.audit.unanchoredHeads = async () => {
      const heads = await read();
      // Another writer appends to `busy` after its head was read, before the marks are cleared.
      if (racing) await move(built, ['busy']);
      racing = false;
      return heads;
    };
    const busy = built.ports.chainIdFor('busy');

    // Act
    const first = await anchor(built);
    const second = await anchor(built);
    const third = await anchor(built);

    // Assess
    expect(first.anchor?.heads.find((head) => head.chainId === busy)?.seq).toBe(1);
    expect(second.anchor?.heads).toEqual([expect.objectContaining({ chainId: busy, seq: 2 })]);
    expect(third).toEqual({ anchoredChains: 0 });
    expect(await chainVerification(built)).toMatchObject({ ok: true, count: 2 });
  });

  it('a crash between the append and the clearing re-reads those heads without breaking the chain', async () => {
    // Prepare
    const built = handlerDeps();
    await move(built, subjects(5));
    const clear = built.ports.audit.markAnchored;
    built.deps.audit.markAnchored = async () => {
      throw new Error('crash after the anchor was written');
    };
    await expect(anchor(built)).rejects.toThrow('crash after the anchor was written');
    built.deps.audit.markAnchored = clear;
    await move(built, ['subject-new']);

    // Act
    const next = await anchor(built);
    const after = await anchor(built);

    // Assess: the heads the latest anchor holds as they are are cleared, not anchored twice.
    expect(built.anchors.anchors.map((written) => written.headCount)).toEqual([5, 1]);
    expect(next.anchor).toMatchObject({ seq: 2, prevHash: built.anchors.anchors[0]?.hash });
    expect(next.anchor?.heads).toEqual([
      expect.objectContaining({ chainId: built.ports.chainIdFor('subject-new') }),
    ]);
    expect(after).toEqual({ anchoredChains: 0 });
    expect(await chainVerification(built)).toMatchObject({ ok: true, count: 2 });
  });

  it('a crash before the clearing with nothing else moved writes no anchor, only clears', async () => {
    // Prepare
    const built = handlerDeps();
    await move(built, subjects(3));
    const clear = built.ports.audit.markAnchored;
    built.deps.audit.markAnchored = async () => {
      throw new Error('crash');
    };
    await expect(anchor(built)).rejects.toThrow('crash');
    built.deps.audit.markAnchored = clear;

    // Act
    const retried = await anchor(built);
    const readBefore = built.ports.unanchoredHeadsRead;
    const after = await anchor(built);

    // Assess
    expect(retried).toEqual({ anchoredChains: 0 });
    expect(built.anchors.anchors).toHaveLength(1);
    expect(after).toEqual({ anchoredChains: 0 });
    expect(built.ports.unanchoredHeadsRead - readBefore).toBe(0);
  });
});
