import { createHash } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ErasureRequest, ErasureTask, RequestStatus, TaskStatus } from '../../domain/erasure/types.js';
import { isConditionFailure, queryAll, type TransactItem } from './dynamo-helpers.js';

const requestPk = (requestId: string) => `request#${requestId}`;
const REQUEST_SK = '#request';
const taskSk = (taskId: string) => `task#${taskId}`;
const idempotencyPk = (key: string) => `idem#${createHash('sha256').update(key).digest('hex')}`;
const OPEN_BUCKET = 'open';
const FINAL: readonly RequestStatus[] = ['completed', 'partially_failed', 'rejected'];
/** Attempts at counting a task outcome when the transaction conflicts with another task's. */
const OUTCOME_ATTEMPTS = 6;
/** Idempotency records are housekeeping: they expire (TTL) after the window clients may retry in. */
const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

export interface IdempotencyRecord {
  readonly requestId: string;
  readonly bodyHash: string;
}

export interface RequestWithTasks {
  readonly request: ErasureRequest;
  readonly tasks: readonly ErasureTask[];
}

export type CreateOutcome =
  | { readonly created: true }
  /** A condition of the caller's extra items failed (e.g. the schedule entry changed): nothing written. */
  | { readonly created: false; readonly existing: 'none' }
  | { readonly created: false; readonly existing: 'request' }
  | { readonly created: false; readonly existing: 'idempotency-key'; readonly record: IdempotencyRecord };

const stripKeys = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, openBucket: _open, ...rest } = item;
  return rest as T;
};

export class DynamoRequestStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Writes a request, its tasks, their id lookups and (for API requests) the idempotency key in one
   * transaction: a request is never visible without its tasks, and a retried create finds what
   * the first one wrote instead of writing twice.
   */
  async create(
    request: ErasureRequest,
    tasks: readonly ErasureTask[],
    idempotency?: { readonly key: string; readonly bodyHash: string; readonly now: Date },
    /** Written in the same transaction (the sweep's claim on the schedule entry). */
    alongside: readonly TransactItem[] = [],
  ): Promise<CreateOutcome> {
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: this.requestItem(request),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...tasks.flatMap((task): TransactItem[] => [
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: requestPk(task.requestId), sk: taskSk(task.taskId), ...task },
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: { pk: `task#${task.taskId}`, sk: '#task', requestId: task.requestId },
          },
        },
      ]),
    ];
    if (idempotency !== undefined) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            pk: idempotencyPk(idempotency.key),
            sk: '#idem',
            requestId: request.requestId,
            bodyHash: idempotency.bodyHash,
            expiresAt: Math.floor(idempotency.now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    try {
      await this.documents.send(new TransactWriteCommand({ TransactItems: [...items, ...alongside] }));
      return { created: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      if (idempotency !== undefined) {
        const record = await this.idempotencyRecord(idempotency.key);
        if (record !== undefined) return { created: false, existing: 'idempotency-key', record };
      }
      if ((await this.get(request.requestId)) !== undefined) return { created: false, existing: 'request' };
      const reasons = error.CancellationReasons ?? [];
      const alongsideFailed = reasons
        .slice(items.length)
        .some((reason) => reason.Code === 'ConditionalCheckFailed');
      if (alongsideFailed) return { created: false, existing: 'none' };
      throw error;
    }
  }

  async idempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: idempotencyPk(key), sk: '#idem' },
        ConsistentRead: true,
      }),
    );
    return Item === undefined
      ? undefined
      : { requestId: String(Item.requestId), bodyHash: String(Item.bodyHash) };
  }

  async get(requestId: string): Promise<RequestWithTasks | undefined> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': requestPk(requestId) },
      ConsistentRead: true,
    });
    const requestItem = items.find((item) => item.sk === REQUEST_SK);
    if (requestItem === undefined) return undefined;
    return {
      request: stripKeys<ErasureRequest>(requestItem),
      tasks: items
        .filter((item) => String(item.sk).startsWith('task#'))
        .map((item) => stripKeys<ErasureTask>(item)),
    };
  }

  async requestIdOfTask(taskId: string): Promise<string | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `task#${taskId}`, sk: '#task' } }),
    );
    return Item === undefined ? undefined : String(Item.requestId);
  }

  async getTask(requestId: string, taskId: string): Promise<ErasureTask | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: requestPk(requestId), sk: taskSk(taskId) },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : stripKeys<ErasureTask>(Item);
  }

  /**
   * Moves a request from one of `from` to `next.status`, writing only the fields a transition owns
   * (never the task counters, which tasks move concurrently). False when the status was not in `from`.
   */
  async transitionRequest(
    next: ErasureRequest,
    from: readonly RequestStatus[],
    /** The copy `next` was made from: only the fields this transition changed are written, so a
     * concurrent change to another field (a deadline extension) is not overwritten by a stale copy. */
    previous?: ErasureRequest,
  ): Promise<boolean> {
    const fields: Partial<Record<keyof ErasureRequest, unknown>> = {
      status: next.status,
      deadline: next.deadline,
      deadlineExtension: next.deadlineExtension,
      rejection: next.rejection,
      blockedBy: next.blockedBy,
      dispatchedAt: next.dispatchedAt,
      completedAt: next.completedAt,
    };
    const changed = (field: string, value: unknown) =>
      field === 'status' ||
      previous === undefined ||
      JSON.stringify(previous[field as keyof ErasureRequest]) !== JSON.stringify(value);
    const set = Object.entries(fields).filter(
      ([field, value]) => value !== undefined && changed(field, value),
    );
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {};
    const assignments = set.map(([field, value], index) => {
      names[`#f${index}`] = field;
      values[`:v${index}`] = value;
      return `#f${index} = :v${index}`;
    });
    from.forEach((status, index) => {
      values[`:from${index}`] = status;
    });
    const removeOpen = FINAL.includes(next.status) ? ' REMOVE openBucket' : '';
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: requestPk(next.requestId), sk: REQUEST_SK },
          UpdateExpression: `SET ${assignments.join(', ')}${removeOpen}`,
          ConditionExpression: `#status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Writes a task state, only if it is still in the state (and attempt) it was read in. */
  async transitionTask(
    next: ErasureTask,
    expected: { status: TaskStatus; attempts: number },
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: requestPk(next.requestId), sk: taskSk(next.taskId), ...next },
          ConditionExpression: '#status = :status AND attempts = :attempts',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': expected.status, ':attempts': expected.attempts },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Moves a task to its final state and counts it on the request in one transaction, so each task
   * is counted exactly once however often its message is delivered. False when already counted.
   */
  async recordTaskOutcome(
    next: ErasureTask,
    expected: { status: TaskStatus; attempts: number },
  ): Promise<boolean> {
    const counter = next.status === 'verified' ? 'verifiedCount' : 'failedCount';
    for (let attempt = 1; ; attempt++) {
      try {
        await this.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { pk: requestPk(next.requestId), sk: taskSk(next.taskId), ...next },
                  ConditionExpression: '#status = :status AND attempts = :attempts',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':status': expected.status, ':attempts': expected.attempts },
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: { pk: requestPk(next.requestId), sk: REQUEST_SK },
                  UpdateExpression: 'ADD #counter :one',
                  ExpressionAttributeNames: { '#counter': counter },
                  ExpressionAttributeValues: { ':one': 1 },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        // Only the task's own condition failing means "already counted". Every task of a request
        // adds to the same request item, so tasks finishing together conflict: that is retried.
        if (error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
        const transient = error.CancellationReasons?.some((reason) =>
          ['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded'].includes(
            reason.Code ?? '',
          ),
        );
        if (!transient || attempt >= OUTCOME_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 25 * 2 ** attempt));
      }
    }
  }

  /**
   * Replaces the subject id on a completed request and its tasks with its pseudonym (idempotent).
   * Only completed requests: the condition keeps an id a re-drive would still need.
   */
  async forgetSubject(requestId: string, tasks: readonly ErasureTask[], pseudonym: string): Promise<void> {
    const replacement = `pseudonym:${pseudonym}`;
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: requestPk(requestId), sk: REQUEST_SK },
        UpdateExpression: 'SET subjectId = :replacement',
        ConditionExpression: '#status = :completed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':replacement': replacement, ':completed': 'completed' },
      }),
    );
    for (const task of tasks) {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: requestPk(requestId), sk: taskSk(task.taskId) },
          UpdateExpression: 'SET subjectId = :replacement',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':replacement': replacement },
        }),
      );
    }
  }

  /**
   * Re-opens a partially failed request and its failed tasks in one transaction (an operator fixed
   * the cause): the failures come off the count and the request waits for the tasks' new outcomes.
   * False when the request or a task changed since it was read.
   */
  async redrive(
    previous: ErasureRequest,
    next: ErasureRequest,
    tasks: readonly { readonly previous: ErasureTask; readonly next: ErasureTask }[],
  ): Promise<boolean> {
    try {
      await this.documents.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: { pk: requestPk(next.requestId), sk: REQUEST_SK },
                UpdateExpression:
                  'SET #status = :status, redriveCount = :redriveCount, openBucket = :open REMOVE completedAt ADD failedCount :minus',
                ConditionExpression: '#status = :previous AND failedCount = :failedCount',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':status': next.status,
                  ':previous': previous.status,
                  ':failedCount': previous.failedCount,
                  ':redriveCount': next.redriveCount ?? 1,
                  ':open': OPEN_BUCKET,
                  ':minus': next.failedCount - previous.failedCount,
                },
              },
            },
            ...tasks.map(
              (task): TransactItem => ({
                Put: {
                  TableName: this.tableName,
                  Item: { pk: requestPk(task.next.requestId), sk: taskSk(task.next.taskId), ...task.next },
                  ConditionExpression: '#status = :status AND attempts = :attempts',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: {
                    ':status': task.previous.status,
                    ':attempts': task.previous.attempts,
                  },
                },
              }),
            ),
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException) return false;
      throw error;
    }
  }

  /** Requests not yet final whose deadline is before `deadlineBefore`, oldest deadline first. */
  async listOpen(deadlineBefore: string): Promise<ErasureRequest[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      IndexName: 'openByDeadline',
      KeyConditionExpression: 'openBucket = :open AND deadline < :before',
      ExpressionAttributeValues: { ':open': OPEN_BUCKET, ':before': deadlineBefore },
    });
    const requests: ErasureRequest[] = items.map((item) => stripKeys<ErasureRequest>(item));
    return requests;
  }

  private requestItem(request: ErasureRequest): Record<string, unknown> {
    return {
      pk: requestPk(request.requestId),
      sk: REQUEST_SK,
      ...request,
      ...(FINAL.includes(request.status) ? {} : { openBucket: OPEN_BUCKET }),
    };
  }
}
