/**
 * Zod failures → one ValidationError whose `field` is the path of the first problem
 * (`dataClasses[3].retention`) and whose message puts that field in front of the rule it broke
 * (`reason must be a reason code ...`). Used for API bodies and queries, the policy catalog and the
 * deployment config alike.
 *
 * Messages set in schemas are predicates ("is not an ISO 8601 duration", "must be ..."); zod's own
 * checks get predicates from `builtInMessage`.
 */
import type * as z from 'zod';
import { ValidationError } from '../errors.js';

type Path = readonly PropertyKey[];

const isRecord = (value: unknown): value is Record<PropertyKey, unknown> =>
  typeof value === 'object' && value !== null;

/** `value` in quotes when it is a string, else as it prints: for messages about configuration. */
export const quote = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

/** `['dataClasses', 3, 'retention']` → `dataClasses[3].retention`. */
export const formatPath = (path: Path): string =>
  path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    const key = String(segment);
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${text}[${JSON.stringify(key)}]`;
    return text === '' ? key : `${text}.${key}`;
  }, '');

const article = (noun: string): string => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`);

/** Predicate-style messages for zod's own checks (the schemas' own messages take precedence). */
const builtInMessage: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}`;
    case 'too_small':
      if (issue.origin === 'array')
        return Number(issue.minimum) <= 1
          ? 'must not be empty'
          : `must have at least ${issue.minimum} entries`;
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1
          ? 'must not be empty'
          : `must have at least ${issue.minimum} characters`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} entries`;
      if (issue.origin === 'string') return `must have at most ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_value':
      return `${quote(issue.input)} must be one of ${issue.values.map(quote).join(', ')}`;
    case 'invalid_union': {
      // A discriminated union reports the whole object as input; the bad value is its discriminator.
      const discriminator = 'discriminator' in issue ? issue.discriminator : undefined;
      const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : undefined;
      if (typeof discriminator !== 'string' || options === undefined)
        return 'matches none of the allowed shapes';
      const value = isRecord(issue.input) ? issue.input[discriminator] : undefined;
      return value === undefined
        ? 'is required'
        : `${quote(value)} must be one of ${options.map(quote).join(', ')}`;
    }
    default:
      return undefined;
  }
};

/** An entry of a list that a message should name (`data class 'cookies'`), and how deep it sits. */
export interface Entry {
  readonly label: string;
  readonly depth: number;
}

/** Finds the named entry a path points into, if the input has such entries (the policy catalog does). */
export type EntryLocator = (input: unknown, path: Path) => Entry | undefined;

export interface ParseOptions {
  /** The field named when the input as a whole is wrong (the API: `body`, `query`). @default none */
  readonly root?: string;
  /** Names the entry a problem sits in, in front of the message. @default none */
  readonly locateEntry?: EntryLocator;
}

/** One problem of an input, for reports that list every problem (deployment configs). */
export interface Problem {
  /** Dotted path of the field (`catalog.dataClasses[1].retention`); the root's name or '' for the whole input. */
  readonly field: string;
  /** The named entry the field sits in (`data class 'cookies'`), if any. */
  readonly entry?: string;
  /** What is wrong, as a predicate of the field (`'P-1Y' is not an ISO 8601 duration`). */
  readonly message: string;
  /** The value found at the field (undefined when it is missing). */
  readonly value: unknown;
  /** The full path, to look up examples by. */
  readonly path: readonly PropertyKey[];
}

const valueAt = (input: unknown, path: Path): unknown =>
  path.reduce<unknown>((node, segment) => (isRecord(node) ? node[segment] : undefined), input);

const toProblem = (issue: z.core.$ZodIssue, input: unknown, options: ParseOptions): Problem => {
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path: Path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
  const message = unknownKey === undefined ? issue.message : 'is not a known field';
  const entry = options.locateEntry?.(input, path);
  return {
    field: formatPath(path) || (options.root ?? ''),
    ...(entry === undefined ? {} : { entry: entry.label }),
    message,
    value: valueAt(input, path),
    path,
  };
};

/** Every problem of a failed parse, one per issue, in the order the schema found them. */
export const toProblems = (error: z.ZodError, input: unknown, options: ParseOptions = {}): Problem[] =>
  error.issues.map((issue) => toProblem(issue, input, options));

/** Longest name (an unknown field, parameter or attribute) a refusal repeats. */
export const MAX_ECHOED_NAME = 64;

/** Two names that differ only in case, `_` or `-` (`subjectID`, `storage_period`): one is a typo of the other. */
export const sameNameLoosely = (a: string, b: string): boolean => {
  const loose = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
  return loose(a) === loose(b);
};

/** A required field missing beside `unknownKey` that differs from it only in case, `_` or `-`. */
const missingFieldLike = (error: z.ZodError, parent: Path, unknownKey: string): string | undefined => {
  for (const candidate of error.issues) {
    const name = candidate.path.at(-1);
    if (
      candidate.code === 'invalid_type' &&
      typeof name === 'string' &&
      candidate.path.length === parent.length + 1 &&
      parent.every((segment, index) => candidate.path[index] === segment) &&
      sameNameLoosely(name, unknownKey)
    ) {
      return name;
    }
  }
  return undefined;
};

/** One ValidationError for the first problem; `cause` keeps the full ZodError with every problem. */
export function toValidationError(
  error: z.ZodError,
  input: unknown,
  options: ParseOptions = {},
): ValidationError {
  // An unknown field first: a misspelt required one (`subjectID`) is what to fix, not "required".
  const issue = error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? error.issues[0];
  if (issue === undefined) {
    return new ValidationError(`${options.root ?? 'input'} is invalid`, options.root, { cause: error });
  }
  const unknownKey =
    issue.code === 'unrecognized_keys' ? issue.keys[0]?.slice(0, MAX_ECHOED_NAME) : undefined;
  const path: Path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
  const meant = unknownKey === undefined ? undefined : missingFieldLike(error, issue.path, unknownKey);
  const predicate =
    unknownKey === undefined
      ? issue.message
      : `is not a known field${meant === undefined ? '' : ` (did you mean ${meant}?)`}`;
  const field = formatPath(path) || options.root;
  const entry = options.locateEntry?.(input, path);
  const subject = entry === undefined ? (field ?? 'input') : formatPath(path.slice(entry.depth));
  const sentence = subject === '' ? predicate : `${subject} ${predicate}`;
  return new ValidationError(entry === undefined ? sentence : `${entry.label}: ${sentence}`, field, {
    cause: error,
  });
}

/** The parsed value, or every problem of `input` (for reports that list them all at once). */
export function checkWith<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  options: ParseOptions = {},
):
  | { readonly ok: true; readonly value: z.output<Schema> }
  | { readonly ok: false; readonly problems: Problem[] } {
  const result = schema.safeParse(input, { error: builtInMessage });
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, problems: toProblems(result.error, input, options) };
}

/** Parses with `schema` or throws the ValidationError of its first problem. */
export function parseWith<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  options: ParseOptions = {},
): z.output<Schema> {
  const result = schema.safeParse(input, { error: builtInMessage });
  if (!result.success) throw toValidationError(result.error, input, options);
  return result.data;
}
