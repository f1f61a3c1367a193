// The README's "Use it from your own CDK app" example, as a consumer's bin/app.ts
// (test/package/consumer-check.sh compiles and synthesizes it against the packed package).
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ErasureOrchestrator, type ErasureOrchestratorConfig } from 'erasure-orchestrator';

const app = new App();
const stack = new Stack(app, 'Shop');

// Your own bucket and table, defined in this app.
const uploads = new s3.Bucket(stack, 'Uploads', { enforceSSL: true });
const orders = new dynamodb.TableV2(stack, 'Orders', {
  partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
  globalSecondaryIndexes: [
    { indexName: 'byCustomer', partitionKey: { name: 'customerId', type: dynamodb.AttributeType.STRING } },
  ],
});

const config: ErasureOrchestratorConfig = {
  catalog: {
    version: 'shop-2026-01',
    dataClasses: [
      {
        dataClass: 'closed-account',
        description: 'Everything about a customer, erased 30 days after the account is closed.',
        ruleRefs: ['SHOP-1'],
        triggers: ['account.closed'],
        retention: 'P30D',
        action: 'delete',
        targets: ['orders', 'uploads', 'crm'],
      },
    ],
  },
  targets: [
    {
      name: 'orders',
      kind: 'dynamodb-items',
      table: orders, // a construct or a name
      indexName: 'byCustomer',
      subjectAttribute: 'customerId',
      keyAttributes: ['orderId'],
    },
    { name: 'uploads', kind: 's3-prefix', bucket: uploads, prefixTemplate: 'customers/{subjectId}/' },
    {
      name: 'crm',
      kind: 'http-webhook',
      url: 'https://crm.example.com/gdpr/erase',
      signingSecretName: 'crm',
    },
  ],
};

const erasure = new ErasureOrchestrator(stack, 'Erasure', { config });
new CfnOutput(stack, 'ErasureApiUrl', { value: erasure.runtime.api.url });
