import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  FUNCTIONS,
  type FunctionKey,
  PROOF_ENV,
  TABLE_ACCESS_ACTIONS,
  type TableAccess,
} from '../../functions/manifest.js';
import { TABLES, type TableKey } from '../resources.js';
import type { OrchestratorDataRefs } from './orchestrator-data.js';

export type OrchestratorFunctionKey = FunctionKey;
export type { TableAccess };

/** Which function touches which orchestrator table: functions/manifest.ts, the functions' own word. */
export const FUNCTION_TABLE_ACCESS = Object.fromEntries(
  (Object.keys(FUNCTIONS) as FunctionKey[]).map((key) => [key, FUNCTIONS[key].tables]),
) as { readonly [K in FunctionKey]: Readonly<Partial<Record<TableKey, TableAccess>>> };

const ACTIONS = TABLE_ACCESS_ACTIONS;

/** Statements on exactly the named tables and their declared indexes (no `index/*`). */
export const tableStatements = (
  data: OrchestratorDataRefs,
  access: Readonly<Partial<Record<TableKey, TableAccess>>>,
  /** Tables the function may also Scan (functions/manifest.ts `scans`). */
  scans: readonly TableKey[] = [],
): iam.PolicyStatement[] =>
  (Object.keys(TABLES) as TableKey[]).flatMap((key) => {
    const level = access[key];
    if (level === undefined) return [];
    const table = data.tables[key];
    const indexArns = TABLES[key].globalSecondaryIndexes.map(
      (index) => `${table.tableArn}/index/${index.indexName}`,
    );
    return [
      new iam.PolicyStatement({
        actions: [...ACTIONS[level], ...(scans.includes(key) ? ['dynamodb:Scan'] : [])],
        resources: [table.tableArn],
      }),
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

/**
 * What `proof: 'anchor'` in functions/manifest.ts grants: signing with the signing key and reading every retired key's public key, and reading
 * and writing anchors (never deleting: Object Lock would refuse anyway).
 */
export const proofStatements = (data: OrchestratorDataRefs): iam.PolicyStatement[] => [
  // The moved heads come from the audit table's byUnanchored index and their marks are cleared
  // with UpdateItem: both are in the functions' `append` access to the table. Only the sweep may
  // Scan it (its manifest `scans`: marking heads written before the index, once after an upgrade).
  new iam.PolicyStatement({ actions: ['kms:Sign', 'kms:GetPublicKey'], resources: [data.signingKey.keyArn] }),
  ...((data.retiredSigningKeyArns ?? []).length > 0
    ? [
        new iam.PolicyStatement({
          actions: ['kms:GetPublicKey'],
          resources: [...(data.retiredSigningKeyArns ?? [])],
        }),
      ]
    : []),
  new iam.PolicyStatement({
    actions: ['s3:ListBucket'],
    resources: [anchorsBucketArn(data)],
    conditions: { StringLike: { 's3:prefix': ['anchors/*'] } },
  }),
  new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [anchorObjectsArn(data)] }),
];

export const anchorsBucketArn = (data: OrchestratorDataRefs): string =>
  `arn:${Aws.PARTITION}:s3:::${data.anchorsBucketName}`;

/** The anchors' keys in the bucket (functions/adapters/s3-anchor-store.ts). */
export const anchorObjectsArn = (data: OrchestratorDataRefs): string => `${anchorsBucketArn(data)}/anchors/*`;

/** The variables that go with `proofStatements`. */
export const proofEnvironment = (data: OrchestratorDataRefs): Record<string, string> => ({
  [PROOF_ENV.anchorsBucket]: data.anchorsBucketName,
  [PROOF_ENV.signingKey]: data.signingKey.keyArn,
  // Empty when no key was retired yet: the function reads '' as none.
  [PROOF_ENV.retiredSigningKeys]: (data.retiredSigningKeyArns ?? []).join(','),
});
