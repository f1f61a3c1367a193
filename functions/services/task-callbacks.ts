import { z } from 'zod';
import { callbackNonceFor, taskSucceeded } from '../../domain/erasure/index.js';
import { NotFoundError, StaleCallbackError, ValidationError } from '../../domain/errors.js';
import { findTarget, parseWith } from '../../domain/vocabulary/index.js';
import { verifySignature } from '../connectors/webhook-signature.js';
import { UnauthorizedError } from '../shared/http-errors.js';
import { nowIso, type ServiceDeps } from './deps.js';
import { commitTask, finish } from './run-task.js';

const CallbackBody = z.object({
  // Signed with the body, so a captured callback cannot be replayed against another task.
  taskId: z.string().min(1),
  // The nonce of the attempt that asked (the webhook request's `nonce`), signed with the body.
  nonce: z.string().min(1),
  status: z.enum(['done', 'failed']),
  deletedCount: z.number().int().min(0).optional(),
  error: z.string().max(300).optional(),
});

/**
 * The signed answer of a service that accepted an erasure asynchronously (HTTP 202). Its signature
 * (same secret as the request we sent it) is the proof; replays of a settled task change nothing.
 */
export const handleTaskCallback = async (
  deps: ServiceDeps,
  taskId: string,
  rawBody: string,
  signatureHeader: string | undefined,
): Promise<{ taskId: string; status: string }> => {
  const requestId = await deps.requests.requestIdOfTask(taskId);
  const task = requestId === undefined ? undefined : await deps.requests.getTask(requestId, taskId);
  if (task === undefined) throw new NotFoundError(`Task '${taskId}' not found`);
  const target = findTarget(deps.config, task.target);
  if (target?.kind !== 'http-webhook') throw new NotFoundError(`Task '${taskId}' does not take callbacks`);
  const nowSeconds = Math.floor(deps.clock().getTime() / 1000);
  if (
    signatureHeader === undefined ||
    !verifySignature(deps.webhookSecret(target.signingSecretName), rawBody, signatureHeader, nowSeconds)
  ) {
    throw new UnauthorizedError('Missing or invalid X-Erasure-Signature');
  }
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new ValidationError('Body is not JSON', 'body');
  }
  const callback = parseWith(CallbackBody, json);
  if (callback.taskId !== taskId) {
    throw new ValidationError('The signed body names another task than the path', 'taskId');
  }
  // A captured answer of an earlier attempt (replayed after a re-drive or a re-ask) settles nothing.
  if (callback.nonce !== callbackNonceFor(task)) {
    throw new StaleCallbackError(`The callback answers another attempt of task '${taskId}'`);
  }
  if (task.status === 'verified' || task.status === 'failed') return { taskId, status: task.status };
  if (callback.status === 'failed') {
    await finish(deps, task, 'failed', {
      message: `Reported by ${target.name}: ${callback.error ?? 'no reason given'}`,
      code: 'reported-by-service',
    });
    return { taskId, status: 'failed' };
  }
  // A crash after an earlier callback's first write left it `succeeded`: finish that one.
  if (task.status === 'succeeded') {
    await finish(deps, task, 'verified');
    return { taskId, status: 'verified' };
  }
  const succeeded = taskSucceeded(task, callback.deletedCount ?? 0, nowIso(deps));
  if (await commitTask(deps, task, succeeded)) {
    await finish(deps, succeeded.next, 'verified');
    return { taskId, status: 'verified' };
  }
  // Someone else changed the task first (a restarted attempt): answer with what it is now, so the
  // service knows whether to call again.
  const current = await deps.requests.getTask(task.requestId, taskId);
  return { taskId, status: current?.status ?? task.status };
};
