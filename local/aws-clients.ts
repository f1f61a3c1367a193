import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Where the local emulators listen: DynamoDB Local, and fauxqs for both SQS and S3. */
export interface EmulatorEndpoints {
  readonly dynamodbEndpoint: string;
  readonly awsEndpoint: string;
}

export const LOCAL_REGION = 'us-east-1';

// The emulators accept any key; fixed values keep DynamoDB Local's sharedDb and fauxqs' account stable.
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalClientConfig {
  readonly dynamodb: DynamoDBClientConfig;
  readonly sqs: SQSClientConfig;
  readonly s3: S3ClientConfig;
}

/** Per-service SDK client configuration for the emulators (see shared/local-aws.md for each flag's reason). */
export const localClientConfig = (endpoints: EmulatorEndpoints): LocalClientConfig => {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: { ...common, endpoint: endpoints.dynamodbEndpoint },
    // fauxqs answers with queue URLs on `sqs.<region>.localhost`, which does not resolve.
    sqs: { ...common, endpoint: endpoints.awsEndpoint, useQueueUrlAsEndpoint: false },
    // Virtual-hosted style would need `<bucket>.localhost` to resolve.
    s3: { ...common, endpoint: endpoints.awsEndpoint, forcePathStyle: true },
  };
};

export interface LocalClients {
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
}

export const createLocalClients = (endpoints: EmulatorEndpoints): LocalClients => {
  const config = localClientConfig(endpoints);
  const dynamodb = new DynamoDBClient(config.dynamodb);
  return {
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
    sqs: new SQSClient(config.sqs),
    s3: new S3Client(config.s3),
  };
};

/** Closes the clients' keep-alive sockets so a script or test worker can exit promptly. */
export const destroyLocalClients = (clients: LocalClients): void => {
  clients.documents.destroy();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  clients.s3.destroy();
};

/**
 * Environment for code that builds its clients from the environment (the Lambda handlers'
 * defaultDeps). The SDK reads the service-specific endpoint variables itself; the SQS and S3
 * clients still need `useQueueUrlAsEndpoint: false` and `forcePathStyle: true`, which have no
 * environment variable.
 */
export const localEnvironment = (endpoints: EmulatorEndpoints): Record<string, string> => ({
  AWS_REGION: LOCAL_REGION,
  AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
  AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
  AWS_ENDPOINT_URL_SQS: endpoints.awsEndpoint,
  AWS_ENDPOINT_URL_S3: endpoints.awsEndpoint,
});
