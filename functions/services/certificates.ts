import {
  type AnchoredHead,
  type Certificate,
  type CertificateAnchor,
  certificateBody,
  certificateSigningText,
  FORGOTTEN_PREFIX,
  inclusionProof,
  requireCertifiable,
  verifyAnchor,
  verifyAnchoredChain,
} from '../../domain/audit/index.js';
import { NotFoundError, NotReadyError, TrailBrokenError } from '../../domain/errors.js';
import { findPolicy } from '../../domain/vocabulary/index.js';
import { writeAnchor } from './anchors.js';
import { nowIso, type ServiceDeps } from './deps.js';

/**
 * The certificate function reads the audit table and never writes it (its role has `audit: read`
 * in functions/manifest.ts): the type leaves out `markAnchored`, so anchoring here cannot clear marks.
 */
export type CertificateDeps = Pick<ServiceDeps, 'requests' | 'anchors' | 'signer' | 'clock' | 'config'> & {
  readonly audit: Omit<ServiceDeps['audit'], 'markAnchored'>;
};

/**
 * A signed certificate of erasure for a completed request whose every task is verified. Anchors
 * the trail first if no anchor holds the request's last entry yet, and refuses (409) if the
 * subject's chain does not verify against its anchors, or the anchor it would rest on does not
 * verify on its own: a tampered trail or anchor gets no certificate (`trail_broken`).
 */
export const issueCertificate = async (deps: CertificateDeps, requestId: string): Promise<Certificate> => {
  const found = await deps.requests.get(requestId);
  if (found === undefined) throw new NotFoundError(`No erasure request ${requestId}`);
  const { request, tasks } = found;
  requireCertifiable({ request, tasks });
  const chainId = request.subjectId.startsWith(FORGOTTEN_PREFIX)
    ? request.subjectId.slice(FORGOTTEN_PREFIX.length)
    : deps.audit.chainIdFor(request.subjectId);
  let chain = await deps.audit.readChainById(chainId);
  const lastOwn = chain.entries.filter((entry) => entry.requestId === requestId).at(-1);
  let anchors = await deps.anchors.list();
  const covering = (): { anchor: (typeof anchors)[number]; head: AnchoredHead } | undefined =>
    anchors
      .flatMap((anchor) => {
        const head = anchor.heads.find((candidate) => candidate.chainId === chainId);
        return head === undefined ? [] : [{ anchor, head }];
      })
      .at(-1);
  if (lastOwn !== undefined && (covering()?.head.seq ?? 0) < lastOwn.seq) {
    // Marks stay set: clearing them is an UpdateItem on the audit table, the sweep's job.
    await writeAnchor(deps);
    [chain, anchors] = await Promise.all([deps.audit.readChainById(chainId), deps.anchors.list()]);
  }
  const checked = verifyAnchoredChain(chain, anchors);
  if ('noChain' in checked || !checked.ok) {
    throw new TrailBrokenError(
      `The audit trail of request ${requestId} does not verify${'noChain' in checked ? '' : `: ${checked.message}`}`,
    );
  }
  const newest = covering();
  if (newest === undefined) throw new NotReadyError(`Request ${requestId} has no audit entries`);
  const [keys, keyId] = await Promise.all([deps.signer.publicKeys(), deps.signer.currentKeyId()]);
  // The anchor the certificate rests on, checked as the offline verifier checks it: hash, root,
  // signature by a published key. An anchor altered since it was written gets no certificate.
  const anchorProblem = verifyAnchor(newest.anchor, keys);
  if (anchorProblem !== undefined) {
    throw new TrailBrokenError(
      `The anchor request ${requestId} would rest on does not verify: ${anchorProblem.message}`,
    );
  }
  const anchor: CertificateAnchor = {
    format: newest.anchor.format,
    seq: newest.anchor.seq,
    at: newest.anchor.at,
    prevHash: newest.anchor.prevHash,
    root: newest.anchor.root,
    headCount: newest.anchor.headCount,
    keyId: newest.anchor.keyId,
    hash: newest.anchor.hash,
    signature: newest.anchor.signature,
    leaf: newest.head,
    proof: inclusionProof(newest.anchor.heads, chainId) ?? [],
  };
  const ruleRefs = [
    ...new Set(
      request.dataClasses.flatMap((dataClass) => findPolicy(deps.config.catalog, dataClass)?.ruleRefs ?? []),
    ),
  ];
  const body = certificateBody({
    request,
    tasks,
    ruleRefs,
    chainId,
    entries: chain.entries,
    anchor,
    keys: keys.filter((key) => key.keyId === keyId || key.keyId === anchor.keyId),
    keyId,
    issuedAt: nowIso(deps),
  });
  const { signature } = await deps.signer.sign(certificateSigningText(body));
  return { ...body, signature };
};
