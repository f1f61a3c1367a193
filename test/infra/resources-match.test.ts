/**
 * The local runtime (local/resources.ts) creates its tables and queues from infra/resources.ts; the
 * stacks must build exactly the same ones, or code that works locally fails in AWS. This compares
 * every synthesized table and queue with its definition, field by field.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/manifest.js';
import {
  type IndexDefinition,
  type KeyDefinition,
  physicalName,
  SWEEP_SHARD_QUEUE,
  TABLES,
  TASK_QUEUE,
  type TableDefinition,
  type TableKey,
} from '../../infra/resources.js';
import { addErasureStacks } from '../../infra/stacks/erasure-app.js';

const PREFIX = 'erasure-match';
const DAY_SECONDS = 24 * 60 * 60;

type Properties = Record<string, unknown>;

let data: Template;
let worker: Template;

beforeAll(() => {
  const app = new App();
  const stacks = addErasureStacks(app, { prefix: PREFIX });
  data = Template.fromStack(stacks.data);
  worker = Template.fromStack(stacks.worker);
});

const byName = (
  template: Template,
  type: string,
  nameProperty: string,
  name: string,
): [string, Properties] => {
  const found = Object.entries(template.findResources(type, { Properties: { [nameProperty]: name } }));
  expect(found, `${type} ${name}`).toHaveLength(1);
  const [logicalId, resource] = found[0] ?? [];
  if (logicalId === undefined || resource === undefined) throw new Error(`${type} ${name} not found`);
  return [logicalId, resource.Properties as Properties];
};

const keySchema = (partitionKey: KeyDefinition, sortKey?: KeyDefinition) => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' },
  ...(sortKey === undefined ? [] : [{ AttributeName: sortKey.name, KeyType: 'RANGE' }]),
];

const sortByName = <T extends { AttributeName: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));

describe('tables', () => {
  it('synthesizes one table per definition and no other', () => {
    data.resourceCountIs('AWS::DynamoDB::Table', Object.keys(TABLES).length);
  });

  for (const [key, definition] of Object.entries(TABLES) as [TableKey, TableDefinition][]) {
    describe(definition.id, () => {
      const table = (): Properties =>
        byName(data, 'AWS::DynamoDB::Table', 'TableName', physicalName(PREFIX, definition.id))[1];

      it('has the key schema of the definition', () => {
        expect(table().KeySchema).toEqual(keySchema(definition.partitionKey, definition.sortKey));
      });

      it('defines exactly the attributes the keys and indexes use, with their types', () => {
        const keys = [
          definition.partitionKey,
          ...(definition.sortKey === undefined ? [] : [definition.sortKey]),
          ...definition.globalSecondaryIndexes.flatMap((index: IndexDefinition) => [
            index.partitionKey,
            ...(index.sortKey === undefined ? [] : [index.sortKey]),
          ]),
        ];
        const expected = [...new Map(keys.map((key) => [key.name, key.type])).entries()].map(
          ([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }),
        );
        expect(sortByName(table().AttributeDefinitions as { AttributeName: string }[])).toEqual(
          sortByName(expected),
        );
      });

      it('has the global secondary indexes of the definition, projecting all attributes as locally', () => {
        const expected = definition.globalSecondaryIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: keySchema(index.partitionKey, index.sortKey),
          Projection: { ProjectionType: 'ALL' },
        }));
        expect(table().GlobalSecondaryIndexes ?? []).toEqual(expected);
      });

      it('has the time-to-live attribute of the definition', () => {
        expect(table().TimeToLiveSpecification).toEqual(
          definition.timeToLiveAttribute === undefined
            ? undefined
            : { AttributeName: definition.timeToLiveAttribute, Enabled: true },
        );
      });

      it('tells the functions that use it its name through the envVar of the definition', () => {
        const [logicalId] = byName(
          data,
          'AWS::DynamoDB::Table',
          'TableName',
          physicalName(PREFIX, definition.id),
        );
        const functions = Object.values(worker.findResources('AWS::Lambda::Function'));
        const told = functions.filter((fn) => definition.envVar in fn.Properties.Environment.Variables);
        const users = Object.values(FUNCTIONS).filter((manifest) => key in manifest.tables);
        expect(told).toHaveLength(users.length);
        for (const fn of told) {
          const value = fn.Properties.Environment.Variables[definition.envVar] as {
            'Fn::ImportValue': string;
          };
          expect(value['Fn::ImportValue']).toContain(`ExportsOutputRef${logicalId}`);
        }
      });
    });
  }
});

describe('queues', () => {
  const { deadLetter } = TASK_QUEUE;
  const taskQueue = () => byName(worker, 'AWS::SQS::Queue', 'QueueName', physicalName(PREFIX, TASK_QUEUE.id));
  const deadLetterQueue = () =>
    byName(worker, 'AWS::SQS::Queue', 'QueueName', physicalName(PREFIX, deadLetter.id));

  it('synthesizes the task queue, the sweep-shard queue, their dead-letter queues and no other', () => {
    worker.resourceCountIs('AWS::SQS::Queue', 4);
    const shardQueue = byName(
      worker,
      'AWS::SQS::Queue',
      'QueueName',
      physicalName(PREFIX, SWEEP_SHARD_QUEUE.id),
    );
    const shardDead = byName(
      worker,
      'AWS::SQS::Queue',
      'QueueName',
      physicalName(PREFIX, SWEEP_SHARD_QUEUE.deadLetter.id),
    );
    expect(shardQueue[1].VisibilityTimeout).toBe(SWEEP_SHARD_QUEUE.visibilityTimeoutSeconds);
    expect(shardQueue[1].MessageRetentionPeriod).toBe(SWEEP_SHARD_QUEUE.retentionDays * DAY_SECONDS);
    expect(shardQueue[1].RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [shardDead[0], 'Arn'] },
      maxReceiveCount: SWEEP_SHARD_QUEUE.maxReceiveCount,
    });
  });

  it('gives the task queue the visibility timeout and retention of the definition', () => {
    const [, queue] = taskQueue();
    expect(queue.VisibilityTimeout).toBe(TASK_QUEUE.visibilityTimeoutSeconds);
    expect(queue.MessageRetentionPeriod).toBe(TASK_QUEUE.retentionDays * DAY_SECONDS);
  });

  it('redrives to the dead-letter queue after maxReceiveCount deliveries', () => {
    const [dlqId] = deadLetterQueue();
    expect(taskQueue()[1].RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: TASK_QUEUE.maxReceiveCount,
    });
  });

  it('keeps dead letters as long as the definition says', () => {
    expect(deadLetterQueue()[1].MessageRetentionPeriod).toBe(deadLetter.retentionDays * DAY_SECONDS);
  });

  it('tells the functions the queue URLs through the envVars of the definition', () => {
    const [queueId] = taskQueue();
    const [dlqId] = deadLetterQueue();
    const functions = Object.values(worker.findResources('AWS::Lambda::Function'));
    // Every function but the certificate's, which neither sends nor reads tasks (queue: 'none').
    const withQueue = functions.filter(
      (fn) => !String(fn.Properties.Description).includes('certificates of erasure'),
    );
    expect(withQueue).toHaveLength(functions.length - 1);
    for (const fn of withQueue) {
      expect(fn.Properties.Environment.Variables[TASK_QUEUE.envVar]).toEqual({ Ref: queueId });
    }
    // Only the worker reads the delivery limit; no function reads the DLQ (SQS moves messages there).
    const withReceives = functions.filter(
      (fn) => 'TASK_QUEUE_MAX_RECEIVES' in fn.Properties.Environment.Variables,
    );
    expect(withReceives.map((fn) => fn.Properties.Environment.Variables.TASK_QUEUE_MAX_RECEIVES)).toEqual([
      String(TASK_QUEUE.maxReceiveCount),
    ]);
    expect(JSON.stringify(functions)).not.toContain(deadLetter.envVar);
    expect(dlqId).toBeDefined();
  });
});
