import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type {
  DynamoDbItemsTarget,
  HttpWebhookTarget,
  S3PrefixTarget,
} from '../../domain/connectors/types.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';

/** Fields of a data class the schema fills in when they are left out. */
type Defaulted = 'cancelledBy' | 'blockers' | 'jurisdictionOverrides';

/** A data class as written: `cancelledBy` [], `blockers` ['legal-hold'], `jurisdictionOverrides` {} by default. */
export type DataClassPolicyInput = Omit<DataClassPolicy, Defaulted> &
  Partial<Pick<DataClassPolicy, Defaulted>>;

export interface PolicyCatalogInput {
  readonly version: string;
  readonly dataClasses: readonly DataClassPolicyInput[];
}

/** An S3 prefix target whose bucket is a bucket of this app (grants come from it) or a name (a token too). */
export type S3PrefixTargetInput = Omit<S3PrefixTarget, 'bucket'> & { readonly bucket: s3.IBucket | string };

/** A DynamoDB target whose table is a table of this app (grants come from it), a name or an ARN (a token too). */
export type DynamoDbItemsTargetInput = Omit<DynamoDbItemsTarget, 'table'> & {
  readonly table: dynamodb.ITable | string;
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
}
