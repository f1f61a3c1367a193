/**
 * Suppression after erasure: once a subject is erased (or its account deleted or closed), the keyed
 * hashes of its subject id and identifiers are listed for a period, so a product service can ask
 * whether an e-mail it is about to import belongs to an erased person and refuse to re-collect it.
 * Only keyed hashes are kept (`identifierHash`): the list cannot be read back into identifiers.
 */
import type { AuditEvent } from './audit/types.js';
import { identifierHashes, SUBJECT_ID_IDENTIFIER } from './identifiers/identifiers.js';
import type { SubjectIdentifiers } from './identifiers/types.js';
import type { PolicyCatalog } from './policy/types.js';
import { addDuration, compareDurations } from './time.js';

/** One listed hash, until `expiresAt` (the store's TTL removes it some time after). */
export interface Suppression {
  readonly hash: string;
  readonly listedAt: string;
  readonly expiresAt: string;
}

/**
 * The longest retention of any class in the catalog, jurisdiction overrides included (calendar
 * durations compared as the domain compares them): the default suppression period, so a person is
 * not re-collected while any of their old data could still lawfully exist somewhere.
 */
export const longestRetention = (catalog: PolicyCatalog): string => {
  let longest = 'P0D';
  for (const policy of catalog.dataClasses) {
    for (const period of [policy.retention, ...Object.values(policy.jurisdictionOverrides)]) {
      if (compareDurations(period, longest) > 0) longest = period;
    }
  }
  return longest;
};

/** The deployment's suppression period: its own, or the catalog's longest retention. */
export const suppressionPeriod = (config: {
  readonly catalog: PolicyCatalog;
  readonly suppression?: { readonly period?: string };
}): string => config.suppression?.period ?? longestRetention(config.catalog);

/** Entries for every keyed hash given, listed at `at` for `period`. */
export const suppressionsOf = (
  hashes: Readonly<Record<string, readonly string[]>>,
  at: string,
  period: string,
): Suppression[] => {
  const expiresAt = addDuration(at, period);
  const unique = [...new Set(Object.values(hashes).flat())];
  return unique.map((hash) => ({ hash, listedAt: at, expiresAt }));
};

/** The keyed hashes to look up or list for a subject id (optional) and identifiers. */
export const suppressionHashes = (
  key: string,
  identifiers: SubjectIdentifiers | undefined,
  subjectId?: string,
): Readonly<Record<string, readonly string[]>> => identifierHashes(key, identifiers, subjectId);

/** The names (`subjectId`, `email`) any of whose hashes is listed and not expired at `now`. */
export const suppressedNames = (
  hashes: Readonly<Record<string, readonly string[]>>,
  listed: readonly Suppression[],
  now: string,
): string[] => {
  const active = new Set(listed.filter((entry) => entry.expiresAt > now).map((entry) => entry.hash));
  const names = Object.entries(hashes)
    .filter(([, values]) => values.some((hash) => active.has(hash)))
    .map(([name]) => name);
  // The subject id first, then the identifiers in the order given.
  return names.sort((a, b) => Number(b === SUBJECT_ID_IDENTIFIER) - Number(a === SUBJECT_ID_IDENTIFIER));
};

/**
 * Compliance lifted a suppression (a person came back with consent): on the system chain, with the
 * keyed hashes lifted and the reason code; never a value.
 */
export const suppressionLifted = (
  liftId: string,
  hashes: readonly string[],
  names: readonly string[],
  reason: string,
  at: string,
): AuditEvent => ({
  type: 'suppression.lifted',
  at,
  idempotencyKey: `suppression:${liftId}:lifted`,
  detail: {
    liftId,
    reason,
    names: names.join(','),
    hashes: [...hashes].sort().join(','),
    count: hashes.length,
  },
});
