import { createHash } from 'node:crypto';
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
  /** A marketing tool's contact list, keyed by e-mail address (identifier `email`). */
  readonly marketingTable: string;
  /**
   * The identity service's lookup table: one item per subject id with its e-mail and camera
   * serials, which the demo's identifier resolver reads (`DEMO_RESOLVER`).
   */
  readonly identityTable: string;
}

export const demoStoreNames = (prefix = ''): DemoStores => ({
  customersTable: `${prefix}demo-customers`,
  alarmEventsTable: `${prefix}demo-alarm-events`,
  cloudVideoBucket: `${prefix}demo-cloud-video`,
  userFilesBucket: `${prefix}demo-user-files`,
  marketingTable: `${prefix}demo-marketing-list`,
  identityTable: `${prefix}demo-identity`,
});

/** The demo's identifier resolver: the identity table, `email` and `devices` (a string set). */
export const demoResolver = (stores: DemoStores) =>
  ({
    name: 'demo-identity',
    kind: 'dynamodb-lookup',
    table: stores.identityTable,
    keyAttribute: 'subjectId',
    attributes: { email: 'email', deviceId: 'devices' },
  }) as const;

/**
 * The demo's identifiers beyond the subject id: the e-mail address the marketing list is keyed by,
 * and the serials of the cameras whose cloud video is kept per device (`devices/<serial>/`).
 */
export const DEMO_IDENTIFIERS = {
  email: { pattern: '[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}', description: 'e-mail address, in lower case' },
  deviceId: { pattern: 'CAM-[0-9A-F]{4,16}', description: 'camera serial' },
} as const;

/** Classes whose data also lives under a camera's serial, or in the marketing list. */
const DEVICE_VIDEO_CLASSES = ['closed-account', 'cloud-video', 'child-data', 'inactive-account'];
const MARKETING_CLASSES = ['closed-account', 'marketing-contact', 'inactive-account'];

/**
 * What the demo seeds for a subject: its e-mail and two camera serials. The walkthrough's
 * `demo-subject-N` has `customerN@example.test`, `CAM-000N` and `CAM-00NF`; every other subject
 * gets values of its own (from its id), so no two demo subjects share an e-mail or a camera: a
 * request for one never erases what another's legal hold protects.
 */
export const demoIdentifiersOf = (subjectId: string): { email: string; deviceId: string[] } => {
  const walkthrough = /^demo-subject-(\d+)$/.exec(subjectId)?.[1];
  if (walkthrough !== undefined) {
    return {
      email: `customer${walkthrough}@example.test`,
      deviceId: [`CAM-${walkthrough.padStart(4, '0')}`, `CAM-${walkthrough.padStart(3, '0')}F`],
    };
  }
  const serial = createHash('sha256').update(subjectId).digest('hex').slice(0, 8).toUpperCase();
  return {
    email: `${subjectId.toLowerCase().replace(/[^a-z0-9._%+-]/g, '-')}@example.test`,
    deviceId: [`CAM-${serial}`, `CAM-${serial}F`],
  };
};

/** The demo subjects the identity table knows (`demo-subject-1`, ...). */
const DEMO_RESOLVED_SUBJECT = /^demo-subject-\d+$/;

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

/**
 * The built-in catalog with its five target names pointed at the demo stores and the demo webhook.
 * With `resolveIdentifiers`, requests look up the subject's e-mail and camera serials in the
 * identity table instead of being sent them.
 */
export const demoDeploymentConfig = (
  stores: DemoStores,
  webhookUrl: string,
  options: { readonly resolveIdentifiers?: boolean } = {},
): DeploymentConfig => {
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
  // Identifier-keyed targets: cloud video per camera serial (beside the per-subject video, which
  // keeps the rolling window) and the marketing list by e-mail.
  targets.push(
    {
      name: 'device-video',
      kind: 's3-prefix',
      bucket: stores.cloudVideoBucket,
      prefixTemplate: 'devices/{deviceId}/',
    },
    {
      name: 'marketing-list',
      kind: 'dynamodb-items',
      table: stores.marketingTable,
      subjectAttribute: 'email',
      identifier: 'email',
      keyAttributes: ['email'],
    },
  );
  const catalog = {
    ...BUILT_IN_CATALOG,
    dataClasses: BUILT_IN_CATALOG.dataClasses.map((policy) => ({
      ...policy,
      targets: [
        ...policy.targets,
        ...(DEVICE_VIDEO_CLASSES.includes(policy.dataClass) ? ['device-video'] : []),
        ...(MARKETING_CLASSES.includes(policy.dataClass) ? ['marketing-list'] : []),
      ],
    })),
  };
  // The demo partner service also stands in for the notification service that tells subjects.
  return {
    catalog,
    targets,
    notices: { target: 'partner-services' },
    identifiers: DEMO_IDENTIFIERS,
    ...(options.resolveIdentifiers === true ? { identifierResolver: demoResolver(stores) } : {}),
  };
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
    createTable(clients, { tableName: stores.marketingTable, partitionKey: { name: 'email', type: 'S' } }),
    createTable(clients, { tableName: stores.identityTable, partitionKey: { name: 'subjectId', type: 'S' } }),
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
                email: demoIdentifiersOf(subjectId).email,
                phone: `+31 20 555 01${number.padStart(2, '0')}`,
                plan: 'cloud-30d',
              },
            },
          },
        ],
        [stores.marketingTable]: [
          {
            PutRequest: {
              Item: {
                email: demoIdentifiersOf(subjectId).email,
                newsletter: 'weekly',
                consentedAt: now.toISOString(),
              },
            },
          },
        ],
        // Only the walkthrough's subjects are known to the identity service: requests for the
        // other demo subjects (the reports' activity, `demo-erased-1`) address what they carry.
        ...(DEMO_RESOLVED_SUBJECT.test(subjectId)
          ? {
              [stores.identityTable]: [
                {
                  PutRequest: {
                    Item: {
                      subjectId,
                      email: demoIdentifiersOf(subjectId).email,
                      devices: new Set(demoIdentifiersOf(subjectId).deviceId),
                    },
                  },
                },
              ],
            }
          : {}),
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
  for (const serial of demoIdentifiersOf(subjectId).deviceId) {
    puts.push(
      clients.s3.send(
        new PutObjectCommand({
          Bucket: stores.cloudVideoBucket,
          Key: `devices/${serial}/clip-1.mp4`,
          Body: `demo video of camera ${serial}`,
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
