import type { ConnectorTarget } from '../connectors/types.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { DataClassPolicy, DeploymentConfig, RetentionAction } from '../policy/types.js';

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
  if (dataClasses.length === 0)
    throw new ValidationError('dataClasses must not be empty when given', 'dataClasses');
  dataClasses.forEach((dataClass, index) => {
    if (!config.catalog.dataClasses.some((policy) => policy.dataClass === dataClass)) {
      throw new ValidationError(`Unknown data class '${dataClass}'`, `dataClasses[${index}]`);
    }
  });
  return [...new Set(dataClasses)];
};

const targetNamed = (config: DeploymentConfig, name: string): ConnectorTarget => {
  const target = config.targets.find((candidate) => candidate.name === name);
  if (target === undefined) throw new NotFoundError(`Connector target '${name}' is not configured`);
  return target;
};

/**
 * One task per (target, action): a subject's data in one store is erased once even when several
 * requested classes live there. The task is named after the first class that needs it.
 */
export const planTasks = (config: DeploymentConfig, dataClasses: readonly string[]): PlannedTask[] => {
  const planned = new Map<string, PlannedTask>();
  for (const dataClass of dataClasses) {
    const policy: DataClassPolicy | undefined = config.catalog.dataClasses.find(
      (candidate) => candidate.dataClass === dataClass,
    );
    if (policy === undefined) throw new NotFoundError(`Unknown data class '${dataClass}'`);
    for (const name of policy.targets) {
      const key = `${name}#${policy.action}`;
      if (!planned.has(key))
        planned.set(key, { dataClass, action: policy.action, target: targetNamed(config, name) });
    }
  }
  return [...planned.values()];
};
