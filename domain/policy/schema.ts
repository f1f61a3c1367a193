/**
 * Zod schemas of the policy catalog, connector targets and deployment config, and the conversion
 * of their failures into one ValidationError whose `field` is the path of the first problem
 * (`dataClasses[3].retention`) and whose message names the entry
 * (`data class 'cookies': retention 'P-1Y' is not an ISO 8601 duration`).
 *
 * Messages set in the schemas are predicates ("'P-1Y' is not an ISO 8601 duration"); the
 * conversion puts the entry and the field in front of them.
 */
import { z } from 'zod';
import type { ConnectorTarget } from '../connectors/types.js';
import { ValidationError } from '../errors.js';
import { LIFECYCLE_EVENT_TYPES } from '../events.js';
import { compareDurations, isDuration, isZeroDuration, parseDuration } from '../time.js';
import type { BlockerKind, DataClassPolicy, PolicyCatalog, RetentionAction } from './types.js';

const KEBAB_CASE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
/** Rule ids of retention-rules.md: `ALU-3`, `IMOU-1`. */
const RULE_REF = /^[A-Z]{2,5}-\d{1,3}$/;
/** ISO 3166-1 alpha-2: the format only, not the list of assigned codes. */
const COUNTRY_CODE = /^[A-Z]{2}$/;
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const DYNAMODB_TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const SUBJECT_PLACEHOLDER = '{subjectId}';

export const RETENTION_ACTIONS = [
  'delete',
  'anonymise',
  'restrict',
] as const satisfies readonly RetentionAction[];
export const BLOCKER_KINDS = ['legal-hold', 'unpaid-invoice'] as const satisfies readonly BlockerKind[];

/** What each kind of connector target can do to data (s3 objects can only be deleted). */
export const TARGET_ACTIONS: Readonly<Record<ConnectorTarget['kind'], readonly RetentionAction[]>> = {
  's3-prefix': ['delete'],
  'dynamodb-items': ['delete', 'anonymise', 'restrict'],
  'http-webhook': ['delete', 'anonymise', 'restrict'],
};

const quote = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

const matching = (pattern: RegExp, predicate: string) =>
  z.string().regex(pattern, { error: (issue) => `${quote(issue.input)} ${predicate}` });

const kebabName = matching(KEBAB_CASE, "is not kebab-case (e.g. 'customer-profile')");
const attributeName = matching(ATTRIBUTE_NAME, 'is not an attribute name');
const nonEmptyText = z.string().trim().min(1);

const durationText = z.string().refine(isDuration, {
  error: (issue) => `${quote(issue.input)} is not an ISO 8601 duration (e.g. P24M, P7D)`,
});

const eventType = z.enum(LIFECYCLE_EVENT_TYPES, {
  error: (issue) => `${quote(issue.input)} is not a known lifecycle event type`,
});

/** A list without repeats; a repeat is reported at its own index. */
const distinctList = <Item extends z.ZodType<string>>(item: Item, minimum: number) =>
  z
    .array(item)
    .min(minimum)
    .superRefine((items, ctx) => {
      items.forEach((value, index) => {
        const first = items.indexOf(value);
        if (first !== index) {
          ctx.addIssue({ code: 'custom', path: [index], message: `${quote(value)} is listed twice` });
        }
      });
    });

/** Rolling windows erase by age and re-arm after each run (IMOU-1, IMOU-2). */
export const isRollingWindow = (
  policy: Pick<DataClassPolicy, 'rolling' | 'rollingWindowAttribute'>,
): boolean => policy.rolling === true || policy.rollingWindowAttribute !== undefined;

const withLegalHold = (blockers: readonly BlockerKind[]): BlockerKind[] => [
  'legal-hold',
  ...blockers.filter((blocker) => blocker !== 'legal-hold'),
];

/**
 * One data class. `cancelledBy`, `blockers` and `jurisdictionOverrides` may be omitted. `blockers`
 * always ends up containing `legal-hold`: a legal hold stops every deletion (ALM-3), so it is added
 * when omitted rather than rejected.
 */
export const DataClassPolicySchema = z
  .strictObject({
    dataClass: kebabName,
    description: nonEmptyText,
    ruleRefs: distinctList(matching(RULE_REF, "is not a rule id (e.g. 'ALU-3')"), 1),
    triggers: distinctList(eventType, 1),
    retention: durationText,
    action: z.enum(RETENTION_ACTIONS),
    notice: durationText.optional(),
    cancelledBy: distinctList(eventType, 0).default([]),
    blockers: distinctList(z.enum(BLOCKER_KINDS), 0).default(['legal-hold']),
    jurisdictionOverrides: z.record(z.string(), durationText).default({}),
    rollingWindowAttribute: attributeName.optional(),
    rolling: z.boolean().optional(),
    rollingInterval: durationText.optional(),
    targets: distinctList(kebabName, 1),
  })
  .superRefine((policy, ctx) => {
    policy.cancelledBy.forEach((type, index) => {
      if (policy.triggers.includes(type)) {
        ctx.addIssue({
          code: 'custom',
          path: ['cancelledBy', index],
          message: `'${type}' is also a trigger: one event cannot both start and cancel the deletion`,
        });
      }
    });
    const periods: [label: string, period: string][] = [['retention', policy.retention]];
    for (const [code, period] of Object.entries(policy.jurisdictionOverrides)) {
      if (COUNTRY_CODE.test(code)) {
        periods.push([`${code} retention`, period]);
      } else {
        ctx.addIssue({
          code: 'custom',
          path: ['jurisdictionOverrides', code],
          message: "is not an ISO 3166-1 alpha-2 country code (e.g. 'SE')",
        });
      }
    }
    const { notice } = policy;
    if (notice !== undefined) {
      for (const [label, period] of periods) {
        if (compareDurations(notice, period) > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['notice'],
            message: `'${notice}' is longer than the ${label} '${period}'`,
          });
        }
      }
    }
    if (policy.rolling === false && policy.rollingWindowAttribute !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['rollingWindowAttribute'],
        message: 'is set but rolling is false',
      });
    }
    const { rollingInterval } = policy;
    if (rollingInterval !== undefined && !isRollingWindow(policy)) {
      ctx.addIssue({
        code: 'custom',
        path: ['rollingInterval'],
        message: 'is set but the policy is not a rolling window',
      });
    }
    if (rollingInterval !== undefined && isRollingWindow(policy)) {
      if (isZeroDuration(parseDuration(rollingInterval, 'rollingInterval'))) {
        ctx.addIssue({
          code: 'custom',
          path: ['rollingInterval'],
          message: `'${rollingInterval}' must be longer than zero`,
        });
      }
      for (const [label, period] of periods) {
        if (compareDurations(rollingInterval, period) > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['rollingInterval'],
            message: `'${rollingInterval}' is longer than the ${label} '${period}'`,
          });
        }
      }
    }
    if (isRollingWindow(policy)) {
      if (notice !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['notice'], message: 'is not supported on a rolling window' });
      }
      if (isZeroDuration(parseDuration(policy.retention, 'retention'))) {
        ctx.addIssue({
          code: 'custom',
          path: ['retention'],
          message: `'${policy.retention}' cannot be a rolling window: it must be longer than zero`,
        });
      }
    }
  })
  .transform(
    ({ blockers, ...policy }): DataClassPolicy => ({ ...policy, blockers: withLegalHold(blockers) }),
  );

export const PolicyCatalogSchema = z
  .strictObject({
    version: nonEmptyText,
    dataClasses: z.array(DataClassPolicySchema).min(1),
  })
  .superRefine((catalog, ctx) => {
    const seen = new Map<string, number>();
    catalog.dataClasses.forEach((policy, index) => {
      const first = seen.get(policy.dataClass);
      if (first === undefined) {
        seen.set(policy.dataClass, index);
      } else {
        ctx.addIssue({
          code: 'custom',
          path: ['dataClasses', index, 'dataClass'],
          message: `'${policy.dataClass}' is already defined by dataClasses[${first}]`,
        });
      }
    });
  });

export const S3PrefixTargetSchema = z.strictObject({
  name: kebabName,
  kind: z.literal('s3-prefix'),
  bucket: matching(S3_BUCKET_NAME, 'is not an S3 bucket name'),
  prefixTemplate: z.string().refine(
    // The slash after the subject id keeps subject `12`'s prefix from also matching subject `123`.
    (template) => template.includes(`${SUBJECT_PLACEHOLDER}/`) && !/\{(?!subjectId\})/.test(template),
    { error: (issue) => `${quote(issue.input)} must contain '{subjectId}/' and no other placeholder` },
  ),
});

export const DynamoDbItemsTargetSchema = z
  .strictObject({
    name: kebabName,
    kind: z.literal('dynamodb-items'),
    table: matching(DYNAMODB_TABLE_NAME, 'is not a DynamoDB table name'),
    subjectAttribute: attributeName,
    indexName: nonEmptyText.optional(),
    keyAttributes: distinctList(attributeName, 1).max(2),
    anonymiseAttributes: distinctList(attributeName, 1).optional(),
    timestampAttribute: attributeName.optional(),
  })
  .superRefine((target, ctx) => {
    if (target.indexName === undefined && !target.keyAttributes.includes(target.subjectAttribute)) {
      ctx.addIssue({
        code: 'custom',
        path: ['subjectAttribute'],
        message: `'${target.subjectAttribute}' must be one of the keyAttributes when no indexName is given`,
      });
    }
    target.anonymiseAttributes?.forEach((attribute, index) => {
      if (target.keyAttributes.includes(attribute)) {
        ctx.addIssue({
          code: 'custom',
          path: ['anonymiseAttributes', index],
          message: `'${attribute}' is a key attribute and cannot be overwritten`,
        });
      }
    });
  });

export const HttpWebhookTargetSchema = z.strictObject({
  name: kebabName,
  kind: z.literal('http-webhook'),
  url: z.url({ protocol: /^https?$/, error: (issue) => `${quote(issue.input)} is not an http(s) URL` }),
  signingSecretName: nonEmptyText,
  timeoutMs: z.number().int().min(1).max(300_000).optional(),
});

export const ConnectorTargetSchema = z.discriminatedUnion('kind', [
  S3PrefixTargetSchema,
  DynamoDbItemsTargetSchema,
  HttpWebhookTargetSchema,
]);

/** Why `target` cannot carry out `policy` (an action it lacks, no way to erase by age), if it cannot. */
export function targetMismatch(policy: DataClassPolicy, target: ConnectorTarget): string | undefined {
  if (!TARGET_ACTIONS[target.kind].includes(policy.action)) {
    return `'${target.name}' is an ${target.kind} target, which can only ${TARGET_ACTIONS[target.kind].join(', ')}, not ${policy.action}`;
  }
  if (target.kind === 'dynamodb-items') {
    if (policy.action === 'anonymise' && target.anonymiseAttributes === undefined) {
      return `'${target.name}' cannot anonymise: the dynamodb-items target has no anonymiseAttributes`;
    }
    if (isRollingWindow(policy) && target.timestampAttribute === undefined) {
      return `'${target.name}' cannot erase by age for a rolling window: the dynamodb-items target has no timestampAttribute`;
    }
  }
  return undefined;
}

export const DeploymentConfigSchema = z
  .strictObject({
    catalog: PolicyCatalogSchema,
    targets: z.array(ConnectorTargetSchema).min(1),
    notices: z.strictObject({ target: z.string().min(1) }).optional(),
  })
  .superRefine((config, ctx) => {
    const targetsByName = new Map<string, [ConnectorTarget, number]>();
    config.targets.forEach((target, index) => {
      const first = targetsByName.get(target.name);
      if (first === undefined) {
        targetsByName.set(target.name, [target, index]);
      } else {
        ctx.addIssue({
          code: 'custom',
          path: ['targets', index, 'name'],
          message: `'${target.name}' is already used by targets[${first[1]}]`,
        });
      }
    });
    config.catalog.dataClasses.forEach((policy, classIndex) => {
      policy.targets.forEach((name, targetIndex) => {
        const path = ['catalog', 'dataClasses', classIndex, 'targets', targetIndex];
        const found = targetsByName.get(name);
        const problem =
          found === undefined ? `'${name}' is not defined in targets` : targetMismatch(policy, found[0]);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path, message: problem });
      });
    });
    if (config.notices !== undefined) {
      const found = targetsByName.get(config.notices.target);
      if (found?.[0].kind !== 'http-webhook') {
        ctx.addIssue({
          code: 'custom',
          path: ['notices', 'target'],
          message:
            found === undefined
              ? `'${config.notices.target}' is not defined in targets`
              : `'${config.notices.target}' must be an http-webhook target to deliver notices`,
        });
      }
    }
  });

// ---------------------------------------------------------------------------------------------
// Failures → ValidationError

type Path = readonly PropertyKey[];

const isRecord = (value: unknown): value is Record<PropertyKey, unknown> =>
  typeof value === 'object' && value !== null;

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
      return issue.origin === 'string' ? 'must not be empty' : `must be at least ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `must have at most ${issue.maximum} entries`
        : `must be at most ${issue.maximum}`;
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

/** The entry (data class or target) a path points into, labelled by its name, and how deep it sits. */
const entryAt = (input: unknown, path: Path): { label: string; depth: number } | undefined => {
  let node: unknown = input;
  let entry: { label: string; depth: number } | undefined;
  path.forEach((segment, index) => {
    const container = path[index - 1];
    const element = Array.isArray(node) && typeof segment === 'number' ? node[segment] : undefined;
    if (isRecord(element) && (container === 'dataClasses' || container === 'targets')) {
      const [noun, name] =
        container === 'dataClasses' ? ['data class', element.dataClass] : ['target', element.name];
      entry = {
        label:
          typeof name === 'string' ? `${noun} '${name}'` : `${noun} ${formatPath(path.slice(0, index + 1))}`,
        depth: index + 1,
      };
    }
    node = isRecord(node) ? node[segment] : undefined;
  });
  return entry;
};

/** One ValidationError for the first problem; `cause` keeps the full ZodError with every problem. */
export function toValidationError(error: z.ZodError, input: unknown): ValidationError {
  const issue = error.issues[0];
  if (issue === undefined) return new ValidationError('input is invalid', undefined, { cause: error });
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  const path: Path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
  const predicate = unknownKey === undefined ? issue.message : 'is not a known field';
  const field = formatPath(path);
  const entry = entryAt(input, path);
  const subject = entry === undefined ? field || 'input' : formatPath(path.slice(entry.depth));
  const sentence = subject === '' ? predicate : `${subject} ${predicate}`;
  return new ValidationError(
    entry === undefined ? sentence : `${entry.label}: ${sentence}`,
    field || undefined,
    {
      cause: error,
    },
  );
}

/** Parses with `schema` or throws the ValidationError of its first problem. */
export function parseWith<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  const result = schema.safeParse(input, { error: builtInMessage });
  if (!result.success) throw toValidationError(result.error, input);
  return result.data;
}

/** Validates a policy catalog (see DataClassPolicySchema for what is defaulted). */
export const parseCatalog = (input: unknown): PolicyCatalog => parseWith(PolicyCatalogSchema, input);
