import { parseInstant } from '../../domain/time.js';

/**
 * The two ways a connector fails. The worker retries a `ConnectorRetryableError` through SQS
 * visibility backoff and fails the task at once on a `ConnectorPermanentError`.
 *
 * Messages name the target, counts, codes and statuses, never the subject id or any of the
 * subject's data, so they can be logged and stored on the task as they are. `cause` holds the
 * underlying SDK or network error for debugging: log `name`, `message`, `code` and `statusCode`,
 * not `cause` (an AWS error may quote an object key, and keys carry subject ids).
 */
export interface ConnectorErrorOptions {
  readonly cause?: unknown;
  /** Connector target name (from the deployment config). */
  readonly target?: string;
  /** AWS error name or a short machine-readable reason. */
  readonly code?: string;
  /** HTTP status of the failed call, when there was one. */
  readonly statusCode?: number;
}

abstract class ConnectorError extends Error {
  abstract readonly retryable: boolean;
  readonly target: string | undefined;
  readonly code: string | undefined;
  readonly statusCode: number | undefined;

  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.target = options.target;
    this.code = options.code;
    this.statusCode = options.statusCode;
  }
}

/** Throttling, timeouts, 5xx, network errors, work left over after bounded retries. */
export class ConnectorRetryableError extends ConnectorError {
  readonly retryable = true;
  /** The other side's `Retry-After`, when it sent one: a hint for the visibility backoff. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    message: string,
    options: ConnectorErrorOptions & { readonly retryAfterSeconds?: number } = {},
  ) {
    super(message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Bad target configuration, an unsupported action, a refusal (4xx) that a retry cannot fix. */
export class ConnectorPermanentError extends ConnectorError {
  readonly retryable = false;
}

export const isConnectorError = (
  error: unknown,
): error is ConnectorRetryableError | ConnectorPermanentError =>
  error instanceof ConnectorRetryableError || error instanceof ConnectorPermanentError;

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'RequestThrottled',
  'RequestThrottledException',
  'TransactionConflictException',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestTimeTooSkewed',
  'TimeoutError',
  'AbortError',
]);

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface AwsErrorShape {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly $fault?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

const shape = (error: unknown): AwsErrorShape =>
  typeof error === 'object' && error !== null ? (error as AwsErrorShape) : {};

/** The AWS error name (`ThrottlingException`), or undefined for a non-AWS error. */
export const awsErrorName = (error: unknown): string | undefined => {
  const name = shape(error).name;
  return typeof name === 'string' ? name : undefined;
};

export const awsStatusCode = (error: unknown): number | undefined => {
  const status = shape(error).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
};

/**
 * Turns whatever an AWS SDK call threw into one of the two connector errors, with a message built
 * only from `operation`, the target name and the error's name and status (never its text).
 * Unknown failures are retryable: the queue's `maxReceiveCount` bounds them, and failing a task
 * for good on a glitch we cannot classify would leave data undeleted.
 */
export const classifyAwsError = (
  error: unknown,
  operation: string,
  target: string,
): ConnectorRetryableError | ConnectorPermanentError => {
  if (isConnectorError(error)) return error;
  const { code: rawCode, $fault, $retryable } = shape(error);
  const name = awsErrorName(error) ?? 'Error';
  const statusCode = awsStatusCode(error);
  const code = typeof rawCode === 'string' && NETWORK_CODES.has(rawCode) ? rawCode : name;
  const message = `${operation} failed for target '${target}': ${code}${statusCode === undefined ? '' : ` (HTTP ${statusCode})`}`;
  const options = { cause: error, target, code, ...(statusCode === undefined ? {} : { statusCode }) };

  const transient =
    THROTTLING.has(name) ||
    NETWORK_CODES.has(code) ||
    $retryable !== undefined ||
    $fault === 'server' ||
    statusCode === 408 ||
    statusCode === 429 ||
    (statusCode !== undefined && statusCode >= 500);
  if (transient) return new ConnectorRetryableError(message, options);
  // A 4xx the service answered deliberately (no such table/bucket, access denied, validation):
  // the target configuration or permissions are wrong, and retrying will not change that.
  if ($fault === 'client' || (statusCode !== undefined && statusCode >= 400)) {
    return new ConnectorPermanentError(message, options);
  }
  return new ConnectorRetryableError(message, options);
};

/**
 * `olderThan` of an invocation as a Date: an ISO 8601 instant with an offset (the domain's instant
 * rule). Anything else is a permanent error: guessing would erase either too much or too little.
 */
export const parseOlderThan = (olderThan: string | undefined, target: string): Date | undefined => {
  if (olderThan === undefined) return undefined;
  let instant: string;
  try {
    instant = parseInstant(olderThan, 'olderThan');
  } catch {
    throw new ConnectorPermanentError(`Target '${target}': olderThan is not an ISO 8601 instant`, {
      target,
      code: 'InvalidOlderThan',
    });
  }
  return new Date(instant);
};
