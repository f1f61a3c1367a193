import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_TARGETS } from '../../domain/policy/catalog.js';
import { environmentVariablesOf } from '../../functions/shared/env.js';
import { METRIC } from '../../functions/shared/observability.js';
import { ROUTES, type RouteDefinition, routeKey } from '../../functions/shared/routes.js';
import { executeApiPath } from '../../infra/constructs/erasure-api.js';
import { flattenReference } from '../../infra/constructs/nag.js';
import { METRICS } from '../../infra/constructs/orchestrator-alarms.js';
import { SWEEP_SHARD_QUEUE, TABLES, TASK_QUEUE } from '../../infra/resources.js';
import { addErasureStacks } from '../../infra/stacks/erasure-app.js';

type Resource = { readonly Type: string; readonly Properties: Record<string, unknown> } & Record<
  string,
  unknown
>;
type Statement = {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
};

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let app: App;
let stacks: ReturnType<typeof addErasureStacks>;
let data: Template;
let worker: Template;
let workerResources: Record<string, Resource>;
let nagViolations: ReturnType<AwsSolutionsChecks['validateScope']>['violations'];

const only = (template: Template, type: string, props: Record<string, unknown> = {}): [string, Resource] => {
  const found = Object.entries(template.findResources(type, props)) as [string, Resource][];
  expect(found, `exactly one ${type} matching ${JSON.stringify(props)}`).toHaveLength(1);
  const [entry] = found;
  if (entry === undefined) throw new Error('unreachable');
  return entry;
};

const functionByEntry = (description: string): [string, Resource] =>
  only(worker, 'AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description) } });

/** Every statement of every inline and managed policy in both stacks, with where it is. */
const everyStatement = (): { readonly where: string; readonly statement: Statement }[] =>
  [data, worker].flatMap((template) =>
    ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].flatMap((type) =>
      Object.entries(template.findResources(type)).flatMap(([logicalId, resource]) =>
        (resource.Properties.PolicyDocument.Statement as Statement[]).map((statement) => ({
          where: logicalId,
          statement,
        })),
      ),
    ),
  );

/** Every Allow statement (the only Deny statements keep a role's wildcards off other roles' routes). */
const allStatements = () => everyStatement().filter(({ statement }) => statement.Effect === 'Allow');

beforeAll(() => {
  app = new App();
  stacks = addErasureStacks(app, { prefix: 'erasure-test' });
  // Synthesis runs the cdk-nag plugin: an unacknowledged error finding throws here.
  app.synth();
  data = Template.fromStack(stacks.data);
  worker = Template.fromStack(stacks.worker);
  workerResources = worker.toJSON().Resources as Record<string, Resource>;
  nagViolations = new AwsSolutionsChecks().validateScope(app).violations;
});

describe('DataStack', () => {
  it('builds the four tables of infra/resources.ts, retained, with PITR and the customer-managed key', () => {
    data.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
    const [keyId] = only(data, 'AWS::KMS::Key', { Properties: { EnableKeyRotation: true } });
    for (const definition of Object.values(TABLES)) {
      data.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          TableName: `erasure-test-${definition.id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: {
            SSEEnabled: true,
            SSEType: 'KMS',
            KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
          },
          DeletionProtectionEnabled: definition.evidence,
        }),
      });
    }
  });

  it('cannot be deleted by accident: termination protection on the stateful stack only', () => {
    expect(stacks.data.terminationProtection).toBe(true);
    expect(stacks.worker.terminationProtection).toBe(false);
  });

  it('protects the evidence: deletion protection on the audit table only, and the key is retained', () => {
    data.resourcePropertiesCountIs('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true }, 1);
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'erasure-test-audit',
      DeletionProtectionEnabled: true,
    });
    data.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('creates the secret with a generated pseudonymKey, encrypted with the key and retained', () => {
    const [keyId] = only(data, 'AWS::KMS::Key', { Properties: { EnableKeyRotation: true } });
    data.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
        GenerateSecretString: Match.objectLike({
          GenerateStringKey: 'pseudonymKey',
          SecretStringTemplate: JSON.stringify({ webhookSecrets: {} }),
        }),
      }),
    });
  });
});

describe('WorkerStack', () => {
  it('has the expected resources', () => {
    // API, certificate, sweep, sweep shard, worker.
    worker.resourceCountIs('AWS::Lambda::Function', 5);
    // The task queue, the sweep-shard queue and their dead-letter queues.
    worker.resourceCountIs('AWS::SQS::Queue', 4);
    worker.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    worker.resourceCountIs('AWS::Events::Rule', 1);
    worker.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    worker.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length);
    worker.resourceCountIs('AWS::IAM::ManagedPolicy', 2);
    worker.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    // One per function and the API's access logs.
    worker.resourceCountIs('AWS::Logs::LogGroup', 6);
    worker.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  it('runs every function on the latest Node.js runtime, ARM64, with its own log group and the Powertools env', () => {
    const functions = Object.values(worker.findResources('AWS::Lambda::Function'));
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: 'erasure-orchestrator',
            POWERTOOLS_METRICS_NAMESPACE: 'ErasureOrchestrator',
            POWERTOOLS_LOG_LEVEL: 'INFO',
          },
        },
      });
      const logGroup = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(workerResources[logGroup]?.Properties).toMatchObject({ RetentionInDays: 90 });
    }
    // No two functions share a log group.
    expect(new Set(functions.map((fn) => fn.Properties.LoggingConfig.LogGroup.Ref)).size).toBe(5);
  });

  it('never attaches AWS managed policies to the function roles', () => {
    for (const role of Object.values(worker.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('gives each function exactly the variables its manifest entry names (functions/manifest.ts)', () => {
    const runtimeVariables = [
      'POWERTOOLS_SERVICE_NAME',
      'POWERTOOLS_METRICS_NAMESPACE',
      'POWERTOOLS_LOG_LEVEL',
      'NODE_OPTIONS',
    ];
    for (const [key, label] of [
      ['api', 'API'],
      ['certificate', 'certificates of erasure'],
      ['sweep', 'sweep'],
      ['sweepShard', 'due-bucket shard'],
      ['worker', 'worker'],
    ] as const) {
      const [, fn] = functionByEntry(label);
      const variables = Object.keys(
        (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      );
      expect(variables.filter((name) => !runtimeVariables.includes(name)).sort()).toEqual(
        environmentVariablesOf(key)
          .filter((name) => name !== 'ERASURE_CONFIG')
          .sort(),
      );
    }
    // The worker never touches the Schedules table: neither its name nor a grant.
    const [, connector] = functionByEntry('worker');
    expect(JSON.stringify(connector.Properties.Environment)).not.toContain('SCHEDULES_TABLE');
  });

  it('lets only one sweep run at a time and tells only the worker CALLBACK_BASE_URL', () => {
    const [, sweep] = functionByEntry('sweep');
    const [, api] = functionByEntry('API');
    const [, connector] = functionByEntry('worker');
    expect(sweep.Properties.ReservedConcurrentExecutions).toBe(1);
    expect(api.Properties.ReservedConcurrentExecutions).toBeUndefined();
    const variables = (fn: Resource) =>
      Object.keys((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables);
    expect(variables(connector)).toContain('CALLBACK_BASE_URL');
    expect(variables(connector)).toContain('TASK_QUEUE_MAX_RECEIVES');
    for (const other of [sweep, api]) expect(variables(other)).not.toContain('CALLBACK_BASE_URL');
    expect(
      (connector.Properties.Environment as { Variables: Record<string, unknown> }).Variables
        .CALLBACK_BASE_URL,
    ).toEqual({ 'Fn::GetAtt': [only(worker, 'AWS::ApiGatewayV2::Api')[0], 'ApiEndpoint'] });
  });

  it('feeds the worker from the task queue in batches of 10 with partial batch failures and bounded concurrency', () => {
    const [workerId] = functionByEntry('worker');
    const [queueId] = only(worker, 'AWS::SQS::Queue', {
      Properties: { QueueName: 'erasure-test-task-queue' },
    });
    worker.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: workerId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('wires the DLQ with maxReceiveCount and keeps the visibility timeout at least 6x the worker timeout', () => {
    const [, connector] = functionByEntry('worker');
    const [dlqId] = only(worker, 'AWS::SQS::Queue', {
      Properties: { QueueName: 'erasure-test-task-dead-letter-queue' },
    });
    const [, queue] = only(worker, 'AWS::SQS::Queue', {
      Properties: { QueueName: 'erasure-test-task-queue' },
    });
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: TASK_QUEUE.maxReceiveCount,
    });
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * (connector.Properties.Timeout as number),
    );
  });

  it('encrypts both queues with the data key and denies requests without TLS', () => {
    for (const queue of Object.values(worker.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.KmsMasterKeyId).toEqual({
        'Fn::ImportValue': expect.stringMatching(/DataKey/),
      });
    }
    worker.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      },
      4,
    );
  });

  it('fans the sweep out: the coordinator sends due buckets to a shard queue that feeds the shard function one at a time, with bounded concurrency and a DLQ', () => {
    const [shardId, shard] = functionByEntry('due-bucket shard');
    const [, sweep] = functionByEntry('sweep');
    const [queueId, queue] = only(worker, 'AWS::SQS::Queue', {
      Properties: { QueueName: 'erasure-test-sweep-shard-queue' },
    });
    const [dlqId] = only(worker, 'AWS::SQS::Queue', {
      Properties: { QueueName: 'erasure-test-sweep-shard-dead-letter-queue' },
    });
    worker.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: shardId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 4 },
    });
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: SWEEP_SHARD_QUEUE.maxReceiveCount,
    });
    expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * (shard.Properties.Timeout as number),
    );
    const variables = (fn: Resource) =>
      (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables(sweep).SWEEP_SHARD_QUEUE_URL).toEqual({ Ref: queueId });
    expect(variables(shard).SWEEP_SHARD_QUEUE_URL).toBeUndefined();
    expect(shard.Properties.ReservedConcurrentExecutions).toBeUndefined();
    // Only the coordinator may send to the shard queue.
    const senders = everyStatement().filter(
      ({ statement }) =>
        [statement.Action].flat().includes('sqs:SendMessage') &&
        JSON.stringify(statement.Resource).includes(queueId),
    );
    expect(senders).toHaveLength(1);
    worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: shardId } }],
    });
    worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    });
  });

  it('runs the sweep every 15 minutes without retrying a sweep that could not start', () => {
    const [sweepId] = functionByEntry('sweep');
    worker.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [sweepId, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 900 },
        }),
      ],
    });
  });

  it('integrates the certificate route with the certificate function and every other route with the API function', () => {
    const [apiId] = functionByEntry('API');
    const [certificateId] = functionByEntry('certificates of erasure');
    const integrations = worker.findResources('AWS::ApiGatewayV2::Integration');
    const functionOf = (integrationId: string): string => {
      const uri = JSON.stringify(integrations[integrationId]?.Properties.IntegrationUri);
      const ids = [apiId, certificateId].filter((id) => uri.includes(`"${id}"`));
      expect(ids, `integration ${integrationId}`).toHaveLength(1);
      return ids[0] ?? '';
    };
    const routes = Object.values(worker.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes).toHaveLength(ROUTES.length);
    const served = Object.fromEntries(
      routes.map((route) => {
        const target = route.Properties.Target as { 'Fn::Join': [string, unknown[]] };
        const integration = target['Fn::Join'][1].find(
          (part): part is { Ref: string } => typeof part === 'object' && part !== null && 'Ref' in part,
        );
        return [route.Properties.RouteKey as string, functionOf(integration?.Ref ?? '')];
      }),
    );
    for (const route of ROUTES as readonly RouteDefinition[]) {
      expect(served[routeKey(route)], routeKey(route)).toBe(
        route.path === '/v1/erasure-requests/{requestId}/certificate' ? certificateId : apiId,
      );
    }
    // Both are authorised the same way (IAM), and both may be invoked by API Gateway.
    worker.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'GET /v1/erasure-requests/{requestId}/certificate',
      AuthorizationType: 'AWS_IAM',
    });
    for (const fn of [apiId, certificateId]) {
      worker.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
      });
    }
  });

  it('gives the certificate function read access to requests and audit, the proof, and no queue', () => {
    const [certificateId, certificate] = functionByEntry('certificates of erasure');
    const roleId = (certificate.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = Object.values(worker.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
    const actions = statements.flatMap((statement) => list(statement.Action));
    expect(actions.filter((action) => action.startsWith('sqs:'))).toEqual([]);
    for (const write of [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      's3:DeleteObject',
    ]) {
      expect(actions, write).not.toContain(write);
    }
    expect(actions).toEqual(expect.arrayContaining(['kms:Sign', 'kms:GetPublicKey', 's3:PutObject']));
    const variables = Object.keys(
      (certificate.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    expect(variables).not.toContain('TASK_QUEUE_URL');
    expect(variables).not.toContain('SCHEDULES_TABLE');
    expect(variables).not.toContain('LEGAL_HOLDS_TABLE');
    expect(certificateId).not.toBe(functionByEntry('API')[0]);
  });

  it('authorises every route with IAM except the signed callback, which the handler verifies, the liveness probe and the API description', () => {
    for (const route of ROUTES as readonly RouteDefinition[]) {
      worker.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: routeKey(route),
        AuthorizationType: Array.isArray(route.roles) ? 'AWS_IAM' : 'NONE',
      });
    }
    expect(
      (ROUTES as readonly RouteDefinition[]).filter((route) => !Array.isArray(route.roles)).map(routeKey),
    ).toEqual(['GET /livez', 'GET /openapi.json', 'POST /v1/tasks/{taskId}/callback']);
    worker.hasResourceProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '2.0' });
    worker.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AccessLogSettings: { Format: Match.stringLikeRegexp('routeKey') },
    });
  });

  describe('invoke policies', () => {
    const policyResources = (role: string): string[] => {
      const [, policy] = only(worker, 'AWS::IAM::ManagedPolicy', {
        Properties: { Description: Match.stringLikeRegexp(`'${role}' role`) },
      });
      const [statement, ...rest] = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(rest.every((other) => other.Effect === 'Deny')).toBe(true);
      expect(statement?.Effect).toBe('Allow');
      expect(statement?.Action).toBe('execute-api:Invoke');
      // `<api id>/$default/GET/v1/...` → `GET /v1/...`
      return list(statement?.Resource).map((resource) =>
        flattenReference(resource).replace(/^.*\/\$default\/([A-Z]+)(\/.*)$/, '$1 $2'),
      );
    };
    /** The routes a role's policy denies (deeper routes of other roles its wildcards would reach). */
    const deniedResources = (role: string): string[] => {
      const [, policy] = only(worker, 'AWS::IAM::ManagedPolicy', {
        Properties: { Description: Match.stringLikeRegexp(`'${role}' role`) },
      });
      const [, ...rest] = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      return rest.flatMap((statement) =>
        list(statement.Resource).map((resource) =>
          flattenReference(resource).replace(/^.*\/\$default\/([A-Z]+)(\/.*)$/, '$1 $2'),
        ),
      );
    };

    for (const role of ['service', 'compliance'] as const) {
      it(`allows the ${role} role exactly its routes`, () => {
        const expected = (ROUTES as readonly RouteDefinition[])
          .filter((route) => route.roles !== 'signed' && route.roles.includes(role))
          .map((route) => `${route.method} ${executeApiPath(route.path)}`);
        expect(policyResources(role).sort()).toEqual(expected.sort());
      });

      it(`does not let a path-parameter wildcard of the ${role} role reach another role's route`, () => {
        const patterns = policyResources(role).map(
          (pattern) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`),
        );
        const others = (ROUTES as readonly RouteDefinition[]).filter(
          (route) => route.roles === 'signed' || !route.roles.includes(role),
        );
        const denied = deniedResources(role);
        for (const route of others) {
          const concrete = `${route.method} ${route.path.replace(/\{[^}]+\}/g, 'id-123')}`;
          if (denied.includes(`${route.method} ${executeApiPath(route.path)}`)) continue;
          expect(
            patterns.filter((pattern) => pattern.test(concrete)),
            concrete,
          ).toEqual([]);
        }
        if (role === 'service') {
          // GET /v1/erasure-requests/* (service) would reach the compliance-only certificate.
          expect(denied).toEqual(['GET /v1/erasure-requests/*/certificate']);
        }
      });
    }

    it('lets compliance preview an erasure but not submit one (IAM allows routes, not bodies)', () => {
      expect(policyResources('compliance')).toContain('POST /v1/erasure-previews');
      expect(policyResources('compliance')).not.toContain('POST /v1/erasure-requests');
      expect(policyResources('service')).toEqual(
        expect.arrayContaining(['POST /v1/erasure-previews', 'POST /v1/erasure-requests']),
      );
    });
  });

  describe('alarms', () => {
    it('watch the metric names the functions publish', () => {
      expect(METRICS).toEqual(METRIC);
    });

    it('fires when the dead-letter queue is not empty', () => {
      const [dlqId] = only(worker, 'AWS::SQS::Queue', {
        Properties: { QueueName: 'erasure-test-task-dead-letter-queue' },
      });
      worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    for (const metricName of ['RequestsOverdue', 'RequestsNearDeadline']) {
      it(`fires when ${metricName} > 0`, () => {
        worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'ErasureOrchestrator',
          MetricName: metricName,
          Dimensions: [{ Name: 'service', Value: 'erasure-orchestrator' }],
          Statistic: 'Maximum',
          Period: 900,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
        });
      });
    }

    it('fires when a cancelling event arrived after the deletion it cancels had run (DeletionTooLate > 0)', () => {
      worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'ErasureOrchestrator',
        MetricName: 'DeletionTooLate',
        Dimensions: [{ Name: 'service', Value: 'erasure-orchestrator' }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('fires when a commit gave up on a contended audit chain (CommitGaveUp > 0)', () => {
      worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'ErasureOrchestrator',
        MetricName: 'CommitGaveUp',
        Dimensions: [{ Name: 'service', Value: 'erasure-orchestrator' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('fires when a connector task is marked failed (also when it never reaches the DLQ: a permanent error, a callback that never came)', () => {
      worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'ErasureOrchestrator',
        MetricName: 'ConnectorTaskFailed',
        Dimensions: [{ Name: 'service', Value: 'erasure-orchestrator' }],
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    });

    it('fires when failed attempts / (succeeded + failed attempts) exceeds the threshold', () => {
      const [, alarm] = only(worker, 'AWS::CloudWatch::Alarm', {
        Properties: { Metrics: Match.anyValue(), Threshold: 0.1 },
      });
      const metrics = alarm.Properties.Metrics as {
        Id: string;
        Expression?: string;
        MetricStat?: { Metric: { MetricName: string } };
      }[];
      const idOf = (name: string) => metrics.find((m) => m.MetricStat?.Metric.MetricName === name)?.Id;
      const ok = idOf('ConnectorTaskSucceeded');
      const failed = idOf('ConnectorTaskFailedAttempt');
      expect(ok).toBeDefined();
      expect(failed).toBeDefined();
      const expression = metrics.find((m) => m.Expression !== undefined)?.Expression ?? '';
      expect(expression).toContain(`FILL(${failed}, 0) / (FILL(${ok}, 0) + FILL(${failed}, 0))`);
      expect(alarm.Properties.ComparisonOperator).toBe('GreaterThanThreshold');
    });

    it('fires when the sweep fails or stops publishing', () => {
      const [sweepId] = functionByEntry('sweep');
      worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: sweepId } }],
        Threshold: 0,
      });
      worker.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'RequestsOverdue',
        Statistic: 'SampleCount',
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        EvaluationPeriods: 2,
      });
    });

    it('has no actions unless a topic is given', () => {
      for (const alarm of Object.values(worker.findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.AlarmActions).toBeUndefined();
      }
    });
  });
});

describe('least privilege', () => {
  // Resources AWS only accepts as '*', with the reason. Empty by default: X-Ray tracing is off,
  // metrics go out as EMF log lines (no cloudwatch:PutMetricData).
  const STAR_ALLOWED: Readonly<Record<string, string>> = {};

  it('grants no action wildcard and no Resource "*"', () => {
    const statements = everyStatement();
    expect(statements.length).toBeGreaterThan(10);
    for (const { where, statement } of statements) {
      if (statement.Effect === 'Deny') {
        // Only to keep an invoke wildcard off another role's deeper route (see the invoke policies).
        expect(statement.Action, where).toBe('execute-api:Invoke');
        continue;
      }
      expect(statement.Effect, where).toBe('Allow');
      for (const action of list(statement.Action)) {
        expect(action, `${where}: ${action}`).not.toContain('*');
      }
      for (const resource of list(statement.Resource)) {
        if (resource === '*') {
          for (const action of list(statement.Action))
            expect(STAR_ALLOWED[action], `${where}: ${action} on *`).toBeDefined();
        }
      }
    }
  });

  it('names only our own resources or the declared targets, and wildcards only for ids known at run time', () => {
    const declared = EXAMPLE_TARGETS.flatMap((target) =>
      target.kind === 's3-prefix'
        ? [
            `arn:<AWS::Partition>:s3:::${target.bucket}`,
            `arn:<AWS::Partition>:s3:::${target.bucket}/${target.prefixTemplate.replaceAll('{subjectId}', '*')}*`,
          ]
        : target.kind === 'dynamodb-items'
          ? [
              `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${target.table}`,
              // The time-ordered index window runs (rolling windows) query.
              ...(target.windowIndex === undefined
                ? []
                : [
                    `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${target.table}/index/${target.windowIndex.indexName}`,
                  ]),
            ]
          : [],
    );
    // The anchors bucket, named from pseudo parameters (see anchorsBucketName).
    const anchors = 'arn:<AWS::Partition>:s3:::erasure-test-audit-anchors-<AWS::AccountId>-<AWS::Region>';
    declared.push(anchors, `${anchors}/anchors/*`);
    const ownLogicalIds = [...Object.keys(workerResources), ...Object.keys(data.toJSON().Resources)];
    for (const { where, statement } of allStatements()) {
      for (const resource of list(statement.Resource).map(flattenReference)) {
        const ours =
          // Ref/GetAtt of a resource in the stacks, or an export of the DataStack.
          /^<[A-Za-z0-9]+(\.[A-Za-z]+)?>(\/index\/[A-Za-z]+)?$/.test(resource) ||
          resource.startsWith('erasure-test-data:') ||
          // execute-api ARNs of our API (checked route by route above).
          ownLogicalIds.some((id) => resource.includes(`:<${id}>/$default/`));
        expect(ours || declared.includes(resource), `${where}: ${resource}`).toBe(true);
        if (resource.includes('*') && !resource.includes('execute-api')) {
          expect(declared, `${where}: ${resource}`).toContain(resource);
        }
      }
    }
  });

  it('confines S3 listing to the declared prefixes', () => {
    const anchors = allStatements().filter(
      ({ statement }) =>
        list(statement.Action).includes('s3:ListBucket') &&
        flattenReference(statement.Resource).includes('audit-anchors'),
    );
    // The API, the certificate function and the sweep list the anchors, and nothing else of that bucket.
    expect(anchors).toHaveLength(3);
    for (const { statement } of anchors) {
      expect(statement.Condition).toEqual({ StringLike: { 's3:prefix': ['anchors/*'] } });
    }
    const listing = allStatements().filter(
      ({ statement }) =>
        list(statement.Action).includes('s3:ListBucket') &&
        !flattenReference(statement.Resource).includes('audit-anchors'),
    );
    // Once per prefix for the worker (erasure) and once for the API (exports, ALU-6); for the
    // sweep, the static root of each rolling class's prefix (window runs list every subject).
    const perSubject = listing.filter(({ statement }) =>
      JSON.stringify(statement.Condition ?? {}).includes('StringLike'),
    );
    const roots = listing.filter(({ statement }) =>
      JSON.stringify(statement.Condition ?? {}).includes('StringEquals'),
    );
    expect(perSubject.length).toBe(
      2 * EXAMPLE_TARGETS.filter((target) => target.kind === 's3-prefix').length,
    );
    for (const { statement } of perSubject) {
      expect(statement.Condition).toEqual({
        StringLike: { 's3:prefix': [expect.stringMatching(/^[a-z]+\/\*\/$/)] },
      });
    }
    // cloud-video-window (IMOU-1) is the one rolling class on S3: its root `video/` only.
    expect(roots.map(({ statement }) => statement.Condition)).toEqual([
      { StringEquals: { 's3:prefix': ['video/'] } },
    ]);
    expect(perSubject.length + roots.length).toBe(listing.length);
  });

  it('never lets a function delete from the audit table', () => {
    const auditExport = /DataAudit/;
    for (const { where, statement } of allStatements()) {
      const onAudit = list(statement.Resource).some((resource) =>
        auditExport.test(flattenReference(resource)),
      );
      if (!onAudit) continue;
      for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem']) {
        expect(list(statement.Action), where).not.toContain(forbidden);
      }
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged finding, error or warning', () => {
    expect(
      nagViolations.map(
        (violation) => `${violation.ruleName}: ${violation.violatingResources[0]?.constructPath}`,
      ),
    ).toEqual([]);
  });

  it('leaves no error or warning annotation on either stack', () => {
    for (const stack of [stacks.data, stacks.worker]) {
      const annotations = Annotations.fromStack(stack);
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
      expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    }
  });
});
