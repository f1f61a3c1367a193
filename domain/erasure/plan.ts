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
 * A store-wide target (an S3 prefix, a table's items of the subject) erases all of the subject's
 * data there, so it gets one task per action however many requested classes live there, named after
 * the first class that needs it. A webhook erases only the class it is told, so it gets one task
 * per class: telling it one class would leave the others behind while the task verified.
 */
export const planTasks = (config: DeploymentConfig, dataClasses: readonly string[]): PlannedTask[] => {
  const planned = new Map<string, PlannedTask>();
  for (const dataClass of dataClasses) {
    const policy: DataClassPolicy | undefined = config.catalog.dataClasses.find(
      (candidate) => candidate.dataClass === dataClass,
    );
    if (policy === undefined) throw new NotFoundError(`Unknown data class '${dataClass}'`);
    for (const name of policy.targets) {
      const target = targetNamed(config, name);
      const key =
        target.kind === 'http-webhook' ? `${name}#${policy.action}#${dataClass}` : `${name}#${policy.action}`;
      if (!planned.has(key)) planned.set(key, { dataClass, action: policy.action, target });
    }
  }
  return [...planned.values()];
};
