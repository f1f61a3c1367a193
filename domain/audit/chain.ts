import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { requireCanonicalInstant } from '../time.js';
import { canonicalEntry } from './canonical.js';
import type { AuditEntry, AuditEvent, ChainVerification } from './types.js';

/** The `prevHash` of the first entry of every chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The chain of events that concern no subject (sweeps, configuration). */
export const SYSTEM_CHAIN_ID = 'system';

/** The last entry of a chain, as far as a reader or the stored head knows. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export interface VerifyChainOptions {
  /** The head the store recorded: entries missing after it are `truncated`, extra ones `inserted`. */
  readonly expectedHead?: ChainHead;
  /** The chain every entry must belong to. Default: the chain most of the entries name. */
  readonly chainId?: string;
  /** Verify a segment: the entry the first given entry follows. Default: the genesis (seq 0). */
  readonly after?: ChainHead;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** SHA-256 hex of the entry's canonical form (every field but `hash`). */
export const hashEntry = (entry: Omit<AuditEntry, 'hash'> | AuditEntry): string =>
  sha256Hex(canonicalEntry(entry));

const requireHead = (head: ChainHead, field: string): void => {
  if (!Number.isSafeInteger(head.seq) || head.seq < 0) {
    throw new ValidationError(`${field}.seq must be a non-negative integer`, `${field}.seq`);
  }
  if (!SHA256_HEX.test(head.hash)) {
    throw new ValidationError(`${field}.hash must be 64 lowercase hex digits`, `${field}.hash`);
  }
};

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>;

/**
 * The entry that appends `event` after `previous` (undefined: the chain is empty). Only the
 * `AuditEvent` fields are copied, so a caller passing a wider object cannot chain extra data.
 */
export const chainEntry = (
  previous: ChainHead | undefined,
  event: AuditEvent,
  chainId: string,
  subjectPseudonym?: string,
): AuditEntry => {
  if (chainId.length === 0) throw new ValidationError('chainId must not be empty', 'chainId');
  if (previous !== undefined) requireHead(previous, 'previous');
  if (event.type.length === 0) throw new ValidationError('The event type must not be empty', 'type');
  if (event.idempotencyKey.length === 0) {
    throw new ValidationError('The idempotency key must not be empty', 'idempotencyKey');
  }
  requireCanonicalInstant(event.at, 'at');
  if (subjectPseudonym !== undefined && !SHA256_HEX.test(subjectPseudonym)) {
    throw new ValidationError('subjectPseudonym must be an HMAC-SHA-256 hex digest', 'subjectPseudonym');
  }
  const unhashed: Omit<AuditEntry, 'hash'> = {
    type: event.type,
    at: event.at,
    idempotencyKey: event.idempotencyKey,
    ...definedOnly({
      requestId: event.requestId,
      taskId: event.taskId,
      dataClass: event.dataClass,
      ruleRef: event.ruleRef,
      target: event.target,
      detail: event.detail === undefined ? undefined : { ...event.detail },
      subjectPseudonym,
    }),
    chainId,
    seq: (previous?.seq ?? 0) + 1,
    prevHash: previous?.hash ?? GENESIS_HASH,
  };
  return { ...unhashed, hash: hashEntry(unhashed) };
};

const hashMatches = (entry: AuditEntry): boolean => {
  try {
    return hashEntry(entry) === entry.hash;
  } catch {
    // Content that has no canonical form (NaN, a Date...) cannot be what was hashed.
    return false;
  }
};

/** The chain id most entries carry (the first one seen on a tie), so one stray entry is the odd one out. */
const prevailingChainId = (entries: readonly AuditEntry[]): string | undefined => {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(entry.chainId, (counts.get(entry.chainId) ?? 0) + 1);
  let prevailing: string | undefined;
  let highest = 0;
  for (const [chainId, count] of counts) {
    if (count > highest) {
      prevailing = chainId;
      highest = count;
    }
  }
  return prevailing;
};

type Broken = Extract<ChainVerification, { ok: false }>;

const broken = (
  entries: readonly AuditEntry[],
  index: number,
  problem: Broken['problem'],
  message: string,
): Broken => ({ ok: false, index, seq: entries[index]?.seq, problem, message });

/**
 * Where a link is broken, decides which entry is out of place. A forged entry that was re-hashed
 * is consistent on its own; only its neighbours give it away, so this looks one entry ahead.
 */
const findBreak = (entries: readonly AuditEntry[], anchor: ChainHead, chainId: string | undefined) => {
  let previous = anchor;
  let previousLink: string | undefined;
  for (const [index, entry] of entries.entries()) {
    if (!hashMatches(entry)) {
      return broken(entries, index, 'modified', `Entry seq ${entry.seq} does not match its hash`);
    }
    if (chainId !== undefined && entry.chainId !== chainId) {
      return broken(entries, index, 'wrong-chain', `Entry seq ${entry.seq} belongs to another chain`);
    }
    const expectedSeq = previous.seq + 1;
    if (entry.seq === expectedSeq && entry.prevHash === previous.hash) {
      previousLink = entry.prevHash;
      previous = { seq: entry.seq, hash: entry.hash };
      continue;
    }
    const successor = entries[index + 1];
    const later = entries.slice(index + 1);
    if (index > 0 && entry.hash === previous.hash) {
      return broken(entries, index, 'inserted', `Entry seq ${entry.seq} repeats the entry before it`);
    }
    if (entry.seq === expectedSeq) {
      if (successor !== undefined && successor.seq === entry.seq && successor.prevHash === previous.hash) {
        return broken(
          entries,
          index,
          'inserted',
          `Entry seq ${entry.seq} is not chained to seq ${previous.seq}`,
        );
      }
      return index === 0
        ? broken(entries, 0, 'modified', `Entry seq ${entry.seq} is not chained to seq ${previous.seq}`)
        : broken(
            entries,
            index - 1,
            'modified',
            `Entry seq ${previous.seq} is not the entry seq ${entry.seq} was chained to (replaced and re-hashed)`,
          );
    }
    if (index > 0 && entry.seq === previous.seq && entry.prevHash === previousLink) {
      // Two entries claim the same place; the genuine one is the one its successor is chained to.
      const intruder = successor !== undefined && successor.prevHash === previous.hash ? index : index - 1;
      return broken(entries, intruder, 'inserted', `Two entries claim seq ${entry.seq}`);
    }
    if (entry.seq < expectedSeq) {
      return broken(entries, index, 'inserted', `Entry seq ${entry.seq} appears after seq ${previous.seq}`);
    }
    if (later.some((candidate) => candidate.hash === entry.hash)) {
      return broken(entries, index, 'inserted', `Entry seq ${entry.seq} is a copy of a later entry`);
    }
    if (later.some((candidate) => candidate.seq === expectedSeq)) {
      return broken(entries, index, 'reordered', `Entry seq ${entry.seq} comes before seq ${expectedSeq}`);
    }
    return broken(
      entries,
      index,
      'missing',
      `Entries from seq ${expectedSeq} to seq ${entry.seq - 1} are missing`,
    );
  }
  return undefined;
};

/** Compares an unbroken run of entries with the head the store recorded. */
const compareWithHead = (entries: readonly AuditEntry[], anchor: ChainHead, head: ChainHead) => {
  requireHead(head, 'expectedHead');
  if (head.seq < anchor.seq) {
    throw new ValidationError('expectedHead lies before the first entry verified', 'expectedHead.seq');
  }
  const lastSeq = entries.at(-1)?.seq ?? anchor.seq;
  if (head.seq > lastSeq) {
    return broken(
      entries,
      entries.length,
      'truncated',
      `The head is at seq ${head.seq} but the entries end at seq ${lastSeq}`,
    );
  }
  // After findBreak, entry i has seq anchor.seq + i + 1.
  const headIndex = head.seq - anchor.seq - 1;
  const headHash = entries[headIndex]?.hash ?? anchor.hash;
  if (headHash !== head.hash) {
    return broken(
      entries,
      Math.max(headIndex, 0),
      'modified',
      `Entry seq ${head.seq} is not the one the head recorded (the chain was rewritten)`,
    );
  }
  return head.seq < lastSeq
    ? broken(
        entries,
        headIndex + 1,
        'inserted',
        `Entries after the head (seq ${head.seq}) up to seq ${lastSeq}`,
      )
    : undefined;
};

/**
 * Checks that `entries` form one unbroken chain: every hash matches its entry, seqs run without
 * gaps from `after` (default: the genesis), each entry is chained to the one before it, all belong
 * to one chain and, given `expectedHead`, the entries end exactly there. Reports the first break:
 * its 0-based index in `entries` (`entries.length` for a truncated tail) and that entry's seq.
 */
export const verifyChain = (
  entries: readonly AuditEntry[],
  options: VerifyChainOptions = {},
): ChainVerification => {
  const anchor = options.after ?? { seq: 0, hash: GENESIS_HASH };
  if (options.after !== undefined) requireHead(options.after, 'after');
  const chainId = options.chainId ?? prevailingChainId(entries);
  const problem =
    findBreak(entries, anchor, chainId) ??
    (options.expectedHead === undefined ? undefined : compareWithHead(entries, anchor, options.expectedHead));
  if (problem !== undefined) return problem;
  return { ok: true, length: entries.length, headHash: entries.at(-1)?.hash ?? anchor.hash };
};
