import { Duration, Token } from 'aws-cdk-lib';
import { checkDeploymentConfig } from '../../domain/policy/config.js';
import { exampleFor } from '../../domain/policy/examples.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { formatPath, quote } from '../../domain/vocabulary/index.js';
import { CONFIG_REF_PREFIX, configRef } from '../../functions/shared/config-refs.js';
import { CONNECTOR_TIMEOUT_SECONDS } from '../resources.js';
import type { BucketReference, TableReference } from './config-input.js';

/**
 * A mistake in what a user gave (props, a config file), not a bug: its message lists every problem,
 * one per line, and it carries no stack trace, which would only hide the list.
 */
export class ConfigurationError extends Error {
  declare readonly problems: readonly string[];

  constructor(heading: string, problems: readonly string[]) {
    super(`${heading}\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = new.target.name;
    // What Node prints for an uncaught error: the message alone (the list is not repeated).
    Object.defineProperty(this, 'problems', { value: problems, enumerable: false });
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** Props the construct cannot build from. The message lists every offending field, one per line. */
export class OrchestratorPropsError extends ConfigurationError {
  constructor(problems: readonly string[]) {
    super('Invalid ErasureOrchestrator props:', problems);
  }
}

/** A deployment config file with mistakes: every one of them, each with the file and field. */
export class DeploymentConfigError extends ConfigurationError {
  declare readonly file: string;

  constructor(file: string, problems: readonly string[]) {
    super(
      `Invalid deployment config (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}):`,
      problems,
    );
    Object.defineProperty(this, 'file', { value: file, enumerable: false });
  }
}

// Key ARNs only: IAM statements naming an alias ARN do not authorise use of the key behind it.
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(mrk-)?[a-f0-9-]+$/;
const RESOURCE_PREFIX = /^[a-z][a-z0-9-]{0,39}$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * The one field of each target kind that may name a resource of this app: a construct or a token
 * (resolved at deploy time). Valid stand-ins take their place while the schema checks the rest.
 */
const REFERENCE_FIELDS: Readonly<Record<string, { readonly field: string; readonly standIn: string }>> = {
  's3-prefix': { field: 'bucket', standIn: 'cdk-token-bucket' },
  'dynamodb-items': { field: 'table', standIn: 'cdk-token-table' },
  'http-webhook': { field: 'url', standIn: 'https://cdk-token.invalid/' },
};

/** One problem: where, what, the value found and a good one. */
interface Finding {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly entry?: string;
  readonly value?: unknown;
}

const show = (value: unknown): string => {
  const text = typeof value === 'string' ? quote(value) : JSON.stringify(value);
  return text === undefined || text.length <= 60 ? String(text) : `${text.slice(0, 57)}...`;
};

/** `config.targets[1].bucket: 'Acme' is not an S3 bucket name (target 'uploads'; e.g. 'acme-uploads')`. */
const describe = (root: string, finding: Finding): string => {
  const field = [root, formatPath(finding.path)].filter((part) => part !== '').join('.') || 'config';
  const { value } = finding;
  const shown = value === undefined || isRecord(value) ? undefined : show(value);
  const got = shown === undefined || finding.message.includes(shown) ? '' : `, got ${shown}`;
  const example = exampleFor(finding.path);
  const notes = [finding.entry, example === undefined ? undefined : `e.g. ${example}`].filter(
    (note) => note !== undefined,
  );
  return `${field}: ${finding.message}${got}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
};

/** Every CDK token outside the reference fields, by path: the rest is compiled into the bundles as text. */
const misplacedTokens = (value: unknown, path: PropertyKey[], findings: Finding[]): void => {
  if (typeof value === 'string') {
    if (Token.isUnresolved(value)) {
      findings.push({
        path,
        message:
          "must be a literal value, not a CDK token (only a target's bucket, table and url may reference this app)",
      });
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      misplacedTokens(item, [...path, i], findings);
    });
  } else if (isRecord(value) && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    // Plain objects only: a construct where a value belongs is the schema's to report.
    for (const [key, item] of Object.entries(value)) misplacedTokens(item, [...path, key], findings);
  }
};

/**
 * What the IAM grants and the function bundles need beyond what the domain schema checks (which
 * checks every value with the domain vocabulary: names, templates, durations, table names or ARNs).
 * Reads the input loosely, so that these problems are listed with the schema's.
 */
const infraProblems = (input: unknown, targets: unknown): Finding[] => {
  const findings: Finding[] = [];
  if (!Array.isArray(targets)) return findings;
  // The schema checks names against targets only once every field has the right type; this
  // reports them with the rest (the duplicates this makes when it did are dropped).
  const names = new Set(targets.flatMap((target: unknown) => (isRecord(target) ? [target.name] : [])));
  const classes = isRecord(input) && isRecord(input.catalog) ? input.catalog.dataClasses : undefined;
  if (Array.isArray(classes)) {
    classes.forEach((policy: unknown, c) => {
      if (!isRecord(policy) || !Array.isArray(policy.targets)) return;
      const entry = typeof policy.dataClass === 'string' ? `data class '${policy.dataClass}'` : undefined;
      policy.targets.forEach((name: unknown, t) => {
        if (typeof name === 'string' && !names.has(name)) {
          const path = ['catalog', 'dataClasses', c, 'targets', t];
          findings.push({ path, entry, message: `${quote(name)} is not defined in targets` });
        }
      });
    });
  }
  targets.forEach((target: unknown, i) => {
    if (!isRecord(target)) return;
    const at = (field: string): readonly PropertyKey[] => ['targets', i, field];
    const entry = typeof target.name === 'string' ? `target '${target.name}'` : undefined;
    const { prefixTemplate, url, timeoutMs } = target;
    // These would widen the IAM resource pattern built from the template, or read as a policy variable.
    if (
      target.kind === 's3-prefix' &&
      typeof prefixTemplate === 'string' &&
      /[*?]|\$\{/.test(prefixTemplate)
    ) {
      findings.push({
        path: at('prefixTemplate'),
        entry,
        message: `${quote(prefixTemplate)} must not contain '*', '?' or '\${'`,
      });
    }
    if (target.kind === 'http-webhook') {
      // In AWS the request leaves the account with a subject id in it.
      if (typeof url === 'string' && !Token.isUnresolved(url) && !url.startsWith('https://')) {
        findings.push({ path: at('url'), entry, message: `${quote(url)} must use https` });
      }
      const limitMs = CONNECTOR_TIMEOUT_SECONDS * 1000;
      if (typeof timeoutMs === 'number' && timeoutMs >= limitMs) {
        findings.push({
          path: at('timeoutMs'),
          entry,
          message: `must be below the worker's timeout (${limitMs} ms), got ${timeoutMs}`,
        });
      }
    }
  });
  return findings;
};

/** The config as checked: strings throughout, CDK tokens where the input had constructs or tokens. */
export interface CheckedConfig {
  /** Parsed (schema defaults applied); a target's bucket, table or url may be a CDK token. */
  readonly config: DeploymentConfig;
  /** Buckets given as constructs, by target name: the grants come from them. */
  readonly buckets: ReadonlyMap<string, BucketReference>;
  /** Tables given as constructs, by target name. */
  readonly tables: ReadonlyMap<string, TableReference>;
}

export type ConfigCheck =
  | (CheckedConfig & { readonly problems: readonly [] })
  | { readonly config?: undefined; readonly problems: readonly string[] };

/**
 * Validates the deployment config with the domain's schema (catalog rules, target shapes, every
 * named target defined and able to do its classes' action), then what the infrastructure adds:
 * prefix templates usable as IAM patterns, https webhooks that time out before the worker does,
 * and CDK tokens only where a target names a resource (bucket, table, url; constructs are taken
 * there too). Returns every problem at once, each naming its field (under `root`), the data class
 * or target it belongs to, the value found and an example of a good one.
 */
export const checkConfig = (input: unknown, root = 'config'): ConfigCheck => {
  const buckets = new Map<string, BucketReference>();
  const tables = new Map<string, TableReference>();
  // Constructs → their names (tokens), remembered for the grants.
  const named = isRecord(input) && Array.isArray(input.targets) ? input.targets : undefined;
  const references: { index: number; field: string; value: string }[] = [];
  const findings: Finding[] = [];
  const targets = named?.map((target: unknown, index) => {
    if (!isRecord(target) || typeof target.kind !== 'string') return target;
    const reference = REFERENCE_FIELDS[target.kind];
    if (reference === undefined) return target;
    let value = target[reference.field];
    if (isRecord(value) && typeof target.name === 'string') {
      if ('bucketName' in value && 'bucketArn' in value) {
        buckets.set(target.name, value as unknown as BucketReference);
        value = (value as unknown as BucketReference).bucketName;
      } else if ('tableName' in value && 'tableArn' in value) {
        tables.set(target.name, value as unknown as TableReference);
        value = (value as unknown as TableReference).tableName;
      }
    }
    if (typeof value !== 'string' || !Token.isUnresolved(value))
      return { ...target, [reference.field]: value };
    references.push({ index, field: reference.field, value });
    return { ...target, [reference.field]: reference.standIn };
  });
  const standIns = named === undefined ? input : { ...(input as Record<string, unknown>), targets };
  misplacedTokens(standIns, [], findings);

  const parsed = checkDeploymentConfig(standIns);
  if (!parsed.ok) findings.push(...parsed.problems);
  findings.push(...infraProblems(standIns, targets));
  if (!parsed.ok || findings.length > 0) {
    return { problems: [...new Set(findings.map((finding) => describe(root, finding)))] };
  }
  // The stand-ins back to the tokens they replaced (the schema keeps the targets' order).
  const resolved = parsed.value.targets.map((target, index) => {
    const reference = references.find((ref) => ref.index === index);
    return reference === undefined ? target : { ...target, [reference.field]: reference.value };
  });
  return { config: { ...parsed.value, targets: resolved }, buckets, tables, problems: [] };
};

/**
 * The config as the functions get it: each token (a bucket or table of this app, a URL) replaced
 * by `${ERASURE_REF_<n>}`, and the variables that carry the tokens, which CloudFormation resolves.
 * The config itself stays a file or a bundle constant, with no 4 KB environment limit.
 */
export const functionConfig = (
  config: DeploymentConfig,
): { readonly config: DeploymentConfig; readonly environment: Readonly<Record<string, string>> } => {
  const environment: Record<string, string> = {};
  const targets = config.targets.map((target) => {
    const { field } = REFERENCE_FIELDS[target.kind] ?? { field: '' };
    const value = (target as unknown as Record<string, unknown>)[field];
    if (typeof value !== 'string' || !Token.isUnresolved(value)) return target;
    const variable = `${CONFIG_REF_PREFIX}${Object.keys(environment).length}`;
    environment[variable] = value;
    return { ...target, [field]: configRef(variable) };
  });
  return { config: { ...config, targets }, environment };
};

/** Reads and checks a deployment config file; throws a DeploymentConfigError listing every problem. */
export const checkConfigFile = (file: string, text: string): DeploymentConfig => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new DeploymentConfigError(file, [`${file}: not valid JSON: ${(error as Error).message}`]);
  }
  const checked = checkConfig(json, '');
  if (checked.config === undefined) {
    throw new DeploymentConfigError(
      file,
      checked.problems.map((problem) => `${file}: ${problem}`),
    );
  }
  return checked.config;
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
