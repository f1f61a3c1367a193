/**
 * The deployment config (the catalog and the real systems its target names point at) and reading
 * it: its schema, the period that applies. Lookups of a data class or a target are in `./lookup.ts`.
 */
import * as z from 'zod';
import type { ConnectorTarget } from '../connectors/types.js';
import { checkWith, type Problem, parseWith, toCountryCode } from '../vocabulary/index.js';
import { CATALOG_PARSE, PolicyCatalogSchema } from './schema.js';
import { ConnectorTargetSchema, targetMismatch } from './targets.js';
import type { DataClassPolicy, DeploymentConfig } from './types.js';

export { policyFor, targetsFor } from './lookup.js';

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
