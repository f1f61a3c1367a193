import type { ConnectorTarget } from '../connectors/types.js';
import { NotFoundError } from '../errors.js';
import { addressValues, type SubjectIdentifiers, targetIdentifier } from '../identifiers/identifiers.js';
import { findPolicy, knownDataClasses, targetNamed } from '../policy/lookup.js';
import type { DeploymentConfig, RetentionAction } from '../policy/types.js';

/** One unit of work for a connector, before it gets ids. */
export interface PlannedTask {
  readonly dataClass: string;
  readonly action: RetentionAction;
  readonly target: ConnectorTarget;
}

/**
 * The data classes an erasure request covers. Without an explicit list, every class whose action
 * is `delete`: classes that are anonymised or restricted by policy keep that treatment.
 */
export const requestedDataClasses = (config: DeploymentConfig, dataClasses?: readonly string[]): string[] => {
  if (dataClasses === undefined) {
    return config.catalog.dataClasses
      .filter((policy) => policy.action === 'delete')
      .map((policy) => policy.dataClass);
  }
  return knownDataClasses(config.catalog, dataClasses);
};

/** Which planned task erases `dataClass`'s data (with `action`) from `target` (see `planTasks`). */
export const planKey = (
  target: { readonly name: string; readonly kind: string },
  action: RetentionAction,
  dataClass: string,
): string =>
  target.kind === 'http-webhook' ? `${target.name}#${action}#${dataClass}` : `${target.name}#${action}`;

/**
 * A store-wide target (an S3 prefix, a table's items of the subject) erases all of the subject's
 * data there, so it gets one task per action however many requested classes live there, named after
 * the first class that needs it. A webhook erases only the class it is told, so it gets one task
 * per class: telling it one class would leave the others behind while the task verified.
 */
export const planTasks = (
  config: DeploymentConfig,
  dataClasses: readonly string[],
  identifiers: SubjectIdentifiers = {},
): PlannedTask[] => {
  const planned = new Map<string, PlannedTask>();
  for (const dataClass of dataClasses) {
    const policy = findPolicy(config.catalog, dataClass);
    if (policy === undefined) throw new NotFoundError(`Unknown data class '${dataClass}'`);
    for (const name of policy.targets) {
      const target = targetNamed(config, name);
      // Keyed by an identifier the request knows no value of: nothing there can be found (see
      // `unaddressedTargets`, which the request records).
      if (addressValues(target, '-', identifiers)?.length === 0) continue;
      const key = planKey(target, policy.action, dataClass);
      if (!planned.has(key)) planned.set(key, { dataClass, action: policy.action, target });
    }
  }
  return [...planned.values()];
};

/**
 * Targets of the classes that are keyed by an identifier without a value in `identifiers`: the
 * request cannot address them, and says so (`unaddressed`) rather than pretending they were erased.
 */
export const unaddressedTargets = (
  config: DeploymentConfig,
  dataClasses: readonly string[],
  identifiers: SubjectIdentifiers = {},
): { target: string; identifier: string }[] => {
  const found = new Map<string, string>();
  for (const dataClass of dataClasses) {
    const policy = findPolicy(config.catalog, dataClass);
    for (const name of policy?.targets ?? []) {
      const target = targetNamed(config, name);
      const identifier = targetIdentifier(target);
      if (identifier !== undefined && addressValues(target, '-', identifiers)?.length === 0) {
        found.set(name, identifier);
      }
    }
  }
  return [...found].map(([target, identifier]) => ({ target, identifier }));
};
