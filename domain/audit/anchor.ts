/**
 * Anchors: the audit trail's state committed to outside the audit table. Each anchor holds the
 * heads of the chains that moved since the anchor before it, their Merkle root, and the hash of
 * that previous anchor, and is signed. So anchors form a chain of their own (a removed or altered
 * anchor is detected), and a chain of the trail can be checked against the newest anchor that
 * covers it: a tail cut off, a rewritten and re-hashed chain, or a chain deleted whole after it
 * was anchored no longer matches what was signed.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { canonicalJson } from './canonical.js';
import { GENESIS_HASH, verifyChain } from './chain.js';
import { type AnchoredHead, inclusionProof, merkleRoot, type ProofStep } from './merkle.js';
import type { AuditEntry, ChainVerification } from './types.js';

export const ANCHOR_FORMAT = 'erasure-orchestrator.anchor.v1';

/** The signature scheme of every key: ECDSA P-256 over SHA-256, DER (KMS `ECDSA_SHA_256`). */
export const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

/** What an anchor's hash (and so its signature) covers. The heads are covered through the root. */
export interface AnchorHeader {
  readonly format: typeof ANCHOR_FORMAT;
  /** 1-based position in the anchor chain. */
  readonly seq: number;
  readonly at: string;
  /** The previous anchor's hash, or the genesis hash for the first. */
  readonly prevHash: string;
  readonly root: string;
  readonly headCount: number;
  /** Fingerprint of the public key that signs it (see `keyFingerprint`). */
  readonly keyId: string;
}

export interface Anchor extends AnchorHeader {
  /** SHA-256 of the header's canonical JSON. */
  readonly hash: string;
  /** Base64 DER ECDSA signature over `hash` (as UTF-8 text). */
  readonly signature: string;
  /** The leaves, sorted by chain id. */
  readonly heads: readonly AnchoredHead[];
}

/** A public key that signs anchors and certificates. */
export interface PublicKeyInfo {
  readonly keyId: string;
  readonly algorithm: typeof SIGNING_ALGORITHM;
  readonly publicKeyPem: string;
}

const sha256Hex = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** A key's id: SHA-256 of its DER SubjectPublicKeyInfo, so anyone holding the key can compute it. */
export const keyFingerprint = (publicKeyPem: string): string =>
  sha256Hex(createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' }));

export const anchorHeaderOf = (anchor: AnchorHeader): AnchorHeader => ({
  format: anchor.format,
  seq: anchor.seq,
  at: anchor.at,
  prevHash: anchor.prevHash,
  root: anchor.root,
  headCount: anchor.headCount,
  keyId: anchor.keyId,
});

export const hashAnchorHeader = (header: AnchorHeader): string =>
  sha256Hex(canonicalJson(anchorHeaderOf(header)));

/** Whether `signature` (base64 DER) is the key's signature over `message`. */
export const signatureValid = (message: string, signature: string, publicKeyPem: string): boolean => {
  try {
    return verify('sha256', Buffer.from(message, 'utf8'), publicKeyPem, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
};

/** The newest head of every chain some anchor holds. */
export const anchoredHeads = (anchors: readonly Anchor[]): Map<string, AnchoredHead> => {
  const heads = new Map<string, AnchoredHead>();
  for (const anchor of anchors) for (const head of anchor.heads) heads.set(head.chainId, head);
  return heads;
};

/** The heads that moved since they were last anchored (or were never anchored). */
export const changedHeads = (
  current: readonly AnchoredHead[],
  anchored: ReadonlyMap<string, AnchoredHead>,
): AnchoredHead[] =>
  current.filter((head) => {
    const known = anchored.get(head.chainId);
    return known === undefined || known.seq !== head.seq || known.hash !== head.hash;
  });

/** The next anchor's header, before it is signed. */
export const nextAnchorHeader = (
  previous: Anchor | undefined,
  heads: readonly AnchoredHead[],
  at: string,
  keyId: string,
): { header: AnchorHeader; hash: string; heads: AnchoredHead[] } => {
  if (previous !== undefined && at < previous.at) {
    throw new ValidationError(`An anchor at ${at} cannot follow one at ${previous.at}`, 'at');
  }
  const sorted = [...heads].sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0));
  const header: AnchorHeader = {
    format: ANCHOR_FORMAT,
    seq: (previous?.seq ?? 0) + 1,
    at,
    prevHash: previous?.hash ?? GENESIS_HASH,
    root: merkleRoot(sorted),
    headCount: sorted.length,
    keyId,
  };
  return { header, hash: hashAnchorHeader(header), heads: sorted };
};

export type AnchorChainVerification =
  | { readonly ok: true; readonly count: number; readonly headHash: string }
  | {
      readonly ok: false;
      /** The anchor seq where the anchor chain first breaks. */
      readonly seq: number;
      readonly problem: 'modified' | 'missing' | 'reordered' | 'bad_signature' | 'unknown_key';
      readonly message: string;
    };

/** Checks one anchor on its own: hash, root over its heads, signature by a known key. */
export const verifyAnchor = (
  anchor: Anchor,
  keys: readonly PublicKeyInfo[],
): Extract<AnchorChainVerification, { ok: false }> | undefined => {
  const fail = (problem: Extract<AnchorChainVerification, { ok: false }>['problem'], message: string) => ({
    ok: false as const,
    seq: anchor.seq,
    problem,
    message,
  });
  if (hashAnchorHeader(anchor) !== anchor.hash)
    return fail('modified', `Anchor ${anchor.seq} does not match its hash`);
  let root: string;
  try {
    root = merkleRoot(anchor.heads);
  } catch {
    return fail('modified', `Anchor ${anchor.seq} holds a chain twice`);
  }
  if (root !== anchor.root || anchor.heads.length !== anchor.headCount) {
    return fail('modified', `The heads of anchor ${anchor.seq} do not give its root`);
  }
  const key = keys.find((candidate) => candidate.keyId === anchor.keyId);
  if (key === undefined)
    return fail('unknown_key', `Anchor ${anchor.seq} is signed by unknown key ${anchor.keyId}`);
  if (!signatureValid(anchor.hash, anchor.signature, key.publicKeyPem)) {
    return fail('bad_signature', `The signature of anchor ${anchor.seq} is not valid`);
  }
  return undefined;
};

/** Checks the anchors form one unbroken signed chain from seq 1, in order. */
export const verifyAnchorChain = (
  anchors: readonly Anchor[],
  keys: readonly PublicKeyInfo[],
): AnchorChainVerification => {
  let previousHash = GENESIS_HASH;
  for (const [index, anchor] of anchors.entries()) {
    const expectedSeq = index + 1;
    const problem = verifyAnchor(anchor, keys);
    if (problem !== undefined) return problem;
    if (anchor.seq < expectedSeq) {
      return {
        ok: false,
        seq: anchor.seq,
        problem: 'reordered',
        message: `Anchor ${anchor.seq} appears after anchor ${expectedSeq - 1}`,
      };
    }
    if (anchor.seq > expectedSeq) {
      return {
        ok: false,
        seq: expectedSeq,
        problem: 'missing',
        message: `Anchors from ${expectedSeq} to ${anchor.seq - 1} are missing`,
      };
    }
    if (anchor.prevHash !== previousHash) {
      return {
        ok: false,
        seq: anchor.seq,
        problem: 'modified',
        message: `Anchor ${anchor.seq} is not chained to anchor ${anchor.seq - 1}`,
      };
    }
    previousHash = anchor.hash;
  }
  return { ok: true, count: anchors.length, headHash: previousHash };
};

/** Where a chain was last anchored, with the proof that the anchor's root holds it. */
export interface AnchorRef {
  readonly anchorSeq: number;
  readonly anchorHash: string;
  readonly at: string;
  readonly root: string;
  readonly head: AnchoredHead;
  readonly proof: readonly ProofStep[];
}

export type AnchoredChainVerification =
  | (Extract<ChainVerification, { ok: true }> & {
      /** The newest anchor that covers the chain (absent: never anchored yet). */
      readonly anchor?: AnchorRef;
      /** Entries after the anchored head, not yet covered by any anchor. */
      readonly unanchored: number;
    })
  | Extract<ChainVerification, { ok: false }>
  | {
      readonly ok: false;
      readonly index: number;
      /** The first seq that is not what was anchored. */
      readonly seq: number;
      readonly problem: 'truncated' | 'rewritten' | 'chain_missing';
      readonly message: string;
      readonly anchor: AnchorRef;
    };

const refOf = (anchor: Anchor, head: AnchoredHead): AnchorRef => ({
  anchorSeq: anchor.seq,
  anchorHash: anchor.hash,
  at: anchor.at,
  root: anchor.root,
  head,
  proof: inclusionProof(anchor.heads, head.chainId) ?? [],
});

/**
 * Checks a chain (as read: entries and the head the store keeps) on its own and against every
 * anchor that covers it. `no_chain`: nothing stored and nothing ever anchored, a subject this
 * trail never knew; a chain that an anchor covers but that is gone is `chain_missing`.
 */
export const verifyAnchoredChain = (
  chain: {
    readonly chainId: string;
    readonly entries: readonly AuditEntry[];
    readonly head?: { seq: number; hash: string };
  },
  anchors: readonly Anchor[],
): AnchoredChainVerification | { readonly noChain: true } => {
  const covering = anchors.flatMap((anchor) => {
    const head = anchor.heads.find((candidate) => candidate.chainId === chain.chainId);
    return head === undefined ? [] : [{ anchor, head }];
  });
  const newest = covering.at(-1);
  if (chain.entries.length === 0 && chain.head === undefined) {
    if (newest === undefined) return { noChain: true };
    return {
      ok: false,
      index: 0,
      seq: 1,
      problem: 'chain_missing',
      message: `The chain is gone; anchor ${newest.anchor.seq} recorded it up to seq ${newest.head.seq}`,
      anchor: refOf(newest.anchor, newest.head),
    };
  }
  const own = verifyChain(chain.entries, {
    chainId: chain.chainId,
    ...(chain.head === undefined ? {} : { expectedHead: chain.head }),
  });
  if (!own.ok) return own;
  let matchedUpTo = 0;
  for (const { anchor, head } of covering) {
    const lastSeq = chain.entries.length;
    if (head.seq > lastSeq) {
      return {
        ok: false,
        index: lastSeq,
        seq: lastSeq + 1,
        problem: 'truncated',
        message: `Anchor ${anchor.seq} recorded the chain up to seq ${head.seq}, but it ends at seq ${lastSeq}: entries from seq ${lastSeq + 1} were removed`,
        anchor: refOf(anchor, head),
      };
    }
    if (chain.entries[head.seq - 1]?.hash !== head.hash) {
      return {
        ok: false,
        index: matchedUpTo,
        seq: matchedUpTo + 1,
        problem: 'rewritten',
        message: `Entry seq ${head.seq} is not the one anchor ${anchor.seq} recorded: the chain was rewritten at or after seq ${matchedUpTo + 1}`,
        anchor: refOf(anchor, head),
      };
    }
    matchedUpTo = head.seq;
  }
  return {
    ...own,
    ...(newest === undefined ? {} : { anchor: refOf(newest.anchor, newest.head) }),
    unanchored: chain.entries.length - matchedUpTo,
  };
};
