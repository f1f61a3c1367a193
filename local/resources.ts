import {
  type AttributeDefinition,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type KeySchemaElement,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  NoSuchBucket,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type QueueAttributeName,
  QueueDoesNotExist,
  QueueNameExists,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import {
  type IndexDefinition,
  type KeyDefinition,
  physicalName,
  SWEEP_SHARD_QUEUE,
  TABLES,
  TASK_QUEUE,
  type TableDefinition,
  type TableKey,
} from '../infra/resources.js';
import type { LocalClients } from './aws-clients.js';

/** What the local runtime created: physical names plus the environment the functions read them from. */
export interface OrchestratorResources {
  readonly tables: Readonly<Record<TableKey, string>>;
  readonly taskQueueUrl: string;
  readonly taskDeadLetterQueueUrl: string;
  readonly sweepShardQueueUrl: string;
  readonly sweepShardDeadLetterQueueUrl: string;
  /** SCHEDULES_TABLE, REQUESTS_TABLE, ..., TASK_QUEUE_URL, TASK_DLQ_URL, TASK_QUEUE_MAX_RECEIVES. */
  readonly environment: Readonly<Record<string, string>>;
}

/** A table as `infra/resources.ts` describes one, with its physical name; also used for demo data stores. */
export interface TableSpec {
  readonly tableName: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly globalSecondaryIndexes?: readonly IndexDefinition[];
  readonly timeToLiveAttribute?: string;
}

const DAY_SECONDS = 24 * 60 * 60;
const TABLE_KEYS = Object.keys(TABLES) as TableKey[];

/**
 * Creates the orchestrator's tables and task queues in the emulators (or any account the clients
 * point at) from the definitions CDK also builds from. Safe to run again: existing resources are kept.
 */
export const createOrchestratorResources = async (
  clients: Pick<LocalClients, 'dynamodb' | 'sqs'>,
  prefix: string,
): Promise<OrchestratorResources> => {
  const [tableNames, queues] = await Promise.all([
    Promise.all(
      TABLE_KEYS.map((key) => {
        const definition: TableDefinition = TABLES[key];
        return createTable(clients, {
          tableName: physicalName(prefix, definition.id),
          partitionKey: definition.partitionKey,
          sortKey: definition.sortKey,
          globalSecondaryIndexes: definition.globalSecondaryIndexes,
          timeToLiveAttribute: definition.timeToLiveAttribute,
        });
      }),
    ),
    createTaskQueues(clients, prefix),
  ]);
  const tables = Object.fromEntries(TABLE_KEYS.map((key, i) => [key, tableNames[i] ?? ''])) as Record<
    TableKey,
    string
  >;
  return {
    tables,
    ...queues,
    environment: {
      ...Object.fromEntries(TABLE_KEYS.map((key) => [TABLES[key].envVar, tables[key]])),
      [TASK_QUEUE.envVar]: queues.taskQueueUrl,
      [TASK_QUEUE.deadLetter.envVar]: queues.taskDeadLetterQueueUrl,
      [SWEEP_SHARD_QUEUE.envVar]: queues.sweepShardQueueUrl,
      [SWEEP_SHARD_QUEUE.deadLetter.envVar]: queues.sweepShardDeadLetterQueueUrl,
      TASK_QUEUE_MAX_RECEIVES: String(TASK_QUEUE.maxReceiveCount),
    },
  };
};

/** Removes what createOrchestratorResources made (test cleanup); missing resources are ignored. */
export const deleteOrchestratorResources = async (
  clients: Pick<LocalClients, 'dynamodb' | 'sqs'>,
  resources: OrchestratorResources,
): Promise<void> => {
  await Promise.all([
    ...Object.values(resources.tables).map((tableName) => deleteTable(clients, tableName)),
    ...[
      resources.taskQueueUrl,
      resources.taskDeadLetterQueueUrl,
      resources.sweepShardQueueUrl,
      resources.sweepShardDeadLetterQueueUrl,
    ].map((QueueUrl) =>
      clients.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(ignore(QueueDoesNotExist)),
    ),
  ]);
};

/**
 * Creates an on-demand table (GSIs project ALL) and waits until it is ACTIVE; sets TTL if asked.
 * An existing table with the same keys and indexes is fine; one with others is an error, since
 * code written against the definition would fail against it in confusing ways.
 */
export const createTable = async (
  clients: Pick<LocalClients, 'dynamodb'>,
  spec: TableSpec,
): Promise<string> => {
  const { dynamodb } = clients;
  const indexes = spec.globalSecondaryIndexes ?? [];
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: spec.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions(spec),
        KeySchema: keySchema(spec.partitionKey, spec.sortKey),
        ...(indexes.length > 0 && {
          GlobalSecondaryIndexes: indexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: 'ALL' },
          })),
        }),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  // Throws unless the table turns ACTIVE in time (on AWS a new table takes seconds).
  await waitUntilTableExists(
    { client: dynamodb, maxWaitTime: 60, minDelay: 1 },
    { TableName: spec.tableName },
  );
  await addMissingIndexes(clients, spec, await describeTable(clients, spec.tableName));
  assertSameSchema(spec, await describeTable(clients, spec.tableName));

  if (spec.timeToLiveAttribute !== undefined) await enableTimeToLive(clients, spec);
  return spec.tableName;
};

export const deleteTable = async (
  clients: Pick<LocalClients, 'dynamodb'>,
  tableName: string,
): Promise<void> => {
  await clients.dynamodb
    .send(new DeleteTableCommand({ TableName: tableName }))
    .catch(ignore(ResourceNotFoundException));
};

/** Creates an S3 bucket (e.g. a demo data store); an existing bucket of ours is fine. */
export const createBucket = async (clients: Pick<LocalClients, 's3'>, name: string): Promise<string> => {
  await clients.s3.send(new CreateBucketCommand({ Bucket: name })).catch(ignore(BucketAlreadyOwnedByYou));
  return name;
};

/** Empties and removes a bucket (test cleanup); a missing bucket is ignored. */
export const deleteBucket = async (clients: Pick<LocalClients, 's3'>, name: string): Promise<void> => {
  try {
    for (;;) {
      const page = await clients.s3.send(new ListObjectsV2Command({ Bucket: name }));
      const keys = (page.Contents ?? []).flatMap((object) =>
        object.Key === undefined ? [] : [{ Key: object.Key }],
      );
      if (keys.length === 0) break;
      await clients.s3.send(
        new DeleteObjectsCommand({ Bucket: name, Delete: { Objects: keys, Quiet: true } }),
      );
    }
    await clients.s3.send(new DeleteBucketCommand({ Bucket: name }));
  } catch (error) {
    if (!(error instanceof NoSuchBucket)) throw error;
  }
};

const createTaskQueues = async (
  clients: Pick<LocalClients, 'sqs'>,
  prefix: string,
): Promise<
  Pick<
    OrchestratorResources,
    'taskQueueUrl' | 'taskDeadLetterQueueUrl' | 'sweepShardQueueUrl' | 'sweepShardDeadLetterQueueUrl'
  >
> => {
  const { deadLetter } = TASK_QUEUE;
  const taskDeadLetterQueueUrl = await ensureQueue(clients, physicalName(prefix, deadLetter.id), {
    MessageRetentionPeriod: String(deadLetter.retentionDays * DAY_SECONDS),
  });
  const deadLetterArn = await queueArn(clients, taskDeadLetterQueueUrl);
  const taskQueueUrl = await ensureQueue(clients, physicalName(prefix, TASK_QUEUE.id), {
    VisibilityTimeout: String(TASK_QUEUE.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(TASK_QUEUE.retentionDays * DAY_SECONDS),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterArn,
      maxReceiveCount: TASK_QUEUE.maxReceiveCount,
    }),
  });
  const shardDead = SWEEP_SHARD_QUEUE.deadLetter;
  const sweepShardDeadLetterQueueUrl = await ensureQueue(clients, physicalName(prefix, shardDead.id), {
    MessageRetentionPeriod: String(shardDead.retentionDays * DAY_SECONDS),
  });
  const sweepShardQueueUrl = await ensureQueue(clients, physicalName(prefix, SWEEP_SHARD_QUEUE.id), {
    VisibilityTimeout: String(SWEEP_SHARD_QUEUE.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(SWEEP_SHARD_QUEUE.retentionDays * DAY_SECONDS),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: await queueArn(clients, sweepShardDeadLetterQueueUrl),
      maxReceiveCount: SWEEP_SHARD_QUEUE.maxReceiveCount,
    }),
  });
  return { taskQueueUrl, taskDeadLetterQueueUrl, sweepShardQueueUrl, sweepShardDeadLetterQueueUrl };
};

type QueueAttributes = Partial<Record<QueueAttributeName, string>>;

/** Creates a queue; if it exists with other attributes (e.g. a test shortened its timeout), resets them. */
const ensureQueue = async (
  clients: Pick<LocalClients, 'sqs'>,
  name: string,
  attributes: QueueAttributes,
): Promise<string> => {
  const { sqs } = clients;
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (QueueUrl === undefined) throw new Error(`CreateQueue ${name} returned no QueueUrl`);
    return QueueUrl;
  } catch (error) {
    if (!isQueueNameExists(error)) throw error;
  }
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (QueueUrl === undefined) throw new Error(`GetQueueUrl ${name} returned no QueueUrl`);
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl;
};

// fauxqs reports the legacy query-protocol code (`AWS.SimpleQueueService.QueueNameExists`), which
// the SDK does not map to its QueueNameExists class.
const isQueueNameExists = (error: unknown): boolean =>
  error instanceof QueueNameExists || (error instanceof Error && error.name.endsWith('.QueueNameExists'));

const queueArn = async (clients: Pick<LocalClients, 'sqs'>, queueUrl: string): Promise<string> => {
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`Queue ${queueUrl} has no QueueArn`);
  return arn;
};

const keySchema = (partitionKey: KeyDefinition, sortKey: KeyDefinition | undefined): KeySchemaElement[] => [
  { AttributeName: partitionKey.name, KeyType: 'HASH' },
  ...(sortKey === undefined ? [] : [{ AttributeName: sortKey.name, KeyType: 'RANGE' as const }]),
];

const attributeDefinitions = (spec: TableSpec): AttributeDefinition[] => {
  const types = new Map<string, KeyDefinition['type']>();
  const keys = [spec.partitionKey, spec.sortKey, ...(spec.globalSecondaryIndexes ?? []).flatMap(indexKeys)];
  for (const key of keys) {
    if (key === undefined) continue;
    const known = types.get(key.name);
    if (known !== undefined && known !== key.type) {
      throw new Error(
        `Table ${spec.tableName}: attribute ${key.name} is declared as both ${known} and ${key.type}`,
      );
    }
    types.set(key.name, key.type);
  }
  return [...types].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
};

const indexKeys = (index: IndexDefinition): (KeyDefinition | undefined)[] => [
  index.partitionKey,
  index.sortKey,
];

const describeTable = async (
  clients: Pick<LocalClients, 'dynamodb'>,
  tableName: string,
): Promise<TableDescription> => {
  const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  if (Table === undefined) throw new Error(`DescribeTable ${tableName} returned no table`);
  return Table;
};

/** One comparable line per key schema: `pk:S:HASH sk:S:RANGE`, and `index=...` per GSI, sorted. */
const schemaOf = (
  partitionKey: KeyDefinition,
  sortKey: KeyDefinition | undefined,
  indexes: readonly IndexDefinition[],
): string[] => {
  const keys = (pk: KeyDefinition, sk: KeyDefinition | undefined) =>
    [`${pk.name}:${pk.type}:HASH`, ...(sk === undefined ? [] : [`${sk.name}:${sk.type}:RANGE`])].join(' ');
  return [
    keys(partitionKey, sortKey),
    ...indexes.map((index) => `${index.indexName}=${keys(index.partitionKey, index.sortKey)}`).sort(),
  ];
};

const describedSchema = (table: TableDescription): string[] => {
  const typeOf = new Map((table.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]));
  const keys = (schema: KeySchemaElement[] | undefined) =>
    (schema ?? [])
      .slice()
      .sort((a, b) => (a.KeyType === 'HASH' ? -1 : b.KeyType === 'HASH' ? 1 : 0))
      .map((k) => `${k.AttributeName}:${typeOf.get(k.AttributeName) ?? '?'}:${k.KeyType}`)
      .join(' ');
  return [
    keys(table.KeySchema),
    ...(table.GlobalSecondaryIndexes ?? [])
      .map((index) => `${index.IndexName}=${keys(index.KeySchema)}`)
      .sort(),
  ];
};

/**
 * A table kept from an earlier version (`npm start` keeps its state) gets the indexes defined since,
 * one at a time as DynamoDB requires; items written before carry none of their attributes.
 */
const addMissingIndexes = async (
  clients: Pick<LocalClients, 'dynamodb'>,
  spec: TableSpec,
  table: TableDescription,
): Promise<void> => {
  const existing = new Set((table.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  const missing = (spec.globalSecondaryIndexes ?? []).filter((index) => !existing.has(index.indexName));
  for (const index of missing) {
    await clients.dynamodb.send(
      new UpdateTableCommand({
        TableName: spec.tableName,
        AttributeDefinitions: attributeDefinitions(spec),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.indexName,
              KeySchema: keySchema(index.partitionKey, index.sortKey),
              Projection: { ProjectionType: 'ALL' },
            },
          },
        ],
      }),
    );
    let status: string | undefined;
    for (let wait = 0; wait < 120 && status !== 'ACTIVE'; wait++) {
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      const described = await describeTable(clients, spec.tableName);
      status = described.GlobalSecondaryIndexes?.find(
        (found) => found.IndexName === index.indexName,
      )?.IndexStatus;
    }
    // Going on would start the runtime on an index that answers nothing yet: say so instead.
    if (status !== 'ACTIVE') {
      throw new Error(
        `Table ${spec.tableName}: index ${index.indexName} is still ${status ?? 'missing'} after 60 s; start again, or start clean (npm start -- --fresh).`,
      );
    }
  }
};

const assertSameSchema = (spec: TableSpec, table: TableDescription): void => {
  const expected = schemaOf(spec.partitionKey, spec.sortKey, spec.globalSecondaryIndexes ?? []);
  const actual = describedSchema(table);
  if (expected.join('\n') !== actual.join('\n')) {
    throw new Error(
      `Table ${spec.tableName} exists with a different schema: expected [${expected.join('; ')}], ` +
        `found [${actual.join('; ')}]. Delete it (or the local database directory) and start again.`,
    );
  }
};

const enableTimeToLive = async (clients: Pick<LocalClients, 'dynamodb'>, spec: TableSpec): Promise<void> => {
  const { TimeToLiveDescription: current } = await clients.dynamodb.send(
    new DescribeTimeToLiveCommand({ TableName: spec.tableName }),
  );
  const enabled = current?.TimeToLiveStatus === 'ENABLED' || current?.TimeToLiveStatus === 'ENABLING';
  // AWS rejects enabling TTL again ("TimeToLive is already enabled"), so only ask when it is off.
  if (enabled && current?.AttributeName === spec.timeToLiveAttribute) return;
  await clients.dynamodb.send(
    new UpdateTimeToLiveCommand({
      TableName: spec.tableName,
      TimeToLiveSpecification: { Enabled: true, AttributeName: spec.timeToLiveAttribute },
    }),
  );
};

/** A catch handler that swallows one expected error class (already exists / already gone). */
const ignore =
  (expected: abstract new (...args: never[]) => Error) =>
  (error: unknown): void => {
    if (!(error instanceof expected)) throw error;
  };
