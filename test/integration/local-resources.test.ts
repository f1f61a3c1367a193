import { execFileSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  paginateListTables,
} from '@aws-sdk/client-dynamodb';
import {
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  physicalName,
  SWEEP_SHARD_QUEUE,
  TABLES,
  TASK_QUEUE,
  type TableDefinition,
  type TableKey,
} from '../../infra/resources.js';
import {
  createLocalClients,
  destroyLocalClients,
  type LocalClients,
  localEnvironment,
} from '../../local/aws-clients.js';
import { startEmulators } from '../../local/emulators.js';
import {
  createBucket,
  createTable,
  deleteBucket,
  deleteOrchestratorResources,
  deleteTable,
  type OrchestratorResources,
} from '../../local/resources.js';
import { createTestResources, emulatorEndpoints, testClients, uniquePrefix } from '../helpers/emulators.js';

const clients = testClients();

/** Every table name: ListTables answers at most 100 per page, and the suite's emulator holds more. */
const allTableNames = async (dynamodb: DynamoDBClient): Promise<string[]> => {
  const names: string[] = [];
  for await (const page of paginateListTables({ client: dynamodb }, {}))
    names.push(...(page.TableNames ?? []));
  return names;
};
const prefix = uniquePrefix('local-resources');
const tableKeys = Object.keys(TABLES) as TableKey[];
let resources: OrchestratorResources;

beforeAll(async () => {
  resources = await createTestResources(prefix, clients);
});

afterAll(async () => {
  await deleteOrchestratorResources(clients, resources);
  destroyLocalClients(clients);
});

const queueAttributes = async (queueUrl: string): Promise<Record<string, string>> => {
  const { Attributes } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }),
  );
  return Attributes ?? {};
};

describe('createOrchestratorResources', () => {
  it.each(tableKeys)('creates the %s table with the keys, indexes and TTL of its definition', async (key) => {
    const definition: TableDefinition = TABLES[key];

    const { Table: table } = await clients.dynamodb.send(
      new DescribeTableCommand({ TableName: resources.tables[key] }),
    );
    const { TimeToLiveDescription: ttl } = await clients.dynamodb.send(
      new DescribeTimeToLiveCommand({ TableName: resources.tables[key] }),
    );

    expect(resources.tables[key]).toBe(physicalName(prefix, definition.id));
    expect(table?.TableStatus).toBe('ACTIVE');
    expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.KeySchema).toEqual([
      { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
      ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : []),
    ]);
    const declaredKeys = [
      definition.partitionKey,
      definition.sortKey,
      ...definition.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ].flatMap((k) => (k ? [{ AttributeName: k.name, AttributeType: k.type }] : []));
    expect(table?.AttributeDefinitions).toEqual(expect.arrayContaining(declaredKeys));
    // DynamoDB does not keep the order indexes were declared in.
    const byName = (a: { name?: string }, b: { name?: string }) =>
      String(a.name).localeCompare(String(b.name));
    expect(
      (table?.GlobalSecondaryIndexes ?? [])
        .map((index) => ({
          name: index.IndexName,
          keys: index.KeySchema,
          projection: index.Projection?.ProjectionType,
        }))
        .sort(byName),
    ).toEqual(
      definition.globalSecondaryIndexes
        .map((index) => ({
          name: index.indexName,
          keys: [
            { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          projection: 'ALL',
        }))
        .sort(byName),
    );
    if (definition.timeToLiveAttribute === undefined) {
      expect(ttl?.TimeToLiveStatus).toBe('DISABLED');
    } else {
      expect(ttl).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: definition.timeToLiveAttribute });
    }
  });

  it('creates the task queue with its redrive policy, timeouts and retention', async () => {
    const queue = await queueAttributes(resources.taskQueueUrl);
    const deadLetter = await queueAttributes(resources.taskDeadLetterQueueUrl);

    expect(queue.VisibilityTimeout).toBe(String(TASK_QUEUE.visibilityTimeoutSeconds));
    expect(queue.MessageRetentionPeriod).toBe(String(TASK_QUEUE.retentionDays * 86_400));
    expect(JSON.parse(queue.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: deadLetter.QueueArn,
      maxReceiveCount: TASK_QUEUE.maxReceiveCount,
    });
    expect(deadLetter.MessageRetentionPeriod).toBe(String(TASK_QUEUE.deadLetter.retentionDays * 86_400));
    expect(queue.QueueArn).toContain(physicalName(prefix, TASK_QUEUE.id));
    expect(deadLetter.QueueArn).toContain(physicalName(prefix, TASK_QUEUE.deadLetter.id));
  });

  it('returns the environment the functions read their resource names from', () => {
    expect(resources.environment).toEqual({
      SCHEDULES_TABLE: physicalName(prefix, 'Schedules'),
      REQUESTS_TABLE: physicalName(prefix, 'Requests'),
      LEGAL_HOLDS_TABLE: physicalName(prefix, 'LegalHolds'),
      AUDIT_TABLE: physicalName(prefix, 'Audit'),
      SUPPRESSIONS_TABLE: physicalName(prefix, 'Suppressions'),
      TASK_QUEUE_URL: resources.taskQueueUrl,
      TASK_DLQ_URL: resources.taskDeadLetterQueueUrl,
      TASK_QUEUE_MAX_RECEIVES: String(TASK_QUEUE.maxReceiveCount),
      SWEEP_SHARD_QUEUE_URL: resources.sweepShardQueueUrl,
      SWEEP_SHARD_DLQ_URL: resources.sweepShardDeadLetterQueueUrl,
    });
  });

  it('creates the sweep-shard queue as the definition says, with its dead-letter queue', async () => {
    const queue = await queueAttributes(resources.sweepShardQueueUrl);
    const deadLetter = await queueAttributes(resources.sweepShardDeadLetterQueueUrl);
    expect(queue.VisibilityTimeout).toBe(String(SWEEP_SHARD_QUEUE.visibilityTimeoutSeconds));
    expect(JSON.parse(queue.RedrivePolicy ?? '{}')).toEqual({
      deadLetterTargetArn: deadLetter.QueueArn,
      maxReceiveCount: SWEEP_SHARD_QUEUE.maxReceiveCount,
    });
  });

  it('is idempotent: a second run keeps the resources and returns the same names', async () => {
    const again = await createTestResources(prefix, clients);

    const TableNames = await allTableNames(clients.dynamodb);
    const { QueueUrls } = await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    expect(again).toEqual(resources);
    expect(TableNames.filter((name) => name.startsWith(`${prefix}-`))).toHaveLength(tableKeys.length);
    // The task queue, the sweep-shard queue and their dead-letter queues.
    expect(QueueUrls).toHaveLength(4);
  });

  it(`moves a task message to the dead-letter queue after ${TASK_QUEUE.maxReceiveCount} receives without delete`, async () => {
    const ownPrefix = uniquePrefix('local-resources-dlq');
    const own = await createTestResources(ownPrefix, clients);
    try {
      // Visible again at once, so the test does not wait out six real timeouts.
      await clients.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: own.taskQueueUrl, Attributes: { VisibilityTimeout: '0' } }),
      );
      const body = JSON.stringify({ taskId: 't-1', requestId: 'r-1' });
      await clients.sqs.send(new SendMessageCommand({ QueueUrl: own.taskQueueUrl, MessageBody: body }));

      const receiveCounts: string[] = [];
      for (let i = 0; i < TASK_QUEUE.maxReceiveCount; i++) {
        const { Messages } = await clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: own.taskQueueUrl,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        receiveCounts.push(Messages?.[0]?.Attributes?.ApproximateReceiveCount ?? 'none');
      }
      const afterLimit = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: own.taskQueueUrl, WaitTimeSeconds: 1 }),
      );
      const deadLettered = await clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: own.taskDeadLetterQueueUrl, WaitTimeSeconds: 1 }),
      );

      expect(receiveCounts).toEqual(['1', '2', '3', '4', '5'].slice(0, TASK_QUEUE.maxReceiveCount));
      expect(afterLimit.Messages ?? []).toHaveLength(0);
      expect(deadLettered.Messages?.map((m) => m.Body)).toEqual([body]);
    } finally {
      await deleteOrchestratorResources(clients, own);
    }
  });

  it('resets queue attributes that drifted from the definition when run again', async () => {
    const ownPrefix = uniquePrefix('local-resources-drift');
    const own = await createTestResources(ownPrefix, clients);
    try {
      await clients.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: own.taskQueueUrl, Attributes: { VisibilityTimeout: '1' } }),
      );

      const again = await createTestResources(ownPrefix, clients);

      expect(again.taskQueueUrl).toBe(own.taskQueueUrl);
      expect((await queueAttributes(own.taskQueueUrl)).VisibilityTimeout).toBe(
        String(TASK_QUEUE.visibilityTimeoutSeconds),
      );
    } finally {
      await deleteOrchestratorResources(clients, own);
    }
  });
});

describe('createTable', () => {
  const demoTable = `${prefix}-demo-profiles`;
  afterAll(() => deleteTable(clients, demoTable));

  it('creates a demo store keyed by subjectId, idempotently, that the document client can use', async () => {
    const spec = { tableName: demoTable, partitionKey: { name: 'subjectId', type: 'S' } } as const;

    await createTable(clients, spec);
    await createTable(clients, spec);
    await clients.documents.send(
      new PutCommand({
        TableName: demoTable,
        Item: { subjectId: 's-1', email: 'a@example.test', note: undefined },
      }),
    );
    const { Item } = await clients.documents.send(
      new GetCommand({ TableName: demoTable, Key: { subjectId: 's-1' } }),
    );

    expect(Item).toEqual({ subjectId: 's-1', email: 'a@example.test' });
  });

  it('adds the indexes defined since to a table kept from an earlier version', async () => {
    // An emulator of its own, as `npm start` has: on the suite's shared one, busy with a hundred
    // tables, DynamoDB Local can take minutes to build an index.
    const own = await startEmulators();
    const ownClients = createLocalClients(own);
    try {
      await keptTableGetsItsIndexes(ownClients);
    } finally {
      destroyLocalClients(ownClients);
      await own.stop();
    }
  }, 120_000);

  const keptTableGetsItsIndexes = async (clients: LocalClients) => {
    const kept = `${prefix}-kept-table`;
    await createTable(clients, { tableName: kept, partitionKey: { name: 'subjectId', type: 'S' } });

    await createTable(clients, {
      tableName: kept,
      partitionKey: { name: 'subjectId', type: 'S' },
      globalSecondaryIndexes: [
        {
          indexName: 'byStatus',
          partitionKey: { name: 'status', type: 'S' },
          sortKey: { name: 'at', type: 'S' },
        },
      ],
    });

    const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: kept }));
    await deleteTable(clients, kept);
    expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.IndexStatus])).toEqual([
      ['byStatus', 'ACTIVE'],
    ]);
  };

  it('refuses an existing table whose keys differ from the definition', async () => {
    await createTable(clients, { tableName: demoTable, partitionKey: { name: 'subjectId', type: 'S' } });

    await expect(
      createTable(clients, {
        tableName: demoTable,
        partitionKey: { name: 'subjectId', type: 'S' },
        sortKey: { name: 'recordId', type: 'S' },
      }),
    ).rejects.toThrow(/exists with a different schema/);
  });
});

describe('createBucket', () => {
  const bucket = `${prefix}-demo-files`;
  afterAll(() => deleteBucket(clients, bucket));

  it('creates a bucket, idempotently, in which objects can be put, listed and deleted', async () => {
    await createBucket(clients, bucket);
    await createBucket(clients, bucket);
    for (const key of ['subject/s-1/a.json', 'subject/s-1/b.json', 'subject/s-2/a.json']) {
      await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `{"key":"${key}"}` }));
    }

    const listed = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: 'subject/s-1/' }),
    );
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'subject/s-2/a.json' }));
    const body = await object.Body?.transformToString();
    await deleteBucket(clients, bucket);

    expect(listed.Contents?.map((o) => o.Key)).toEqual(['subject/s-1/a.json', 'subject/s-1/b.json']);
    expect(body).toBe('{"key":"subject/s-2/a.json"}');
    await expect(clients.s3.send(new HeadBucketCommand({ Bucket: bucket }))).rejects.toThrow();
  });
});

describe('localEnvironment', () => {
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('lets clients built from the environment reach the emulators', async () => {
    const bucket = await createBucket(clients, `${prefix}-env`);
    for (const [name, value] of Object.entries(localEnvironment(emulatorEndpoints())))
      vi.stubEnv(name, value);
    // What a handler's defaultDeps would build: no endpoint or credentials in code.
    const dynamodb = new DynamoDBClient({});
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    const s3 = new S3Client({ forcePathStyle: true });
    try {
      const tableNames = await allTableNames(dynamodb);
      const queue = await sqs.send(
        new GetQueueUrlCommand({ QueueName: physicalName(prefix, TASK_QUEUE.id) }),
      );
      const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));

      expect(tableNames).toContain(resources.tables.audit);
      expect(queue.QueueUrl).toBe(resources.taskQueueUrl);
      expect(head.$metadata.httpStatusCode).toBe(200);
    } finally {
      for (const client of [dynamodb, sqs, s3]) client.destroy();
      vi.unstubAllEnvs();
      await deleteBucket(clients, bucket);
    }
  });
});

describe('startEmulators', () => {
  /** JVMs this test worker started and has not reaped (pgrep exits 1 when there are none). */
  const javaChildren = (): string[] => {
    try {
      return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'java'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
    } catch {
      return [];
    }
  };
  const isAlive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('stop() ends the DynamoDB Local JVM and can be called again', async () => {
    const emulators = await startEmulators();
    const pid = emulators.dynamodbPid;
    const aliveWhileRunning = isAlive(pid);

    await emulators.stop();
    await emulators.stop();

    expect(aliveWhileRunning).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(javaChildren()).toEqual([]);
    await expect(fetch(emulators.awsEndpoint)).rejects.toThrow();
  });

  // This machine's own non-loopback address, as a neighbour on the network would use it; a
  // machine without one (some containers) cannot show the difference.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address !== undefined && address.family === 'IPv4' && !address.internal)?.address;

  it.skipIf(external === undefined)(
    'fauxqs (SQS and S3) answers on loopback only: another machine on the network cannot reach it',
    async () => {
      // Prepare
      const port = new URL(emulatorEndpoints().awsEndpoint).port;

      // Act
      const fromLoopback = await fetch(`http://127.0.0.1:${port}/`);
      const fromNetwork = await fetch(`http://${external}:${port}/`).then(
        (answer) => answer.status,
        (error: Error) => error.name,
      );

      // Assess
      expect(fromLoopback.status).toBeLessThan(500);
      expect(fromNetwork).toBe('TypeError');
    },
  );

  it('refuses a DynamoDB port that is already taken, before starting anything', async () => {
    const takenPort = Number(new URL(emulatorEndpoints().dynamodbEndpoint).port);

    await expect(startEmulators({ dynamodbPort: takenPort })).rejects.toThrow(
      `Port ${takenPort} for DynamoDB Local is not available`,
    );
    expect(javaChildren()).toEqual([]);
  });

  it('gives up after startTimeoutMs with the JVM output, and leaves no process behind', async () => {
    await expect(startEmulators({ startTimeoutMs: 1 })).rejects.toThrow(
      /did not answer within 1 ms\. Output:/,
    );
    expect(javaChildren()).toEqual([]);
  });
});
