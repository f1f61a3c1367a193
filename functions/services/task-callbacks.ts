import * as z from 'zod';
import { callbackNonceFor } from '../../domain/erasure/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import {
  IllegalTransitionError,
  NotFoundError,
  StaleCallbackError,
  ValidationError,
} from '../../domain/errors.js';
import {
  carriedPersonalValue,
  findTarget,
  parseWith,
  validateIdentifier,
} from '../../domain/vocabulary/index.js';
import { verifySignature } from '../connectors/webhook-signature.js';
import { UnauthorizedError } from '../shared/http-errors.js';
import { nowIso, type ServiceDeps } from './deps.js';
import { finish } from './run-task.js';

export const CallbackBody = z.strictObject({
  // Signed with the body, so a captured callback cannot be replayed against another task.
  taskId: z.string().min(1),
  // The nonce of the attempt that asked (the webhook request's `nonce`), signed with the body.
  nonce: z.string().min(1),
  status: z.enum(['done', 'failed']),
  deletedCount: z.number().int().min(0).optional(),
  error: z.string().max(300).optional(),
});

/** A reason code the service may report (`contract-records-kept`); anything else is free text. */
const REASON_CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/**
 * What is kept of a service's reported reason: a code as it is; free text not at all, since it may
 * name people (the subject id is redacted elsewhere, other names and e-mails could not be); nor a
 * code that carries the subject id or one of the task's identifier values (a camera serial).
 */
const reasonOf = (error: string | undefined, task: ErasureTask): string => {
  if (error === undefined) return 'no reason given';
  if (!REASON_CODE.test(error)) return '(a free-text reason, not kept: it may name people)';
  // The rule reasons follow (`carriedPersonalValue`): `cust.4711` carries `cust-4711` too.
  return carriedPersonalValue(error, task.subjectId, task.identifiers) === undefined
    ? error
    : '(a reason naming the subject or its identifiers, not kept)';
};

/**
 * The http-webhook targets of the deployment whose signing secret signed `rawBody`: none for an
 * unsigned or badly signed callback. Checked before anything is read, so an unauthenticated
 * caller learns nothing (not even whether a task exists) and cannot reach the stores. A target
 * whose secret is not configured signs nothing.
 */
const signersOf = (deps: ServiceDeps, rawBody: string, signatureHeader: string | undefined): string[] => {
  if (signatureHeader === undefined) return [];
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  return deps.config.targets.flatMap((target) => {
    if (target.kind !== 'http-webhook') return [];
    let secret: string;
    try {
      secret = deps.webhookSecret(target.signingSecretName);
    } catch {
      deps.log.warn('no signing secret for a webhook target', { target: target.name });
      return [];
    }
    return verifySignature(secret, rawBody, signatureHeader, nowSeconds) ? [target.name] : [];
  });
};

/**
 * The signed answer of a service that accepted an erasure asynchronously (HTTP 202). Its signature
 * (same secret as the request we sent it) is the proof, checked first; replays of a settled task
 * change nothing. A task another service was asked to erase is as unknown to the signer as a task
 * that does not exist.
 */
export const handleTaskCallback = async (
  deps: ServiceDeps,
  taskId: string,
  rawBody: string,
  signatureHeader: string | undefined,
): Promise<{ taskId: string; status: string }> => {
  const signers = signersOf(deps, rawBody, signatureHeader);
  if (signers.length === 0) throw new UnauthorizedError('Missing or invalid X-Erasure-Signature');
  validateIdentifier(taskId, 'taskId');
  const requestId = await deps.requests.requestIdOfTask(taskId);
  const task = requestId === undefined ? undefined : await deps.requests.getTask(requestId, taskId);
  const target = task === undefined ? undefined : findTarget(deps.config, task.target);
  if (task === undefined || target?.kind !== 'http-webhook' || !signers.includes(target.name)) {
    throw new NotFoundError(`Task '${taskId}' not found`);
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new ValidationError('Body is not JSON', 'body');
  }
  const callback = parseWith(CallbackBody, json, { root: 'body' });
  if (callback.taskId !== taskId) {
    throw new ValidationError('The signed body names another task than the path', 'taskId');
  }
  // A captured answer of an earlier attempt (replayed after a re-drive or a re-ask) settles nothing.
  if (callback.nonce !== callbackNonceFor(task)) {
    throw new StaleCallbackError(`The callback answers another attempt of task '${taskId}'`);
  }
  if (task.status === 'verified' || task.status === 'failed' || task.status === 'cancelled') {
    return { taskId, status: task.status };
  }
  // A pending task is asked nothing now (not started, or held back by a hold): no answer can be
  // for it. A running one may be answered before the worker has recorded the service's 202.
  if (task.status === 'pending') {
    throw new IllegalTransitionError('task', task.status, 'answered', {
      allowed: 'only a task whose attempt asked the service can be answered',
    });
  }
  if (callback.status === 'failed') {
    await finish(deps, task, 'failed', {
      message: `Reported by ${target.name}: ${reasonOf(callback.error, task)}`,
      code: 'reported-by-service',
    });
    return { taskId, status: 'failed' };
  }
  // The service's signed answer is the verification: done and verified in one commit and entry.
  const reported = await finish(deps, task, 'verified', undefined, {
    affectedCount: callback.deletedCount ?? 0,
    executedAt: nowIso(deps),
    viaCallback: true,
  });
  if (reported) return { taskId, status: 'verified' };
  // Someone else changed the task first (a restarted attempt): answer with what it is now, so the
  // service knows whether to call again.
  const current = await deps.requests.getTask(task.requestId, taskId);
  return { taskId, status: current?.status ?? task.status };
};
