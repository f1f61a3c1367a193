import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { DynamoDbItemsTarget, S3PrefixTarget } from '../../domain/connectors/types.js';
import type { DeploymentConfig, RetentionAction } from '../../domain/policy/types.js';
import { windowRunsOf } from '../../domain/schedule/windows.js';
import { subjectTemplatePattern, targetsInUse, templateRoot } from '../../domain/vocabulary/index.js';
import type { BucketReference, TableReference } from './config-input.js';
import { acknowledgeWildcardResource } from './nag.js';

/** `orders` → this stack's account and region; a table ARN (another account or region) is used as given. */
export const targetTableArn = (scope: Construct, table: string): string =>
  table.startsWith('arn:')
    ? table
    : Stack.of(scope).formatArn({ service: 'dynamodb', resource: 'table', resourceName: table });

export const targetBucketArn = (scope: Construct, bucket: string): string =>
  Stack.of(scope).formatArn({ service: 's3', region: '', account: '', resource: bucket });

/** What every target policy is given (the role is the worker's, the API's or the sweep's). */
export interface TargetPolicyProps {
  readonly config: DeploymentConfig;
  /** The role the policy is attached to. */
  readonly role: iam.IRole;
  /** KMS keys (customer-managed) that encrypt target tables; the keys of tables given as constructs are added. @default - none */
  readonly targetEncryptionKeyArns?: readonly string[];
  /** Buckets given as constructs, by target name: their ARNs (and keys, for reads) are used. @default - ARNs from the names */
  readonly buckets?: ReadonlyMap<string, BucketReference>;
  /** Tables given as constructs, by target name: their ARNs and keys are used. @default - from the names */
  readonly tables?: ReadonlyMap<string, TableReference>;
}

/** The ARNs an S3 prefix target's statements name: its bucket, and its objects of every subject. */
interface S3PrefixResources {
  readonly bucketArn: string;
  /** The prefix template with `*` for the subject id (`video/*\/`), for `s3:prefix` conditions. */
  readonly pattern: string;
  readonly objects: string;
}

/** The ARNs a dynamodb-items target's statements name: its table, and the table or index it queries. */
interface DynamoDbItemsResources {
  readonly tableArn: string;
  readonly queryArn: string;
}

/**
 * One IAM policy on a role, with statements for each target the catalog uses (a target no data
 * class names gets no access) and for the KMS keys of target tables. Webhook targets need no IAM
 * access. Subclasses say which actions each kind of target gets.
 */
abstract class TargetAccessPolicy extends Construct {
  public readonly policy: iam.Policy;

  protected constructor(
    scope: Construct,
    id: string,
    props: TargetPolicyProps,
    keyActions: readonly string[],
    /** Whether the role reads objects (and so needs their bucket's key). */
    readsObjects: boolean,
  ) {
    super(scope, id);
    // Not created when empty (webhook-only catalogs): IAM rejects a policy without statements.
    this.policy = new iam.Policy(this, 'Policy', { roles: [props.role] });
    // Customer-managed keys of the buckets and tables given as constructs, with the listed ones.
    const keys: string[] = [...(props.targetEncryptionKeyArns ?? [])];
    const addKey = (key: kms.IKey | undefined): void => {
      if (key !== undefined && !keys.includes(key.keyArn)) keys.push(key.keyArn);
    };
    for (const { target, actions } of targetsInUse(props.config)) {
      if (target.kind === 's3-prefix') {
        const bucket = props.buckets?.get(target.name);
        const bucketArn = bucket?.bucketArn ?? targetBucketArn(this, target.bucket);
        const pattern = subjectTemplatePattern(target.prefixTemplate);
        this.grantS3Prefix(target, { bucketArn, pattern, objects: `${bucketArn}/${pattern}*` });
        // Deleting needs no key; reading (exports) does.
        if (readsObjects) addKey(bucket?.encryptionKey);
      }
      if (target.kind === 'dynamodb-items') {
        const table = props.tables?.get(target.name);
        const tableArn = table?.tableArn ?? targetTableArn(this, target.table);
        const queryArn = target.indexName === undefined ? tableArn : `${tableArn}/index/${target.indexName}`;
        this.grantDynamoDbItems(target, actions, { tableArn, queryArn });
        addKey(table?.encryptionKey);
      }
    }
    if (keys.length > 0) {
      this.policy.addStatements(new iam.PolicyStatement({ actions: [...keyActions], resources: keys }));
    }
  }

  protected abstract grantS3Prefix(target: S3PrefixTarget, resources: S3PrefixResources): void;

  protected abstract grantDynamoDbItems(
    target: DynamoDbItemsTarget,
    actions: ReadonlySet<RetentionAction>,
    resources: DynamoDbItemsResources,
  ): void;
}

export type ConnectorTargetsPolicyProps = TargetPolicyProps;

/**
 * The worker's access to the systems it erases from, derived from the catalog: only targets a data
 * class names, only the buckets, prefixes, tables and indexes they declare, and only the operations
 * their actions need (`delete` → BatchWriteItem; `anonymise`/`restrict` → UpdateItem). Webhook
 * targets need no IAM access. Kept apart from the role's own policy so that an auditor can read the
 * erasure scope in one place.
 */
export class ConnectorTargetsPolicy extends TargetAccessPolicy {
  constructor(scope: Construct, id: string, props: ConnectorTargetsPolicyProps) {
    super(scope, id, props, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'], false);
  }

  protected grantS3Prefix(target: S3PrefixTarget, { bucketArn, pattern, objects }: S3PrefixResources): void {
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

  protected grantDynamoDbItems(
    target: DynamoDbItemsTarget,
    actions: ReadonlySet<RetentionAction>,
    { tableArn, queryArn }: DynamoDbItemsResources,
  ): void {
    const itemActions = [
      // Items found through a GSI are read again from the table (consistent) before they are touched.
      ...(target.indexName === undefined ? [] : ['dynamodb:BatchGetItem']),
      ...(actions.has('delete') ? ['dynamodb:BatchWriteItem'] : []),
      ...(actions.has('anonymise') || actions.has('restrict') ? ['dynamodb:UpdateItem'] : []),
    ];
    this.policy.addStatements(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [queryArn] }),
    );
    if (itemActions.length > 0) {
      this.policy.addStatements(new iam.PolicyStatement({ actions: itemActions, resources: [tableArn] }));
    }
  }
}

export type ConnectorExportPolicyProps = TargetPolicyProps;

/**
 * Read access for portability exports (ALU-6) and dry runs of erasure requests (connectors'
 * `preview`), scoped like `ConnectorTargetsPolicy`: only targets a data class names, only their
 * declared prefixes, tables and indexes, and only reads (list objects and their versions, get
 * objects; query and batch-get items). Nothing here can change or delete data.
 */
export class ConnectorExportPolicy extends TargetAccessPolicy {
  constructor(scope: Construct, id: string, props: ConnectorExportPolicyProps) {
    super(scope, id, props, ['kms:Decrypt', 'kms:DescribeKey'], true);
  }

  protected grantS3Prefix(target: S3PrefixTarget, { bucketArn, pattern, objects }: S3PrefixResources): void {
    this.policy.addStatements(
      // Exports list current objects (ListObjectsV2); dry runs count versions and delete markers
      // as the erasure would (ListObjectVersions). Both confined to the subjects' prefixes.
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
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

  protected grantDynamoDbItems(
    _target: DynamoDbItemsTarget,
    _actions: ReadonlySet<RetentionAction>,
    { tableArn, queryArn }: DynamoDbItemsResources,
  ): void {
    this.policy.addStatements(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [queryArn] }),
      // Items found through a GSI are read again from the table (consistent) before they are copied.
      new iam.PolicyStatement({ actions: ['dynamodb:BatchGetItem'], resources: [tableArn] }),
    );
  }
}

export type ConnectorWindowsPolicyProps = TargetPolicyProps;

/**
 * The sweep's access for rolling-window runs (functions/services/window-runs.ts), scoped to the
 * targets of rolling classes only: list the template's static root and delete objects under it
 * (s3-prefix); query the time-ordered index, re-read and delete items (dynamodb-items).
 */
export class ConnectorWindowsPolicy extends TargetAccessPolicy {
  constructor(scope: Construct, id: string, props: ConnectorWindowsPolicyProps) {
    const rolling = windowRunsOf(props.config.catalog).map(({ policy }) => policy);
    const config = {
      ...props.config,
      catalog: { ...props.config.catalog, dataClasses: [...new Set(rolling)] },
    };
    super(
      scope,
      id,
      { ...props, config },
      ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      false,
    );
  }

  protected grantS3Prefix(target: S3PrefixTarget, { bucketArn, objects }: S3PrefixResources): void {
    const root = templateRoot(target.prefixTemplate);
    this.policy.addStatements(
      // A window run lists the static root of the template (every subject at once).
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [bucketArn],
        conditions: { StringEquals: { 's3:prefix': [root] } },
      }),
      new iam.PolicyStatement({
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [objects],
      }),
    );
    acknowledgeWildcardResource(
      this.policy,
      objects,
      `Window runs on connector target '${target.name}': objects under its declared prefix '${target.prefixTemplate}' of every subject.`,
    );
  }

  protected grantDynamoDbItems(
    target: DynamoDbItemsTarget,
    _actions: ReadonlySet<RetentionAction>,
    { tableArn }: DynamoDbItemsResources,
  ): void {
    if (target.windowIndex === undefined) return;
    this.policy.addStatements(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${tableArn}/index/${target.windowIndex.indexName}`],
      }),
      new iam.PolicyStatement({
        actions: ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'],
        resources: [tableArn],
      }),
    );
  }
}
