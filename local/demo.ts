import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { ConnectorTarget } from '../domain/connectors/types.js';
import { BUILT_IN_CATALOG } from '../domain/policy/catalog.js';
import type { DeploymentConfig } from '../domain/policy/types.js';
import type { LocalClients } from './aws-clients.js';
import { createBucket, createTable } from './resources.js';

/** The demo's own data stores: stand-ins for the company systems that hold personal data. */
export interface DemoStores {
  readonly customersTable: string;
  readonly alarmEventsTable: string;
  readonly cloudVideoBucket: string;
  readonly userFilesBucket: string;
}

export const demoStoreNames = (prefix = ''): DemoStores => ({
  customersTable: `${prefix}demo-customers`,
  alarmEventsTable: `${prefix}demo-alarm-events`,
  cloudVideoBucket: `${prefix}demo-cloud-video`,
  userFilesBucket: `${prefix}demo-user-files`,
});

export const DEMO_WEBHOOK_SECRET_NAME = 'partner-services';

/**
 * The demo alarm table's time-ordered index (IMOU-2's window runs erase through it): every item
 * carries `windowShard`; one shard is plenty for a demo, a busy table spreads writes over several.
 */
export const DEMO_ALARM_WINDOW_INDEX = {
  indexName: 'byAge',
  partitionAttribute: 'windowShard',
  partitions: ['0'],
} as const;
export const DEMO_ALARM_WINDOW_SHARD = '0';

/** The built-in catalog with its five target names pointed at the demo stores and the demo webhook. */
export const demoDeploymentConfig = (stores: DemoStores, webhookUrl: string): DeploymentConfig => {
  const targets: ConnectorTarget[] = [
    {
      name: 'customer-records',
      kind: 'dynamodb-items',
      table: stores.customersTable,
      subjectAttribute: 'subjectId',
      keyAttributes: ['subjectId'],
      anonymiseAttributes: ['email', 'name', 'phone'],
    },
    {
      name: 'alarm-events',
      kind: 'dynamodb-items',
      table: stores.alarmEventsTable,
      subjectAttribute: 'subjectId',
      keyAttributes: ['subjectId', 'alarmId'],
      timestampAttribute: 'createdAt',
      windowIndex: { ...DEMO_ALARM_WINDOW_INDEX, partitions: [...DEMO_ALARM_WINDOW_INDEX.partitions] },
    },
    {
      name: 'cloud-video',
      kind: 's3-prefix',
      bucket: stores.cloudVideoBucket,
      prefixTemplate: 'video/{subjectId}/',
    },
    {
      name: 'user-files',
      kind: 's3-prefix',
      bucket: stores.userFilesBucket,
      prefixTemplate: 'files/{subjectId}/',
    },
    {
      name: 'partner-services',
      kind: 'http-webhook',
      url: webhookUrl,
      signingSecretName: DEMO_WEBHOOK_SECRET_NAME,
      // The demo partner answers dry-run previews (local/demo-webhook.ts).
      preview: true,
    },
  ];
  // The demo partner service also stands in for the notification service that tells subjects.
  return { catalog: BUILT_IN_CATALOG, targets, notices: { target: 'partner-services' } };
};

export const createDemoStores = async (clients: LocalClients, stores: DemoStores): Promise<void> => {
  await Promise.all([
    createTable(clients, {
      tableName: stores.customersTable,
      partitionKey: { name: 'subjectId', type: 'S' },
    }),
    createTable(clients, {
      tableName: stores.alarmEventsTable,
      partitionKey: { name: 'subjectId', type: 'S' },
      sortKey: { name: 'alarmId', type: 'S' },
      globalSecondaryIndexes: [
        {
          indexName: DEMO_ALARM_WINDOW_INDEX.indexName,
          partitionKey: { name: DEMO_ALARM_WINDOW_INDEX.partitionAttribute, type: 'S' },
          sortKey: { name: 'createdAt', type: 'S' },
        },
      ],
    }),
    createBucket(clients, stores.cloudVideoBucket),
    createBucket(clients, stores.userFilesBucket),
  ]);
};

/**
 * Puts a subject's data in every demo store: a customer record, alarm events, cloud video and
 * files. `createdAt` of the alarm events is `now` so rolling windows (IMOU-2) have something to age.
 */
export const seedDemoSubject = async (
  clients: LocalClients,
  stores: DemoStores,
  subjectId: string,
  now: Date,
  counts: { readonly videos?: number; readonly files?: number; readonly alarms?: number } = {},
): Promise<void> => {
  const number = subjectId.replace(/\D/g, '') || '0';
  await clients.documents.send(
    new BatchWriteCommand({
      RequestItems: {
        [stores.customersTable]: [
          {
            PutRequest: {
              Item: {
                subjectId,
                name: `Demo Customer ${number}`,
                email: `customer${number}@example.test`,
                phone: `+31 20 555 01${number.padStart(2, '0')}`,
                plan: 'cloud-30d',
              },
            },
          },
        ],
        [stores.alarmEventsTable]: Array.from({ length: counts.alarms ?? 3 }, (_, index) => ({
          PutRequest: {
            Item: {
              subjectId,
              alarmId: `alarm-${index + 1}`,
              createdAt: now.toISOString(),
              windowShard: DEMO_ALARM_WINDOW_SHARD,
              ipAddress: `192.0.2.${index + 1}`,
            },
          },
        })),
      },
    }),
  );
  const puts: Promise<unknown>[] = [];
  for (let index = 1; index <= (counts.videos ?? 3); index++) {
    puts.push(
      clients.s3.send(
        new PutObjectCommand({
          Bucket: stores.cloudVideoBucket,
          Key: `video/${subjectId}/clip-${index}.mp4`,
          Body: `demo video ${index}`,
        }),
      ),
    );
  }
  for (let index = 1; index <= (counts.files ?? 2); index++) {
    puts.push(
      clients.s3.send(
        new PutObjectCommand({
          Bucket: stores.userFilesBucket,
          Key: `files/${subjectId}/document-${index}.txt`,
          Body: `demo file ${index}`,
        }),
      ),
    );
  }
  await Promise.all(puts);
};
