import * as iam from 'aws-cdk-lib/aws-iam';
import { TABLES, type TableKey } from '../resources.js';
import type { OrchestratorDataRefs } from './orchestrator-data.js';

export type OrchestratorFunctionKey = 'api' | 'sweep' | 'worker';

/**
 * - `read`: GetItem, Query (table and its indexes), ConditionCheckItem (inside transactions).
 * - `readWrite`: read + PutItem, UpdateItem, DeleteItem.
 * - `append`: read + PutItem, UpdateItem. For the audit table: entries are put with
 *   `attribute_not_exists` and the chain head is updated; nothing is ever deleted.
 */
export type TableAccess = 'none' | 'read' | 'readWrite' | 'append';

/**
 * Which function touches which orchestrator table, from what functions/services use:
 * - api: every use case behind the routes (events, requests, holds, audit queries, callbacks, sweeps).
 * - sweep: reads due schedule entries and holds, creates requests and tasks, appends audit entries.
 * - worker: loads and updates tasks and requests, appends audit entries; reads holds to re-check
 *   them before erasing. It gets SCHEDULES_TABLE (the shared env schema requires every table name)
 *   but no access to that table.
 */
export const FUNCTION_TABLE_ACCESS = {
  api: { schedules: 'readWrite', requests: 'readWrite', legalHolds: 'readWrite', audit: 'append' },
  sweep: { schedules: 'readWrite', requests: 'readWrite', legalHolds: 'read', audit: 'append' },
  worker: { schedules: 'none', requests: 'readWrite', legalHolds: 'read', audit: 'append' },
} as const satisfies Record<OrchestratorFunctionKey, Record<TableKey, TableAccess>>;

const READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const ACTIONS: Record<Exclude<TableAccess, 'none'>, readonly string[]> = {
  read: READ,
  readWrite: [...READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  append: [...READ, 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
};

/** Statements on exactly the named tables and their declared indexes (no `index/*`). */
export const tableStatements = (
  data: OrchestratorDataRefs,
  access: Readonly<Record<TableKey, TableAccess>>,
): iam.PolicyStatement[] =>
  (Object.keys(TABLES) as TableKey[]).flatMap((key) => {
    const level = access[key];
    if (level === 'none') return [];
    const table = data.tables[key];
    const indexArns = TABLES[key].globalSecondaryIndexes.map(
      (index) => `${table.tableArn}/index/${index.indexName}`,
    );
    return [
      new iam.PolicyStatement({ actions: [...ACTIONS[level]], resources: [table.tableArn] }),
      ...(indexArns.length > 0
        ? [new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: indexArns })]
        : []),
    ];
  });

/**
 * Use of the data key: DynamoDB (tables), SQS (task queues) and Secrets Manager call KMS with the
 * caller's permissions. Listed actions only (no `kms:GenerateDataKey*`), on this one key.
 */
export const keyStatement = (data: OrchestratorDataRefs): iam.PolicyStatement =>
  new iam.PolicyStatement({
    actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
    resources: [data.key.keyArn],
  });

/** The secret's value and nothing else about it (no DescribeSecret, no versions listing). */
export const secretStatement = (data: OrchestratorDataRefs): iam.PolicyStatement =>
  new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [data.secret.secretArn] });
