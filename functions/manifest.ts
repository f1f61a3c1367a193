/**
 * What each function reads and writes: the one place its environment and its IAM grants come
 * from. `functions/shared/env.ts` builds each function's environment schema from it, and the CDK
 * runtime (infra/constructs/orchestrator-runtime.ts) sets exactly those variables and grants
 * exactly this access, so a function gets what it reads and nothing more.
 */

/** The orchestrator's tables, by key (the keys of infra/resources.ts TABLES), and their variables. */
export const TABLE_ENV = {
  schedules: 'SCHEDULES_TABLE',
  requests: 'REQUESTS_TABLE',
  legalHolds: 'LEGAL_HOLDS_TABLE',
  audit: 'AUDIT_TABLE',
  suppressions: 'SUPPRESSIONS_TABLE',
} as const;
export type TableName = keyof typeof TABLE_ENV;

export const TASK_QUEUE_ENV = 'TASK_QUEUE_URL';
export const SWEEP_SHARD_QUEUE_ENV = 'SWEEP_SHARD_QUEUE_URL';

/**
 * - `read`: GetItem, BatchGetItem, Query (table and its indexes), ConditionCheckItem (inside
 *   transactions).
 * - `readWrite`: read + PutItem, UpdateItem, DeleteItem.
 * - `append`: read + PutItem, UpdateItem. For the audit table: entries are put with
 *   `attribute_not_exists` and the chain head is updated; nothing is ever deleted.
 * - `update`: read + UpdateItem, no PutItem or DeleteItem: the sweep counts a block on a hold
 *   (`hold.confirm`, conditioned on the hold existing). IAM cannot require that condition, so an
 *   UpdateItem could still create or change an item; a `dynamodb:Attributes` condition would narrow it.
 */
export type TableAccess = 'read' | 'readWrite' | 'append' | 'update';

const READ_ACTIONS = [
  'dynamodb:GetItem',
  // The suppression list is checked for all of a request's hashes at once.
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
] as const;
/** The IAM actions each access level grants on a table (infra/constructs/data-access.ts grants them). */
export const TABLE_ACCESS_ACTIONS: Readonly<Record<TableAccess, readonly string[]>> = {
  read: READ_ACTIONS,
  readWrite: [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  append: [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  update: [...READ_ACTIONS, 'dynamodb:UpdateItem'],
};

/**
 * `send`: SendMessage (producers). `consume`: the queue's event source; ChangeMessageVisibility for
 * backoff. `none`: the function neither sends nor reads tasks (no TASK_QUEUE_URL either).
 */
export type QueueAccess = 'send' | 'consume' | 'none';

/** Settings a function reads from its environment, beyond resource names. */
export type FunctionSetting = 'TASK_QUEUE_MAX_RECEIVES' | 'DUE_BUCKET_SHARDS' | 'CALLBACK_BASE_URL';

/**
 * The proof of the trail (functions/services/anchors.ts): `anchor` reads the chain heads that moved
 * (the audit table's byUnanchored index; clearing their marks needs `append` access, so a function
 * with `read` access, the certificate's, anchors without clearing them; the sweep alone also scans the
 * table once after an upgrade, see its `scans`), signs with the signing key (kms:Sign, kms:GetPublicKey) and reads and writes
 * anchors in the anchors bucket (s3:ListBucket, s3:GetObject, s3:PutObject; never delete).
 */
export type ProofAccess = 'anchor' | 'none';

/** The variables of `anchor`: the bucket, the current key and the keys it replaced (comma-separated). */
export const PROOF_ENV = {
  anchorsBucket: 'ANCHORS_BUCKET',
  signingKey: 'SIGNING_KEY_ARN',
  retiredSigningKeys: 'RETIRED_SIGNING_KEY_ARNS',
} as const;

export interface FunctionManifest {
  /** File under functions/ that exports `handler`. */
  readonly entry: string;
  readonly tables: Readonly<Partial<Record<TableName, TableAccess>>>;
  readonly queue: QueueAccess;
  /**
   * The sweep-shard queue: the coordinator `send`s one message per due bucket, the shard worker
   * `consume`s them. @default none
   */
  readonly sweepShardQueue?: QueueAccess;
  readonly settings: readonly FunctionSetting[];
  readonly proof: ProofAccess;
  /**
   * Tables the function may Scan (dynamodb:Scan on the table alone): only a one-time upgrade step,
   * never a use case. @default none
   */
  readonly scans?: readonly TableName[];
  /**
   * `read`: the function creates requests, so it asks the config's `identifierResolver`: GetItem on
   * a `dynamodb-lookup` resolver's table (a webhook resolver's signing secret is in the secret
   * every function reads). @default none
   */
  readonly identifierResolver?: 'read';
}

export const FUNCTIONS = {
  /**
   * Every use case behind the routes but the certificate: events, requests, holds, exports, audit
   * and its proof, callbacks, sweeps on demand.
   */
  api: {
    entry: 'api.ts',
    tables: {
      schedules: 'readWrite',
      requests: 'readWrite',
      legalHolds: 'readWrite',
      audit: 'append',
      // Checks, lifts, and lists (account deleted or closed; a request completed by a callback).
      suppressions: 'readWrite',
    },
    queue: 'send',
    settings: ['DUE_BUCKET_SHARDS'],
    proof: 'anchor',
    // Only after an upgrade, until the sweep has listed the holds placed before the list of active
    // holds, and before the activeHolds index existed: the active holds are read by a scan
    // (DynamoHoldStore.activeByScan); every other read is a Query or GetItem.
    scans: ['legalHolds'],
    // Erasure requests, dry runs and exports resolve the subject's identifiers.
    identifierResolver: 'read',
  },
  /**
   * The coordinator: due buckets out to the shard workers (one message each), stuck requests moved
   * on, deadline counts, an anchor.
   */
  sweep: {
    entry: 'sweep-due-deletions.ts',
    // Suppressions: a request the sweep settles as completed lists its subject.
    tables: {
      schedules: 'readWrite',
      requests: 'readWrite',
      // A due deletion blocked on a hold is counted on it (`hold.confirm`), and a hold that ran
      // out moves to its subject's pseudonym (`forgetEndedHolds`: a Delete and a Put). `update`
      // could already neutralise a hold (SET releasedAt), so this widens nothing that matters.
      legalHolds: 'readWrite',
      audit: 'append',
      suppressions: 'append',
    },
    queue: 'send',
    sweepShardQueue: 'send',
    settings: ['DUE_BUCKET_SHARDS'],
    proof: 'anchor',
    // Once after an upgrade, at its first read of holds, it lists the holds placed before the list
    // of active holds (DynamoHoldStore.listActiveHolds: one scan).
    // Audit: once after an upgrade, a bounded part per sweep, heads written before the
    // byUnanchored index get their mark (DynamoAuditLog.markOlderHeads); anchoring reads the index.
    scans: ['legalHolds', 'audit'],
  },
  /** One due bucket: due entries and holds in; requests, tasks, blocked entries, audit entries out. */
  sweepShard: {
    entry: 'sweep-shard.ts',
    // legalHolds: a due deletion blocked on a hold is counted on it (`hold.confirm`).
    tables: { schedules: 'readWrite', requests: 'readWrite', legalHolds: 'update', audit: 'append' },
    queue: 'send',
    sweepShardQueue: 'consume',
    settings: ['DUE_BUCKET_SHARDS'],
    proof: 'none',
    // A due deletion's request resolves the subject's identifiers.
    identifierResolver: 'read',
  },
  /** Tasks and their requests, holds re-checked before erasing, audit entries; no schedules. */
  worker: {
    entry: 'run-connector-task.ts',
    // Suppressions: the last task's commit lists the erased subject.
    tables: { requests: 'readWrite', legalHolds: 'read', audit: 'append', suppressions: 'append' },
    queue: 'consume',
    settings: ['TASK_QUEUE_MAX_RECEIVES', 'CALLBACK_BASE_URL'],
    proof: 'none',
  },
  /**
   * `GET /v1/erasure-requests/{requestId}/certificate`, JSON and PDF: a function of its own, so the
   * PDF renderer stays out of the API's bundle and the certificate gets read access only. Reads the request and its chain, anchors
   * the trail if the request's last entry is not anchored yet (S3 and KMS, not the audit table:
   * it reads the moved heads and leaves their marks for the sweep to clear, `writeAnchor`),
   * signs the certificate (kms:Sign, like the API and the sweep).
   */
  certificate: {
    entry: 'render-certificate.ts',
    tables: { requests: 'read', audit: 'read' },
    queue: 'none',
    settings: [],
    proof: 'anchor',
  },
} as const satisfies Record<string, FunctionManifest>;

export type FunctionKey = keyof typeof FUNCTIONS;
