import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  type Anchor,
  type AnchoredHead,
  anchoredHeads,
  chainEntry,
  changedHeads,
  inclusionProof,
  keyFingerprint,
  merkleRoot,
  nextAnchorHeader,
  type PublicKeyInfo,
  rootFromProof,
  SIGNING_ALGORITHM,
  verifyAnchorChain,
  verifyAnchoredChain,
} from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const KEY: PublicKeyInfo = { keyId: keyFingerprint(PEM), algorithm: SIGNING_ALGORITHM, publicKeyPem: PEM };

const anchorAfter = (previous: Anchor | undefined, heads: readonly AnchoredHead[], at: string): Anchor => {
  const next = nextAnchorHeader(previous, heads, at, KEY.keyId);
  const signature = sign('sha256', Buffer.from(next.hash, 'utf8'), privateKey).toString('base64');
  return { ...next.header, hash: next.hash, signature, heads: next.heads };
};

const CHAIN = 'a'.repeat(64);
const chainOf = (length: number, chainId = CHAIN): AuditEntry[] => {
  const entries: AuditEntry[] = [];
  for (let seq = 1; seq <= length; seq++) {
    const last = entries.at(-1);
    entries.push(
      chainEntry(
        last === undefined ? undefined : { seq: last.seq, hash: last.hash },
        { type: 'task.verified', at: `2026-11-21T10:00:0${seq % 10}.000Z`, idempotencyKey: `k${seq}` },
        chainId,
        chainId,
      ),
    );
  }
  return entries;
};
const headOf = (entries: readonly AuditEntry[], chainId = CHAIN): AnchoredHead => {
  const last = entries.at(-1) as AuditEntry;
  return { chainId, seq: last.seq, hash: last.hash };
};
const storeHead = (entries: readonly AuditEntry[]) => {
  const last = entries.at(-1);
  return last === undefined ? undefined : { seq: last.seq, hash: last.hash };
};

describe('Merkle tree over chain heads', () => {
  const heads = Array.from({ length: 7 }, (_, index) => ({
    chainId: `chain-${index}`,
    seq: index + 1,
    hash: String(index).repeat(64).slice(0, 64),
  }));

  it('gives every leaf a proof that reaches the root, for every tree size', () => {
    for (let size = 1; size <= heads.length; size++) {
      const some = heads.slice(0, size);
      const root = merkleRoot(some);
      for (const head of some) {
        const proof = inclusionProof(some, head.chainId);
        expect(proof).toBeDefined();
        expect(rootFromProof(head, proof ?? [])).toBe(root);
      }
    }
  });

  it('does not depend on the order heads are given in', () => {
    expect(merkleRoot([...heads].reverse())).toBe(merkleRoot(heads));
  });

  it('a proof of another head, or of a changed head, misses the root', () => {
    const root = merkleRoot(heads);
    const proof = inclusionProof(heads, 'chain-3') ?? [];
    expect(rootFromProof({ ...(heads[3] as AnchoredHead), seq: 5 }, proof)).not.toBe(root);
    expect(rootFromProof(heads[2] as AnchoredHead, proof)).not.toBe(root);
    expect(inclusionProof(heads, 'nope')).toBeUndefined();
  });
});

describe('anchors', () => {
  it('anchor only the heads that changed since they were last anchored', () => {
    const first = anchorAfter(
      undefined,
      [{ chainId: 'x', seq: 1, hash: 'a'.repeat(64) }],
      '2026-01-01T00:00:00.000Z',
    );
    const current = [
      { chainId: 'x', seq: 1, hash: 'a'.repeat(64) },
      { chainId: 'y', seq: 2, hash: 'b'.repeat(64) },
    ];
    expect(changedHeads(current, anchoredHeads([first]))).toEqual([current[1]]);
  });

  it('form a signed chain; a removed, altered, reordered or foreign-signed anchor is named', () => {
    const one = anchorAfter(undefined, [headOf(chainOf(1))], '2026-01-01T00:00:00.000Z');
    const two = anchorAfter(one, [headOf(chainOf(2))], '2026-01-02T00:00:00.000Z');
    const three = anchorAfter(two, [headOf(chainOf(3))], '2026-01-03T00:00:00.000Z');
    expect(verifyAnchorChain([one, two, three], [KEY])).toMatchObject({ ok: true, count: 3 });
    expect(verifyAnchorChain([one, three], [KEY])).toMatchObject({ ok: false, seq: 2, problem: 'missing' });
    expect(verifyAnchorChain([one, three, two], [KEY])).toMatchObject({ ok: false, problem: 'missing' });
    expect(verifyAnchorChain([{ ...two, seq: 1 }, two], [KEY])).toMatchObject({
      ok: false,
      problem: 'modified',
    });
    expect(verifyAnchorChain([one, { ...two, root: 'f'.repeat(64) }, three], [KEY])).toMatchObject({
      ok: false,
      seq: 2,
      problem: 'modified',
    });
    expect(
      verifyAnchorChain([one, { ...two, heads: [{ ...(two.heads[0] as AnchoredHead), seq: 1 }] }], [KEY]),
    ).toMatchObject({ ok: false, seq: 2, problem: 'modified' });
    expect(verifyAnchorChain([one, { ...two, signature: one.signature }], [KEY])).toMatchObject({
      ok: false,
      seq: 2,
      problem: 'bad_signature',
    });
    expect(verifyAnchorChain([one], [])).toMatchObject({ ok: false, seq: 1, problem: 'unknown_key' });
  });

  it('refuses to go back in time', () => {
    const one = anchorAfter(undefined, [], '2026-01-02T00:00:00.000Z');
    expect(() => nextAnchorHeader(one, [], '2026-01-01T00:00:00.000Z', KEY.keyId)).toThrow(/cannot follow/);
  });
});

describe('a chain checked against its anchors', () => {
  const entries = chainOf(5);
  const atThree = anchorAfter(undefined, [headOf(entries.slice(0, 3))], '2026-01-01T00:00:00.000Z');
  const atFive = anchorAfter(
    atThree,
    [headOf(entries), { chainId: 'other', seq: 1, hash: 'c'.repeat(64) }],
    '2026-01-02T00:00:00.000Z',
  );
  const anchors = [atThree, atFive];

  it('an intact chain is ok, with the newest covering anchor and its inclusion proof', () => {
    const result = verifyAnchoredChain({ chainId: CHAIN, entries, head: storeHead(entries) }, anchors);
    expect(result).toMatchObject({
      ok: true,
      length: 5,
      unanchored: 0,
      anchor: { anchorSeq: 2, head: { seq: 5 } },
    });
    if (!('ok' in result) || !result.ok || result.anchor === undefined) throw new Error('expected an anchor');
    expect(rootFromProof(result.anchor.head, result.anchor.proof)).toBe(atFive.root);
  });

  it('entries after the newest anchor are counted as not yet anchored', () => {
    const longer = chainOf(6);
    expect(
      verifyAnchoredChain({ chainId: CHAIN, entries: longer, head: storeHead(longer) }, anchors),
    ).toMatchObject({
      ok: true,
      unanchored: 1,
    });
  });

  it('a tail removed and the head moved back is truncated from the first missing seq', () => {
    const cut = entries.slice(0, 4);
    expect(
      verifyAnchoredChain({ chainId: CHAIN, entries: cut, head: storeHead(cut) }, anchors),
    ).toMatchObject({
      ok: false,
      problem: 'truncated',
      seq: 5,
      anchor: { anchorSeq: 2 },
    });
  });

  it('a chain rewritten and re-hashed from seq 4 is reported from there', () => {
    const forged: AuditEntry[] = entries.slice(0, 3);
    for (const _ of [4, 5]) {
      const last = forged.at(-1) as AuditEntry;
      forged.push(
        chainEntry(
          { seq: last.seq, hash: last.hash },
          { type: 'task.failed', at: '2026-11-21T10:00:00.000Z', idempotencyKey: `f${last.seq}` },
          CHAIN,
          CHAIN,
        ),
      );
    }
    expect(
      verifyAnchoredChain({ chainId: CHAIN, entries: forged, head: storeHead(forged) }, anchors),
    ).toMatchObject({
      ok: false,
      problem: 'rewritten',
      seq: 4,
    });
  });

  it('a chain deleted whole is chain_missing; one never anchored nor stored is no_chain', () => {
    expect(verifyAnchoredChain({ chainId: CHAIN, entries: [] }, anchors)).toMatchObject({
      ok: false,
      problem: 'chain_missing',
      seq: 1,
    });
    expect(verifyAnchoredChain({ chainId: 'f'.repeat(64), entries: [] }, anchors)).toEqual({ noChain: true });
  });

  it('a break inside the chain is still named by the chain check', () => {
    const modified = entries.map((entry, index) => (index === 1 ? { ...entry, type: 'task.failed' } : entry));
    expect(
      verifyAnchoredChain({ chainId: CHAIN, entries: modified, head: storeHead(modified) }, anchors),
    ).toMatchObject({
      ok: false,
      problem: 'modified',
      seq: 2,
    });
  });
});
