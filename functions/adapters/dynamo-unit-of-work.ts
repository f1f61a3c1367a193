import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, Change, CommitResult, UnitOfWork } from '../../domain/ports/index.js';
import { METRIC } from '../shared/metric-names.js';
import type { MetricsSink } from '../shared/observability.js';
import type { DynamoAuditLog } from './dynamo-audit-log.js';
import { isConditionFailure, type TransactItem } from './dynamo-helpers.js';
import { type DynamoHoldStore, HOLD_CHANGE_KINDS, type HoldChange } from './dynamo-hold-store.js';
import { type DynamoRequestStore, REQUEST_CHANGE_KINDS, type RequestChange } from './dynamo-request-store.js';
import {
  type DynamoScheduleStore,
  SCHEDULE_CHANGE_KINDS,
  type ScheduleChange,
} from './dynamo-schedule-store.js';
import {
  type DynamoSuppressionStore,
  SUPPRESSION_CHANGE_KINDS,
  type SuppressionChange,
} from './dynamo-suppression-store.js';

/** DynamoDB's limit on the items of one TransactWriteItems call. */
export const MAX_TRANSACTION_ITEMS = 100;
/**
 * Conflicts between writers (chain head moved, transaction conflict, throttling) settle within this
 * many attempts: enough for a burst of 64 functions writing one chain at once on DynamoDB Local
 * (a one-off measurement: docs/architecture.md, "Writers on one chain").
 */
export const MAX_COMMIT_ATTEMPTS = 12;
/**
 * The longest wait between two attempts. Waits are drawn at random up to 10 ms × 2^attempt (full
 * jitter, so racing writers spread out), and up to this once that is longer: 12 attempts then wait
 * 6.3 s at most in all, inside the API's 29 s even after a dry run's 15 s of counting.
 */
export const COMMIT_BACKOFF_CAP_MS = 1000;

export interface DynamoUnitOfWorkStores {
  readonly requests: DynamoRequestStore;
  /** Absent in a function without the Schedules table (the worker). */
  readonly schedules?: DynamoScheduleStore;
  readonly holds: DynamoHoldStore;
  readonly audit: DynamoAuditLog;
  /** Absent in a function without the Suppressions table (the sweep shard). */
  readonly suppressions?: DynamoSuppressionStore;
}

const isKind = <K extends Change['kind']>(
  kinds: readonly K[],
  change: Change,
): change is Extract<Change, { kind: K }> => (kinds as readonly string[]).includes(change.kind);

/**
 * Runs work one at a time per key: a call waits for every earlier call that shares a key with it,
 * and for nothing else. Keys are taken all at once, in call order, so calls on several keys can
 * never wait on each other in a circle.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return work();
    let done: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const before = unique.flatMap((key) => this.tails.get(key) ?? []);
    for (const key of unique) this.tails.set(key, mine);
    try {
      // Nothing ahead: the work starts now, in this tick, as it would without the queue.
      if (before.length > 0) await Promise.all(before);
      return await work();
    } finally {
      done();
      for (const key of unique) if (this.tails.get(key) === mine) this.tails.delete(key);
    }
  }
}

/**
 * Commits state changes and their audit entries in one TransactWriteItems call: the stores turn
 * each change into conditional items, the audit log chains the records onto their chain heads.
 * A failed condition of a change is the caller's answer (someone else changed that state first);
 * everything else that cancels the transaction is a passing conflict and is retried from fresh
 * chain heads. A record whose idempotency marker exists is already in the trail and is dropped.
 */
export class DynamoUnitOfWork implements UnitOfWork {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly stores: DynamoUnitOfWorkStores,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
    /** Counts cancelled attempts (`METRIC.commitRetried`) and give-ups (`METRIC.commitGaveUp`). */
    private readonly metrics?: Pick<MetricsSink, 'count'>,
  ) {}

  /**
   * Commits of this instance (one Lambda's) on one chain go one at a time: racing each other for
   * the head, all but one would lose, back off and retry, each a wasted transaction. Writers in
   * other functions still race, and settle through the head's condition.
   */
  private readonly chains = new KeyedQueue();

  async commit(changes: readonly Change[], audit: readonly AuditRecord[] = []): Promise<CommitResult> {
    return this.chains.run(
      audit.map((record) => this.stores.audit.chainOf(record)),
      () => this.commitNow(changes, audit),
    );
  }

  private async commitNow(changes: readonly Change[], audit: readonly AuditRecord[]): Promise<CommitResult> {
    const state = changes.flatMap((change, index) => this.itemsOf(change).map((item) => ({ item, index })));
    assertOneOperationPerItem(
      this.stores,
      state.map(({ item }) => item),
    );
    let pending = [...audit];
    for (let attempt = 1; attempt <= MAX_COMMIT_ATTEMPTS; attempt++) {
      const plan = await this.stores.audit.planAppend(pending);
      const items = [...state.map(({ item }) => item), ...plan.items];
      if (items.length === 0) return { committed: true };
      assertOneOperationPerItem(
        this.stores,
        state.map(({ item }) => item),
      );
      if (items.length > MAX_TRANSACTION_ITEMS) {
        throw new RangeError(`A commit of ${items.length} items exceeds DynamoDB's ${MAX_TRANSACTION_ITEMS}`);
      }
      const [only] = items;
      if (items.length === 1 && only !== undefined && only.ConditionCheck === undefined) {
        // One conditional write and nothing to audit (an attempt's lease, a bookkeeping field):
        // a plain write is as atomic and costs half a transaction's write units.
        return await this.writeOne(only, changes);
      }
      try {
        await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
        return { committed: true };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const failed = reasons.findIndex(
          (reason, index) => index < state.length && reason.Code === 'ConditionalCheckFailed',
        );
        if (failed >= 0) {
          const index = (state[failed] as { index: number }).index;
          return { committed: false, conflict: index, change: (changes[index] as Change).kind };
        }
        const appended = new Set<number>();
        reasons.forEach((reason, index) => {
          const record = plan.markers.get(index - state.length);
          if (record !== undefined && reason.Code === 'ConditionalCheckFailed') appended.add(record);
        });
        pending = pending.filter((_, index) => !appended.has(index));
        // Records found already appended (a replay) are no race; anything else cancelling is.
        const raced =
          reasons.length === 0 ||
          reasons.some(
            (reason, index) =>
              reason.Code !== undefined &&
              reason.Code !== 'None' &&
              !(reason.Code === 'ConditionalCheckFailed' && plan.markers.has(index - state.length)),
          );
        if (raced) this.metrics?.count(METRIC.commitRetried, 1);
        // Another writer moved a chain head, or the transaction met a conflict or throttling. A
        // head read ahead may simply have aged: the next plan reads afresh, at once.
        if (attempt < MAX_COMMIT_ATTEMPTS && !plan.readAhead) {
          await this.sleep(Math.random() * Math.min(COMMIT_BACKOFF_CAP_MS, 10 * 2 ** attempt));
        }
      } finally {
        // Heads read ahead on these chains predate this write (or this attempt's race).
        this.stores.audit.forgetPrefetchedHeads(plan.chains);
      }
    }
    this.metrics?.count(METRIC.commitGaveUp, 1);
    throw new Error(`A commit did not settle after ${MAX_COMMIT_ATTEMPTS} attempts`);
  }

  prepare(subjectIds: readonly (string | undefined)[]): void {
    this.stores.audit.prefetchHeads(subjectIds);
  }

  private async writeOne(item: TransactItem, changes: readonly Change[]): Promise<CommitResult> {
    try {
      if (item.Put !== undefined) await this.documents.send(new PutCommand(item.Put));
      else if (item.Update !== undefined) await this.documents.send(new UpdateCommand(item.Update));
      else if (item.Delete !== undefined) await this.documents.send(new DeleteCommand(item.Delete));
      return { committed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const index = changes.findIndex((change) => this.itemsOf(change).length > 0);
      return { committed: false, conflict: index, change: (changes[index] as Change).kind };
    }
  }

  private itemsOf(change: Change): TransactItem[] {
    return stateItemsOf(this.stores, change);
  }
}

/** The conditional items one change writes, built by the store that owns its table. */
export const stateItemsOf = (
  stores: Omit<DynamoUnitOfWorkStores, 'audit'>,
  change: Change,
): TransactItem[] => {
  if (isKind<RequestChange['kind']>(REQUEST_CHANGE_KINDS, change)) return stores.requests.itemsFor(change);
  if (isKind<ScheduleChange['kind']>(SCHEDULE_CHANGE_KINDS, change) && stores.schedules !== undefined) {
    return stores.schedules.itemsFor(change);
  }
  if (isKind<HoldChange['kind']>(HOLD_CHANGE_KINDS, change)) return stores.holds.itemsFor(change);
  if (
    isKind<SuppressionChange['kind']>(SUPPRESSION_CHANGE_KINDS, change) &&
    stores.suppressions !== undefined
  ) {
    return stores.suppressions.itemsFor(change);
  }
  throw new TypeError(`No store writes '${(change as Change).kind}'`);
};

/**
 * DynamoDB refuses a transaction with two operations on one item (ValidationException), while
 * DynamoDB Local cancels it as a failed condition: refused here first, the same way in both.
 */
export const assertOneOperationPerItem = (
  stores: Omit<DynamoUnitOfWorkStores, 'audit'>,
  items: readonly TransactItem[],
): void => {
  const keysByTable = new Map(
    [stores.requests, stores.schedules, stores.holds, stores.suppressions].flatMap((store) =>
      store === undefined ? [] : [[store.tableName, store.keyAttributes] as const],
    ),
  );
  const seen = new Set<string>();
  for (const item of items) {
    const operation = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
    const table = operation?.TableName ?? '';
    const values: Record<string, unknown> =
      item.Put?.Item ?? item.Update?.Key ?? item.Delete?.Key ?? item.ConditionCheck?.Key ?? {};
    const key = `${table} ${JSON.stringify((keysByTable.get(table) ?? []).map((name) => values[name]))}`;
    if (seen.has(key)) {
      throw new Error(`Transaction request cannot include multiple operations on one item (${key})`);
    }
    seen.add(key);
  }
};
