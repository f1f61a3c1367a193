/** The failures report: partially failed requests and their failed tasks, ready to re-drive. */
import type { ErasureRequest, ErasureTask } from '../erasure/types.js';
import type { RetentionAction } from '../policy/types.js';

export interface FailedTaskRow {
  readonly taskId: string;
  readonly target: string;
  readonly dataClass: string;
  readonly action: RetentionAction;
  readonly attempts: number;
  /** The audited reason code (`retries-exhausted`, `permanent:...`); never the error text. */
  readonly errorCode: string;
  readonly failedAt: string;
}

export interface FailedRequestRow {
  readonly requestId: string;
  readonly origin: ErasureRequest['origin'];
  readonly dataClasses: readonly string[];
  readonly receivedAt: string;
  readonly deadline: string;
  readonly redriveCount: number;
  readonly failedTasks: readonly FailedTaskRow[];
}

/** Requests that are `partially_failed`, by deadline then id, each with its `failed` tasks. */
export const failureRows = (
  found: readonly { readonly request: ErasureRequest; readonly tasks: readonly ErasureTask[] }[],
): FailedRequestRow[] =>
  found
    .filter(({ request }) => request.status === 'partially_failed')
    .sort((a, b) =>
      a.request.deadline === b.request.deadline
        ? a.request.requestId.localeCompare(b.request.requestId)
        : a.request.deadline < b.request.deadline
          ? -1
          : 1,
    )
    .map(({ request, tasks }) => ({
      requestId: request.requestId,
      origin: request.origin,
      dataClasses: request.dataClasses,
      receivedAt: request.receivedAt,
      deadline: request.deadline,
      redriveCount: request.redriveCount ?? 0,
      failedTasks: tasks
        .filter((task) => task.status === 'failed')
        .sort((a, b) => a.taskId.localeCompare(b.taskId))
        .map((task) => ({
          taskId: task.taskId,
          target: task.target,
          dataClass: task.dataClass,
          action: task.action,
          attempts: task.attempts,
          errorCode: task.errorCode ?? 'unknown',
          failedAt: task.failedAt ?? '',
        })),
    }));
