/**
 * The orchestrator's own tables and queues, as plain data. The CDK DataStack/WorkerStack build
 * them from this, and the local runtime creates the same resources in the emulators from it, so
 * the two cannot drift (test/infra/resources-match.test.ts compares them with the synthesized template).
 */

import { SWEEP_SHARD_QUEUE_ENV, TABLE_ENV, TASK_QUEUE_ENV } from '../functions/manifest.js';
export type KeyType = 'S' | 'N';

export interface KeyDefinition {
  readonly name: string;
  readonly type: KeyType;
}

export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
}

export interface TableDefinition {
  /** Stable id: CDK construct id and the suffix of the physical name. */
  readonly id: 'Schedules' | 'Requests' | 'LegalHolds' | 'Audit' | 'Suppressions';
  /** Environment variable through which functions learn the table name. */
  readonly envVar: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly globalSecondaryIndexes: readonly IndexDefinition[];
  /** Attribute DynamoDB TTL reads; only used for housekeeping, never for a deletion that must be proved. */
  readonly timeToLiveAttribute?: string;
  /** Holds the evidence: deletion protection on and never removed with the stack. */
  readonly evidence: boolean;
}

export const TABLES = {
  schedules: {
    id: 'Schedules',
    envVar: TABLE_ENV.schedules,
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [
      {
        // Sparse: only entries waiting to run (or to send a notice) carry dueBucket.
        indexName: 'byDueBucket',
        partitionKey: { name: 'dueBucket', type: 'S' },
        sortKey: { name: 'dueKey', type: 'S' },
      },
    ],
    evidence: false,
  },
  requests: {
    id: 'Requests',
    envVar: TABLE_ENV.requests,
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [
      {
        // Sparse: only requests that are not final carry openBucket (`open#<shard>`); the sweep
        // counts deadlines here (Select COUNT per shard).
        indexName: 'openByDeadline',
        partitionKey: { name: 'openBucket', type: 'S' },
        sortKey: { name: 'deadline', type: 'S' },
      },
      {
        // The same open requests by when each may next be stuck: the sweep reads `reviewAt <= now`.
        indexName: 'byReviewAt',
        partitionKey: { name: 'openBucket', type: 'S' },
        sortKey: { name: 'reviewAt', type: 'S' },
      },
      {
        // Sparse: only partially failed requests carry failedBucket (`failed#<shard>`), from the
        // commit that fails them to their re-drive: the failures report reads it.
        indexName: 'byFailure',
        partitionKey: { name: 'failedBucket', type: 'S' },
        sortKey: { name: 'deadline', type: 'S' },
      },
    ],
    timeToLiveAttribute: 'expiresAt',
    evidence: false,
  },
  legalHolds: {
    id: 'LegalHolds',
    envVar: TABLE_ENV.legalHolds,
    partitionKey: { name: 'subjectId', type: 'S' },
    sortKey: { name: 'holdId', type: 'S' },
    globalSecondaryIndexes: [
      { indexName: 'byHoldId', partitionKey: { name: 'holdId', type: 'S' } },
      {
        // Sparse: a hold carries activeHold from its placement to its release (same commits);
        // activeUntil is its end, so a query past now skips holds that ran out.
        indexName: 'activeHolds',
        partitionKey: { name: 'activeHold', type: 'S' },
        sortKey: { name: 'activeUntil', type: 'S' },
      },
    ],
    evidence: false,
  },
  audit: {
    id: 'Audit',
    envVar: TABLE_ENV.audit,
    partitionKey: { name: 'chainId', type: 'S' },
    sortKey: { name: 'seq', type: 'N' },
    globalSecondaryIndexes: [
      {
        indexName: 'byRequest',
        partitionKey: { name: 'requestId', type: 'S' },
        sortKey: { name: 'at', type: 'S' },
      },
      {
        indexName: 'byDay',
        partitionKey: { name: 'day', type: 'S' },
        sortKey: { name: 'at', type: 'S' },
      },
      {
        // Sparse: only chain heads that moved since the last anchor carry `unanchored` (a shard).
        indexName: 'byUnanchored',
        partitionKey: { name: 'unanchored', type: 'S' },
        sortKey: { name: 'chainId', type: 'S' },
      },
    ],
    evidence: true,
  },
  suppressions: {
    id: 'Suppressions',
    envVar: TABLE_ENV.suppressions,
    // Keyed hashes of erased subjects' ids and identifiers (never a value); each expires by TTL
    // after the suppression period (reads also compare the expiry: TTL deletes lag).
    partitionKey: { name: 'hash', type: 'S' },
    globalSecondaryIndexes: [],
    timeToLiveAttribute: 'expiresAt',
    evidence: false,
  },
} as const satisfies Record<string, TableDefinition>;

export type TableKey = keyof typeof TABLES;

export interface QueueDefinition {
  readonly id: 'TaskQueue';
  readonly envVar: string;
  /** Deliveries before a task is marked failed and its message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionDays: number;
  readonly deadLetter: {
    readonly id: 'TaskDeadLetterQueue';
    readonly envVar: string;
    readonly retentionDays: number;
  };
}

/** Function timeout of the connector worker; the queue's visibility timeout is 6x this (AWS guidance). */
export const CONNECTOR_TIMEOUT_SECONDS = 60;

export const TASK_QUEUE: QueueDefinition = {
  id: 'TaskQueue',
  envVar: TASK_QUEUE_ENV,
  maxReceiveCount: 5,
  visibilityTimeoutSeconds: CONNECTOR_TIMEOUT_SECONDS * 6,
  retentionDays: 14,
  deadLetter: { id: 'TaskDeadLetterQueue', envVar: 'TASK_DLQ_URL', retentionDays: 14 },
};

/** Function timeout of a sweep shard worker (one due bucket); its queue's visibility timeout is 6x this. */
export const SWEEP_SHARD_TIMEOUT_SECONDS = 300;

/** One message per due bucket of a sweep, from the coordinator to the sweep-shard workers. */
export const SWEEP_SHARD_QUEUE = {
  id: 'SweepShardQueue',
  envVar: SWEEP_SHARD_QUEUE_ENV,
  /** A bucket that keeps failing stops here; the next sweep sends it again (the watermark waits). */
  maxReceiveCount: 3,
  visibilityTimeoutSeconds: SWEEP_SHARD_TIMEOUT_SECONDS * 6,
  retentionDays: 1,
  deadLetter: { id: 'SweepShardDeadLetterQueue', envVar: 'SWEEP_SHARD_DLQ_URL', retentionDays: 14 },
} as const;

/** Physical name of a resource for a deployment prefix (`erasure-prod`). */
export const physicalName = (prefix: string, id: string): string =>
  `${prefix}-${id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
