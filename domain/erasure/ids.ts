import { createHash, createHmac } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { requireCanonicalInstant } from '../time.js';

/** 128 bits of the digest: collisions stay out of reach and ids stay short enough for keys and logs. */
const ID_DIGEST_HEX_LENGTH = 32;

export const REQUEST_ID_PREFIX = 'req_';
export const TASK_ID_PREFIX = 'task_';

const requireNonEmpty = (value: string, field: string): void => {
  if (value.length === 0) throw new ValidationError(`${field} must not be empty`, field);
};

/**
 * Digest of the parts, JSON-encoded so that no two part lists share an encoding (`['a|b','c']` vs
 * `['a','b|c']`); the leading scheme keeps the id kinds apart.
 */
const digest = (parts: readonly string[], key?: string | Uint8Array): string => {
  const encoded = JSON.stringify(parts);
  const hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  return hash.update(encoded, 'utf8').digest('hex').slice(0, ID_DIGEST_HEX_LENGTH);
};

export interface ScheduledRequestIdOptions {
  /**
   * Makes the id an HMAC (pass the pseudonym key). Without it anyone holding a candidate subject id
   * and the due time can confirm a match against a request id found in the audit trail. A deployment
   * must always pass the same key, or always none, or a sweep's retry would create a second request.
   */
  readonly key?: string | Uint8Array;
}

/**
 * The id of the erasure request a sweep creates for a due schedule entry. Deterministic, so a sweep
 * that runs twice creates the same request; a hash, so the id does not show the subject id.
 */
export const scheduledRequestId = (
  subjectId: string,
  dataClass: string,
  dueAt: string,
  options: ScheduledRequestIdOptions = {},
): string => {
  requireNonEmpty(subjectId, 'subjectId');
  requireNonEmpty(dataClass, 'dataClass');
  requireCanonicalInstant(dueAt, 'dueAt');
  if (options.key !== undefined && options.key.length === 0) {
    throw new ValidationError('The key must not be empty', 'key');
  }
  return `${REQUEST_ID_PREFIX}${digest(['scheduled', subjectId, dataClass, dueAt], options.key)}`;
};

/** The id of the task that erases `dataClass` from `target` for a request: the same on every retry. */
export const taskIdFor = (requestId: string, dataClass: string, target: string): string => {
  requireNonEmpty(requestId, 'requestId');
  requireNonEmpty(dataClass, 'dataClass');
  requireNonEmpty(target, 'target');
  return `${TASK_ID_PREFIX}${digest(['task', requestId, dataClass, target])}`;
};

/**
 * The id of a request received through the API. The randomness comes in (a UUID v4 from the
 * runtime) so that the domain stays deterministic; it is hashed so every request id has one shape.
 */
export const newRequestId = (randomSource: string | Uint8Array): string => {
  if (randomSource.length === 0) throw new ValidationError('randomSource must not be empty', 'randomSource');
  const parts =
    typeof randomSource === 'string'
      ? ['random', randomSource]
      : ['random-bytes', Buffer.from(randomSource).toString('hex')];
  return `${REQUEST_ID_PREFIX}${digest(parts)}`;
};

/**
 * The nonce of one attempt of a task: sent to a webhook with the task, and carried back in its
 * signed callback, so a callback answers exactly the attempt that asked. Every new attempt (a
 * restart, a re-ask after a callback timeout, a re-drive) has another, so a captured signed answer
 * of an earlier attempt cannot settle a later one.
 */
export const callbackNonceFor = (task: { readonly taskId: string; readonly attempts: number }): string => {
  requireNonEmpty(task.taskId, 'taskId');
  if (!Number.isSafeInteger(task.attempts) || task.attempts < 0) {
    throw new ValidationError('attempts must be a non-negative integer', 'attempts');
  }
  return digest(['callback-nonce', task.taskId, String(task.attempts)]);
};
