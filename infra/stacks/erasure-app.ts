import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { EXAMPLE_DEPLOYMENT_CONFIG } from '../config/example.js';
import type { ErasureOrchestratorConfig } from '../constructs/config-input.js';
import { checkConfigFile, DeploymentConfigError } from '../constructs/config-validation.js';
import type { OrchestratorRuntimeOptions } from '../constructs/orchestrator-runtime.js';
import { DataStack } from './data-stack.js';
import { WorkerStack } from './worker-stack.js';

export interface ErasureAppOptions extends OrchestratorRuntimeOptions {
  /** Stack names (`<prefix>-data`, `<prefix>-worker`) and physical resource names. @default 'erasure' */
  readonly prefix?: string;
  /** Catalog and targets. @default EXAMPLE_DEPLOYMENT_CONFIG (infra/config/example.ts) */
  readonly config?: ErasureOrchestratorConfig;
  /** SNS topic the alarms notify. @default - alarms without actions */
  readonly alarmTopicArn?: string;
  /** @default - environment-agnostic stacks: the account and region the CLI deploys to */
  readonly env?: Environment;
  /** Object Lock retention of each audit anchor, in days (`-c anchorRetentionDays=3650`). @default 3650 */
  readonly anchorRetentionDays?: number;
}

/**
 * A deployment config file, checked as the construct checks it. A file with mistakes throws a
 * `DeploymentConfigError` that lists every one (file, field, data class or target, the value
 * found and an example of a good one).
 */
export const readConfigFile = (path: string): DeploymentConfig => {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DeploymentConfigError(file, [`${file}: ${(error as Error).message}`]);
  }
  return checkConfigFile(file, text);
};

/** `-c prefix=erasure-prod`, `-c config=path/to/deployment.json`, `-c alarmTopicArn=arn:aws:sns:...`. */
export const optionsFromContext = (app: App): ErasureAppOptions => {
  const text = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const configPath = text('config');
  const retention = text('anchorRetentionDays');
  return {
    prefix: text('prefix'),
    ...(retention === undefined ? {} : { anchorRetentionDays: Number(retention) }),
    alarmTopicArn: text('alarmTopicArn'),
    config: configPath === undefined ? undefined : readConfigFile(configPath),
  };
};

/**
 * The deployable app: a DataStack (stateful) and a WorkerStack (stateless) wired through typed
 * props, checked by cdk-nag's AwsSolutions pack: an unacknowledged finding fails the synth.
 */
export const addErasureStacks = (app: App, options: ErasureAppOptions = optionsFromContext(app)) => {
  const {
    prefix = 'erasure',
    config = EXAMPLE_DEPLOYMENT_CONFIG,
    env,
    anchorRetentionDays,
    ...runtime
  } = options;
  const data = new DataStack(app, `${prefix}-data`, {
    env,
    description: 'Erasure Orchestrator: tables, keys, secret and audit anchors (retained)',
    resourcePrefix: prefix,
    anchorRetentionDays,
    terminationProtection: true,
  });
  const worker = new WorkerStack(app, `${prefix}-worker`, {
    env,
    description: 'Erasure Orchestrator: queues, functions, schedule, API and alarms',
    ...runtime,
    config,
    data: data.data,
    resourcePrefix: prefix,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { data, worker };
};
