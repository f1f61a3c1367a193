import { existsSync } from 'node:fs';
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
  configLiteral,
  FUNCTION_NODE_OPTIONS,
} from '../bundling.js';
import { acknowledge } from './nag.js';

/** Repository root: the function entries are resolved from here, wherever the CDK app runs. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
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
  /** Compiled into the bundle as `process.env.ERASURE_CONFIG` (no 4 KB environment limit). */
  readonly config: DeploymentConfig;
  readonly logRetention: logs.RetentionDays;
  /** Active X-Ray tracing (adds `xray:Put*` on `*`, which X-Ray requires). */
  readonly tracing: boolean;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One orchestrator Lambda: bundled by the local esbuild (no Docker), ARM64, its own role (no AWS
 * managed policies) and its own log group with a retention. Callers add the statements it needs.
 */
export class OrchestratorFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
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

    const literal = configLiteral(props.config);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, 'functions', props.entry),
      handler: 'handler',
      ...BUNDLING_ROOT,
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
      bundling: {
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
      },
    });
  }
}
