import { Duration, Token } from 'aws-cdk-lib';
import { ValidationError } from '../../domain/errors.js';
import { parseDeploymentConfig } from '../../domain/policy/config.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { CONNECTOR_TIMEOUT_SECONDS } from '../resources.js';

/** Props the construct cannot build from. The message lists every offending field, one per line. */
export class OrchestratorPropsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid ErasureOrchestrator props:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'OrchestratorPropsError';
  }
}

// Key ARNs only: IAM statements naming an alias ARN do not authorise use of the key behind it.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[a-f0-9-]+$/;
const RESOURCE_PREFIX = /^[a-z][a-z0-9-]{0,39}$/;

/** Every string in `value` that is a CDK token, with its path (`config.targets[0].bucket`). */
const tokenPaths = (value: unknown, path: string): string[] => {
  if (typeof value === 'string') return Token.isUnresolved(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, i) => tokenPaths(item, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => tokenPaths(item, `${path}.${key}`));
  }
  return [];
};

/**
 * What the IAM grants and the function bundles need beyond what the domain schema checks (which
 * checks every value with the domain vocabulary: names, templates, durations, table names or ARNs).
 */
const infraProblems = (config: DeploymentConfig, field: string): string[] => {
  const problems: string[] = [];
  config.targets.forEach((target, i) => {
    const at = `${field}.targets[${i}]`;
    switch (target.kind) {
      case 's3-prefix':
        // These would widen the IAM resource pattern built from the template, or read as a policy variable.
        if (/[*?]|\$\{/.test(target.prefixTemplate)) {
          problems.push(
            `${at}.prefixTemplate: '${target.prefixTemplate}' must not contain '*', '?' or '\${'`,
          );
        }
        return;
      case 'http-webhook': {
        // In AWS the request leaves the account with a subject id in it.
        if (!target.url.startsWith('https://')) problems.push(`${at}.url: '${target.url}' must use https`);
        const limitMs = CONNECTOR_TIMEOUT_SECONDS * 1000;
        if (target.timeoutMs !== undefined && target.timeoutMs >= limitMs) {
          problems.push(
            `${at}.timeoutMs: must be below the worker's timeout (${limitMs} ms), got ${target.timeoutMs}`,
          );
        }
        return;
      }
    }
  });
  return problems;
};

export type ConfigCheck =
  | { readonly config: DeploymentConfig; readonly problems: readonly [] }
  | { readonly config?: undefined; readonly problems: readonly string[] };

/**
 * Validates the deployment config with the domain's schema (`parseDeploymentConfig`: catalog rules,
 * target shapes, every named target defined and able to do its classes' action), then what the
 * infrastructure adds: no CDK tokens (the config is compiled into the bundles as text), prefix
 * templates usable as IAM patterns, https webhooks that time out before the
 * worker does. Returns the parsed config (defaults applied) or the problems, each naming its field.
 */
export const checkConfig = (input: unknown, field = 'config'): ConfigCheck => {
  const tokens = tokenPaths(input, field);
  if (tokens.length > 0) {
    return {
      problems: tokens.map(
        (path) =>
          `${path}: must be a literal value, not a CDK token (the config is compiled into the function bundles)`,
      ),
    };
  }
  let config: DeploymentConfig;
  try {
    config = parseDeploymentConfig(input);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return {
      problems: [`${error.field === undefined ? field : `${field}.${error.field}`}: ${error.message}`],
    };
  }
  const problems = infraProblems(config, field);
  return problems.length > 0 ? { problems } : { config, problems: [] };
};

/** The tunable props shared by the construct and the stacks, as validated numbers. */
export interface NumericOptions {
  readonly sweepRate: Duration;
  readonly taskQueueMaxReceives: number;
  readonly connectorMaxConcurrency: number;
  readonly dueBucketShards: number;
  readonly sweepShardConcurrency: number;
  readonly connectorErrorRateThreshold: number;
  readonly resourcePrefix?: string;
  readonly targetEncryptionKeyArns: readonly string[];
}

export const prefixProblems = (prefix: string | undefined): string[] =>
  prefix === undefined || RESOURCE_PREFIX.test(prefix)
    ? []
    : [
        `resourcePrefix: '${prefix}' must be lower-case letters, digits and '-', start with a letter, at most 40 characters`,
      ];

const integerIn = (problems: string[], field: string, value: number, min: number, max: number): void => {
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${field}: must be an integer from ${min} to ${max}, got ${value}`);
  }
};

export const optionProblems = (options: NumericOptions): string[] => {
  const problems: string[] = [];
  const rate = options.sweepRate;
  if (rate.isUnresolved()) {
    problems.push('sweepRate: must be a literal duration');
  } else {
    const seconds = rate.toSeconds();
    // Whole minutes: EventBridge rates and CloudWatch periods; at most 6 h so that two missed
    // sweeps fit in an alarm's one-day evaluation window and in Lambda's maximum event age.
    if (seconds % 60 !== 0 || seconds < 60 || seconds > Duration.hours(6).toSeconds()) {
      problems.push(`sweepRate: must be whole minutes from 1 minute to 6 hours, got ${rate.toHumanString()}`);
    }
  }
  // SQS allows maxReceiveCount 1..1000; Lambda's SQS maximum concurrency is 2..1000.
  integerIn(problems, 'taskQueueMaxReceives', options.taskQueueMaxReceives, 1, 1000);
  integerIn(problems, 'connectorMaxConcurrency', options.connectorMaxConcurrency, 2, 1000);
  integerIn(problems, 'dueBucketShards', options.dueBucketShards, 1, 100);
  integerIn(problems, 'sweepShardConcurrency', options.sweepShardConcurrency, 2, 1000);
  const threshold = options.connectorErrorRateThreshold;
  if (!(threshold > 0 && threshold <= 1)) {
    problems.push(`connectorErrorRateThreshold: must be a fraction in (0, 1], got ${threshold}`);
  }
  problems.push(...prefixProblems(options.resourcePrefix));
  options.targetEncryptionKeyArns.forEach((arn, i) => {
    if (!Token.isUnresolved(arn) && !KMS_KEY_ARN.test(arn)) {
      problems.push(
        `targetEncryptionKeyArns[${i}]: '${arn}' is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`,
      );
    }
  });
  return problems;
};
