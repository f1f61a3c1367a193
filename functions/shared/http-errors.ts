import {
  ConcurrentModificationError,
  type DomainError,
  IdempotencyConflictError,
  IllegalTransitionError,
  LegalHoldActiveError,
  NoCertificateError,
  NoChainError,
  NotFoundError,
  NotReadyError,
  ResolverError,
  RetentionRequiredError,
  StaleCallbackError,
  TrailBrokenError,
  ValidationError,
} from '../../domain/errors.js';
import { isConnectorError } from '../connectors/errors.js';

/** Authentication failed (no or bad credentials). */
export class UnauthorizedError extends Error {
  readonly code = 'unauthorized';
}

/** Authenticated, but the role may not call this route. */
export class ForbiddenError extends Error {
  readonly code = 'forbidden';
}

/** The request body is larger than the API accepts. */
export class PayloadTooLargeError extends Error {
  readonly code = 'payload_too_large';
}

/** A body that is not declared JSON (`Content-Type`): the API reads JSON bodies only. */
export class UnsupportedMediaTypeError extends Error {
  readonly code = 'unsupported_media_type';
  readonly field = 'content-type';
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export interface MappedError {
  readonly statusCode: number;
  readonly body: ErrorBody;
}

/** The one table from error to HTTP status. Anything not listed is an opaque 500. */
const STATUS: ReadonlyArray<readonly [new (...args: never[]) => Error, number]> = [
  [ValidationError, 400],
  [UnauthorizedError, 401],
  [ForbiddenError, 403],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [NotFoundError, 404],
  [NoChainError, 404],
  [NotReadyError, 409],
  [NoCertificateError, 409],
  [TrailBrokenError, 409],
  [IllegalTransitionError, 409],
  [IdempotencyConflictError, 409],
  [LegalHoldActiveError, 409],
  [RetentionRequiredError, 409],
  [ConcurrentModificationError, 409],
  [StaleCallbackError, 409],
];

export const mapError = (error: unknown, requestId: string): MappedError => {
  // Only exports call connectors from the API. Their messages name the target and a status, never
  // the subject (functions/connectors/errors.ts), so the caller can tell what to retry.
  if (isConnectorError(error)) {
    return {
      statusCode: error.retryable ? 503 : 502,
      body: {
        error: {
          code: error.retryable ? 'source_unavailable' : 'source_failed',
          message: error.message,
        },
      },
    };
  }
  // The identifier resolver, asked at intake: its name, never the subject, so the caller can tell
  // what to retry (503) or to report (502: it answered identifiers that cannot be used).
  if (error instanceof ResolverError) {
    return {
      statusCode: error.retryable ? 503 : 502,
      body: { error: { code: error.code, message: error.message } },
    };
  }
  for (const [type, statusCode] of STATUS) {
    if (error instanceof type) {
      const known = error as DomainError & { field?: string };
      return {
        statusCode,
        body: {
          error: {
            code: known.code,
            message: known.message,
            ...((known instanceof ValidationError ||
              known instanceof RetentionRequiredError ||
              known instanceof UnsupportedMediaTypeError) &&
            known.field !== undefined
              ? { field: known.field }
              : {}),
          },
        },
      };
    }
  }
  return {
    statusCode: 500,
    body: { error: { code: 'internal_error', message: `Internal error (request id ${requestId})` } },
  };
};
