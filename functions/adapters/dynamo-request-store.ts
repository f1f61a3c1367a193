import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FORGOTTEN_PREFIX, pseudonymise } from '../../domain/audit/index.js';
import { reviewAtOf } from '../../domain/erasure/recovery.js';
import type { ErasureRequest, ErasureTask, RequestStatus } from '../../domain/erasure/types.js';
import {
  type Change,
  type HoldIdempotencyRecord,
  type IdempotencyRecord,
  type OutcomeCount,
  REQUEST_TRANSITION_FIELDS,
  type RequestStore,
  type RequestWithTasks,
  type ReviewItem,
  type SubjectForgetting,
  type TaskExpectation,
} from '../../domain/ports/index.js';
import { ACTION_COUNTER } from '../../domain/reports/erasures.js';
import { shardOf } from '../../domain/schedule/buckets.js';
import { isConditionFailure, queryAll, type TransactItem } from './dynamo-helpers.js';

const requestPk = (requestId: string) => `request#${requestId}`;
const REQUEST_SK = '#request';
const taskSk = (taskId: string) => `task#${taskId}`;
/**
 * Open requests spread over this many `openBucket` values (`open#00`..), so neither index of open
 * requests has one hot partition; every sweep reads each shard.
 */
export const OPEN_SHARDS = 8;
const openShards = Array.from(
  { length: OPEN_SHARDS },
  (_, shard) => `open#${String(shard).padStart(2, '0')}`,
);
const openBucketOf = (requestId: string): string => `open#${shardOf(requestId, OPEN_SHARDS)}`;
/**
 * The one `openBucket` of open requests written before the sharded indexes, which carry no
 * `reviewAt`: the sweep would neither review nor count them. `reviewDue` moves them into the shards.
 */
export const LEGACY_OPEN_BUCKET = 'open';
/** Old-format open requests moved per sweep: a large backlog spreads over a few sweeps. */
export const LEGACY_MOVES_PER_SWEEP = 200;
/** The open-request attributes of a request in `next`'s state: its shard and its review time. */
const openAttributes = (request: ErasureRequest): Record<string, string> => {
  const reviewAt = reviewAtOf(request);
  return reviewAt === undefined ? {} : { openBucket: openBucketOf(request.requestId), reviewAt };
};
/** Partially failed requests spread over as many `failedBucket` values (`failed#00`..). */
export const FAILED_SHARDS = OPEN_SHARDS;
export const failedBucketOf = (requestId: string): string => `failed#${shardOf(requestId, FAILED_SHARDS)}`;
const failedShards = Array.from(
  { length: FAILED_SHARDS },
  (_, shard) => `failed#${String(shard).padStart(2, '0')}`,
);
/** Partition of the erasure counters of one shard (`ErasureTally.shard`); sort key `<month>#<class>#<rule>`. */
export const tallyPk = (shard: string): string => `tally#${shard}`;
export const tallySk = (month: string, dataClass: string, ruleRef: string): string =>
  `${month}#${dataClass}#${ruleRef}`;
const FINAL: readonly RequestStatus[] = ['completed', 'partially_failed', 'rejected', 'cancelled'];
/** Idempotency records are housekeeping: they expire (TTL) after the window clients may retry in. */
const IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600;

/** The changes this store writes; the unit of work hands it these. */
export type RequestChange = Extract<
  Change,
  {
    kind:
      | 'request.create'
      | 'request.transition'
      | 'task.transition'
      | 'task.outcome'
      | 'task.outcomes'
      | 'request.redrive'
      | 'request.forget-subject'
      | 'erasure.tally'
      | 'hold.idempotency';
  }
>;

export const REQUEST_CHANGE_KINDS: readonly RequestChange['kind'][] = [
  'request.create',
  'request.transition',
  'task.transition',
  'task.outcome',
  'task.outcomes',
  'request.redrive',
  'request.forget-subject',
  'erasure.tally',
  'hold.idempotency',
];

/** A task that no longer knows whose it was: the pseudonym instead of the id, no identifier values. */
const forgottenTask = (task: ErasureTask, replacement: string): ErasureTask => {
  const { identifiers: _identifiers, ...rest } = task;
  return { ...rest, subjectId: replacement };
};

const stripKeys = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, openBucket: _open, reviewAt: _reviewAt, failedBucket: _failed, ...rest } = item;
  return rest as T;
};

/**
 * Requests table: a request and its tasks under one partition (`request#<id>`), a lookup item per
 * task (callbacks address tasks by id), and Idempotency-Key records.
 */
export class DynamoRequestStore implements RequestStore {
  /** The table's key, which identifies an item this store writes (see `assertOneOperationPerItem`). */
  readonly keyAttributes: readonly string[] = ['pk', 'sk'];
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    /** Keys the Idempotency-Key records: a client's key (often derived from the subject) is never stored. */
    private readonly pseudonymKey: string,
  ) {}

  /** Set once the old-format partition read empty: no request is written in that format any more. */
  private legacyMoved = false;

  /** The record of a client's key in its namespace (a request's, a legal hold's): keyed, never the key itself. */
  private idempotencyPk(
    key: string,
    scope: 'idempotency-key' | 'hold-idempotency-key' = 'idempotency-key',
  ): string {
    return `idem#${pseudonymise(this.pseudonymKey, `${scope}:${key}`)}`;
  }

  private async idempotencyItem(pk: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk: '#idem' }, ConsistentRead: true }),
    );
    return Item;
  }

  async idempotencyRecord(key: string): Promise<IdempotencyRecord | undefined> {
    const item = await this.idempotencyItem(this.idempotencyPk(key));
    return item === undefined
      ? undefined
      : { requestId: String(item.requestId), bodyHash: String(item.bodyHash) };
  }

  async holdIdempotencyRecord(key: string): Promise<HoldIdempotencyRecord | undefined> {
    const item = await this.idempotencyItem(this.idempotencyPk(key, 'hold-idempotency-key'));
    return item === undefined ? undefined : { holdId: String(item.holdId), bodyHash: String(item.bodyHash) };
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
   * Each shard of `byReviewAt` up to `now`: the index holds open requests only, sorted by review
   * time. Open requests still in the old format are first given their shard and review time.
   */
  async reviewDue(now: string): Promise<ReviewItem[]> {
    await this.moveLegacyOpen();
    const shards = await Promise.all(
      openShards.map((bucket) =>
        queryAll(this.documents, {
          TableName: this.tableName,
          IndexName: 'byReviewAt',
          KeyConditionExpression: 'openBucket = :bucket AND reviewAt <= :now',
          ExpressionAttributeValues: { ':bucket': bucket, ':now': now },
        }),
      ),
    );
    return shards.flat().map((item) => ({
      request: stripKeys<ErasureRequest>(item),
      reviewAt: String(item.reviewAt),
    }));
  }

  /**
   * After an upgrade: gives open requests of the old format (`openBucket = open`, no `reviewAt`)
   * the attributes every state change now writes, so a request that was stuck before the upgrade
   * is reviewed and counted, not left behind. Conditional on the old bucket, so a state change
   * that rewrote the request meanwhile wins; at most LEGACY_MOVES_PER_SWEEP per call. Once the
   * partition reads empty a container never reads it again: one Query per container.
   */
  private async moveLegacyOpen(): Promise<void> {
    if (this.legacyMoved) return;
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'openByDeadline',
        KeyConditionExpression: 'openBucket = :legacy',
        ExpressionAttributeValues: { ':legacy': LEGACY_OPEN_BUCKET },
        Limit: LEGACY_MOVES_PER_SWEEP,
      }),
    );
    const items = page.Items ?? [];
    if (items.length === 0) {
      this.legacyMoved = true;
      return;
    }
    for (const item of items) {
      const request = stripKeys<ErasureRequest>(item);
      const reviewAt = FINAL.includes(request.status) ? undefined : reviewAtOf(request);
      try {
        await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: item.pk, sk: item.sk },
            // A request with nothing left to review leaves the open indexes, as a final state does.
            UpdateExpression:
              reviewAt === undefined ? 'REMOVE openBucket' : 'SET openBucket = :bucket, reviewAt = :reviewAt',
            ConditionExpression: 'openBucket = :legacy',
            ExpressionAttributeValues: {
              ':legacy': LEGACY_OPEN_BUCKET,
              ...(reviewAt === undefined
                ? {}
                : { ':bucket': openBucketOf(request.requestId), ':reviewAt': reviewAt }),
            },
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
  }

  async deferReview(requestId: string, seen: string, next: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: requestPk(requestId), sk: REQUEST_SK },
          UpdateExpression: 'SET reviewAt = :next',
          // A state change since the review set its own time; a final request left the index.
          ConditionExpression: 'reviewAt = :seen AND attribute_exists(openBucket)',
          ExpressionAttributeValues: { ':seen': seen, ':next': next },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Select COUNT per shard of `openByDeadline`: DynamoDB counts, nothing is returned. */
  async deadlineCounts(now: string, nearMs: number): Promise<{ overdue: number; nearDeadline: number }> {
    const near = new Date(Date.parse(now) + nearMs).toISOString();
    // Open requests, and partially failed ones (not fulfilled either): both indexes by deadline.
    const buckets = [
      ...openShards.map((bucket) => ({ index: 'openByDeadline', key: 'openBucket', bucket })),
      ...failedShards.map((bucket) => ({ index: 'byFailure', key: 'failedBucket', bucket })),
    ];
    const count = async (
      { index, key, bucket }: (typeof buckets)[number],
      condition: string,
      values: Record<string, string>,
    ) => {
      let total = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.documents.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: `${key} = :bucket AND ${condition}`,
            ExpressionAttributeValues: { ':bucket': bucket, ...values },
            Select: 'COUNT',
            ExclusiveStartKey: startKey,
          }),
        );
        total += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      return total;
    };
    const sum = async (condition: string, values: Record<string, string>) =>
      (await Promise.all(buckets.map((bucket) => count(bucket, condition, values)))).reduce(
        (total, value) => total + value,
        0,
      );
    // The deadline instant itself is still on time (isOverdue), and is near (deadlineWithin).
    const [overdue, nearDeadline] = await Promise.all([
      sum('deadline < :now', { ':now': now }),
      sum('deadline BETWEEN :now AND :near', { ':now': now, ':near': near }),
    ]);
    return { overdue, nearDeadline };
  }

  /** The conditional transaction items that write `change`. */
  itemsFor(change: RequestChange): TransactItem[] {
    switch (change.kind) {
      case 'request.create':
        return this.createItems(change);
      case 'hold.idempotency':
        return [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                pk: this.idempotencyPk(change.key, 'hold-idempotency-key'),
                sk: '#idem',
                holdId: change.holdId,
                bodyHash: change.bodyHash,
                expiresAt: Math.floor(Date.parse(change.at) / 1000) + IDEMPOTENCY_TTL_SECONDS,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ];
      case 'request.transition':
        return [
          this.transitionItem(change.next, change.from, change.previous, change.forget),
          ...(change.forget === undefined ? [] : this.forgetTaskItems(change.next.requestId, change.forget)),
        ];
      case 'task.transition':
        return [this.taskPut(change.next, change.expected)];
      case 'task.outcome':
        // Counted on the request in the same transaction, so each task is counted exactly once
        // however often its message is delivered.
        return [
          this.taskPut(change.next, change.expected),
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: requestPk(change.next.requestId), sk: REQUEST_SK },
              UpdateExpression: 'ADD #counter :one',
              ExpressionAttributeNames: {
                '#counter': change.next.status === 'verified' ? 'verifiedCount' : 'failedCount',
              },
              ExpressionAttributeValues: { ':one': 1 },
            },
          },
        ];
      case 'task.outcomes':
        return this.countedOutcomeItems(change.outcomes, change.request);
      case 'request.redrive':
        return this.redriveItems(change);
      case 'request.forget-subject':
        return this.forgetItems(change);
      case 'erasure.tally':
        return [this.tallyItem(change)];
    }
  }

  private createItems(change: Extract<RequestChange, { kind: 'request.create' }>): TransactItem[] {
    const { request, tasks, idempotency } = change;
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk: requestPk(request.requestId),
            sk: REQUEST_SK,
            ...request,
            ...(FINAL.includes(request.status) ? {} : openAttributes(request)),
            ...(request.status === 'partially_failed'
              ? { failedBucket: failedBucketOf(request.requestId) }
              : {}),
          },
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
            pk: this.idempotencyPk(idempotency.key),
            sk: '#idem',
            requestId: request.requestId,
            bodyHash: idempotency.bodyHash,
            expiresAt: Math.floor(Date.parse(idempotency.at) / 1000) + IDEMPOTENCY_TTL_SECONDS,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    return items;
  }

  /**
   * Writes only the fields a transition owns and changed (never the task counters, which tasks
   * move concurrently), so a concurrent change to another field (a deadline extension) is not
   * overwritten by a stale copy.
   */
  private transitionItem(
    next: ErasureRequest,
    from: readonly RequestStatus[],
    previous: ErasureRequest,
    forget?: SubjectForgetting,
  ): TransactItem {
    const fields: Partial<Record<keyof ErasureRequest, unknown>> = Object.fromEntries(
      REQUEST_TRANSITION_FIELDS.map((field) => [field, next[field]]),
    );
    const changed = (field: string, value: unknown) =>
      field === 'status' || JSON.stringify(previous[field as keyof ErasureRequest]) !== JSON.stringify(value);
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
    // Each state change sets when the request may next be stuck; a final one leaves both indexes.
    const reviewAt = FINAL.includes(next.status) ? undefined : reviewAtOf(next);
    if (reviewAt !== undefined) {
      names['#reviewAt'] = 'reviewAt';
      values[':reviewAt'] = reviewAt;
      assignments.push('#reviewAt = :reviewAt');
    }
    // A request that ends partially failed enters the failures index; one that leaves that state leaves it.
    const removed = reviewAt === undefined ? ['openBucket', 'reviewAt'] : [];
    if (forget !== undefined) {
      // Forgotten with the subject id: the raw identifier values (their keyed hashes stay).
      values[':replacement'] = `${FORGOTTEN_PREFIX}${forget.pseudonym}`;
      assignments.push('subjectId = :replacement');
      removed.push('identifiers');
    }
    if (next.status === 'partially_failed') {
      values[':failedBucket'] = failedBucketOf(next.requestId);
      assignments.push('failedBucket = :failedBucket');
    } else if (from.includes('partially_failed')) {
      removed.push('failedBucket');
    }
    const removeOpen = removed.length === 0 ? '' : ` REMOVE ${removed.join(', ')}`;
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: requestPk(next.requestId), sk: REQUEST_SK },
        UpdateExpression: `SET ${assignments.join(', ')}${removeOpen}`,
        ConditionExpression: `#status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /** A task's state, only if it is still in the state (and attempt) it was read in. */
  private taskPut(next: ErasureTask, expected: TaskExpectation): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { pk: requestPk(next.requestId), sk: taskSk(next.taskId), ...next },
        ConditionExpression: '#status = :status AND attempts = :attempts',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': expected.status, ':attempts': expected.attempts },
      },
    };
  }

  /**
   * The tasks' outcomes, counted on the request only if the request still has the counts they were
   * read with (a concurrent outcome makes this commit fail, and the caller counts again from fresh
   * counts), so whichever outcomes are the last ones know it and settle the request here.
   */
  private countedOutcomeItems(
    outcomes: readonly { readonly next: ErasureTask; readonly expected: TaskExpectation }[],
    count: OutcomeCount,
  ): TransactItem[] {
    const { previous, next, forget } = count;
    const replacement = forget === undefined ? undefined : `${FORGOTTEN_PREFIX}${forget.pseudonym}`;
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {
      ':dispatched': 'dispatched',
      ':verified': previous.verifiedCount,
      ':failed': previous.failedCount,
    };
    const verified = outcomes.filter((outcome) => outcome.next.status === 'verified').length;
    const added: string[] = [];
    for (const [counter, by] of [
      ['verifiedCount', verified],
      ['failedCount', outcomes.length - verified],
    ] as const) {
      if (by === 0) continue;
      names[`#${counter}`] = counter;
      values[`:${counter}`] = by;
      added.push(`#${counter} :${counter}`);
    }
    const set: string[] = [];
    const settles = next.status !== 'dispatched';
    if (settles) {
      set.push('#status = :status');
      values[':status'] = next.status;
      if (next.completedAt !== undefined) {
        set.push('completedAt = :completedAt');
        values[':completedAt'] = next.completedAt;
      }
    }
    if (next.status === 'partially_failed') {
      set.push('failedBucket = :failedBucket');
      values[':failedBucket'] = failedBucketOf(next.requestId);
    }
    if (replacement !== undefined) {
      set.push('subjectId = :replacement');
      values[':replacement'] = replacement;
    }
    // Forgotten with the subject id: the raw identifier values (their keyed hashes stay).
    const forgetIdentifiers = replacement === undefined ? '' : ' REMOVE identifiers';
    const reported = new Set(outcomes.map((outcome) => outcome.next.taskId));
    return [
      ...outcomes.map((outcome) =>
        this.taskPut(
          replacement === undefined ? outcome.next : forgottenTask(outcome.next, replacement),
          outcome.expected,
        ),
      ),
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: requestPk(next.requestId), sk: REQUEST_SK },
          UpdateExpression: `${set.length > 0 ? `SET ${set.join(', ')} ` : ''}ADD ${added.join(', ')}${
            settles
              ? ` REMOVE openBucket, reviewAt${forgetIdentifiers === '' ? '' : ', identifiers'}`
              : forgetIdentifiers
          }`,
          ConditionExpression:
            '#status = :dispatched AND verifiedCount = :verified AND failedCount = :failed',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      ...(replacement === undefined
        ? []
        : (forget?.taskIds ?? [])
            .filter((taskId) => !reported.has(taskId))
            .map(
              (taskId): TransactItem => ({
                Update: {
                  TableName: this.tableName,
                  Key: { pk: requestPk(next.requestId), sk: taskSk(taskId) },
                  UpdateExpression: 'SET subjectId = :replacement REMOVE identifiers',
                  ConditionExpression: 'attribute_exists(pk)',
                  ExpressionAttributeValues: { ':replacement': replacement },
                },
              }),
            )),
    ];
  }

  /** The failures come off the count and the request waits for the tasks' new outcomes. */
  private redriveItems(change: Extract<RequestChange, { kind: 'request.redrive' }>): TransactItem[] {
    const { previous, next, tasks } = change;
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: requestPk(next.requestId), sk: REQUEST_SK },
          UpdateExpression:
            'SET #status = :status, redriveCount = :redriveCount, openBucket = :open, reviewAt = :reviewAt REMOVE completedAt, failedBucket ADD failedCount :minus',
          ConditionExpression: '#status = :previous AND failedCount = :failedCount',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': next.status,
            ':previous': previous.status,
            ':failedCount': previous.failedCount,
            ':redriveCount': next.redriveCount ?? 1,
            ':open': openBucketOf(next.requestId),
            ':reviewAt': reviewAtOf(next) ?? next.receivedAt,
            ':minus': next.failedCount - previous.failedCount,
          },
        },
      },
      ...tasks.map((task) => this.taskPut(task.next, task.previous)),
    ];
  }

  /**
   * Adds a verified erasure to its counter item (one of `TALLY_SHARDS` per month, class and rule).
   * Unconditional: the outcome it is committed with carries the condition that makes it count once.
   */
  private tallyItem(change: Extract<RequestChange, { kind: 'erasure.tally' }>): TransactItem {
    const { tally } = change;
    return {
      Update: {
        TableName: this.tableName,
        Key: { pk: tallyPk(tally.shard), sk: tallySk(tally.month, tally.dataClass, tally.ruleRef) },
        UpdateExpression:
          'SET #month = :month, dataClass = :dataClass, ruleRef = :ruleRef ADD #counter :erasures, #items :items',
        ExpressionAttributeNames: {
          '#month': 'month',
          '#counter': ACTION_COUNTER[tally.action],
          '#items': 'items',
        },
        ExpressionAttributeValues: {
          ':month': tally.month,
          ':dataClass': tally.dataClass,
          ':ruleRef': tally.ruleRef,
          ':erasures': tally.erasures,
          ':items': tally.items,
        },
      },
    };
  }

  /** Only completed or rejected requests: the condition keeps an id a re-drive would still need. */
  private forgetItems(change: Extract<RequestChange, { kind: 'request.forget-subject' }>): TransactItem[] {
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: requestPk(change.requestId), sk: REQUEST_SK },
          UpdateExpression: 'SET subjectId = :replacement REMOVE identifiers',
          ConditionExpression: '#status IN (:completed, :rejected)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':replacement': `${FORGOTTEN_PREFIX}${change.pseudonym}`,
            ':completed': 'completed',
            ':rejected': 'rejected',
          },
        },
      },
      ...this.forgetTaskItems(change.requestId, change),
    ];
  }

  /** The tasks' side of `SubjectForgetting`: the pseudonym for the id, and the cancellations. */
  private forgetTaskItems(requestId: string, forget: SubjectForgetting): TransactItem[] {
    const replacement = `${FORGOTTEN_PREFIX}${forget.pseudonym}`;
    return forget.taskIds.map((taskId): TransactItem => {
      const key = { pk: requestPk(requestId), sk: taskSk(taskId) };
      if (forget.cancelTaskIds?.includes(taskId) !== true) {
        return {
          Update: {
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET subjectId = :replacement REMOVE identifiers',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':replacement': replacement },
          },
        };
      }
      return {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET subjectId = :replacement, #status = :cancelled REMOVE identifiers',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':replacement': replacement,
            ':cancelled': 'cancelled',
            ':pending': 'pending',
          },
        },
      };
    });
  }
}
