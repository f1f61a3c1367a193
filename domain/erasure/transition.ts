/**
 * What every request and task transition shares: the result type (new state + audit event), the
 * checks of their arguments, and the audit event of a request change.
 */
import type { AuditEvent } from '../audit/types.js';
import { IllegalTransitionError, ValidationError } from '../errors.js';
import { requireCanonicalInstant } from '../time.js';
import type { ErasureRequest, RequestStatus } from './types.js';

/**
 * The result of every state change: the new state and the audit event that records it. The event's
 * idempotency key depends only on the state before and the arguments, so a retried transition
 * appends nothing new. Events carry ids, codes and counts, never the subject id.
 */
export interface Transition<T> {
  readonly next: T;
  readonly audit: AuditEvent;
}

export type Detail = Record<string, string | number | boolean>;

/** Milliseconds since the epoch of a canonical instant; a ValidationError naming `field` otherwise. */
export const instantMs = (value: string, field: string): number =>
  Date.parse(requireCanonicalInstant(value, field));

/** Returns `value` if it is an integer from `min` to `max`, else throws a ValidationError naming `field`. */
export const requireCount = (
  value: number,
  field: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number => {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}`, field);
  }
  return value;
};

/** A copy of `value` without `keys`. */
export const omit = <T extends object, K extends keyof T>(value: T, keys: readonly K[]): Omit<T, K> =>
  Object.fromEntries(
    Object.entries(value).filter(([key]) => !(keys as readonly PropertyKey[]).includes(key)),
  ) as Omit<T, K>;

/** States in words: `received`, `received or blocked`, `received, blocked or partially_failed`. */
export const orList = (values: readonly string[]): string =>
  values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;

/** Throws an IllegalTransitionError unless the request is in one of the `allowed` statuses. */
export const requireRequestStatus = (
  request: ErasureRequest,
  allowed: readonly RequestStatus[],
  to: string,
): void => {
  if (!allowed.includes(request.status)) {
    throw new IllegalTransitionError('request', request.status, to, {
      allowed: `only a request that is ${orList(allowed)} can`,
    });
  }
};

/** Keys of events that can recur after a re-drive get the round, so each round is audited once. */
export const roundSuffix = (request: ErasureRequest): string =>
  (request.redriveCount ?? 0) > 0 ? `:r${request.redriveCount}` : '';

/**
 * The rule a request is done under: a scheduled deletion's reason names it (`retention:all-3` →
 * `ALL-3`); an erasure request a subject made is answered under ALU-3.
 */
export const requestRuleRef = (request: Pick<ErasureRequest, 'origin' | 'reason'>): string =>
  request.origin === 'schedule' && request.reason.startsWith('retention:')
    ? request.reason.slice('retention:'.length).toUpperCase()
    : 'ALU-3';

/**
 * The audit event of a request change; keys are `request:<requestId>:<key>`. Its rule is the
 * request's unless the change is a decision under a rule of its own (IMOU-6, ALM-3).
 */
export const requestEvent = (
  next: ErasureRequest,
  event: { type: string; key: string; at: string; detail: Detail; ruleRef?: string | undefined },
): AuditEvent => ({
  type: `request.${event.type}`,
  at: event.at,
  idempotencyKey: `request:${next.requestId}:${event.key}`,
  requestId: next.requestId,
  ruleRef: event.ruleRef ?? requestRuleRef(next),
  detail: { status: next.status, ...event.detail },
});
