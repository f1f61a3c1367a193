import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  BatchWriteCommand,
  type BatchWriteWriteRequest,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  ConnectorInvocation,
  ConnectorTarget,
  DynamoDbItemsTarget,
  S3PrefixTarget,
} from '../../domain/connectors/types.js';
import type { ConnectorRegistry } from '../../functions/connectors/registry.js';
import { subjectPrefix } from '../../functions/connectors/s3-prefix.js';
import type { BenchContext, SectionResult } from './context.js';
import { forEachConcurrently, formatNumber, perSecond, progress, type Row, range, timed } from './stats.js';

const invocation = (subjectId: string, dataClass: string): ConnectorInvocation => ({
  taskId: `bench-task-${subjectId}`,
  requestId: `bench-request-${subjectId}`,
  subjectId,
  dataClass,
  action: 'delete',
  idempotencyKey: `bench-task-${subjectId}`,
});

const targetNamed = <K extends ConnectorTarget['kind']>(
  targets: readonly ConnectorTarget[],
  name: string,
  kind: K,
): Extract<ConnectorTarget, { kind: K }> => {
  const target = targets.find((candidate) => candidate.name === name);
  if (target === undefined || target.kind !== kind) throw new Error(`No ${kind} target named '${name}'`);
  return target as Extract<ConnectorTarget, { kind: K }>;
};

/** Seeding concurrency: S3 puts and DynamoDB batch writes are not what is measured. */
const SEED_CONCURRENCY = 32;

/**
 * 3. Connector throughput: `execute` of the built-in connectors (through the runtime's connector
 * registry) on one subject with many objects/items, then `verify` (not timed) must find nothing.
 */
export const benchConnectors = async ({ runtime, config }: BenchContext): Promise<SectionResult> => {
  const { deps, clients } = runtime;
  const video = targetNamed(deps.config.targets, 'cloud-video', 's3-prefix');
  const alarms = targetNamed(deps.config.targets, 'alarm-events', 'dynamodb-items');

  const s3Samples: number[] = [];
  const seedSamples: number[] = [];
  for (let rep = 0; rep < config.repeats; rep++) {
    const subjectId = `bench-s3-${rep}`;
    const prefix = subjectPrefix(video, subjectId);
    const seed = await timed(() =>
      forEachConcurrently(range(config.s3Objects), SEED_CONCURRENCY, async (index) => {
        await clients.s3.send(
          new PutObjectCommand({
            Bucket: video.bucket,
            Key: `${prefix}clip-${String(index).padStart(6, '0')}.mp4`,
            Body: 'x',
          }),
        );
      }),
    );
    seedSamples.push(perSecond(config.s3Objects, seed.ms));
    s3Samples.push(
      await erase(deps.connectors, video, invocation(subjectId, 'cloud-video'), config.s3Objects),
    );
  }
  progress(`connectors: s3-prefix ${s3Samples.map(formatNumber).join(', ')} objects/s`);

  const ddbSamples: number[] = [];
  for (let rep = 0; rep < config.repeats; rep++) {
    const subjectId = `bench-ddb-${rep}`;
    await seedAlarmEvents(runtime.clients.documents, alarms, subjectId, config.ddbItems);
    ddbSamples.push(
      await erase(deps.connectors, alarms, invocation(subjectId, 'alarm-events'), config.ddbItems),
    );
  }
  progress(`connectors: dynamodb-items ${ddbSamples.map(formatNumber).join(', ')} items/s`);

  const rows: Row[] = [
    {
      what: `s3-prefix connector: erase ${config.s3Objects.toLocaleString('en-US')} objects under one prefix`,
      samples: s3Samples,
      unit: 'objects/s',
    },
    {
      what: `dynamodb-items connector: delete ${config.ddbItems.toLocaleString('en-US')} items of one subject`,
      samples: ddbSamples,
      unit: 'items/s',
    },
    {
      what: `(reference) S3 PutObject seeding, concurrency ${SEED_CONCURRENCY}`,
      samples: seedSamples,
      unit: 'objects/s',
    },
  ];
  return { rows };
};

/** Times `execute`, checks its count and that `verify` finds nothing left; returns items per second. */
const erase = async (
  connectors: ConnectorRegistry,
  target: S3PrefixTarget | DynamoDbItemsTarget,
  call: ConnectorInvocation,
  expected: number,
): Promise<number> => {
  const { ms, result } = await timed(() => connectors.execute(target, call));
  if (result.status !== 'done' || result.affectedCount !== expected) {
    throw new Error(`${target.kind} erased ${result.affectedCount} of ${expected}`);
  }
  const verification = await connectors.verify(target, call);
  if (!verification.verified) throw new Error(`${target.kind} left data behind: ${verification.detail}`);
  return perSecond(expected, ms);
};

const seedAlarmEvents = async (
  documents: DynamoDBDocumentClient,
  target: DynamoDbItemsTarget,
  subjectId: string,
  count: number,
): Promise<void> => {
  const createdAt = new Date().toISOString();
  const batches = range(Math.ceil(count / 25)).map((batch) =>
    range(Math.min(25, count - batch * 25)).map((offset) => batch * 25 + offset),
  );
  await forEachConcurrently(batches, SEED_CONCURRENCY, async (indexes) => {
    let pending: BatchWriteWriteRequest[] = indexes.map((index) => ({
      PutRequest: {
        Item: {
          subjectId,
          alarmId: `alarm-${String(index).padStart(6, '0')}`,
          createdAt,
          ipAddress: '192.0.2.1',
        },
      },
    }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 10) throw new Error('Seeding alarm events left unprocessed items');
      const result = await documents.send(
        new BatchWriteCommand({ RequestItems: { [target.table]: pending } }),
      );
      pending = result.UnprocessedItems?.[target.table] ?? [];
    }
  });
};
