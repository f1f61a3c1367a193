import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import type { DataClassPolicy, DeploymentConfig } from '../../domain/policy/types.js';
import { FUNCTIONS } from '../../functions/manifest.js';
import { configRef, resolveConfigRefs } from '../../functions/shared/config-refs.js';
import { targetTableArn } from '../../infra/constructs/connector-permissions.js';
import { flattenReference } from '../../infra/constructs/nag.js';
import {
  ErasureOrchestrator,
  type ErasureOrchestratorProps,
  OrchestratorPropsError,
} from '../../infra/index.js';

/** Another team's catalog: orders (DynamoDB through a GSI, S3 uploads), profiles anonymised, a CRM webhook. */
const dataClass = (fields: Pick<DataClassPolicy, 'dataClass' | 'action' | 'targets'>): DataClassPolicy => ({
  description: `${fields.dataClass} of a customer`,
  ruleRefs: ['ACME-1'],
  triggers: ['account.closed'],
  retention: 'P30D',
  cancelledBy: [],
  blockers: ['legal-hold'],
  jurisdictionOverrides: {},
  ...fields,
});

const TARGETS: readonly ConnectorTarget[] = [
  {
    name: 'orders',
    kind: 'dynamodb-items',
    table: 'acme-orders',
    indexName: 'bySubject',
    subjectAttribute: 'customerId',
    keyAttributes: ['orderId'],
  },
  { name: 'uploads', kind: 's3-prefix', bucket: 'acme-uploads', prefixTemplate: 'customers/{subjectId}/' },
  {
    name: 'profiles',
    kind: 'dynamodb-items',
    table: 'acme-profiles',
    subjectAttribute: 'customerId',
    keyAttributes: ['customerId'],
    anonymiseAttributes: ['email', 'phone'],
  },
  { name: 'crm', kind: 'http-webhook', url: 'https://crm.acme.test/erase', signingSecretName: 'crm' },
  // Declared but named by no data class: gets no access.
  { name: 'archive', kind: 's3-prefix', bucket: 'acme-archive', prefixTemplate: 'cold/{subjectId}/' },
];

const CONFIG: DeploymentConfig = {
  catalog: {
    version: 'acme-1',
    dataClasses: [
      dataClass({ dataClass: 'orders', action: 'delete', targets: ['orders', 'uploads'] }),
      dataClass({ dataClass: 'profile', action: 'anonymise', targets: ['profiles', 'crm'] }),
    ],
  },
  targets: TARGETS,
};

type Statement = {
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
};
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('ErasureOrchestrator with a custom catalog and targets', () => {
  let app: App;
  let stack: Stack;
  let template: Template;
  let workerStatements: {
    readonly actions: string[];
    readonly resources: string[];
    readonly condition?: unknown;
  }[];
  let apiStatements: typeof workerStatements;

  beforeAll(() => {
    app = new App();
    stack = new Stack(app, 'Acme');
    const topic = new sns.Topic(stack, 'Ops', { enforceSSL: true });
    new ErasureOrchestrator(stack, 'Erasure', {
      config: CONFIG,
      sweepRate: Duration.minutes(5),
      connectorMaxConcurrency: 3,
      alarmTopic: topic,
    });
    template = Template.fromStack(stack);
    const workerRoleIds = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) =>
      id.includes('Worker'),
    );
    const statementsOf = (roleIds: string[]) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) =>
          (policy.Properties.Roles as { Ref: string }[]).some((role) => roleIds.includes(role.Ref)),
        )
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
        .map((statement) => ({
          actions: list(statement.Action),
          resources: list(statement.Resource).map(flattenReference),
          condition: statement.Condition,
        }));
    workerStatements = statementsOf(workerRoleIds);
    apiStatements = statementsOf(
      Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.includes('ApiHandler')),
    );
  });

  const grantsOn = (resource: string): string[] =>
    workerStatements.filter((s) => s.resources.includes(resource)).flatMap((s) => s.actions);

  it('lets the worker list and delete only under the declared prefix of the declared bucket', () => {
    const bucket = 'arn:<AWS::Partition>:s3:::acme-uploads';
    expect(grantsOn(bucket).sort()).toEqual(['s3:ListBucket', 's3:ListBucketVersions']);
    expect(workerStatements.find((s) => s.resources.includes(bucket))?.condition).toEqual({
      StringLike: { 's3:prefix': ['customers/*/'] },
    });
    expect(grantsOn(`${bucket}/customers/*/*`).sort()).toEqual(['s3:DeleteObject', 's3:DeleteObjectVersion']);
  });

  it('derives the DynamoDB operations from the actions of the classes that name the table', () => {
    const table = (name: string) =>
      `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${name}`;
    // orders: delete through a GSI → query the index, re-read and batch-delete on the table.
    expect(grantsOn(`${table('acme-orders')}/index/bySubject`)).toEqual(['dynamodb:Query']);
    expect(grantsOn(table('acme-orders')).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
    ]);
    // profiles: anonymise by its key → query and update, no delete.
    expect(grantsOn(table('acme-profiles')).sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
  });

  it('lets the API only read the declared targets, for exports (ALU-6) and dry runs, scoped like the worker', () => {
    const apiGrantsOn = (resource: string): string[] =>
      apiStatements.filter((s) => s.resources.includes(resource)).flatMap((s) => s.actions);
    const bucket = 'arn:<AWS::Partition>:s3:::acme-uploads';
    const table = (name: string) =>
      `arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${name}`;

    // Versions too: a dry run counts what the erasure would delete.
    expect(apiGrantsOn(bucket).sort()).toEqual(['s3:ListBucket', 's3:ListBucketVersions']);
    expect(apiStatements.find((s) => s.resources.includes(bucket))?.condition).toEqual({
      StringLike: { 's3:prefix': ['customers/*/'] },
    });
    expect(apiGrantsOn(`${bucket}/customers/*/*`)).toEqual(['s3:GetObject']);
    expect(apiGrantsOn(`${table('acme-orders')}/index/bySubject`)).toEqual(['dynamodb:Query']);
    // BatchGetItem alone: items found through a GSI are read again in batches; no connector GetItems.
    expect(apiGrantsOn(table('acme-orders')).sort()).toEqual(['dynamodb:BatchGetItem']);
    expect(apiGrantsOn(table('acme-profiles')).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:Query']);
    // Reads only: nothing on a target can be changed or deleted by the API.
    const onTargets = apiStatements.filter((s) => s.resources.some((r) => r.includes('acme-')));
    for (const action of onTargets.flatMap((s) => s.actions)) {
      expect(action).toMatch(
        /^(s3:(ListBucket|ListBucketVersions|GetObject)|dynamodb:(Query|BatchGetItem))$/,
      );
    }
    expect(JSON.stringify(apiStatements)).not.toContain('acme-archive');
  });

  it('grants nothing on undeclared or unused targets', () => {
    const everything = JSON.stringify(workerStatements);
    expect(everything).not.toContain('acme-archive');
    expect(everything).not.toContain('example-');
    expect(everything).not.toContain('crm.acme.test');
    const s3Resources = workerStatements
      .filter((s) => s.actions.some((a) => a.startsWith('s3:')))
      .flatMap((s) => s.resources);
    expect(
      s3Resources.every((resource) => resource.startsWith('arn:<AWS::Partition>:s3:::acme-uploads')),
    ).toBe(true);
  });

  it('compiles the validated config into the function bundles', () => {
    const assembly = app.synth();
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(5);
    for (const fn of functions) {
      // The code's S3 key is the asset hash; the staged asset sits next to the template.
      const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
      const bundle = readFileSync(join(assembly.directory, `asset.${hash}`, 'index.mjs'), 'utf8');
      // Set before any bundled code runs, so the config does not depend on how the code reads it.
      expect(bundle).toContain('process.env.ERASURE_CONFIG = "{\\"catalog\\":{\\"version\\":\\"acme-1\\"');
      expect(bundle).toContain('acme-uploads');
      expect(bundle).toContain('customers/{subjectId}/');
    }
  });

  it('applies the props: sweep rate, connector concurrency, alarm topic', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    const [topicId] = Object.keys(template.findResources('AWS::SNS::Topic'));
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(11);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'RequestsOverdue', Period: 300 });
  });

  it('keeps the defaults where no prop is given', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.resourcePropertiesCountIs('AWS::DynamoDB::Table', { TableName: Match.anyValue() }, 0);
  });

  it('passes cdk-nag AwsSolutions with the suppressions generated for its own prefixes', () => {
    const { violations } = new AwsSolutionsChecks().validateScope(stack);
    expect(violations.map((v) => `${v.ruleName}: ${v.violatingResources[0]?.constructPath}`)).toEqual([]);
  });
});

describe('ErasureOrchestrator props validation', () => {
  const build = (props: Partial<ErasureOrchestratorProps>) => () =>
    new ErasureOrchestrator(new Stack(new App(), 'Invalid'), 'Erasure', { config: CONFIG, ...props });

  const withTarget = (index: number, change: Record<string, unknown>): DeploymentConfig => ({
    ...CONFIG,
    targets: TARGETS.map((target, i) =>
      i === index ? ({ ...target, ...change } as ConnectorTarget) : target,
    ),
  });

  const cases: readonly [string, Partial<ErasureOrchestratorProps>, RegExp][] = [
    [
      'a data class naming an undeclared target',
      {
        config: {
          ...CONFIG,
          catalog: {
            ...CONFIG.catalog,
            dataClasses: [
              dataClass({ dataClass: 'orders', action: 'delete', targets: ['orders', 'ledger'] }),
            ],
          },
        },
      },
      /config\.catalog\.dataClasses\[0\]\.targets\[1\]: .*'ledger' is not defined in targets/,
    ],
    [
      'an invalid bucket name',
      { config: withTarget(1, { bucket: 'Acme_Uploads' }) },
      /config\.targets\[1\]\.bucket: /,
    ],
    [
      'a prefix template that would widen the IAM pattern',
      { config: withTarget(1, { prefixTemplate: 'customers/{subjectId}/*' }) },
      /config\.targets\[1\]\.prefixTemplate: 'customers\/\{subjectId\}\/\*' must not contain '\*'/,
    ],
    [
      'a CDK token where only a literal can be compiled in',
      { config: withTarget(1, { prefixTemplate: Token.asString({ Ref: 'SomePrefix' }) }) },
      /config\.targets\[1\]\.prefixTemplate: must be a literal value, not a CDK token/,
    ],
    [
      'a plain-http webhook',
      { config: withTarget(3, { url: 'http://crm.acme.test/erase' }) },
      /config\.targets\[3\]\.url: 'http:\/\/crm\.acme\.test\/erase' must use https/,
    ],
    [
      "a webhook timeout beyond the worker's",
      { config: withTarget(3, { timeoutMs: 60_000 }) },
      /config\.targets\[3\]\.timeoutMs: must be below the worker's timeout/,
    ],
    [
      'connectorMaxConcurrency below 2',
      { connectorMaxConcurrency: 1 },
      /connectorMaxConcurrency: must be an integer from 2 to 1000, got 1/,
    ],
    ['a sweep rate in seconds', { sweepRate: Duration.seconds(30) }, /sweepRate: must be whole minutes/],
    [
      'a sweep rate over 6 hours',
      { sweepRate: Duration.hours(12) },
      /sweepRate: must be whole minutes from 1 minute to 6 hours/,
    ],
    [
      'taskQueueMaxReceives 0',
      { taskQueueMaxReceives: 0 },
      /taskQueueMaxReceives: must be an integer from 1 to 1000/,
    ],
    ['dueBucketShards 101', { dueBucketShards: 101 }, /dueBucketShards: must be an integer from 1 to 100/],
    [
      'an error-rate threshold above 1',
      { connectorErrorRateThreshold: 1.5 },
      /connectorErrorRateThreshold: must be a fraction/,
    ],
    [
      'a resource prefix with capitals',
      { resourcePrefix: 'Acme_Erasure' },
      /resourcePrefix: 'Acme_Erasure' must be lower-case/,
    ],
    [
      'a KMS alias instead of a key ARN',
      { targetEncryptionKeyArns: ['arn:aws:kms:eu-west-1:111122223333:alias/orders'] },
      /targetEncryptionKeyArns\[0\]: .* is not a KMS key ARN/,
    ],
  ];

  for (const [what, props, message] of cases) {
    it(`rejects ${what}, naming the field`, () => {
      expect(build(props)).toThrow(OrchestratorPropsError);
      expect(build(props)).toThrow(message);
    });
  }

  it('lists every problem at once', () => {
    expect(build({ connectorMaxConcurrency: 0, dueBucketShards: 0 })).toThrow(
      /connectorMaxConcurrency: .*\n.*dueBucketShards: /,
    );
  });

  it('fails before creating anything', () => {
    const stack = new Stack(new App(), 'Untouched');
    expect(
      () => new ErasureOrchestrator(stack, 'Erasure', { config: CONFIG, connectorMaxConcurrency: 1 }),
    ).toThrow(OrchestratorPropsError);
    expect(stack.node.tryFindChild('Erasure')?.node.children ?? []).toHaveLength(0);
  });
});

describe('ErasureOrchestrator with buckets, tables and URLs of the same app', () => {
  const app = new App();
  // A table with a customer-managed key needs a region.
  const stack = new Stack(app, 'Shop', { env: { account: '111122223333', region: 'eu-west-1' } });
  const uploads = new s3.Bucket(stack, 'Uploads', { enforceSSL: true });
  const ordersKey = new kms.Key(stack, 'OrdersKey', { enableKeyRotation: true });
  const orders = new dynamodb.TableV2(stack, 'Orders', {
    partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
    globalSecondaryIndexes: [
      { indexName: 'bySubject', partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING } },
    ],
    encryption: dynamodb.TableEncryptionV2.customerManagedKey(ordersKey),
  });
  const crmUrl = Token.asString({ 'Fn::GetAtt': ['CrmApi', 'Url'] });
  new ErasureOrchestrator(stack, 'Erasure', {
    config: {
      ...CONFIG,
      targets: TARGETS.map((target) => {
        if (target.name === 'uploads') return { ...target, bucket: uploads };
        if (target.name === 'orders') return { ...target, table: orders };
        if (target.name === 'crm') return { ...target, url: crmUrl };
        return target;
      }),
    },
  });
  const template = Template.fromStack(stack);
  const [uploadsId] = Object.keys(template.findResources('AWS::S3::Bucket'));
  const [ordersId] = Object.keys(template.findResources('AWS::DynamoDB::GlobalTable'));
  const [keyId] = Object.keys(template.findResources('AWS::KMS::Key')).filter((id) =>
    id.startsWith('OrdersKey'),
  );
  const workerPolicy = JSON.stringify(
    Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) =>
      id.includes('ConnectorTargets'),
    )?.[1],
  );

  it('derives the grants from the constructs: their ARNs, and the key of an encrypted table', () => {
    expect(workerPolicy).toContain(JSON.stringify({ 'Fn::GetAtt': [uploadsId, 'Arn'] }));
    expect(workerPolicy).toContain(JSON.stringify({ 'Fn::GetAtt': [ordersId, 'Arn'] }));
    expect(workerPolicy).toContain(JSON.stringify({ 'Fn::GetAtt': [keyId, 'Arn'] }));
  });

  it('gives the functions the tokens as variables, and the config references to them', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    // Every function (API, certificate, sweep, sweep shard, worker) has the config, so its references.
    expect(functions).toHaveLength(Object.keys(FUNCTIONS).length);
    for (const fn of functions) {
      const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
      const refs = Object.entries(variables).filter(([name]) => name.startsWith('ERASURE_REF_'));
      expect(refs.map(([, value]) => value)).toEqual([
        { Ref: ordersId },
        { Ref: uploadsId },
        { 'Fn::GetAtt': ['CrmApi', 'Url'] },
      ]);
    }
  });

  it('reads the references back at cold start (functions/shared/config-refs.ts)', () => {
    const ref = configRef('ERASURE_REF_1');
    // Only a whole value is a reference: a URL that merely contains the text is left as it is.
    const config = JSON.stringify({ targets: [{ bucket: ref, url: `https://x.example/${ref}` }] });
    expect(JSON.parse(resolveConfigRefs(config, { ERASURE_REF_1: 'shop-uploads-1a2b' }))).toEqual({
      targets: [{ bucket: 'shop-uploads-1a2b', url: `https://x.example/${ref}` }],
    });
    expect(() => resolveConfigRefs(config, {})).toThrow(/ERASURE_REF_1, which is not set/);
  });

  it("passes cdk-nag AwsSolutions (the orchestrator; the test's own bucket is not its business)", () => {
    const inOrchestrator = new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.flatMap((violation) => violation.violatingResources)
      .filter((resource) => resource.constructPath?.startsWith('Shop/Erasure/'));
    expect(inOrchestrator).toEqual([]);
  });
});

describe('ErasureOrchestrator with X-Ray tracing', () => {
  it("grants xray:Put* on '*' (which X-Ray requires) and nothing else on '*', acknowledged for cdk-nag", () => {
    const stack = new Stack(new App(), 'Traced');
    new ErasureOrchestrator(stack, 'Erasure', { config: CONFIG, tracing: true });
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } }, 5);
    const onStar = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
      .filter((statement) => list(statement.Resource).includes('*'))
      .flatMap((statement) => list(statement.Action));
    expect(new Set(onStar)).toEqual(new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});

describe('target tables in other accounts or regions', () => {
  const stack = new Stack(new App(), 'Arns');

  it('uses a table ARN as given', () => {
    const arn = 'arn:aws:dynamodb:eu-west-1:111122223333:table/orders';
    expect(targetTableArn(stack, arn)).toBe(arn);
  });

  it("resolves a table name in the stack's own account and region", () => {
    expect(flattenReference(stack.resolve(targetTableArn(stack, 'orders')))).toBe(
      'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/orders',
    );
  });
});
