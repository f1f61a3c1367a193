import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { OrchestratorData, type OrchestratorDataProps } from '../constructs/orchestrator-data.js';
import { TABLES, type TableKey } from '../resources.js';

export interface DataStackProps extends StackProps, OrchestratorDataProps {}

/**
 * The stateful stack: tables, keys, secret and the anchors bucket. Deployed first, rarely changed, never deleted with
 * its data (every resource is retained; the app also turns on termination protection).
 */
export class DataStack extends Stack {
  public readonly data: OrchestratorData;

  constructor(scope: Construct, id: string, props: DataStackProps = {}) {
    super(scope, id, props);
    // The construct id is part of every table's logical id: renaming it would replace the tables.
    this.data = new OrchestratorData(this, 'Data', {
      resourcePrefix: props.resourcePrefix,
      anchorRetentionDays: props.anchorRetentionDays,
    });

    for (const key of Object.keys(TABLES) as TableKey[]) {
      new CfnOutput(this, `${TABLES[key].id}TableName`, { value: this.data.tables[key].tableName });
    }
    new CfnOutput(this, 'SecretArn', {
      value: this.data.secret.secretArn,
      description: 'Webhook signing secrets go under webhookSecrets; keep pseudonymKey as it is',
    });
    new CfnOutput(this, 'SigningKeyArn', {
      value: this.data.signingKey.keyArn,
      description: 'Signs audit anchors and certificates; GET /v1/audit/public-keys lists its public key',
    });
    new CfnOutput(this, 'AnchorsBucketName', {
      value: this.data.anchorsBucket.bucketName,
      description: 'Audit anchors, one object per anchor, under Object Lock (compliance mode)',
    });
  }
}
