import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { canonicalJson } from './canonical.js';

/** A chain's head as an anchor records it: the leaf of the anchor's Merkle tree. */
export interface AnchoredHead {
  readonly chainId: string;
  readonly seq: number;
  readonly hash: string;
}

/** One step of an inclusion proof: the sibling hash and the side it sits on. */
export interface ProofStep {
  readonly side: 'left' | 'right';
  readonly hash: string;
}

const sha256 = (parts: readonly (string | Buffer)[]): string => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

/**
 * Leaves and inner nodes hash with different prefixes (0x00, 0x01, as RFC 6962 does), so an inner
 * node can never be passed off as a leaf.
 */
export const leafHash = (head: AnchoredHead): string =>
  sha256([Buffer.from([0]), canonicalJson({ chainId: head.chainId, seq: head.seq, hash: head.hash })]);

const nodeHash = (left: string, right: string): string =>
  sha256([Buffer.from([1]), Buffer.from(left, 'hex'), Buffer.from(right, 'hex')]);

/** The root of an empty tree. */
export const EMPTY_ROOT = sha256(['']);

/** Leaves in the order the tree is built: by chain id, one head per chain. */
export const sortHeads = (heads: readonly AnchoredHead[]): AnchoredHead[] => {
  const sorted = [...heads].sort((a, b) => (a.chainId < b.chainId ? -1 : a.chainId > b.chainId ? 1 : 0));
  for (let index = 1; index < sorted.length; index++) {
    if (sorted[index]?.chainId === sorted[index - 1]?.chainId) {
      throw new ValidationError(`Chain ${sorted[index]?.chainId} appears twice in one anchor`, 'heads');
    }
  }
  return sorted;
};

/** Each level of the tree; an odd node out is carried up unchanged (never paired with itself). */
const levels = (leaves: readonly string[]): string[][] => {
  const all = [[...leaves]];
  let level = all[0] as string[];
  while (level.length > 1) {
    const next: string[] = [];
    for (let index = 0; index < level.length; index += 2) {
      const left = level[index] as string;
      const right = level[index + 1];
      next.push(right === undefined ? left : nodeHash(left, right));
    }
    all.push(next);
    level = next;
  }
  return all;
};

/** The Merkle root over the heads (sorted by chain id). */
export const merkleRoot = (heads: readonly AnchoredHead[]): string => {
  const sorted = sortHeads(heads);
  if (sorted.length === 0) return EMPTY_ROOT;
  return levels(sorted.map(leafHash)).at(-1)?.[0] as string;
};

/** The siblings from `chainId`'s leaf up to the root; undefined if the heads do not hold the chain. */
export const inclusionProof = (heads: readonly AnchoredHead[], chainId: string): ProofStep[] | undefined => {
  const sorted = sortHeads(heads);
  let index = sorted.findIndex((head) => head.chainId === chainId);
  if (index < 0) return undefined;
  const proof: ProofStep[] = [];
  for (const level of levels(sorted.map(leafHash)).slice(0, -1)) {
    const sibling = index % 2 === 0 ? level[index + 1] : level[index - 1];
    if (sibling !== undefined) proof.push({ side: index % 2 === 0 ? 'right' : 'left', hash: sibling });
    index = Math.floor(index / 2);
  }
  return proof;
};

/** The root a proof leads to from a leaf; compare it with the anchor's root. */
export const rootFromProof = (head: AnchoredHead, proof: readonly ProofStep[]): string =>
  proof.reduce(
    (hash, step) => (step.side === 'left' ? nodeHash(step.hash, hash) : nodeHash(hash, step.hash)),
    leafHash(head),
  );
