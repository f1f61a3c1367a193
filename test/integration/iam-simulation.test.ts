/**
 * The emulators check no permissions, so a call a function's IAM role would refuse passes every
 * other test (the API's sweeps ran rolling windows its role may not run). Here the local runtime
 * runs the connector work of each function (an erasure, an export, a dry run, sweeps on demand and
 * scheduled, window runs), its S3 and DynamoDB calls on connector targets and its SQS calls are
 * recorded by function,
 * and each is checked against the policies `cdk synth` gives that function's role for the same
 * catalog and targets. The orchestrator's own tables are held to their grants at run time
 * (local/table-access-guard.ts).
 */
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import type { FunctionKey } from '../../functions/manifest.js';
import { flattenReference } from '../../infra/constructs/nag.js';
import { ErasureOrchestrator } from '../../infra/index.js';
import { seedDemoSubject } from '../../local/demo.js';
import { runningFunction } from '../../local/table-access-guard.js';
import { sweepAndDrain } from '../helpers/api.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

interface Statement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly condition?: Readonly<Record<string, Readonly<Record<string, readonly string[] | string>>>>;
}

/** What IAM authorises for one call: an action on a resource, with the request's condition keys. */
interface Authorisation {
  readonly action: string;
  readonly resource: string;
  readonly keys?: Readonly<Record<string, string>>;
}

interface Recorded {
  readonly fn: FunctionKey;
  readonly command: string;
  readonly checks: readonly Authorisation[];
}

const PARTITION = '<AWS::Partition>';
const bucketArn = (bucket: string) => `arn:${PARTITION}:s3:::${bucket}`;
const tableArn = (table: string) => `arn:${PARTITION}:dynamodb:<AWS::Region>:<AWS::AccountId>:table/${table}`;

/** `*` matches any run of characters, as in IAM's resource and StringLike matching. */
const glob = (pattern: string, value: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

const list = (value: readonly string[] | string): readonly string[] =>
  typeof value === 'string' ? [value] : value;

/** Every condition of the statement holds for the call; a condition this check does not know fails. */
const conditionHolds = (statement: Statement, keys: Readonly<Record<string, string>>): boolean =>
  Object.entries(statement.condition ?? {}).every(([operator, tests]) =>
    Object.entries(tests).every(([key, expected]) => {
      const actual = keys[key];
      if (actual === undefined) return false;
      if (operator === 'StringEquals') return list(expected).includes(actual);
      if (operator === 'StringLike') return list(expected).some((pattern) => glob(pattern, actual));
      return false;
    }),
  );

const allowed = (statements: readonly Statement[], check: Authorisation): boolean =>
  statements.some(
    (statement) =>
      statement.actions.some((action) => glob(action, check.action)) &&
      statement.resources.some((resource) => glob(resource, check.resource)) &&
      conditionHolds(statement, check.keys ?? {}),
  );

/** The IAM authorisations a connector call needs, for the targets' buckets and tables only. */
const authorisationsOf = (
  service: 's3' | 'dynamodb' | 'sqs',
  command: string,
  input: Record<string, unknown>,
  targets: {
    readonly buckets: ReadonlySet<string>;
    readonly tables: ReadonlySet<string>;
    /** The local queue URLs, by the flattened ARN of the queue the stack makes for each. */
    readonly queues: ReadonlyMap<string, string>;
  },
): Authorisation[] => {
  if (service === 'sqs') {
    const resource = targets.queues.get(String(input.QueueUrl ?? ''));
    if (resource === undefined) return [];
    // A batch is authorised as its single action.
    const action = `sqs:${command.replace(/Command$/, '').replace(/Batch$/, '')}`;
    return [{ action, resource }];
  }
  if (service === 's3') {
    const bucket = String(input.Bucket ?? '');
    if (!targets.buckets.has(bucket)) return [];
    const prefix = { 's3:prefix': String(input.Prefix ?? '') };
    switch (command) {
      case 'ListObjectsV2Command':
        return [{ action: 's3:ListBucket', resource: bucketArn(bucket), keys: prefix }];
      case 'ListObjectVersionsCommand':
        return [{ action: 's3:ListBucketVersions', resource: bucketArn(bucket), keys: prefix }];
      case 'DeleteObjectsCommand': {
        const objects = ((input.Delete as { Objects?: { Key?: string; VersionId?: string }[] }).Objects ??
          []) as { Key?: string; VersionId?: string }[];
        return objects.map((object) => ({
          action: object.VersionId === undefined ? 's3:DeleteObject' : 's3:DeleteObjectVersion',
          resource: `${bucketArn(bucket)}/${object.Key ?? ''}`,
        }));
      }
      case 'GetObjectCommand':
      case 'HeadObjectCommand':
        return [{ action: 's3:GetObject', resource: `${bucketArn(bucket)}/${String(input.Key ?? '')}` }];
      default:
        return [{ action: `s3:${command.replace(/Command$/, '')}`, resource: bucketArn(bucket) }];
    }
  }
  const action = `dynamodb:${command.replace(/Command$/, '')}`;
  if (command === 'BatchWriteItemCommand' || command === 'BatchGetItemCommand') {
    return Object.keys((input.RequestItems ?? {}) as object)
      .filter((table) => targets.tables.has(table))
      .map((table) => ({ action, resource: tableArn(table) }));
  }
  const table = String(input.TableName ?? '');
  if (!targets.tables.has(table)) return [];
  const index = input.IndexName === undefined ? '' : `/index/${String(input.IndexName)}`;
  return [{ action, resource: `${tableArn(table)}${index}` }];
};

/** The flattened ARNs of the stack's queues (set by `synthesizedStatements`). */
const queueArns = { tasks: '', sweepShards: '' };

/** The role statements `cdk synth` gives each function for `config`, resources as flattened ARNs. */
const synthesizedStatements = (config: DeploymentConfig): Record<FunctionKey, Statement[]> => {
  const app = new App();
  const stack = new Stack(app, 'Simulated');
  // The local demo partner is on http://127.0.0.1: a URL the deployment refuses; IAM does not see it.
  const targets = config.targets.map(
    (target): ConnectorTarget =>
      target.kind === 'http-webhook' ? { ...target, url: 'https://partner.example.test/erase' } : target,
  );
  const orchestrator = new ErasureOrchestrator(stack, 'Erasure', { config: { ...config, targets } });
  const template = Template.fromStack(stack);
  const roleOf = (fn: keyof typeof orchestrator.runtime & `${string}Function`) =>
    stack.getLogicalId(orchestrator.runtime[fn].role.node.defaultChild as never);
  const statementsOf = (roleId: string): Statement[] =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((role) => role.Ref === roleId))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Record<string, unknown>[])
      .filter((statement) => statement.Effect === 'Allow')
      .map((statement) => ({
        actions: list(statement.Action as string[] | string),
        resources: (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map(
          flattenReference,
        ),
        ...(statement.Condition === undefined
          ? {}
          : { condition: statement.Condition as Statement['condition'] }),
      }));
  const queueArn = (queue: { node: { defaultChild?: unknown } }) =>
    `<${stack.getLogicalId(queue.node.defaultChild as never)}.Arn>`;
  queueArns.tasks = queueArn(orchestrator.runtime.taskQueue.queue);
  queueArns.sweepShards = queueArn(orchestrator.runtime.sweepShardQueue.queue);
  return {
    api: statementsOf(roleOf('apiFunction')),
    certificate: statementsOf(roleOf('certificateFunction')),
    sweep: statementsOf(roleOf('sweepFunction')),
    sweepShard: statementsOf(roleOf('sweepShardFunction')),
    worker: statementsOf(roleOf('workerFunction')),
  };
};

describe("the connector calls each function makes are allowed by its role's synthesized policies", () => {
  let rt: TestRuntime;
  let statements: Record<FunctionKey, Statement[]>;
  const recorded: Recorded[] = [];

  beforeAll(async () => {
    // On the real clock, as S3 stamps objects: the scheduled sweep runs the rolling windows.
    rt = await startTestRuntime('iam-simulation', {
      demoSubjects: 0,
      clockStart: new Date().toISOString(),
      windowRuns: true,
    });
    statements = synthesizedStatements(rt.deps.config);
    const targets = {
      buckets: new Set(
        rt.deps.config.targets.flatMap((target) => (target.kind === 's3-prefix' ? [target.bucket] : [])),
      ),
      tables: new Set(
        rt.deps.config.targets.flatMap((target) => (target.kind === 'dynamodb-items' ? [target.table] : [])),
      ),
      queues: new Map([
        [rt.resources.taskQueueUrl, queueArns.tasks],
        [rt.resources.sweepShardQueueUrl, queueArns.sweepShards],
      ]),
    };
    const record =
      (service: 's3' | 'dynamodb' | 'sqs'): InitializeMiddleware<object, MetadataBearer> =>
      (next, context) =>
      async (args) => {
        const fn = runningFunction();
        const command = context.commandName ?? '';
        if (fn !== undefined) {
          const checks = authorisationsOf(service, command, args.input as Record<string, unknown>, targets);
          if (checks.length > 0) recorded.push({ fn, command, checks });
        }
        return next(args);
      };
    rt.clients.s3.middlewareStack.add(record('s3') as never, { step: 'initialize', name: 'iamSimulation' });
    rt.clients.dynamodb.middlewareStack.add(record('dynamodb') as never, {
      step: 'initialize',
      name: 'iamSimulation',
    });
    rt.clients.sqs.middlewareStack.add(record('sqs') as never, { step: 'initialize', name: 'iamSimulation' });
  });
  afterAll(async () => {
    await rt.stop();
  });

  it('the check itself refuses what the roles do not allow', () => {
    const bucket = rt.deps.config.targets.find((target) => target.kind === 's3-prefix');
    if (bucket?.kind !== 's3-prefix') throw new Error('no S3 target');
    // A bucket's root listed (a window run) by the API, and a delete by the API: neither allowed.
    expect(
      allowed(statements.api, {
        action: 's3:ListBucket',
        resource: bucketArn(bucket.bucket),
        keys: { 's3:prefix': '' },
      }),
    ).toBe(false);
    expect(
      allowed(statements.api, { action: 's3:DeleteObject', resource: `${bucketArn(bucket.bucket)}/x/y` }),
    ).toBe(false);
    // The worker sends no sweep-shard messages; the API sends task messages.
    expect(allowed(statements.worker, { action: 'sqs:SendMessage', resource: queueArns.sweepShards })).toBe(
      false,
    );
    expect(allowed(statements.api, { action: 'sqs:SendMessage', resource: queueArns.tasks })).toBe(true);
  });

  it('an erasure, an export, a dry run, sweeps on demand and scheduled with their window runs: every call allowed', async () => {
    const subjectId = 'iam-sim-subject';
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());
    rt.webhook.records.set(subjectId, 2);

    // The API: a dry run, an export, a sweep on demand.
    const preview = await rt.call('POST', '/v1/erasure-previews', {
      role: 'compliance',
      body: { subjectId, reason: 'gdpr-art17-request' },
    });
    expect(preview.status).toBe(200);
    const exported = await rt.call('POST', `/v1/subjects/${subjectId}/export`, { body: {} });
    expect(exported.status).toBeLessThan(300);
    await sweepAndDrain(rt, rt.clock.now().toISOString());
    // The worker: an erasure of every class.
    const submitted = await rt.call('POST', '/v1/erasure-requests', {
      body: { subjectId, reason: 'gdpr-art17-request' },
      headers: { 'Idempotency-Key': 'iam-simulation-0001' },
    });
    expect(submitted.status).toBe(202);
    await rt.drainQueue();
    // The scheduled sweep: a deletion due now (a closed account) through its shard, and its window
    // runs over every rolling class's targets.
    const closed = 'iam-sim-closed';
    await seedDemoSubject(rt.clients, rt.stores, closed, rt.clock.now());
    const event = await rt.call('POST', '/v1/lifecycle-events', {
      body: { subjectId: closed, type: 'account.closed', occurredAt: rt.clock.now().toISOString() },
    });
    expect(event.status).toBe(202);
    await rt.sweep();
    await rt.drainQueue();

    const denied = recorded.flatMap((call) =>
      call.checks
        .filter((check) => !allowed(statements[call.fn], check))
        .map(
          (check) =>
            `${call.fn} ${call.command}: ${check.action} on ${check.resource} ${JSON.stringify(check.keys ?? {})}`,
        ),
    );
    expect(denied).toEqual([]);
    // Not vacuous: each of these functions made connector calls that were checked.
    expect(new Set(recorded.map((call) => call.fn))).toEqual(
      new Set(['api', 'worker', 'sweep', 'sweepShard']),
    );
    for (const command of [
      'ListObjectsV2Command',
      'DeleteObjectsCommand',
      'QueryCommand',
      'BatchWriteItemCommand',
      'SendMessageBatchCommand',
    ]) {
      expect(recorded.map((call) => call.command)).toContain(command);
    }
  });
});
