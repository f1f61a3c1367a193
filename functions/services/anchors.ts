import {
  type Anchor,
  type AnchorChainVerification,
  type AnchoredChainVerification,
  type AnchoredHead,
  anchoredHeads,
  changedHeads,
  nextAnchorHeader,
  type PublicKeyInfo,
  verifyAnchorChain,
  verifyAnchoredChain,
} from '../../domain/audit/index.js';
import { NoChainError } from '../../domain/errors.js';
import { nowIso, type ServiceDeps } from './deps.js';

export type ProofDeps = Pick<ServiceDeps, 'audit' | 'anchors' | 'signer' | 'clock'>;

export interface AnchorResult {
  /** The anchor written now; absent when no chain moved since the last one. */
  readonly anchor?: Anchor;
  /** Chains whose head it holds. */
  readonly anchoredChains: number;
}

/**
 * What writing an anchor needs: the moved heads are read, never cleared, so a function with read
 * access to the audit table (the certificate's) can anchor; the marks it leaves make the next
 * `anchorAuditTrail` drop what the latest anchor already holds and clear them.
 */
export type AnchorWriteDeps = Pick<ServiceDeps, 'anchors' | 'signer' | 'clock'> & {
  readonly audit: Pick<ServiceDeps['audit'], 'unanchoredHeads'>;
};

/**
 * Writes the next anchor over the heads that moved since the latest one, leaving their marks:
 * load (moved heads, latest anchor) → decide (domain) → sign → append. `moved`: every head read,
 * for the caller that may clear the marks.
 */
export const writeAnchor = async (
  deps: AnchorWriteDeps,
): Promise<AnchorResult & { readonly moved: readonly AnchoredHead[] }> => {
  const [moved, latest, keyId] = await Promise.all([
    deps.audit.unanchoredHeads(),
    deps.anchors.latest(),
    deps.signer.currentKeyId(),
  ]);
  if (moved.length === 0) return { anchoredChains: 0, moved };
  const changed = changedHeads(moved, anchoredHeads(latest === undefined ? [] : [latest]));
  if (changed.length === 0) return { anchoredChains: 0, moved };
  const next = nextAnchorHeader(latest, changed, nowIso(deps), keyId);
  const { signature } = await deps.signer.sign(next.hash);
  const anchor: Anchor = { ...next.header, hash: next.hash, signature, heads: next.heads };
  await deps.anchors.append(anchor);
  return { anchor, anchoredChains: changed.length, moved };
};

/**
 * Commits to the state of the trail outside the audit table: the heads of every chain that moved
 * since it was last anchored, their Merkle root, chained to the previous anchor, signed. Nothing
 * moved: nothing is written. `writeAnchor`, then the marks are cleared. Reads grow with the chains
 * that moved, not with every chain or anchor.
 *
 * Crash-safe: a crash after the append leaves the marks set, and the next run drops the heads the
 * latest anchor already holds as they are and clears them. A head that moves while this runs keeps
 * its mark (cleared only while its seq is still the one anchored) and goes into the next anchor.
 */
export const anchorAuditTrail = async (deps: ProofDeps): Promise<AnchorResult> => {
  const { moved, ...result } = await writeAnchor(deps);
  if (moved.length > 0) await deps.audit.markAnchored(moved);
  return result;
};

/** Anchors whose time lies in [from, to], with the check of the whole anchor chain. */
export const listAnchors = async (
  deps: ProofDeps,
  window: { readonly from?: string; readonly to?: string },
): Promise<{ anchors: Anchor[]; verification: AnchorChainVerification }> => {
  const [anchors, keys] = await Promise.all([deps.anchors.list(), deps.signer.publicKeys()]);
  return {
    anchors: anchors.filter(
      (anchor) =>
        (window.from === undefined || anchor.at >= window.from) &&
        (window.to === undefined || anchor.at <= window.to),
    ),
    verification: verifyAnchorChain(anchors, keys),
  };
};

export const publicKeys = (deps: ProofDeps): Promise<PublicKeyInfo[]> => deps.signer.publicKeys();

export interface AuditVerification {
  readonly chainId: string;
  readonly verification: AnchoredChainVerification;
  /** The anchors themselves: one removed or altered breaks them. */
  readonly anchors: AnchorChainVerification;
}

/**
 * A subject's chain (or the system chain) checked on its own and against the anchors that cover
 * it. A chain that was never stored nor anchored is a `NoChainError` (404 `no_chain`).
 */
export const verifyAuditTrail = async (
  deps: ProofDeps,
  /** A subject's chain, a named one (`system`, `window:<target>`), or neither: the system chain. */
  scope: { readonly subjectId?: string | undefined; readonly chainId?: string },
): Promise<AuditVerification> => {
  const [chain, anchors, keys] = await Promise.all([
    scope.chainId === undefined
      ? deps.audit.readChain(scope.subjectId)
      : deps.audit.readChainById(scope.chainId),
    deps.anchors.list(),
    deps.signer.publicKeys(),
  ]);
  const verification = verifyAnchoredChain(chain, anchors);
  if ('noChain' in verification) {
    throw new NoChainError(
      scope.chainId !== undefined
        ? `No audit trail exists for chain ${scope.chainId}`
        : scope.subjectId === undefined
          ? 'No audit trail exists for the system chain'
          : 'No audit trail exists for this subject, and none was ever anchored',
    );
  }
  return { chainId: chain.chainId, verification, anchors: verifyAnchorChain(anchors, keys) };
};
