import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { DynamoDbItemsTarget, S3PrefixTarget } from '../../domain/connectors/types.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { subjectTemplatePattern } from '../../domain/vocabulary/index.js';
import { actionsByTarget } from './config-validation.js';
import { acknowledgeWildcardResource } from './nag.js';

/** `orders` → this stack's account and region; a table ARN (another account or region) is used as given. */
export const targetTableArn = (scope: Construct, table: string): string =>
  table.startsWith('arn:')
    ? table
    : Stack.of(scope).formatArn({ service: 'dynamodb', resource: 'table', resourceName: table });

export const targetBucketArn = (scope: Construct, bucket: string): string =>
  Stack.of(scope).formatArn({ service: 's3', region: '', account: '', resource: bucket });

export interface ConnectorTargetsPolicyProps {
  readonly config: DeploymentConfig;
  /** The worker role the connectors run as. */
  readonly role: iam.IRole;
  /**
   * KMS keys (customer-managed) that encrypt target tables; the worker needs them to read and
   * update items. @default - none
   */
  readonly targetEncryptionKeyArns?: readonly string[];
}

/**
 * The worker's access to the systems it erases from, derived from the catalog: only targets a data
 * class names, only the buckets, prefixes, tables and indexes they declare, and only the operations
 * their actions need (`delete` → BatchWriteItem; `anonymise`/`restrict` → UpdateItem). Webhook
 * targets need no IAM access. Kept apart from the role's own policy so that an auditor can read the
 * erasure scope in one place.
 */
export class ConnectorTargetsPolicy extends Construct {
  public readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: ConnectorTargetsPolicyProps) {
    super(scope, id);
    // Not created when empty (webhook-only catalogs): IAM rejects a policy without statements.
    this.policy = new iam.Policy(this, 'Policy', { roles: [props.role] });
    const used = actionsByTarget(props.config);
    for (const target of props.config.targets) {
      const actions = used.get(target.name);
      if (actions === undefined) continue;
      if (target.kind === 's3-prefix') this.grantS3Prefix(target);
      if (target.kind === 'dynamodb-items') this.grantDynamoDbItems(target, actions);
    }
    const keys = props.targetEncryptionKeyArns ?? [];
    if (keys.length > 0) {
      this.policy.addStatements(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
          resources: [...keys],
        }),
      );
    }
  }

  private grantS3Prefix(target: S3PrefixTarget): void {
    const bucketArn = targetBucketArn(this, target.bucket);
    const pattern = subjectTemplatePattern(target.prefixTemplate);
    const objects = `${bucketArn}/${pattern}*`;
    this.policy.addStatements(
      // Listing is a bucket-level action: the condition confines it to the subjects' prefixes.
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': [pattern] } },
      }),
      // DeleteObjects (batch) is authorised per key as DeleteObject / DeleteObjectVersion.
      new iam.PolicyStatement({
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [objects],
      }),
    );
    acknowledgeWildcardResource(
      this.policy,
      objects,
      `Connector target '${target.name}': objects under its declared prefix '${target.prefixTemplate}'; the subject id is only known at run time.`,
    );
  }

  private grantDynamoDbItems(target: DynamoDbItemsTarget, actions: ReadonlySet<string>): void {
    const tableArn = targetTableArn(this, target.table);
    const itemActions = [
      // Items found through a GSI are read again from the table (consistent) before they are touched.
      ...(target.indexName === undefined ? [] : ['dynamodb:BatchGetItem']),
      ...(actions.has('delete') ? ['dynamodb:BatchWriteItem'] : []),
      ...(actions.has('anonymise') || actions.has('restrict') ? ['dynamodb:UpdateItem'] : []),
    ];
    const queryArn = target.indexName === undefined ? tableArn : `${tableArn}/index/${target.indexName}`;
    this.policy.addStatements(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [queryArn] }),
    );
    if (itemActions.length > 0) {
      this.policy.addStatements(new iam.PolicyStatement({ actions: itemActions, resources: [tableArn] }));
    }
  }
}

export interface ConnectorExportPolicyProps {
  readonly config: DeploymentConfig;
  /** The API role: exports (ALU-6) are answered by the API function. */
  readonly role: iam.IRole;
  /** KMS keys (customer-managed) that encrypt target tables; decrypt only. @default - none */
  readonly targetEncryptionKeyArns?: readonly string[];
}

/**
 * Read access for portability exports (ALU-6), scoped like `ConnectorTargetsPolicy`: only targets a
 * data class names, only their declared prefixes, tables and indexes, and only reads (list and get
 * objects; query, get and batch-get items). Nothing here can change or delete data.
 */
export class ConnectorExportPolicy extends Construct {
  public readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: ConnectorExportPolicyProps) {
    super(scope, id);
    this.policy = new iam.Policy(this, 'Policy', { roles: [props.role] });
    const used = actionsByTarget(props.config);
    for (const target of props.config.targets) {
      if (!used.has(target.name)) continue;
      if (target.kind === 's3-prefix') this.grantS3Prefix(target);
      if (target.kind === 'dynamodb-items') this.grantDynamoDbItems(target);
    }
    const keys = props.targetEncryptionKeyArns ?? [];
    if (keys.length > 0) {
      this.policy.addStatements(
        new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [...keys] }),
      );
    }
  }

  private grantS3Prefix(target: S3PrefixTarget): void {
    const bucketArn = targetBucketArn(this, target.bucket);
    const pattern = subjectTemplatePattern(target.prefixTemplate);
    const objects = `${bucketArn}/${pattern}*`;
    this.policy.addStatements(
      // Exports list current objects only (ListObjectsV2), confined to the subjects' prefixes.
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': [pattern] } },
      }),
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [objects] }),
    );
    acknowledgeWildcardResource(
      this.policy,
      objects,
      `Export (ALU-6) from connector target '${target.name}': reads objects under its declared prefix '${target.prefixTemplate}'; the subject id is only known at run time.`,
    );
  }

  private grantDynamoDbItems(target: DynamoDbItemsTarget): void {
    const tableArn = targetTableArn(this, target.table);
    const queryArn = target.indexName === undefined ? tableArn : `${tableArn}/index/${target.indexName}`;
    this.policy.addStatements(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [queryArn] }),
      // Items found through a GSI are read again from the table (consistent) before they are copied.
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [tableArn],
      }),
    );
  }
}
