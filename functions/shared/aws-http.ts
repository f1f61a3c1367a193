/**
 * How long the functions' AWS SDK clients wait on a silent connection. The SDK's defaults wait
 * for ever (DynamoDB's client 5 minutes), so one hung connection would hold its Lambda until the
 * Lambda's own timeout, and with it every commit queued behind it on the same audit chain. With
 * these, a connection silent for too long fails its call as a `TimeoutError`, which the SDK
 * retries on a new connection (up to its 3 attempts).
 *
 * The limit is on silence, not on the whole call: an answer that keeps coming, however slowly
 * (an exported object of many megabytes), is never cut.
 *
 * A retry after a timeout may repeat a write that did land. Transactions carry the SDK's
 * idempotency token, so DynamoDB answers the repeat as the first. A single conditional write is
 * refused on its own condition: for an attempt's lease that reads as a lease lost to another
 * worker, and the task waits for the sweep's stuck-work review, as after any retried network error.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { S3ClientConfig } from '@aws-sdk/client-s3';

export type HttpOptions = NonNullable<DynamoDBClientConfig['requestHandler']> &
  NonNullable<S3ClientConfig['requestHandler']>;

/** DynamoDB, SQS, KMS and Secrets Manager: small answers, normally within milliseconds. */
export const API_CALL_HTTP = {
  connectionTimeout: 1_000,
  socketTimeout: 5_000,
} as const satisfies HttpOptions;

/** S3: DeleteObjects of 1,000 keys may think for seconds before it answers. */
export const S3_HTTP = {
  connectionTimeout: 1_000,
  socketTimeout: 30_000,
} as const satisfies HttpOptions;
