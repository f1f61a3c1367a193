/** Reading a validated deployment: its config, the policy of a data class, the period that applies. */
import type { ConnectorTarget } from '../connectors/types.js';
import { ValidationError } from '../errors.js';
import { DeploymentConfigSchema, parseWith } from './schema.js';
import type { DataClassPolicy, DeploymentConfig, PolicyCatalog } from './types.js';

/**
 * Validates `{ catalog, targets }`: everything parseCatalog checks, plus unique target names, every
 * target a data class names is defined, and each target can perform its classes' action
 * (s3-prefix: delete only; dynamodb-items: anonymise needs anonymiseAttributes, rolling windows
 * need timestampAttribute; http-webhook: all).
 */
export const parseDeploymentConfig = (input: unknown): DeploymentConfig =>
  parseWith(DeploymentConfigSchema, input);

/** The policy of `dataClass`; a ValidationError naming `field` when the catalog has none. */
export function policyFor(catalog: PolicyCatalog, dataClass: string, field = 'dataClass'): DataClassPolicy {
  const policy = catalog.dataClasses.find((candidate) => candidate.dataClass === dataClass);
  if (policy === undefined) {
    throw new ValidationError(
      `${field} '${dataClass}' is not a data class of catalog ${catalog.version}`,
      field,
    );
  }
  return policy;
}

/** The jurisdiction (upper-cased country code) whose override applies to `policy`, if any (ALU-2). */
export function overridingJurisdiction(policy: DataClassPolicy, jurisdiction?: string): string | undefined {
  const code = jurisdiction?.toUpperCase();
  return code !== undefined && Object.hasOwn(policy.jurisdictionOverrides, code) ? code : undefined;
}

/** The retention period for data stored in `jurisdiction`: its override (ALU-2) or the default. */
export function resolveRetention(policy: DataClassPolicy, jurisdiction?: string): string {
  const code = overridingJurisdiction(policy, jurisdiction);
  return (code === undefined ? undefined : policy.jurisdictionOverrides[code]) ?? policy.retention;
}

/** The real targets of a data class, in catalog order. */
export function targetsFor(config: DeploymentConfig, dataClass: string): ConnectorTarget[] {
  const policy = policyFor(config.catalog, dataClass);
  return policy.targets.map((name, index) => {
    const target = config.targets.find((candidate) => candidate.name === name);
    if (target === undefined) {
      throw new ValidationError(
        `data class '${dataClass}': target '${name}' is not defined in targets`,
        `catalog.dataClasses[${config.catalog.dataClasses.indexOf(policy)}].targets[${index}]`,
      );
    }
    return target;
  });
}
