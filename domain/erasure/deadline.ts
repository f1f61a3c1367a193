/**
 * ALU-3: a request is answered within 30 days of receipt; the deadline may be extended once
 * (GDPR Art. 12(3)). When a request is overdue or near its deadline.
 */
import { IllegalTransitionError, ValidationError } from '../errors.js';
import { validateReasonCode } from '../vocabulary/codes.js';
import {
  instantMs,
  requestEvent,
  requireCount,
  requireRequestStatus,
  type Transition,
} from './transition.js';
import type { ErasureRequest, RequestStatus } from './types.js';

export const MS_PER_DAY = 24 * 60 * 60 * 1000;
/** ALU-3: requests are answered within 30 days of receipt. */
export const RESPONSE_PERIOD_DAYS = 30;
/** GDPR Art. 12(3): the period may be extended once by up to two further months (taken as 60 days). */
export const MAX_EXTENSION_DAYS = 60;

/** Days of exactly 24 hours: UTC has no daylight saving, so 30 days is an exact span. */
const addDays = (instant: string, days: number): string =>
  new Date(Date.parse(instant) + days * MS_PER_DAY).toISOString();

/** The deadline of a request received at `receivedAt`: `RESPONSE_PERIOD_DAYS` later. */
export const deadlineAfter = (receivedAt: string): string => addDays(receivedAt, RESPONSE_PERIOD_DAYS);

/** `at` lies after the request's deadline; the deadline instant itself is still on time. */
export const isAfterDeadline = (request: ErasureRequest, at: string, field = 'at'): boolean =>
  instantMs(at, field) > instantMs(request.deadline, 'deadline');

/** Thrown on a second deadline extension: GDPR Art. 12(3) allows one. */
export class DeadlineAlreadyExtendedError extends IllegalTransitionError {
  constructor(from: RequestStatus, options?: { cause?: unknown }) {
    super('request', from, 'deadline-extended', options);
    this.message = 'The deadline of this request was already extended; it can be extended only once.';
  }
}

/** The requester has been answered: erased everything, or told why not (IMOU-6). */
const ANSWERED_REQUEST_STATUSES: readonly RequestStatus[] = ['rejected', 'completed', 'cancelled'];
const isAnswered = (request: ErasureRequest): boolean => ANSWERED_REQUEST_STATUSES.includes(request.status);

/**
 * The deadline has passed and the requester is still owed an answer. A `blocked` or
 * `partially_failed` request counts: its data is not erased and nobody has said why (ALU-3).
 * The deadline instant itself is still on time.
 */
export const isOverdue = (request: ErasureRequest, now: string): boolean =>
  !isAnswered(request) && isAfterDeadline(request, now, 'now');

/** The requester is still owed an answer and the deadline falls within `[now, now + windowMs]`. */
export const deadlineWithin = (request: ErasureRequest, now: string, windowMs: number): boolean => {
  if (!Number.isFinite(windowMs) || windowMs < 0) {
    throw new ValidationError('windowMs must be a non-negative number', 'windowMs');
  }
  const remaining = instantMs(request.deadline, 'deadline') - instantMs(now, 'now');
  return !isAnswered(request) && remaining >= 0 && remaining <= windowMs;
};

/**
 * ALU-3 / GDPR Art. 12(3): moves the deadline once, by `extensionDays` (at most 60), for a reason
 * code. The extension must be decided before the deadline passes (the requester must be told within
 * the first period). A second extension throws `DeadlineAlreadyExtendedError`.
 */
export const extendDeadline = (
  request: ErasureRequest,
  reason: string,
  at: string,
  extensionDays: number = MAX_EXTENSION_DAYS,
): Transition<ErasureRequest> => {
  requireRequestStatus(
    request,
    ['received', 'blocked', 'dispatched', 'partially_failed'],
    'deadline-extended',
  );
  if (request.deadlineExtension !== undefined) throw new DeadlineAlreadyExtendedError(request.status);
  validateReasonCode(reason, 'reason', request.subjectId, request.identifiers);
  requireCount(extensionDays, 'extensionDays', 1, MAX_EXTENSION_DAYS);
  if (isAfterDeadline(request, at)) {
    throw new ValidationError('The deadline can only be extended before it passes', 'at');
  }
  const deadline = addDays(request.deadline, extensionDays);
  const next: ErasureRequest = { ...request, deadline, deadlineExtension: { reason, extendedAt: at } };
  return {
    next,
    audit: requestEvent(next, {
      type: 'deadline_extended',
      key: 'deadline-extended',
      at,
      ruleRef: 'ALU-3',
      detail: { reason, extensionDays, previousDeadline: request.deadline, deadline },
    }),
  };
};
