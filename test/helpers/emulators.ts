import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { DynamoScheduleStore } from '../../functions/adapters/dynamo-schedule-store.js';
import { dynamoStorage } from '../../functions/shared/dependencies.js';
import { createLocalClients, type EmulatorEndpoints, type LocalClients } from '../../local/aws-clients.js';
import {
  createBucket,
  createOrchestratorResources,
  createTable,
  deleteBucket,
  deleteTable,
  type OrchestratorResources,
} from '../../local/resources.js';

/** The emulators the integration project's globalSetup started for this run. */
export const emulatorEndpoints = (): EmulatorEndpoints => inject('emulators');

export const testClients = (): LocalClients => createLocalClients(emulatorEndpoints());

/**
 * A resource-name prefix of its own for a test file, so files can run in parallel against the same
 * emulators: lower-case letters, digits and hyphens (valid in table, queue and bucket names), short
 * enough to leave room for suffixes within S3's 63 characters.
 */
export const uniquePrefix = (name: string): string => {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 24)
    .replace(/-+$/, '');
  return `${slug || 'test'}-${randomBytes(4).toString('hex')}`;
};

/** The orchestrator's tables and queues under `prefix`, created with fresh clients. */
export const createTestResources = (
  prefix: string,
  clients: LocalClients = testClients(),
): Promise<OrchestratorResources> => createOrchestratorResources(clients, prefix);

/**
 * The orchestrator's tables under a fresh prefix and the DynamoDB adapters over them, wired as the
 * composition roots wire them: for adapter tests.
 */
export const createTestAdapters = async (
  name: string,
  clients: LocalClients,
  pseudonymKey: string,
  shards: number,
) => {
  const resources = await createTestResources(uniquePrefix(name), clients);
  const { tables } = resources;
  const { schedules, ...stores } = dynamoStorage(clients.documents, tables, pseudonymKey, {
    name: tables.schedules,
    shards,
  });
  return { resources, ...stores, schedules: schedules as DynamoScheduleStore };
};

/** The stores the connector tests erase from: a bucket, a table keyed by subject, a table with a GSI. */
export interface ConnectorStores {
  readonly bucket: string;
  readonly table: string;
  readonly indexedTable: string;
  remove(): Promise<void>;
}

/**
 * Creates them under a fresh prefix: `orders` (subjectId, itemId) and `events` (pk, sk) whose GSI
 * `byUser` finds a subject's items by `userId`.
 */
export const createConnectorStores = async (
  clients: LocalClients,
  name: string,
): Promise<ConnectorStores> => {
  const prefix = uniquePrefix(name);
  const bucket = `${prefix}-media`;
  const table = `${prefix}-orders`;
  const indexedTable = `${prefix}-events`;
  await Promise.all([
    createBucket(clients, bucket),
    createTable(clients, {
      tableName: table,
      partitionKey: { name: 'subjectId', type: 'S' },
      sortKey: { name: 'itemId', type: 'S' },
    }),
    createTable(clients, {
      tableName: indexedTable,
      partitionKey: { name: 'pk', type: 'S' },
      sortKey: { name: 'sk', type: 'S' },
      globalSecondaryIndexes: [{ indexName: 'byUser', partitionKey: { name: 'userId', type: 'S' } }],
    }),
  ]);
  return {
    bucket,
    table,
    indexedTable,
    remove: async () => {
      await Promise.allSettled([
        deleteBucket(clients, bucket),
        deleteTable(clients, table),
        deleteTable(clients, indexedTable),
      ]);
    },
  };
};
