/**
 * A subject's identifiers: which names a deployment declares, what a value may be, which
 * identifier a target addresses its data by, and the keyed hashes that stand for a value once the
 * raw value must be forgotten (suppression, resolved sets). The subject id is always addressable
 * as the identifier `subjectId`, which is never declared.
 */
import { pseudonymise } from '../audit/pseudonym.js';
import type { ConnectorTarget } from '../connectors/types.js';
import { ValidationError } from '../errors.js';
import { MAX_ECHOED_NAME } from '../vocabulary/parse.js';
import { IDENTIFIER_NAME_PATTERN, templatePlaceholder } from '../vocabulary/subject-template.js';
import type { SubjectIdentifiers } from './types.js';

export { IDENTIFIER_NAME_PATTERN } from '../vocabulary/subject-template.js';
export type { SubjectIdentifiers } from './types.js';

/** The implicit identifier: the subject id itself. */
export const SUBJECT_ID_IDENTIFIER = 'subjectId';
export const MAX_IDENTIFIER_VALUE_LENGTH = 256;
/** Values of one identifier (a person's device serials, e-mail addresses). */
export const MAX_VALUES_PER_IDENTIFIER = 16;
/**
 * Values of all identifiers of one subject. The commit that completes an erasure also lists each
 * value (and the subject id) for suppression: 32 keep it within DynamoDB's 100 items per transaction
 * next to a 32-task request's own items.
 */
export const MAX_IDENTIFIER_VALUES = 32;

/** One declared identifier: the pattern its values must match (anchored: the whole value). */
export interface IdentifierDeclaration {
  readonly pattern: string;
  readonly description?: string;
}

export type IdentifierDeclarations = Readonly<Record<string, IdentifierDeclaration>>;

const anchored = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, 'u');

/** Why `pattern` cannot be an identifier's pattern, or undefined. */
export const identifierPatternProblem = (pattern: string): string | undefined => {
  try {
    anchored(pattern);
    return undefined;
  } catch {
    return 'is not a valid regular expression';
  }
};

/** Why `name` cannot be declared as an identifier, or undefined. */
export const identifierNameProblem = (name: string): string | undefined => {
  if (name === SUBJECT_ID_IDENTIFIER)
    return "is the subject id, which every deployment has: don't declare it";
  return IDENTIFIER_NAME_PATTERN.test(name)
    ? undefined
    : "is not an identifier name (camelCase letters and digits, at most 40, e.g. 'deviceId')";
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks `input` (`{"email": "...", "deviceId": ["...", "..."]}`) against the declared identifiers
 * and returns it normalised: every value a list, repeats dropped, names in declaration order. A
 * problem is a ValidationError naming the field (`identifiers.deviceId[1]`); messages never repeat
 * a value, which is personal data.
 */
export const parseIdentifiers = (
  declared: IdentifierDeclarations,
  input: unknown,
  field = 'identifiers',
): SubjectIdentifiers => {
  if (input === undefined) return {};
  if (!isRecord(input)) throw new ValidationError(`${field} must be an object of identifier values`, field);
  const names = Object.keys(declared);
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(declared, name)) {
      const hint =
        name === SUBJECT_ID_IDENTIFIER
          ? 'the subject id goes in subjectId'
          : names.length === 0
            ? 'this deployment declares no identifiers'
            : `declared: ${names.join(', ')}`;
      const echoed = name.slice(0, MAX_ECHOED_NAME);
      throw new ValidationError(
        `${field}.${echoed} is not a declared identifier (${hint})`,
        `${field}.${echoed}`,
      );
    }
  }
  const result: Record<string, string[]> = {};
  let total = 0;
  for (const name of names) {
    const raw = input[name];
    if (raw === undefined) continue;
    const path = `${field}.${name}`;
    const list = typeof raw === 'string' ? [raw] : raw;
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_VALUES_PER_IDENTIFIER) {
      throw new ValidationError(
        `${path} must be a string or a list of 1 to ${MAX_VALUES_PER_IDENTIFIER} strings`,
        path,
      );
    }
    const declaration = declared[name] as IdentifierDeclaration;
    const pattern = anchored(declaration.pattern);
    // The declaration's own words say what a value looks like; the value itself is never repeated.
    const described = declaration.description === undefined ? '' : ` (${declaration.description})`;
    const values: string[] = [];
    list.forEach((value: unknown, index) => {
      const at = typeof raw === 'string' ? path : `${path}[${index}]`;
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_IDENTIFIER_VALUE_LENGTH) {
        throw new ValidationError(
          `${at} must be a string of 1 to ${MAX_IDENTIFIER_VALUE_LENGTH} characters`,
          at,
        );
      }
      if (CONTROL.test(value) || !pattern.test(value)) {
        throw new ValidationError(`${at} does not match the pattern declared for '${name}'${described}`, at);
      }
      if (!values.includes(value)) values.push(value);
    });
    total += values.length;
    result[name] = values;
  }
  if (total > MAX_IDENTIFIER_VALUES) {
    throw new ValidationError(`${field} may hold at most ${MAX_IDENTIFIER_VALUES} values in all`, field);
  }
  return result;
};

/** Every value of every identifier, merged: the union of the sets, in first-seen order. */
export const mergeIdentifiers = (
  ...sets: readonly (SubjectIdentifiers | undefined)[]
): SubjectIdentifiers => {
  const merged: Record<string, string[]> = {};
  for (const set of sets) {
    for (const [name, values] of Object.entries(set ?? {})) {
      const into = merged[name] ?? [];
      for (const value of values) if (!into.includes(value)) into.push(value);
      merged[name] = into;
    }
  }
  return merged;
};

export const countValues = (identifiers: SubjectIdentifiers | undefined): number =>
  Object.values(identifiers ?? {}).reduce((total, values) => total + values.length, 0);

export const hasIdentifiers = (identifiers: SubjectIdentifiers | undefined): boolean =>
  countValues(identifiers) > 0;

/**
 * The identifier a target finds one subject's data by: the placeholder of an S3 template, a
 * DynamoDB target's `identifier` (default the subject id). Undefined for a webhook, which is told
 * the subject (and the identifiers it declares) and finds the data itself.
 */
export const targetIdentifier = (target: ConnectorTarget): string | undefined => {
  switch (target.kind) {
    case 's3-prefix':
      return templatePlaceholder(target.prefixTemplate) ?? SUBJECT_ID_IDENTIFIER;
    case 'dynamodb-items':
      return target.identifier ?? SUBJECT_ID_IDENTIFIER;
    case 'http-webhook':
      return undefined;
  }
};

/** Every identifier name a target uses (what the config must declare), the subject id excluded. */
export const identifiersUsedBy = (target: ConnectorTarget): string[] => {
  if (target.kind === 'http-webhook') return [...(target.identifiers ?? [])];
  const name = targetIdentifier(target);
  return name === undefined || name === SUBJECT_ID_IDENTIFIER ? [] : [name];
};

/**
 * The values a target's data is found by: one unit of work each. The subject id for a target
 * keyed by it; the identifier's values otherwise (none when the subject has none known); undefined
 * for a webhook (one call for the whole subject).
 */
export const addressValues = (
  target: ConnectorTarget,
  subjectId: string,
  identifiers: SubjectIdentifiers | undefined,
): readonly string[] | undefined => {
  const name = targetIdentifier(target);
  if (name === undefined) return undefined;
  if (name === SUBJECT_ID_IDENTIFIER) return [subjectId];
  return identifiers?.[name] ?? [];
};

/**
 * The part of a subject's identifiers a target's task needs (data minimisation: a task keeps only
 * what its own connector is given): its addressing identifier, or the names a webhook declares.
 */
export const identifiersFor = (
  target: ConnectorTarget,
  identifiers: SubjectIdentifiers | undefined,
): SubjectIdentifiers => {
  const picked: Record<string, readonly string[]> = {};
  for (const name of identifiersUsedBy(target)) {
    const values = identifiers?.[name];
    if (values !== undefined && values.length > 0) picked[name] = values;
  }
  return picked;
};

/**
 * The keyed hash of one identifier value: HMAC (the pseudonym key) over `name \0 value`, so an
 * e-mail and a device serial that happen to be the same text stay apart, and nobody holding a
 * guessed value can confirm it without the key.
 */
export const identifierHash = (key: string, name: string, value: string): string =>
  pseudonymise(key, `${name}\u0000${value}`);

/** The keyed hashes of every value, by name (the subject id under `subjectId` when given). */
export const identifierHashes = (
  key: string,
  identifiers: SubjectIdentifiers | undefined,
  subjectId?: string,
): Readonly<Record<string, readonly string[]>> => {
  const hashes: Record<string, string[]> = {};
  if (subjectId !== undefined)
    hashes[SUBJECT_ID_IDENTIFIER] = [identifierHash(key, SUBJECT_ID_IDENTIFIER, subjectId)];
  for (const [name, values] of Object.entries(identifiers ?? {})) {
    if (values.length > 0) hashes[name] = values.map((value) => identifierHash(key, name, value));
  }
  return hashes;
};
