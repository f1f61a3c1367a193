/**
 * Every error the domain raises. The API maps each subclass to one HTTP status
 * (functions/shared/http-errors.ts); anything else becomes an opaque 500.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that breaks a rule. `field` is a dotted path (e.g. `dataClasses[2].retention`). */
export class ValidationError extends DomainError {
  readonly code = 'validation_failed';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'not_found';
}

/** A subject that never had an audit chain, and that no anchor ever covered (a deleted one is not this). */
export class NoChainError extends DomainError {
  readonly code = 'no_chain';
}

/** What was asked for cannot be given in the state things are in (e.g. a certificate of an unverified request). */
export class NotReadyError extends DomainError {
  readonly code = 'not_ready';
}

/**
 * A request that is final without having erased everything it names (rejected, cancelled, or
 * with nothing it could address): it will never have a certificate of erasure, so a client must
 * not wait and ask again as it would on `not_ready`.
 */
export class NoCertificateError extends DomainError {
  readonly code = 'no_certificate';
}

/**
 * The audit trail, or the anchor a proof would rest on, does not verify: no proof is given over
 * it (an auditor's verifier would call it INVALID). Not a wait-and-retry: someone must look.
 */
export class TrailBrokenError extends DomainError {
  readonly code = 'trail_broken';
}

/** A state change that the current state does not allow (e.g. verifying a failed task). */
export class IllegalTransitionError extends DomainError {
  readonly code = 'illegal_transition';
  constructor(
    readonly entity: 'request' | 'task',
    readonly from: string,
    readonly to: string,
    /** `allowed`: which states may, in words ("only a request that is received or blocked can"). */
    options?: { cause?: unknown; allowed?: string },
  ) {
    super(
      `A ${entity} cannot go from '${from}' to '${to}'${options?.allowed === undefined ? '' : `: ${options.allowed}`}.`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
  }
}

/** The same idempotency key was reused with a different body. */
export class IdempotencyConflictError extends DomainError {
  readonly code = 'idempotency_conflict';
}

/** Someone else changed the record first (a failed conditional write). Safe to retry. */
export class ConcurrentModificationError extends DomainError {
  readonly code = 'concurrent_modification';
}

/**
 * A signed callback that answers another attempt of the task than its current one (a captured
 * answer replayed after a re-drive or a re-ask). Refused: only the current attempt's answer counts.
 */
export class StaleCallbackError extends DomainError {
  readonly code = 'stale_callback';
}

export class LegalHoldActiveError extends DomainError {
  readonly code = 'legal_hold_active';
}

/** The data must be kept for now for a reason the catalog states (ALE-2: an unpaid invoice). */
export class RetentionRequiredError extends DomainError {
  readonly code = 'retention_required';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The identifier resolver (`identifierResolver` in the deployment config) could not answer
 * (`retryable`: it was down, slow or refused) or answered what cannot be used (an undeclared name,
 * a value that does not match its pattern). Messages name the resolver and the identifier, never a
 * value. Nothing is stored for a request whose identifiers could not be resolved.
 */
export class ResolverError extends DomainError {
  readonly code: 'resolver_unavailable' | 'resolver_failed';
  constructor(
    message: string,
    readonly resolver: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = retryable ? 'resolver_unavailable' : 'resolver_failed';
  }
}
