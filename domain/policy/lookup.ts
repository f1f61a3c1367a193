/**
 * Finding a data class's policy and a connector target by name in a validated deployment. Every
 * lookup of the catalog or the targets goes through here, so "unknown" is decided and worded once.
 */
import type { ConnectorTarget } from '../connectors/types.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { DataClassPolicy, DeploymentConfig, PolicyCatalog } from './types.js';

/** The policy of `dataClass`, or undefined when the catalog has none. */
export const findPolicy = (catalog: PolicyCatalog, dataClass: string): DataClassPolicy | undefined =>
  catalog.dataClasses.find((candidate) => candidate.dataClass === dataClass);

/** The policy of `dataClass`; a ValidationError naming `field` when the catalog has none. */
export function policyFor(catalog: PolicyCatalog, dataClass: string, field = 'dataClass'): DataClassPolicy {
  const policy = findPolicy(catalog, dataClass);
  if (policy === undefined) {
    throw new ValidationError(
      `${field} '${dataClass}' is not a data class of catalog ${catalog.version}`,
      field,
    );
  }
  return policy;
}

/**
 * The data classes a caller named, each once, in the order given: a ValidationError naming
 * `field` for an empty list, and `field[i]` for a class the catalog does not have.
 */
export function knownDataClasses(
  catalog: PolicyCatalog,
  dataClasses: readonly string[],
  field = 'dataClasses',
): string[] {
  if (dataClasses.length === 0) throw new ValidationError(`${field} must not be empty when given`, field);
  dataClasses.forEach((dataClass, index) => {
    if (findPolicy(catalog, dataClass) === undefined) {
      throw new ValidationError(`Unknown data class '${dataClass}'`, `${field}[${index}]`);
    }
  });
  return [...new Set(dataClasses)];
}

/** The target called `name`, or undefined when the deployment has none. */
export const findTarget = (config: DeploymentConfig, name: string): ConnectorTarget | undefined =>
  config.targets.find((candidate) => candidate.name === name);

/** The target called `name`; a NotFoundError when the deployment has none. */
export function targetNamed(config: DeploymentConfig, name: string): ConnectorTarget {
  const target = findTarget(config, name);
  if (target === undefined) throw new NotFoundError(`Connector target '${name}' is not configured`);
  return target;
}

/** The real targets of a data class, in catalog order. */
export function targetsFor(config: DeploymentConfig, dataClass: string): ConnectorTarget[] {
  const policy = policyFor(config.catalog, dataClass);
  return policy.targets.map((name, index) => {
    const target = findTarget(config, name);
    if (target === undefined) {
      throw new ValidationError(
        `data class '${dataClass}': target '${name}' is not defined in targets`,
        `catalog.dataClasses[${config.catalog.dataClasses.indexOf(policy)}].targets[${index}]`,
      );
    }
    return target;
  });
}
