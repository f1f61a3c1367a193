import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/shared/metric-names.js';
import {
  BUNDLE_SETTINGS,
  bundleBanner,
  bundleDefine,
  CONFIG_FILE,
  configLiteral,
  FUNCTION_NODE_OPTIONS,
  handlerName,
} from '../bundling.js';
import { acknowledge } from './nag.js';

/**
 * Repository root when running from the sources; `dist/` when running from the published package,
 * which holds the pre-built bundles in `dist/handlers/` (`npm run build`, tools/build-package.ts).
 */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PREBUILT_HANDLERS = join(PROJECT_ROOT, 'handlers');
/**
 * This repository's lock file pins the bundled dependencies. Installed as a package there is none
 * (npm does not ship lock files): CDK then finds the consuming app's lock file above the entry.
 */
const LOCK_FILE = join(PROJECT_ROOT, 'package-lock.json');
const BUNDLING_ROOT = existsSync(LOCK_FILE) ? { projectRoot: PROJECT_ROOT, depsLockFilePath: LOCK_FILE } : {};

/** The latest Node.js runtime in aws-cdk-lib 2.276 (cdk-nag AwsSolutions-L1 wants the latest of the family). */
export const FUNCTION_RUNTIME = lambda.Runtime.NODEJS_24_X;

export const POWERTOOLS_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: 'INFO',
} as const;

export interface OrchestratorFunctionProps {
  /** File under functions/ that exports `handler`, e.g. `api.ts`. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The deployment config: a file next to a pre-built handler, or compiled into the bundle as
   * `process.env.ERASURE_CONFIG` when bundling from source (either way no 4 KB environment limit).
   */
  readonly config: DeploymentConfig;
  readonly logRetention: logs.RetentionDays;
  /** Active X-Ray tracing (adds `xray:Put*` on `*`, which X-Ray requires). */
  readonly tracing: boolean;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * Bundling from this repository's sources (its tests and `npm run synth`): CDK runs the local
 * esbuild, with the config compiled in, so a change to a handler needs no separate build step.
 */
const sourceBundling = (config: DeploymentConfig): nodejs.BundlingOptions => {
  const literal = configLiteral(config);
  return {
    forceDockerBundling: false,
    format: nodejs.OutputFormat.ESM,
    target: BUNDLE_SETTINGS.target,
    minify: BUNDLE_SETTINGS.minify,
    sourceMap: BUNDLE_SETTINGS.sourceMap,
    sourcesContent: BUNDLE_SETTINGS.sourcesContent,
    // Pinned SDK versions from package-lock.json, not whatever the runtime ships.
    bundleAwsSDK: true,
    externalModules: [...BUNDLE_SETTINGS.external],
    mainFields: [...BUNDLE_SETTINGS.mainFields],
    banner: bundleBanner(literal),
    define: bundleDefine(literal),
  };
};

/**
 * A pre-built handler with the deployment config beside it, in a directory of its own (the asset
 * CDK hashes and uploads): the bundle stays byte-identical to the package's, the config is data.
 */
const stageWithConfig = (handlerDir: string, config: DeploymentConfig): string => {
  const json = JSON.stringify(config);
  const files = readdirSync(handlerDir).sort();
  const digest = createHash('sha256').update(json);
  for (const file of files) digest.update(`\0${file}\0`).update(readFileSync(join(handlerDir, file)));
  const hash = digest.digest('hex').slice(0, 24);
  const staged = join(tmpdir(), `erasure-orchestrator-${hash}`);
  if (!existsSync(staged)) {
    // Built aside and renamed into place: a synth running at the same time never sees half a copy.
    const building = mkdtempSync(`${staged}-`);
    for (const file of files) copyFileSync(join(handlerDir, file), join(building, file));
    writeFileSync(join(building, CONFIG_FILE), json);
    try {
      renameSync(building, staged);
    } catch {
      // Another synth got there first, with the same content.
      rmSync(building, { recursive: true, force: true });
    }
  }
  return staged;
};

/**
 * One orchestrator Lambda: bundled by the local esbuild (no Docker), ARM64, its own role (no AWS
 * managed policies) and its own log group with a retention. Callers add the statements it needs.
 */
export class OrchestratorFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: OrchestratorFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Erasure Orchestrator ${id} function`,
    });
    // The log group exists already, so no logs:CreateLogGroup; metrics go out as EMF log lines,
    // so no cloudwatch:PutMetricData (which could only be granted on '*').
    this.logGroup.grantWrite(this.role);

    if (props.tracing) {
      acknowledge(
        this.role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray accepts xray:PutTraceSegments and xray:PutTelemetryRecords only on Resource "*".',
      );
    }

    const common = {
      description: props.description,
      runtime: FUNCTION_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        ...POWERTOOLS_ENVIRONMENT,
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        ...props.environment,
      },
    };
    const prebuilt = join(PREBUILT_HANDLERS, handlerName(props.entry));
    this.function = existsSync(prebuilt)
      ? new lambda.Function(this, 'Function', {
          ...common,
          handler: 'index.handler',
          code: lambda.Code.fromAsset(stageWithConfig(prebuilt, props.config)),
        })
      : new nodejs.NodejsFunction(this, 'Function', {
          ...common,
          entry: join(PROJECT_ROOT, 'functions', props.entry),
          handler: 'handler',
          ...BUNDLING_ROOT,
          bundling: sourceBundling(props.config),
        });
  }
}
