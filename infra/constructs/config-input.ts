import type * as kms from 'aws-cdk-lib/aws-kms';
import type {
  DynamoDbItemsTarget,
  HttpWebhookTarget,
  S3PrefixTarget,
} from '../../domain/connectors/types.js';
import type { DataClassPolicy, DeploymentConfig } from '../../domain/policy/types.js';

/** Fields of a data class the schema fills in when they are left out. */
type Defaulted = 'cancelledBy' | 'blockers' | 'jurisdictionOverrides';

/** A data class as written: `cancelledBy` [], `blockers` ['legal-hold'], `jurisdictionOverrides` {} by default. */
export type DataClassPolicyInput = Omit<DataClassPolicy, Defaulted> &
  Partial<Pick<DataClassPolicy, Defaulted>>;

export interface PolicyCatalogInput {
  readonly version: string;
  readonly dataClasses: readonly DataClassPolicyInput[];
}

/**
 * What the grants need of a bucket: any `s3.IBucket` (a `Bucket` of this app, an imported one).
 * Structural rather than `s3.IBucket` itself, which a `Bucket` does not satisfy under
 * `exactOptionalPropertyTypes`.
 */
export interface BucketReference {
  readonly bucketName: string;
  readonly bucketArn: string;
  /** Granted to the exports' reader when set. */
  readonly encryptionKey?: kms.IKey | undefined;
}

/** What the grants need of a table: any `dynamodb.ITable` (`Table`, `TableV2`, imported ones). */
export interface TableReference {
  readonly tableName: string;
  readonly tableArn: string;
  /** Granted to the worker and the exports' reader when set. */
  readonly encryptionKey?: kms.IKey | undefined;
}

/** An S3 prefix target whose bucket is a bucket of this app (grants come from it) or a name (a token too). */
export type S3PrefixTargetInput = Omit<S3PrefixTarget, 'bucket'> & {
  readonly bucket: BucketReference | string;
};

/** A DynamoDB target whose table is a table of this app (grants come from it), a name or an ARN (a token too). */
export type DynamoDbItemsTargetInput = Omit<DynamoDbItemsTarget, 'table'> & {
  readonly table: TableReference | string;
};

/** A webhook target; `url` may be a token (e.g. another API's URL in this app). */
export type HttpWebhookTargetInput = HttpWebhookTarget;

export type ConnectorTargetInput = S3PrefixTargetInput | DynamoDbItemsTargetInput | HttpWebhookTargetInput;

/**
 * The deployment config as the construct takes it: a `DeploymentConfig` (e.g. from
 * `readConfigFile`), or one written in code that references the app's own buckets and tables.
 */
export interface ErasureOrchestratorConfig {
  readonly catalog: PolicyCatalogInput;
  readonly targets: readonly ConnectorTargetInput[];
  /** The http-webhook target that receives advance notices (IMOU-3). @default - none */
  readonly notices?: { readonly target: string };
  /** Declared identifiers beyond the subject id, with their patterns. @default - none */
  readonly identifiers?: DeploymentConfig['identifiers'];
  /** Suppression after erasure. @default - kept for the longest retention of the catalog */
  readonly suppression?: DeploymentConfig['suppression'];
  /**
   * Where requests look up a subject's identifiers: a lookup table (by name or ARN; the API and
   * the sweep-shard function get GetItem on it) or a signed webhook. @default - none
   */
  readonly identifierResolver?: DeploymentConfig['identifierResolver'];
}
