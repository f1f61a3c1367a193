/**
 * What intake does with a resolver's answer: checks it against the declared identifiers and the
 * targets (as it checks identifiers it is sent), and merges it with the sent ones.
 */
import { ResolverError, ValidationError } from '../errors.js';
import {
  countValues,
  MAX_IDENTIFIER_VALUES,
  mergeIdentifiers,
  type SubjectIdentifiers,
} from '../identifiers/identifiers.js';
import { validateIdentifiers } from './addressing.js';
import type { DeploymentConfig } from './types.js';

/** The identifiers a request addresses, and what of them the resolver gave. */
export interface Resolution {
  /** The sent identifiers, then the resolved ones, repeats dropped. */
  readonly identifiers: SubjectIdentifiers;
  /** Per identifier name, the values the resolver answered (names it gave none of are absent). */
  readonly resolved: Readonly<Record<string, number>>;
  /** The values themselves, as checked: what the resolver knows of the subject. */
  readonly known: SubjectIdentifiers;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * `answer` (`{ "email": "...", "deviceId": ["...", "..."] }`, as the resolver holds them) checked
 * like sent identifiers, and merged after `sent`. A name with no value (null, empty list) is
 * skipped: the resolver knows none. Anything else that is wrong (an undeclared name, a value that
 * does not match its pattern or that a target cannot address, too many values in all) is a
 * `ResolverError` naming the resolver and the identifier, never the value: the resolver's data
 * needs fixing, and retrying will not do it.
 */
export const resolveWith = (
  config: DeploymentConfig,
  resolver: string,
  sent: SubjectIdentifiers | undefined,
  answer: unknown,
): Resolution => {
  if (!isRecord(answer)) {
    throw new ResolverError(
      `Identifier resolver '${resolver}' answered something that is not an object of identifiers`,
      resolver,
      false,
    );
  }
  const known = Object.fromEntries(
    Object.entries(answer).filter(
      ([, value]) => value !== null && value !== undefined && !(Array.isArray(value) && value.length === 0),
    ),
  );
  let resolved: SubjectIdentifiers;
  try {
    resolved = validateIdentifiers(config, known, 'identifiers');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ResolverError(
      `Identifier resolver '${resolver}' answered an unusable identifier: ${error.message}`,
      resolver,
      false,
      { cause: error },
    );
  }
  const identifiers = mergeIdentifiers(sent, resolved);
  const total = countValues(identifiers);
  if (total > MAX_IDENTIFIER_VALUES) {
    throw new ResolverError(
      `Identifier resolver '${resolver}': the sent and resolved identifiers hold ${total} values, more than the ${MAX_IDENTIFIER_VALUES} one request takes`,
      resolver,
      false,
    );
  }
  return {
    identifiers,
    resolved: Object.fromEntries(Object.entries(resolved).map(([name, values]) => [name, values.length])),
    known: resolved,
  };
};
