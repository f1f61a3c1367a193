/**
 * Certificates of erasure: a signed JSON document an auditor can take away and check without the
 * service or AWS credentials (`verifyCertificate`, and the `erasure verify-certificate` CLI). It
 * carries the request's facts, every task, the stretch of the subject's audit chain from the
 * request's first entry to the anchored head (entries hold pseudonyms only), the anchor that
 * covers that head with its inclusion proof, and the public keys that signed anchor and document.
 *
 * What makes it proof is the anchor's signature under a key the auditor holds from elsewhere: the
 * anchor covers the chain, and every fact the certificate states is checked against the chain's
 * entries. The keys it carries are for comparing ids, never for trust: anyone can make a key and
 * sign a chain, an anchor and a certificate that agree, so without a pinned key the verdict is at
 * most `unauthenticated`.
 */
import { NoCertificateError, NotReadyError } from '../errors.js';
import {
  type AnchorHeader,
  anchorHeaderOf,
  hashAnchorHeader,
  keyFingerprint,
  type PublicKeyInfo,
  signatureValid,
} from './anchor.js';
import { canonicalJson } from './canonical.js';
import { hashEntry, verifyChain } from './chain.js';
import { type AnchoredHead, type ProofStep, rootFromProof } from './merkle.js';
import type { AuditEntry } from './types.js';

export const CERTIFICATE_FORMAT = 'erasure-orchestrator.certificate.v1';

export interface CertificateTask {
  readonly taskId: string;
  readonly dataClass: string;
  readonly connector: string;
  readonly target: string;
  readonly action: string;
  readonly affectedCount: number;
  readonly executedAt: string;
  readonly verifiedAt: string;
}

/** A target the request could not address, and the identifier it lacked. */
export interface CertificateUnaddressed {
  readonly target: string;
  readonly identifier: string;
}

export interface CertificateAnchor extends AnchorHeader {
  readonly hash: string;
  readonly signature: string;
  /** The chain's head as this anchor holds it: the segment's last entry. */
  readonly leaf: AnchoredHead;
  readonly proof: readonly ProofStep[];
}

/** Everything the signature covers. */
export interface CertificateBody {
  readonly format: typeof CERTIFICATE_FORMAT;
  readonly requestId: string;
  readonly subjectPseudonym: string;
  readonly dataClasses: readonly string[];
  readonly ruleRefs: readonly string[];
  readonly reasonCode: string;
  readonly receivedAt: string;
  readonly deadline: string;
  readonly completedAt: string;
  readonly issuedAt: string;
  readonly tasks: readonly CertificateTask[];
  /**
   * Targets of the request's classes that no task ran on: each is keyed by an identifier the
   * request had no value of (names only, never values). Empty: every target was addressed.
   * Absent only in certificates issued before it existed.
   */
  readonly unaddressed?: readonly CertificateUnaddressed[];
  /** Seq and hash of each of the request's own audit entries. */
  readonly requestEntries: readonly { readonly seq: number; readonly type: string; readonly hash: string }[];
  /** The chain from the request's first entry to `head`, whole, so every link can be re-hashed. */
  readonly chain: {
    readonly chainId: string;
    readonly head: { readonly seq: number; readonly hash: string };
    readonly entries: readonly AuditEntry[];
  };
  readonly anchor: CertificateAnchor;
  /**
   * The keys that signed the anchor and the certificate, so an auditor can compare their ids with
   * the published ones. Never trusted because they are here: pin them with `--public-key`.
   */
  readonly keys: readonly PublicKeyInfo[];
  /** The key that signs the certificate. */
  readonly keyId: string;
}

export interface Certificate extends CertificateBody {
  /** Base64 DER ECDSA signature over the canonical JSON of every other field. */
  readonly signature: string;
}

export interface CertificateFacts {
  readonly request: {
    readonly requestId: string;
    readonly status: string;
    readonly dataClasses: readonly string[];
    readonly reason: string;
    readonly receivedAt: string;
    readonly deadline: string;
    readonly completedAt?: string;
    readonly unaddressed?: readonly CertificateUnaddressed[];
  };
  readonly tasks: readonly {
    readonly taskId: string;
    readonly dataClass: string;
    readonly connector: string;
    readonly target: string;
    readonly action: string;
    readonly status: string;
    readonly affectedCount: number;
    readonly startedAt?: string;
    readonly succeededAt?: string;
    readonly verifiedAt?: string;
  }[];
  readonly ruleRefs: readonly string[];
  readonly chainId: string;
  /** The chain, whole and verified against its anchors by the caller. */
  readonly entries: readonly AuditEntry[];
  readonly anchor: CertificateAnchor;
  readonly keys: readonly PublicKeyInfo[];
  readonly keyId: string;
  readonly issuedAt: string;
}

/**
 * The certificate's body, only for a completed request whose every task is verified: a partial
 * request gets none that could be mistaken for a full one (`NotReadyError` naming what is missing;
 * `NoCertificateError` when the request is final and never will have one).
 * The anchor must hold the chain at or after the request's last entry.
 */
export const requireCertifiable = (facts: Pick<CertificateFacts, 'request' | 'tasks'>): void => {
  const { request } = facts;
  // Final without erasing: say so, rather than list tasks as if they were still to come.
  const failed = facts.tasks.filter((task) => task.status === 'failed').length;
  if (request.status === 'rejected' && failed > 0) {
    const tasks = failed === 1 ? '1 task was' : `${failed} tasks were`;
    throw new NoCertificateError(
      `Request ${request.requestId} was rejected (IMOU-6) after a partial erasure: ${tasks} not erased, so there is no certificate of erasure; the audit trail proves the tasks that were`,
    );
  }
  if (request.status === 'rejected') {
    throw new NoCertificateError(
      `Request ${request.requestId} was rejected (IMOU-6): nothing was erased, so there is no certificate of erasure`,
    );
  }
  if (request.status === 'cancelled') {
    throw new NoCertificateError(
      `Request ${request.requestId} was cancelled (its deletion was withdrawn): there is no certificate of erasure`,
    );
  }
  if (facts.tasks.length === 0) {
    const message = `Request ${request.requestId} has no tasks to certify${
      request.unaddressed === undefined || request.unaddressed.length === 0
        ? ''
        : `: it erased nothing, as every target it names is keyed by an identifier it had no value of (${request.unaddressed
            .map(({ target, identifier }) => `${target} by ${identifier}`)
            .join(', ')})`
    }`;
    // Completed with nothing to erase is final; anything else may still get its tasks.
    throw request.status === 'completed' ? new NoCertificateError(message) : new NotReadyError(message);
  }
  const unverified = facts.tasks.filter(
    (task) => task.status !== 'verified' || task.verifiedAt === undefined,
  );
  if (unverified.length > 0) {
    const named = unverified.map((task) => `${task.taskId} (${task.target}: ${task.status})`).join(', ');
    throw new NotReadyError(`Not every task of request ${request.requestId} is verified: ${named}`);
  }
  if (request.status !== 'completed' || request.completedAt === undefined) {
    throw new NotReadyError(`Request ${request.requestId} is ${request.status}, not completed`);
  }
};

/** The body of the certificate (see `requireCertifiable` for when there is one). */
export const certificateBody = (facts: CertificateFacts): CertificateBody => {
  requireCertifiable(facts);
  const { request } = facts;
  const own = facts.entries.filter((entry) => entry.requestId === request.requestId);
  const first = own[0];
  const last = own.at(-1);
  if (first === undefined || last === undefined) {
    throw new NotReadyError(`Request ${request.requestId} has no audit entries`);
  }
  if (facts.anchor.leaf.seq < last.seq) {
    throw new NotReadyError(`No anchor holds the audit entries of request ${request.requestId} yet`);
  }
  const segment = facts.entries.filter(
    (entry) => entry.seq >= first.seq && entry.seq <= facts.anchor.leaf.seq,
  );
  return {
    format: CERTIFICATE_FORMAT,
    requestId: request.requestId,
    subjectPseudonym: facts.chainId,
    dataClasses: [...request.dataClasses],
    ruleRefs: [...facts.ruleRefs],
    reasonCode: request.reason,
    receivedAt: request.receivedAt,
    deadline: request.deadline,
    completedAt: request.completedAt as string,
    issuedAt: facts.issuedAt,
    tasks: facts.tasks.map((task) => ({
      taskId: task.taskId,
      dataClass: task.dataClass,
      connector: task.connector,
      target: task.target,
      action: task.action,
      affectedCount: task.affectedCount,
      executedAt: task.succeededAt ?? task.startedAt ?? (task.verifiedAt as string),
      verifiedAt: task.verifiedAt as string,
    })),
    unaddressed: (request.unaddressed ?? []).map((item) => ({
      target: item.target,
      identifier: item.identifier,
    })),
    requestEntries: own.map((entry) => ({ seq: entry.seq, type: entry.type, hash: entry.hash })),
    chain: {
      chainId: facts.chainId,
      head: { seq: facts.anchor.leaf.seq, hash: facts.anchor.leaf.hash },
      entries: segment,
    },
    anchor: facts.anchor,
    keys: facts.keys,
    keyId: facts.keyId,
  };
};

/** The text a certificate's signature covers. */
export const certificateSigningText = (body: CertificateBody): string => {
  const { signature: _signature, ...rest } = body as Partial<Certificate>;
  return canonicalJson(rest);
};

/**
 * - `valid`: every check passed and both the anchor and the certificate are signed by keys the
 *   auditor pinned (`publicKeysPem`).
 * - `unauthenticated`: consistent, but checked against the keys the certificate carries. Anyone
 *   can make a key, a chain, an anchor and a certificate that agree with each other, so this
 *   proves nothing until the key is compared with the deployment's published one.
 * - `invalid`: at least one check failed; every problem found is named, not only the first.
 */
export type CertificateVerification =
  | { readonly ok: true; readonly verdict: 'valid'; readonly summary: string }
  | {
      readonly ok: false;
      readonly verdict: 'unauthenticated';
      readonly summary: string;
      readonly problems: readonly string[];
    }
  | { readonly ok: false; readonly verdict: 'invalid'; readonly problems: readonly string[] };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const sortedList = (values: readonly string[]): string => [...values].sort().join(',');

const splitList = (value: string | number | boolean | undefined): string[] =>
  typeof value === 'string' && value !== '' ? value.split(',') : [];

/**
 * The certificate's facts checked against the entries it carries: the request's own entries are
 * hash-chained up to the anchored head, so once the chain and anchor verify, they are what the
 * anchor's signer recorded, and a fact that differs from them was changed afterwards. Covered
 * this way: receipt time, reason, data classes, deadline, unaddressed targets, completion time,
 * and every task's data class, target, connector, action, count and times. Rule refs, the
 * identifier name of each unaddressed target and `issuedAt` are covered by the certificate's
 * signature alone (no entry records them).
 */
const factProblems = (certificate: Certificate): string[] => {
  const problems: string[] = [];
  const differs = (what: string, claimed: unknown, recorded: unknown, entry: AuditEntry): void => {
    if (claimed !== recorded) {
      problems.push(
        `${what} is ${JSON.stringify(claimed)} in the certificate but ${JSON.stringify(recorded)} in its ${entry.type} entry (seq ${entry.seq})`,
      );
    }
  };
  const { chain } = certificate;
  if (certificate.subjectPseudonym !== chain.chainId) {
    problems.push('the subject pseudonym is not the chain the certificate carries');
  }
  const own = chain.entries.filter((entry) => entry.requestId === certificate.requestId);
  if (
    own.length !== certificate.requestEntries.length ||
    own.some((entry, index) => {
      const listed = certificate.requestEntries[index];
      return listed?.seq !== entry.seq || listed.hash !== entry.hash || listed.type !== entry.type;
    })
  ) {
    problems.push("the request's entries listed are not the request's entries in the chain");
  }

  const received = own.find((entry) => entry.type === 'request.received');
  if (received === undefined) {
    problems.push(`the chain holds no request.received entry of request ${certificate.requestId}`);
  } else {
    const detail = received.detail ?? {};
    differs('receivedAt', certificate.receivedAt, received.at, received);
    differs('reasonCode', certificate.reasonCode, detail.reason, received);
    differs(
      'dataClasses',
      sortedList(certificate.dataClasses),
      sortedList(splitList(detail.dataClasses)),
      received,
    );
    // Certificates issued before `unaddressed` existed have none; the entry still says whether
    // the request had any, so an older certificate of such a request is not taken as full.
    differs(
      'unaddressed targets',
      sortedList((certificate.unaddressed ?? []).map((item) => item.target)),
      sortedList(splitList(detail.unaddressed)),
      received,
    );
    const extended = own.filter((entry) => entry.type === 'request.deadline_extended').at(-1);
    const deadlineEntry = extended ?? received;
    differs('deadline', certificate.deadline, deadlineEntry.detail?.deadline, deadlineEntry);
  }

  const completed = own.find((entry) => entry.type === 'request.completed');
  if (completed === undefined) {
    problems.push(`the chain holds no request.completed entry of request ${certificate.requestId}`);
  } else {
    differs('completedAt', certificate.completedAt, completed.at, completed);
    differs('the number of tasks', certificate.tasks.length, completed.detail?.verifiedCount, completed);
  }

  const verified = own.filter((entry) => entry.type === 'task.verified');
  const listed = new Set<string>();
  for (const task of certificate.tasks) {
    if (listed.has(task.taskId)) problems.push(`task ${task.taskId} is listed twice`);
    listed.add(task.taskId);
    const entry = verified.find((candidate) => candidate.taskId === task.taskId);
    if (entry === undefined) {
      problems.push(`task ${task.taskId} has no task.verified entry in the chain`);
      continue;
    }
    const detail = entry.detail ?? {};
    const of = (field: string) => `task ${task.taskId}: ${field}`;
    differs(of('dataClass'), task.dataClass, entry.dataClass, entry);
    differs(of('target'), task.target, entry.target, entry);
    differs(of('connector'), task.connector, detail.connector, entry);
    differs(of('action'), task.action, detail.action, entry);
    differs(of('affectedCount'), task.affectedCount, detail.affectedCount, entry);
    differs(of('verifiedAt'), task.verifiedAt, entry.at, entry);
    // Trails written before one entry per outcome keep the execution in a task.succeeded entry.
    const executed =
      detail.executedAt ??
      own.filter((other) => other.type === 'task.succeeded' && other.taskId === task.taskId).at(-1)?.at;
    if (executed !== undefined) differs(of('executedAt'), task.executedAt, executed, entry);
  }
  for (const entry of verified) {
    if (entry.taskId !== undefined && !listed.has(entry.taskId)) {
      problems.push(
        `task ${entry.taskId} (task.verified entry seq ${entry.seq}) is missing from the certificate`,
      );
    }
  }
  return problems;
};

/** The keys to check signatures with, and whether the auditor pinned them. */
const trustedKeys = (
  certificate: Certificate,
  publicKeysPem: readonly string[] | undefined,
  problems: string[],
): { readonly keys: PublicKeyInfo[]; readonly pinned: boolean } => {
  if (publicKeysPem !== undefined && publicKeysPem.length > 0) {
    return {
      pinned: true,
      keys: publicKeysPem.map((publicKeyPem) => ({
        keyId: keyFingerprint(publicKeyPem),
        algorithm: 'ECDSA_SHA_256',
        publicKeyPem,
      })),
    };
  }
  const keys = (certificate.keys ?? []).filter((key) => {
    const genuine = keyFingerprint(key.publicKeyPem) === key.keyId;
    if (!genuine) problems.push(`key ${key.keyId} carried by the certificate is not the key it names`);
    return genuine;
  });
  return { pinned: false, keys };
};

/**
 * Checks a certificate offline. `publicKeysPem`: the keys the auditor trusts, from a channel that
 * is not the certificate (`GET /v1/audit/public-keys`, the deployment's published key). Without
 * them the certificate can at best be `unauthenticated`: its own keys are used to find
 * inconsistencies, never to vouch for it.
 */
export const verifyCertificate = (
  input: unknown,
  options: { readonly publicKeysPem?: readonly string[] } = {},
): CertificateVerification => {
  if (!isObject(input) || input.format !== CERTIFICATE_FORMAT) {
    return {
      ok: false,
      verdict: 'invalid',
      problems: [`not a certificate: format is not ${CERTIFICATE_FORMAT}`],
    };
  }
  const certificate = input as unknown as Certificate;
  const problems: string[] = [];
  try {
    const { keys: trusted, pinned } = trustedKeys(certificate, options.publicKeysPem, problems);
    const keyOf = (keyId: string, what: string): PublicKeyInfo | undefined => {
      const key = trusted.find((candidate) => candidate.keyId === keyId);
      if (key === undefined)
        problems.push(`unknown key: ${what} is signed by ${keyId}, which is not a trusted key`);
      return key;
    };

    const certificateKey = keyOf(certificate.keyId, 'the certificate');
    if (
      certificateKey !== undefined &&
      !signatureValid(certificateSigningText(certificate), certificate.signature, certificateKey.publicKeyPem)
    ) {
      problems.push(
        'bad signature: the certificate was changed after it was signed, or not signed by its key',
      );
    }

    const { chain, anchor } = certificate;
    for (const entry of chain.entries) {
      let matches = false;
      try {
        matches = hashEntry(entry) === entry.hash;
      } catch {
        matches = false;
      }
      if (!matches)
        problems.push(`entry hash mismatch: audit entry seq ${entry.seq} does not match its hash`);
    }
    const first = chain.entries[0];
    if (first === undefined) {
      problems.push('the certificate holds no audit entries');
    } else {
      const links = verifyChain(chain.entries, {
        chainId: chain.chainId,
        after: { seq: first.seq - 1, hash: first.prevHash },
        expectedHead: chain.head,
      });
      if (!links.ok) problems.push(`broken chain: ${links.message}`);
    }
    for (const own of certificate.requestEntries) {
      if (!chain.entries.some((entry) => entry.seq === own.seq && entry.hash === own.hash)) {
        problems.push(`entry hash mismatch: request entry seq ${own.seq} is not in the chain`);
      }
    }
    problems.push(...factProblems(certificate));

    const leaf = { chainId: chain.chainId, seq: chain.head.seq, hash: chain.head.hash };
    if (
      anchor.leaf.chainId !== leaf.chainId ||
      anchor.leaf.seq !== leaf.seq ||
      anchor.leaf.hash !== leaf.hash
    ) {
      problems.push('the anchored head is not the head of the chain in the certificate');
    }
    if (rootFromProof(leaf, anchor.proof) !== anchor.root) {
      problems.push(`proof does not reach the root of anchor ${anchor.seq}`);
    }
    if (hashAnchorHeader(anchorHeaderOf(anchor)) !== anchor.hash) {
      problems.push(`anchor ${anchor.seq} does not match its hash`);
    }
    const anchorKey = keyOf(anchor.keyId, `anchor ${anchor.seq}`);
    if (anchorKey !== undefined && !signatureValid(anchor.hash, anchor.signature, anchorKey.publicKeyPem)) {
      problems.push(`bad signature: anchor ${anchor.seq} is not signed by its key`);
    }
    if (problems.length > 0) return { ok: false, verdict: 'invalid', problems: [...new Set(problems)] };

    const affected = certificate.tasks.reduce((sum, task) => sum + task.affectedCount, 0);
    const unaddressed = certificate.unaddressed ?? [];
    const facts =
      `request ${certificate.requestId} erased (${certificate.tasks.length} task(s) verified, ` +
      `${affected} record(s))` +
      (unaddressed.length === 0
        ? ''
        : `, except ${unaddressed.length} target(s) it could not address: ` +
          unaddressed.map((item) => `${item.target} (no ${item.identifier})`).join(', ')) +
      `, completed ${certificate.completedAt}; audit entries ${first?.seq}..${chain.head.seq} ` +
      `anchored in anchor ${anchor.seq} at ${anchor.at}`;
    if (!pinned) {
      const keyIds = [...new Set([anchor.keyId, certificate.keyId])].join(' and ');
      const problem =
        `the signing key is not authenticated: the anchor and the certificate are signed by ${keyIds}, ` +
        "taken from the certificate itself; pass --public-key with the deployment's published key " +
        '(GET /v1/audit/public-keys)';
      return {
        ok: false,
        verdict: 'unauthenticated',
        summary: `CONSISTENT, NOT AUTHENTICATED: ${facts}; ${problem}`,
        problems: [problem],
      };
    }
    return {
      ok: true,
      verdict: 'valid',
      summary:
        `VALID: ${facts}; anchor signed by key ${anchor.keyId.slice(0, 16)}, certificate by key ` +
        `${certificate.keyId.slice(0, 16)}, both pinned`,
    };
  } catch (error) {
    return {
      ok: false,
      verdict: 'invalid',
      problems: [
        ...problems,
        `malformed certificate: ${error instanceof Error ? error.message : String(error)}`,
      ],
    };
  }
};
