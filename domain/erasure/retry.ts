/** The retry and attempt budget of a connector task: pure arithmetic, tested with fast-check. */
import { toErrorCode } from '../vocabulary/codes.js';
import type { ErasureTask } from './types.js';

export const BASE_BACKOFF_SECONDS = 30;
export const MAX_BACKOFF_SECONDS = 900;
/** SQS accepts a visibility timeout of at most 12 hours. */
export const MAX_VISIBILITY_SECONDS = 12 * 3600;
/** A Lambda attempt runs at most 15 minutes; a retry delay leaves room for it. */
export const MAX_RUN_SECONDS = 15 * 60;
/**
 * Rounds of `maxReceives` deliveries a task may take in all. The sweep re-sends tasks that stopped
 * mid-attempt (a timeout, a lost callback); this bounds how often before the task is failed.
 */
export const MAX_ROUNDS = 4;

/** Exponential backoff: base, 2 × base, 4 × base, ... capped at MAX_BACKOFF_SECONDS. */
export const backoffSeconds = (attempt: number, baseSeconds = BASE_BACKOFF_SECONDS): number =>
  Math.min(MAX_BACKOFF_SECONDS, baseSeconds * 2 ** Math.max(0, attempt - 1));

/**
 * A task that has used every round of deliveries is failed instead of run again. Attempts count
 * from the task's last re-drive, if any: an operator who fixed the cause gives it a fresh budget.
 */
export const attemptsExhausted = (
  task: Pick<ErasureTask, 'attempts' | 'redrivenAtAttempt'>,
  maxReceives: number,
): boolean => task.attempts - (task.redrivenAtAttempt ?? 0) >= maxReceives * MAX_ROUNDS;

export interface AttemptFailureInput {
  /** The error cannot go away by retrying (configuration, permission, a 4xx). */
  readonly permanent: boolean;
  /** This delivery's number (the queue's receive count). */
  readonly receiveCount: number;
  readonly maxReceives: number;
  /** A delay the failing system asked for (Retry-After), if any. */
  readonly retryAfterHintSeconds?: number;
  readonly baseSeconds?: number;
}

export type AttemptFailureDecision =
  /** Leave the message on the queue, visible again after `retryAfterSeconds`. */
  | { readonly kind: 'retry'; readonly retryAfterSeconds: number }
  /**
   * Mark the task failed. A transient error whose deliveries are spent goes on to the dead-letter
   * queue (an alarm fires); a permanent one would fail on every redelivery and is acknowledged.
   */
  | {
      readonly kind: 'fail';
      readonly reason: 'permanent' | 'retries-exhausted';
      readonly deadLetter: boolean;
    };

export const decideAttemptFailure = (input: AttemptFailureInput): AttemptFailureDecision => {
  if (input.permanent) return { kind: 'fail', reason: 'permanent', deadLetter: false };
  if (input.receiveCount >= input.maxReceives)
    return { kind: 'fail', reason: 'retries-exhausted', deadLetter: true };
  const hinted = Math.min(
    Math.max(0, input.retryAfterHintSeconds ?? 0),
    MAX_VISIBILITY_SECONDS - MAX_RUN_SECONDS,
  );
  return {
    kind: 'retry',
    retryAfterSeconds: Math.max(hinted, backoffSeconds(input.receiveCount, input.baseSeconds)),
  };
};

/** A short machine-readable error code, safe for the audit trail (no free text): `toErrorCode`. */
export const safeErrorCode = (raw: string | undefined): string => toErrorCode(raw ?? 'unknown');
