import type { ErasureRequest } from '../../domain/erasure/types.js';
import { ValidationError } from '../../domain/errors.js';
import { hasIdentifiers, type SubjectIdentifiers } from '../../domain/identifiers/identifiers.js';
import type { Change } from '../../domain/ports/index.js';
import {
  suppressedNames,
  suppressionHashes,
  suppressionLifted,
  suppressionPeriod,
  suppressionsOf,
} from '../../domain/suppression.js';
import { validateReasonCode } from '../../domain/vocabulary/index.js';
import { nowIso, type ServiceDeps, type SettleDeps } from './deps.js';

/** A subject id and/or identifiers to look up or lift. */
export interface SuppressionQuery {
  readonly subjectId?: string;
  readonly identifiers?: SubjectIdentifiers;
}

const requireSomething = (query: SuppressionQuery): void => {
  if (query.subjectId === undefined && !hasIdentifiers(query.identifiers)) {
    throw new ValidationError('identifiers: give a subjectId or at least one identifier', 'identifiers');
  }
};

const storeOf = (deps: Pick<ServiceDeps, 'suppressions'>) => {
  if (deps.suppressions === undefined) throw new Error('This function has no suppression list');
  return deps.suppressions;
};

/**
 * The change that lists a completed request's subject for suppression, in the commit that
 * completes it: the keyed hashes recorded at intake (the subject id's and each identifier's), so
 * the worker needs neither the raw values nor the key. None for a request from before hashes
 * were recorded, without the config (the period comes from it), or that erased nothing (no task:
 * every target it named was keyed by an identifier it had no value of).
 */
export const completionSuppression = (
  deps: Pick<SettleDeps, 'config'>,
  request: ErasureRequest,
  at: string,
): Change[] => {
  const hashes = request.identifierPseudonyms;
  if (hashes === undefined || deps.config === undefined || request.taskCount === 0) return [];
  const entries = suppressionsOf(hashes, at, suppressionPeriod(deps.config));
  return entries.length === 0 ? [] : [{ kind: 'suppression.add', entries }];
};

/** `account.deleted` / `account.closed`: the subject is listed with the event's own commit. */
export const eventSuppression = (
  deps: Pick<ServiceDeps, 'config' | 'settings'>,
  query: SuppressionQuery & { readonly subjectId: string },
  at: string,
): Change => ({
  kind: 'suppression.add',
  entries: suppressionsOf(
    suppressionHashes(deps.settings.idKey, query.identifiers, query.subjectId),
    at,
    suppressionPeriod(deps.config),
  ),
});

/**
 * Which of the given subject id and identifiers belong to an erased subject (listed and not
 * expired): their names (`subjectId`, `email`), never the values.
 */
export const checkSuppressions = async (
  deps: Pick<ServiceDeps, 'suppressions' | 'settings' | 'clock'>,
  query: SuppressionQuery,
): Promise<string[]> => {
  requireSomething(query);
  const hashes = suppressionHashes(deps.settings.idKey, query.identifiers, query.subjectId);
  const listed = await storeOf(deps).find([...new Set(Object.values(hashes).flat())]);
  return suppressedNames(hashes, listed, nowIso(deps));
};

/**
 * Compliance lifts the suppression of the given subject id and identifiers (a person came back
 * with consent), audited on the system chain with the keyed hashes and the reason. Answers the
 * names that were listed; lifting what is not listed changes and audits nothing.
 */
export const liftSuppressions = async (
  deps: Pick<ServiceDeps, 'suppressions' | 'settings' | 'clock' | 'uow' | 'randomId'>,
  query: SuppressionQuery & { readonly reason: string },
): Promise<string[]> => {
  requireSomething(query);
  // The reason goes on the system chain for good, beside the keyed hashes: not the values lifted.
  validateReasonCode(query.reason, 'reason', query.subjectId, query.identifiers);
  const hashes = suppressionHashes(deps.settings.idKey, query.identifiers, query.subjectId);
  const listed = await storeOf(deps).find([...new Set(Object.values(hashes).flat())]);
  if (listed.length === 0) return [];
  const at = nowIso(deps);
  // Every listed hash, expired ones too: the list then holds nothing of these values.
  const names = suppressedNames(hashes, listed, '');
  const lifted = listed.map((entry) => entry.hash);
  const liftId = `lift_${deps.randomId().replaceAll('-', '')}`;
  await deps.uow.commit(
    [{ kind: 'suppression.lift', hashes: lifted }],
    [{ event: suppressionLifted(liftId, lifted, names, query.reason, at) }],
  );
  return names;
};
