/**
 * The deployment config (the catalog and the real systems its target names point at) and reading
 * it: its schema, the period that applies. Lookups of a data class or a target are in `./lookup.ts`.
 */
import * as z from 'zod';
import type { ConnectorTarget } from '../connectors/types.js';
import {
  identifierNameProblem,
  identifierPatternProblem,
  identifiersUsedBy,
  SUBJECT_ID_IDENTIFIER,
  targetIdentifier,
} from '../identifiers/identifiers.js';
import { checkWith, DurationSchema, type Problem, parseWith, toCountryCode } from '../vocabulary/index.js';
import { CATALOG_PARSE, isRollingWindow, nonEmptyText, PolicyCatalogSchema } from './schema.js';
import { ConnectorTargetSchema, IdentifierResolverSchema, targetMismatch } from './targets.js';
import type { DataClassPolicy, DeploymentConfig } from './types.js';

export { policyFor, targetsFor } from './lookup.js';

export const DeploymentConfigSchema = z
  .strictObject({
    catalog: PolicyCatalogSchema,
    targets: z.array(ConnectorTargetSchema).min(1),
    notices: z.strictObject({ target: z.string().min(1) }).optional(),
    identifiers: z
      .record(
        z.string(),
        z.strictObject({ pattern: z.string().min(1).max(1000), description: nonEmptyText.optional() }),
      )
      .optional(),
    suppression: z.strictObject({ period: DurationSchema.optional() }).optional(),
    identifierResolver: IdentifierResolverSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const declared = config.identifiers ?? {};
    for (const [name, declaration] of Object.entries(declared)) {
      const nameProblem = identifierNameProblem(name);
      if (nameProblem !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['identifiers', name], message: nameProblem });
      }
      const patternProblem = identifierPatternProblem(declaration.pattern);
      if (patternProblem !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['identifiers', name, 'pattern'], message: patternProblem });
      }
    }
    // A target that finds data by an identifier nobody can send would erase nothing, and say so
    // only at run time: name it now.
    config.targets.forEach((target, index) => {
      const field =
        target.kind === 's3-prefix'
          ? 'prefixTemplate'
          : target.kind === 'dynamodb-items'
            ? 'identifier'
            : 'identifiers';
      identifiersUsedBy(target).forEach((name, position) => {
        if (Object.hasOwn(declared, name)) return;
        ctx.addIssue({
          code: 'custom',
          path: ['targets', index, field, ...(target.kind === 'http-webhook' ? [position] : [])],
          message: `uses the identifier '${name}', which the config does not declare in identifiers`,
        });
      });
    });
    // A lookup table maps declared identifiers only: an attribute for any other name could never
    // be used by a target, and would be personal data read for nothing.
    const resolver = config.identifierResolver;
    if (resolver?.kind === 'dynamodb-lookup') {
      for (const name of Object.keys(resolver.attributes)) {
        if (Object.hasOwn(declared, name)) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['identifierResolver', 'attributes', name],
          message: `'${name}' is not a declared identifier (declare it in identifiers)`,
        });
      }
    }
    if (resolver !== undefined && Object.keys(declared).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['identifierResolver'],
        message: 'resolves identifiers, but the config declares none in identifiers',
      });
    }
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
          found === undefined
            ? `'${name}' is not defined in targets`
            : (targetMismatch(policy, found[0]) ?? windowAddressProblem(policy, found[0]));
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

/**
 * Window runs read each item's subject from the item (the key's segment, the subject attribute)
 * and keep held subjects' data by subject id: a target keyed by another identifier cannot tell
 * whose data an item is, so it would erase a held subject's data. Refused.
 */
const windowAddressProblem = (
  policy: Parameters<typeof isRollingWindow>[0],
  target: ConnectorTarget,
): string | undefined => {
  const name = targetIdentifier(target);
  return isRollingWindow(policy) && name !== undefined && name !== SUBJECT_ID_IDENTIFIER
    ? `'${target.name}' is keyed by the identifier '${name}': a rolling window needs a target keyed by the subject id (window runs keep held subjects' data by subject id)`
    : undefined;
};

/**
 * Validates `{ catalog, targets }`: everything parseCatalog checks, plus unique target names, every
 * target a data class names is defined, and each target can perform its classes' action
 * (s3-prefix: delete only; dynamodb-items: anonymise needs anonymiseAttributes, rolling windows
 * need timestampAttribute; http-webhook: all).
 */
export const parseDeploymentConfig = (input: unknown): DeploymentConfig =>
  parseWith(DeploymentConfigSchema, input, CATALOG_PARSE);

/**
 * Like `parseDeploymentConfig`, but reports every problem at once instead of throwing the first:
 * for a person fixing a config file, who should not need one attempt per mistake.
 */
export const checkDeploymentConfig = (
  input: unknown,
):
  | { readonly ok: true; readonly value: DeploymentConfig }
  | { readonly ok: false; readonly problems: Problem[] } =>
  checkWith(DeploymentConfigSchema, input, CATALOG_PARSE);

/** The jurisdiction (upper-cased country code) whose override applies to `policy`, if any (ALU-2). */
export function overridingJurisdiction(policy: DataClassPolicy, jurisdiction?: string): string | undefined {
  const code = jurisdiction === undefined ? undefined : toCountryCode(jurisdiction);
  return code !== undefined && Object.hasOwn(policy.jurisdictionOverrides, code) ? code : undefined;
}

/** The retention period for data stored in `jurisdiction`: its override (ALU-2) or the default. */
export function resolveRetention(policy: DataClassPolicy, jurisdiction?: string): string {
  const code = overridingJurisdiction(policy, jurisdiction);
  return (code === undefined ? undefined : policy.jurisdictionOverrides[code]) ?? policy.retention;
}
