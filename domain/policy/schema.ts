/**
 * Zod schema of the policy catalog. Values are checked with the vocabulary's rules
 * (domain/vocabulary); failures become one ValidationError whose `field` is the path of the first
 * problem (`dataClasses[3].retention`) and whose message names the entry
 * (`data class 'cookies': retention 'P-1Y' is not an ISO 8601 duration`).
 *
 * Connector targets are in `./targets.ts`, the deployment config (catalog + targets) in `./config.ts`.
 */
import * as z from 'zod';
import { LIFECYCLE_EVENT_TYPES } from '../events.js';
import { compareDurations, isZeroDuration, parseDuration } from '../time.js';
import {
  COUNTRY_CODE_PATTERN,
  countryCodeProblem,
  DurationSchema,
  distinctList,
  type EntryLocator,
  formatPath,
  matching,
  NameSchema,
  type ParseOptions,
  parseWith,
  quote,
  RULE_REF_PATTERN,
} from '../vocabulary/index.js';
import type { BlockerKind, DataClassPolicy, PolicyCatalog, RetentionAction } from './types.js';

const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

export const RETENTION_ACTIONS = [
  'delete',
  'anonymise',
  'restrict',
] as const satisfies readonly RetentionAction[];
export const BLOCKER_KINDS = ['legal-hold', 'unpaid-invoice'] as const satisfies readonly BlockerKind[];

export const attributeName = matching(ATTRIBUTE_NAME, 'is not an attribute name');
export const nonEmptyText = z.string().trim().min(1);

const eventType = z.enum(LIFECYCLE_EVENT_TYPES, {
  error: (issue) => `${quote(issue.input)} is not a known lifecycle event type`,
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
    dataClass: NameSchema,
    description: nonEmptyText,
    ruleRefs: distinctList(matching(RULE_REF_PATTERN, "is not a rule id (e.g. 'ALU-3')"), 1),
    triggers: distinctList(eventType, 1),
    retention: DurationSchema,
    action: z.enum(RETENTION_ACTIONS),
    notice: DurationSchema.optional(),
    cancelledBy: distinctList(eventType, 0).default([]),
    blockers: distinctList(z.enum(BLOCKER_KINDS), 0).default(['legal-hold']),
    jurisdictionOverrides: z.record(z.string(), DurationSchema).default({}),
    rollingWindowAttribute: attributeName.optional(),
    rolling: z.boolean().optional(),
    rollingInterval: DurationSchema.optional(),
    targets: distinctList(NameSchema, 1),
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
      // Upper case only: overrides are looked up by the upper-cased code of the event's jurisdiction.
      const problem = COUNTRY_CODE_PATTERN.test(code)
        ? countryCodeProblem(code)
        : "is not an ISO 3166-1 alpha-2 country code in upper case (e.g. 'SE')";
      if (problem === undefined) {
        periods.push([`${code} retention`, period]);
      } else {
        ctx.addIssue({ code: 'custom', path: ['jurisdictionOverrides', code], message: problem });
      }
    }
    /** `field`'s duration may not be longer than any period that applies. */
    const notLongerThanPeriods = (field: 'notice' | 'rollingInterval', duration: string): void => {
      for (const [label, period] of periods) {
        if (compareDurations(duration, period) > 0) {
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: `'${duration}' is longer than the ${label} '${period}'`,
          });
        }
      }
    };
    const { notice } = policy;
    if (notice !== undefined) notLongerThanPeriods('notice', notice);
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
      notLongerThanPeriods('rollingInterval', rollingInterval);
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

/** Names the data class or target a problem sits in: `data class 'cookies': ...`. */
export const locateCatalogEntry: EntryLocator = (input, path) => {
  let node: unknown = input;
  let entry: ReturnType<EntryLocator>;
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

const isRecord = (value: unknown): value is Record<PropertyKey, unknown> =>
  typeof value === 'object' && value !== null;

/** How catalog and deployment config failures are reported. */
export const CATALOG_PARSE: ParseOptions = { locateEntry: locateCatalogEntry };

/** Validates a policy catalog (see DataClassPolicySchema for what is defaulted). */
export const parseCatalog = (input: unknown): PolicyCatalog =>
  parseWith(PolicyCatalogSchema, input, CATALOG_PARSE);
