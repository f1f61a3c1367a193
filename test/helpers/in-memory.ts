/**
 * In-memory implementations of the ports (domain/ports), for service and handler tests: the same
 * conditions as the DynamoDB adapters (a commit whose condition no longer holds writes nothing),
 * the real hash chain, and a queue that records what was sent. Tests assert on the state, the
 * audit trail and the messages, never on SDK calls.
 */

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Anchor } from '../../domain/audit/anchor.js';
import { assertNoSubjectData, chainEntry, pseudonymise, SYSTEM_CHAIN_ID } from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import { reviewAtOf } from '../../domain/erasure/recovery.js';
import type { ErasureRequest, ErasureTask, RequestStatus } from '../../domain/erasure/types.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import { isHoldActive, type LegalHold, releasedHoldSubject } from '../../domain/holds.js';
import type {
  AnchorStore,
  AuditLog,
  AuditPage,
  AuditPageQuery,
  AuditQuery,
  AuditRecord,
  ChainHead,
  Change,
  CommitResult,
  DueItem,
  HoldIdempotencyRecord,
  HoldStore,
  IdempotencyRecord,
  IdentifierResolver,
  OutcomeCount,
  RecordedEvent,
  ReportStore,
  RequestStore,
  RequestWithTasks,
  ScheduleStore,
  StoredSchedule,
  SubjectForgetting,
  SuppressionStore,
  TaskExpectation,
  TaskMessage,
  TaskQueue,
  UnitOfWork,
} from '../../domain/ports/index.js';
import { REQUEST_TRANSITION_FIELDS } from '../../domain/ports/index.js';
import { ACTION_COUNTER, type ErasureCountRow } from '../../domain/reports/erasures.js';
import { dueBucket, dueKey } from '../../domain/schedule/buckets.js';
import type { ScheduleEntry, SubjectSchedule } from '../../domain/schedule/types.js';
import type { SweepRun } from '../../domain/schedule/watermark.js';
import type { Suppression } from '../../domain/suppression.js';
import { DynamoHoldStore } from '../../functions/adapters/dynamo-hold-store.js';
import { DynamoRequestStore } from '../../functions/adapters/dynamo-request-store.js';
import { DynamoScheduleStore } from '../../functions/adapters/dynamo-schedule-store.js';
import { DynamoSuppressionStore } from '../../functions/adapters/dynamo-suppression-store.js';
import { assertOneOperationPerItem, stateItemsOf } from '../../functions/adapters/dynamo-unit-of-work.js';
import { TABLES } from '../../infra/resources.js';

const FINAL: readonly RequestStatus[] = ['completed', 'partially_failed', 'rejected', 'cancelled'];
const clone = <T>(value: T): T => structuredClone(value);

interface Notice {
  readonly subjectId: string;
  readonly dataClass: string;
  readonly noticeAt: string;
  readonly dueAt: string;
  readonly ruleRef: string;
  /** Where it stands in the due index; absent once sent or cancelled. */
  readonly indexAt?: string;
  readonly sentAt?: string;
}

interface StoredEntry {
  readonly entry: ScheduleEntry;
  readonly indexAt?: string;
}

/** The pseudonym in place of the subject id, and no identifier values (as the adapter's REMOVE). */
const forgotten = <T extends { readonly subjectId: string; readonly identifiers?: unknown }>(
  item: T,
  replacement: string,
): T => {
  const { identifiers: _identifiers, ...rest } = item;
  return { ...rest, subjectId: replacement } as T;
};

/** Everything the orchestrator stores, as plain data: compare two snapshots to prove "nothing written". */
export interface InMemoryState {
  requests: Map<string, ErasureRequest>;
  tasks: Map<string, ErasureTask>;
  idempotency: Map<string, IdempotencyRecord>;
  holdIdempotency: Map<string, HoldIdempotencyRecord>;
  subjects: Map<
    string,
    { version: number; unpaidInvoiceSince?: string; lastInvoiceEvent?: SubjectSchedule['lastInvoiceEvent'] }
  >;
  entries: Map<string, StoredEntry>;
  notices: Map<string, Notice>;
  events: Map<string, RecordedEvent>;
  watermark?: string;
  /** The sweep's latest fan-out. */
  sweepRun?: SweepRun;
  /** Next review time of each open request (the `byReviewAt` index); absent once final. */
  reviews: Map<string, string>;
  /** Last slot of each window run, by `dataClass#target`. */
  windowRuns: Map<string, string>;
  holds: Map<string, LegalHold>;
  /** The erasure counters, by `shard#month#dataClass#ruleRef` (the adapter's `tally#` items). */
  tallies: Map<string, ErasureCountRow>;
  chains: Map<string, AuditEntry[]>;
  markers: Set<string>;
  /**
   * The seq at which each chain's unanchored mark was last cleared: a chain whose head is
   * elsewhere carries the mark (every move sets it, like the head item's `unanchored`).
   */
  anchoredSeqs: Map<string, number>;
  /** The suppression list, by keyed hash. */
  suppressions: Map<string, Suppression>;
}

const emptyState = (): InMemoryState => ({
  requests: new Map(),
  tasks: new Map(),
  idempotency: new Map(),
  holdIdempotency: new Map(),
  subjects: new Map(),
  entries: new Map(),
  notices: new Map(),
  events: new Map(),
  reviews: new Map(),
  windowRuns: new Map(),
  holds: new Map(),
  tallies: new Map(),
  chains: new Map(),
  markers: new Set(),
  anchoredSeqs: new Map(),
  suppressions: new Map(),
});

const subjectKey = (subjectId: string, dataClass: string) => `${subjectId}\u0000${dataClass}`;
const taskKey = (requestId: string, taskId: string) => `${requestId}\u0000${taskId}`;

export interface InMemoryPortsOptions {
  readonly pseudonymKey: string;
  readonly dueBucketShards?: number;
}

/** Every port over one shared state, like the adapters over one set of tables. */
export class InMemoryPorts {
  state: InMemoryState = emptyState();
  /** Every message sent, in order. */
  readonly sent: TaskMessage[] = [];
  /** Visibility delays asked for, by receipt handle. */
  readonly delays: { receiptHandle: string; seconds: number }[] = [];
  /** Every commit, committed or not, in order. */
  readonly commits: { changes: readonly Change[]; audit: readonly AuditRecord[]; result: CommitResult }[] =
    [];
  /** Head items the byUnanchored index would return, summed over every anchoring. */
  unanchoredHeadsRead = 0;
  /** Called before each commit is applied; throw from it to simulate a crash or an outage. */
  beforeCommit: ((changes: readonly Change[], audit: readonly AuditRecord[]) => void) | undefined;
  /** Called after a commit is stored; throw from it to simulate a crash right after a write. */
  afterCommit: ((changes: readonly Change[], audit: readonly AuditRecord[]) => void) | undefined;

  readonly requests: RequestStore;
  readonly schedules: ScheduleStore;
  readonly holds: HoldStore;
  readonly reports: ReportStore;
  readonly audit: AuditLog;
  readonly uow: UnitOfWork;
  readonly queue: TaskQueue;
  readonly suppressions: SuppressionStore;

  constructor(private readonly options: InMemoryPortsOptions) {
    this.requests = {
      get: async (requestId) => this.requestWithTasks(requestId),
      getTask: async (requestId, taskId) => clone(this.state.tasks.get(taskKey(requestId, taskId))),
      requestIdOfTask: async (taskId) =>
        [...this.state.tasks.values()].find((task) => task.taskId === taskId)?.requestId,
      idempotencyRecord: async (key) => clone(this.state.idempotency.get(key)),
      holdIdempotencyRecord: async (key) => clone(this.state.holdIdempotency.get(key)),
      reviewDue: async (now) =>
        [...this.state.reviews.entries()]
          .filter(([, reviewAt]) => reviewAt <= now)
          .flatMap(([requestId, reviewAt]) => {
            const request = this.state.requests.get(requestId);
            return request === undefined ? [] : [{ request: clone(request), reviewAt }];
          }),
      deferReview: async (requestId, seen, next) => {
        if (this.state.reviews.get(requestId) === seen) this.state.reviews.set(requestId, next);
      },
      deadlineCounts: async (now, nearMs) => {
        const near = new Date(Date.parse(now) + nearMs).toISOString();
        const open = [...this.state.requests.values()].filter(
          (request) => !FINAL.includes(request.status) || request.status === 'partially_failed',
        );
        return {
          overdue: open.filter((request) => request.deadline < now).length,
          nearDeadline: open.filter((request) => request.deadline >= now && request.deadline <= near).length,
        };
      },
    };
    this.suppressions = {
      find: async (hashes) =>
        hashes.flatMap((hash) => {
          const found = this.state.suppressions.get(hash);
          return found === undefined ? [] : [clone(found)];
        }),
    };
    this.schedules = {
      load: async (subjectId) => this.load(subjectId),
      recordedEvent: async (subjectId, eventId) =>
        clone(this.state.events.get(subjectKey(subjectId, eventId))),
      queryDue: async (bucket, now) => this.queryDue(bucket, now),
      // Through the port, so a test that replaces queryDue sees the coordinator's checks too.
      hasDue: async (bucket, now) => (await this.schedules.queryDue(bucket, now)).length > 0,
      sweepRun: async () => clone(this.state.sweepRun),
      startSweepRun: async (run) => {
        this.state.sweepRun = clone(run);
      },
      acknowledgeShard: async (runId, bucket) => {
        const run = this.state.sweepRun;
        if (run === undefined || run.runId !== runId) return;
        this.state.sweepRun = { ...run, pending: run.pending.filter((candidate) => candidate !== bucket) };
      },
      sweepWatermark: async () => this.state.watermark,
      lastWindowRun: async (dataClass, target) => this.state.windowRuns.get(`${dataClass}#${target}`),
      subjectWindows: async (dataClass) =>
        [...this.state.entries.values()].flatMap(({ entry }) =>
          entry.dataClass === dataClass && entry.status === 'windowed' && entry.subjectWindow !== undefined
            ? [{ subjectId: entry.subjectId, window: entry.subjectWindow }]
            : [],
        ),
      advanceWatermark: async (month) => {
        if (this.state.watermark === undefined || this.state.watermark < month) this.state.watermark = month;
      },
    };
    this.holds = {
      find: async (holdId) => clone([...this.state.holds.values()].find((hold) => hold.holdId === holdId)),
      active: async (now) => clone([...this.state.holds.values()].filter((hold) => isHoldActive(hold, now))),
      ended: async (now) =>
        clone(
          [...this.state.holds.values()].filter(
            (hold) => hold.releasedAt === undefined && hold.until !== undefined && hold.until <= now,
          ),
        ),
      forSubject: async (subjectId) =>
        [...this.state.holds.values()].filter((hold) => hold.subjectId === subjectId).map(clone),
    };
    // What the adapter's indexes hold: requests not final (`openByDeadline`), partially failed ones
    // (`byFailure`), the counter items, and the due index's instants.
    this.reports = {
      openRequests: async () =>
        [...this.state.requests.values()]
          .filter((request) => !FINAL.includes(request.status) || request.status === 'partially_failed')
          .sort((a, b) => (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : 0))
          .map(clone),
      failedRequests: async () =>
        [...this.state.requests.values()].flatMap((request) => {
          const found =
            request.status === 'partially_failed' ? this.requestWithTasks(request.requestId) : undefined;
          return found === undefined ? [] : [found];
        }),
      erasureCounts: async (from, to) =>
        [...this.state.tallies.values()].filter((row) => row.month >= from && row.month <= to).map(clone),
      dueBetween: async (from, to) => {
        const within = (indexAt: string | undefined) =>
          indexAt !== undefined && indexAt >= from && indexAt <= to;
        const due: DueItem[] = [];
        for (const stored of this.state.entries.values()) {
          if (within(stored.indexAt)) due.push({ kind: 'entry', entry: clone(stored.entry) });
        }
        for (const notice of this.state.notices.values()) {
          if (within(notice.indexAt)) {
            const { indexAt: _indexAt, sentAt: _sentAt, ...rest } = notice;
            due.push({ kind: 'notice', ...clone(rest) });
          }
        }
        return due;
      },
    };
    this.audit = {
      chainIdFor: (subjectId) => this.chainIdFor(subjectId),
      readChain: async (subjectId) => this.audit.readChainById(this.chainIdFor(subjectId)),
      readChainById: async (chainId) => {
        const entries = clone(this.state.chains.get(chainId) ?? []);
        const last = entries.at(-1);
        return {
          entries,
          chainId,
          ...(last === undefined ? {} : { head: { seq: last.seq, hash: last.hash } }),
        };
      },
      query: async (query) => this.query(query),
      page: async (query) => this.page(query),
      unanchoredHeads: async () => {
        const heads = [...this.state.chains.entries()].flatMap(([chainId, entries]) => {
          const last = entries.at(-1);
          return last === undefined || this.state.anchoredSeqs.get(chainId) === last.seq
            ? []
            : [{ chainId, seq: last.seq, hash: last.hash }];
        });
        this.unanchoredHeadsRead += heads.length;
        return heads;
      },
      markAnchored: async (heads) => {
        for (const head of heads) {
          // Cleared only while the head is still the one anchored: a moved chain keeps its mark.
          if (this.state.chains.get(head.chainId)?.at(-1)?.seq === head.seq) {
            this.state.anchoredSeqs.set(head.chainId, head.seq);
          }
        }
      },
    };
    this.uow = { commit: async (changes, audit = []) => this.commit(changes, audit) };
    this.queue = {
      send: async (messages) => {
        this.sent.push(...messages.map(clone));
      },
      delayRetry: async (receiptHandle, seconds) => {
        this.delays.push({ receiptHandle, seconds });
      },
    };
  }

  chainIdFor(subjectId: string | undefined): string {
    return subjectId === undefined ? SYSTEM_CHAIN_ID : pseudonymise(this.options.pseudonymKey, subjectId);
  }

  /** A deep copy of everything stored. */
  snapshot(): InMemoryState {
    return clone(this.state);
  }

  /** Every audit entry of every chain. */
  allEntries(): AuditEntry[] {
    return [...this.state.chains.values()].flat();
  }

  private requestWithTasks(requestId: string): RequestWithTasks | undefined {
    const request = this.state.requests.get(requestId);
    if (request === undefined) return undefined;
    const tasks = [...this.state.tasks.values()].filter((task) => task.requestId === requestId);
    return clone({ request, tasks });
  }

  private load(subjectId: string): StoredSchedule {
    const meta = this.state.subjects.get(subjectId);
    const entries = [...this.state.entries.values()]
      .map((stored) => stored.entry)
      .filter((entry) => entry.subjectId === subjectId);
    return clone({
      version: meta?.version ?? 0,
      schedule: {
        subjectId,
        entries,
        ...(meta?.unpaidInvoiceSince === undefined ? {} : { unpaidInvoiceSince: meta.unpaidInvoiceSince }),
        ...(meta?.lastInvoiceEvent === undefined ? {} : { lastInvoiceEvent: meta.lastInvoiceEvent }),
      },
    });
  }

  private queryDue(bucket: string, now: string): DueItem[] {
    const shards = this.options.dueBucketShards ?? 16;
    const inBucket = (indexAt: string | undefined, subjectId: string, dataClass: string) =>
      indexAt !== undefined &&
      dueBucket(indexAt, subjectId, shards) === bucket &&
      dueKey(indexAt, subjectId, dataClass) <= `${now}#\uffff`;
    const due: DueItem[] = [];
    for (const stored of this.state.entries.values()) {
      if (inBucket(stored.indexAt, stored.entry.subjectId, stored.entry.dataClass)) {
        due.push({ kind: 'entry', entry: clone(stored.entry) });
      }
    }
    for (const notice of this.state.notices.values()) {
      if (inBucket(notice.indexAt, notice.subjectId, notice.dataClass)) {
        const { indexAt: _indexAt, sentAt: _sentAt, ...rest } = notice;
        due.push({ kind: 'notice', ...clone(rest) });
      }
    }
    return due;
  }

  private query(query: AuditQuery): AuditEntry[] {
    const within = (entry: AuditEntry) =>
      (query.from === undefined || entry.at >= query.from) &&
      (query.to === undefined || entry.at <= query.to);
    const source =
      query.requestId !== undefined
        ? this.allEntries().filter((entry) => entry.requestId === query.requestId)
        : query.subjectId !== undefined
          ? (this.state.chains.get(this.chainIdFor(query.subjectId)) ?? [])
          : this.allEntries();
    return clone(source.filter(within).slice(0, query.limit ?? 1000));
  }

  /** A search page; the position is an offset into the matching entries, in the store's order. */
  private page(query: AuditPageQuery): AuditPage {
    const matching = this.query({ ...query, limit: Number.MAX_SAFE_INTEGER }).filter(
      (entry) =>
        (query.subjectId === undefined || entry.chainId === this.chainIdFor(query.subjectId)) &&
        (query.dataClass === undefined || entry.dataClass === query.dataClass) &&
        (query.ruleRef === undefined || entry.ruleRef === query.ruleRef) &&
        (query.type === undefined || entry.type === query.type),
    );
    const start = Number(query.after?.key?.offset ?? 0);
    const end = start + query.limit;
    return {
      entries: matching.slice(start, end),
      ...(end < matching.length ? { next: { key: { offset: end } } } : {}),
    };
  }

  /** Checks every condition on a copy, then swaps it in: all or nothing, like a transaction. */
  private commit(changes: readonly Change[], audit: readonly AuditRecord[]): CommitResult {
    this.beforeCommit?.(changes, audit);
    refuseItemTwice(changes);
    for (const record of audit) {
      if (record.subjectId !== undefined) assertNoSubjectData(record.event, record.subjectId);
    }
    const draft = clone(this.state);
    for (const [index, change] of changes.entries()) {
      if (!apply(draft, change, this.options.pseudonymKey)) {
        const result: CommitResult = { committed: false, conflict: index, change: change.kind };
        this.commits.push({ changes, audit, result });
        return result;
      }
    }
    for (const record of audit) {
      const chainId =
        record.subjectId === undefined && record.chain !== undefined
          ? record.chain
          : this.chainIdFor(record.subjectId);
      const marker = `${chainId}#${record.event.idempotencyKey}`;
      if (draft.markers.has(marker)) continue;
      const chain = draft.chains.get(chainId) ?? [];
      const last = chain.at(-1);
      const head: ChainHead | undefined = last === undefined ? undefined : { seq: last.seq, hash: last.hash };
      chain.push(
        chainEntry(head, record.event, chainId, record.subjectId === undefined ? undefined : chainId),
      );
      draft.chains.set(chainId, chain);
      draft.markers.add(marker);
    }
    this.state = draft;
    const result: CommitResult = { committed: true };
    this.commits.push({ changes, audit, result });
    // A crash right after the write: it is stored, but the caller never hears so.
    this.afterCommit?.(changes, audit);
    return result;
  }
}

/**
 * The stores' own item builders (`itemsFor` only builds items; this client never sends), so the
 * fake refuses what DynamoDB refuses and the adapter refuses first: a commit that writes one item
 * twice, whatever its conditions.
 */
const ITEM_STORES = (() => {
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const key = 'in-memory-item-builder-key';
  return {
    requests: new DynamoRequestStore(documents, TABLES.requests.id, key),
    schedules: new DynamoScheduleStore(documents, TABLES.schedules.id, 4, key),
    holds: new DynamoHoldStore(documents, TABLES.legalHolds.id, key),
    suppressions: new DynamoSuppressionStore(documents, TABLES.suppressions.id),
  };
})();
const refuseItemTwice = (changes: readonly Change[]): void =>
  assertOneOperationPerItem(
    ITEM_STORES,
    changes.flatMap((change) => stateItemsOf(ITEM_STORES, change)),
  );

/** The index instant of an entry written at `at`: pending at its due time, blocked at its retry time. */
const indexOf = (entry: ScheduleEntry, at: string, retryAt?: string): string | undefined => {
  const indexAt = entry.status === 'pending' ? entry.dueAt : entry.status === 'blocked' ? retryAt : undefined;
  return indexAt === undefined ? undefined : indexAt < at ? at : indexAt;
};

/** Applies one change to `state` if its condition holds; false (state untouched) otherwise. */
/** What the adapter's `reviewAt` attribute does: each state change sets it, a final request drops it. */
const setReview = (state: InMemoryState, requestId: string): void => {
  const request = state.requests.get(requestId);
  const reviewAt = request === undefined ? undefined : reviewAtOf(request);
  if (reviewAt === undefined) state.reviews.delete(requestId);
  else state.reviews.set(requestId, reviewAt);
};

/** The task is stored, in the status and attempt a change was decided on (the adapters' condition). */
const taskIsAt = (state: InMemoryState, task: ErasureTask, expected: TaskExpectation): boolean => {
  const current = state.tasks.get(taskKey(task.requestId, task.taskId));
  return current?.status === expected.status && current.attempts === expected.attempts;
};

/**
 * Tasks' outcomes counted on their request, as the adapter's conditional update does: every task
 * still as expected and the request still with the counts read, or nothing (the caller's copy).
 */
/** `SubjectForgetting` on a request and its tasks, as the adapter writes it (cancelled tasks must be pending). */
const forgetSubject = (state: InMemoryState, requestId: string, forget: SubjectForgetting): boolean => {
  const current = state.requests.get(requestId);
  if (current === undefined) return false;
  const replacement = `pseudonym:${forget.pseudonym}`;
  state.requests.set(requestId, forgotten(current, replacement));
  for (const taskId of forget.taskIds) {
    const key = taskKey(requestId, taskId);
    const task = state.tasks.get(key);
    if (task === undefined) return false;
    const cancel = forget.cancelTaskIds?.includes(taskId) === true;
    if (cancel && task.status !== 'pending') return false;
    state.tasks.set(key, forgotten(cancel ? { ...task, status: 'cancelled' } : task, replacement));
  }
  return true;
};

const countOutcomes = (
  state: InMemoryState,
  outcomes: readonly { readonly next: ErasureTask; readonly expected: TaskExpectation }[],
  { previous, next, forget }: OutcomeCount,
): boolean => {
  const request = state.requests.get(next.requestId);
  if (
    request?.status !== 'dispatched' ||
    request.verifiedCount !== previous.verifiedCount ||
    request.failedCount !== previous.failedCount
  ) {
    return false;
  }
  if (!outcomes.every((outcome) => taskIsAt(state, outcome.next, outcome.expected))) return false;
  const verified = outcomes.filter((outcome) => outcome.next.status === 'verified').length;
  const replacement = forget === undefined ? undefined : `pseudonym:${forget.pseudonym}`;
  const counted: ErasureRequest = {
    ...request,
    verifiedCount: request.verifiedCount + verified,
    failedCount: request.failedCount + outcomes.length - verified,
    ...(next.status === 'dispatched'
      ? {}
      : {
          status: next.status,
          ...(next.completedAt === undefined ? {} : { completedAt: next.completedAt }),
        }),
  };
  state.requests.set(
    request.requestId,
    replacement === undefined ? counted : forgotten(counted, replacement),
  );
  for (const outcome of outcomes) {
    state.tasks.set(
      taskKey(request.requestId, outcome.next.taskId),
      clone(replacement === undefined ? outcome.next : forgotten(outcome.next, replacement)),
    );
  }
  const reported = new Set(outcomes.map((outcome) => outcome.next.taskId));
  for (const taskId of forget?.taskIds ?? []) {
    const other = state.tasks.get(taskKey(request.requestId, taskId));
    if (replacement !== undefined && other !== undefined && !reported.has(taskId)) {
      state.tasks.set(taskKey(request.requestId, taskId), forgotten(other, replacement));
    }
  }
  // A settled request leaves the review index, as the adapter's REMOVE does.
  if (next.status !== 'dispatched') state.reviews.delete(request.requestId);
  return true;
};

const apply = (state: InMemoryState, change: Change, pseudonymKey: string): boolean => {
  switch (change.kind) {
    case 'request.create': {
      const { request, tasks, idempotency } = change;
      if (state.requests.has(request.requestId)) return false;
      if (idempotency !== undefined && state.idempotency.has(idempotency.key)) return false;
      state.requests.set(request.requestId, clone(request));
      setReview(state, request.requestId);
      for (const task of tasks) state.tasks.set(taskKey(task.requestId, task.taskId), clone(task));
      if (idempotency !== undefined) {
        state.idempotency.set(idempotency.key, {
          requestId: request.requestId,
          bodyHash: idempotency.bodyHash,
        });
      }
      return true;
    }
    case 'request.transition': {
      const current = state.requests.get(change.next.requestId);
      if (current === undefined || !change.from.includes(current.status)) return false;
      const updated: Record<string, unknown> = { ...current };
      for (const field of REQUEST_TRANSITION_FIELDS) {
        const value = change.next[field];
        if (
          value !== undefined &&
          (field === 'status' || JSON.stringify(change.previous[field]) !== JSON.stringify(value))
        ) {
          updated[field] = value;
        }
      }
      state.requests.set(current.requestId, updated as unknown as ErasureRequest);
      setReview(state, current.requestId);
      return change.forget === undefined || forgetSubject(state, current.requestId, change.forget);
    }
    case 'task.transition':
    case 'task.outcome': {
      const key = taskKey(change.next.requestId, change.next.taskId);
      if (!taskIsAt(state, change.next, change.expected)) return false;
      state.tasks.set(key, clone(change.next));
      if (change.kind === 'task.outcome') {
        const request = state.requests.get(change.next.requestId);
        if (request !== undefined) {
          const counter = change.next.status === 'verified' ? 'verifiedCount' : 'failedCount';
          state.requests.set(request.requestId, { ...request, [counter]: request[counter] + 1 });
        }
      }
      return true;
    }
    case 'task.outcomes':
      return countOutcomes(state, change.outcomes, change.request);
    case 'request.redrive': {
      const current = state.requests.get(change.next.requestId);
      if (
        current === undefined ||
        current.status !== change.previous.status ||
        current.failedCount !== change.previous.failedCount
      ) {
        return false;
      }
      if (!change.tasks.every((task) => taskIsAt(state, task.next, task.previous))) return false;
      const { completedAt: _completedAt, ...rest } = current;
      state.requests.set(current.requestId, {
        ...rest,
        status: change.next.status,
        redriveCount: change.next.redriveCount ?? 1,
        failedCount: current.failedCount + (change.next.failedCount - change.previous.failedCount),
      });
      setReview(state, current.requestId);
      for (const task of change.tasks)
        state.tasks.set(taskKey(task.next.requestId, task.next.taskId), clone(task.next));
      return true;
    }
    case 'request.forget-subject': {
      const current = state.requests.get(change.requestId);
      if (current?.status !== 'completed' && current?.status !== 'rejected') return false;
      return forgetSubject(state, change.requestId, change);
    }
    case 'schedule.save': {
      const { previous, next, event, at } = change;
      const meta = state.subjects.get(next.subjectId);
      if ((meta?.version ?? 0) !== previous.version) return false;
      const eventKey = subjectKey(next.subjectId, event.eventId);
      if (state.events.has(eventKey)) return false;
      state.subjects.set(next.subjectId, {
        version: previous.version + 1,
        ...(next.unpaidInvoiceSince === undefined ? {} : { unpaidInvoiceSince: next.unpaidInvoiceSince }),
        ...(next.lastInvoiceEvent === undefined ? {} : { lastInvoiceEvent: next.lastInvoiceEvent }),
      });
      state.events.set(eventKey, clone(event));
      for (const entry of next.entries) {
        const before = previous.schedule.entries.find((candidate) => candidate.dataClass === entry.dataClass);
        if (before !== undefined && JSON.stringify(before) === JSON.stringify(entry)) continue;
        const indexAt = indexOf(entry, at);
        state.entries.set(subjectKey(entry.subjectId, entry.dataClass), {
          entry: clone(entry),
          ...(indexAt === undefined ? {} : { indexAt }),
        });
        const sameNotice =
          before !== undefined &&
          before.status === entry.status &&
          before.dueAt === entry.dueAt &&
          before.noticeAt === entry.noticeAt;
        if (sameNotice || entry.noticeAt === undefined) continue;
        const noticeKey = subjectKey(entry.subjectId, entry.dataClass);
        if (entry.status !== 'pending') {
          const notice = state.notices.get(noticeKey);
          if (notice !== undefined) {
            const { indexAt: _indexAt, ...rest } = notice;
            state.notices.set(noticeKey, rest);
          }
          continue;
        }
        state.notices.set(noticeKey, {
          subjectId: entry.subjectId,
          dataClass: entry.dataClass,
          noticeAt: entry.noticeAt,
          dueAt: entry.dueAt,
          ruleRef: entry.ruleRef,
          indexAt: entry.noticeAt < at ? at : entry.noticeAt,
        });
      }
      return true;
    }
    case 'schedule.claim':
    case 'schedule.replace': {
      const key = subjectKey(change.expected.subjectId, change.expected.dataClass);
      const stored = state.entries.get(key);
      if (
        stored === undefined ||
        stored.entry.status !== change.expected.status ||
        stored.entry.dueAt !== change.expected.dueAt ||
        stored.entry.lastEvent.eventId !== change.expected.lastEvent.eventId
      ) {
        return false;
      }
      if (change.kind === 'schedule.claim') {
        const meta = state.subjects.get(change.expected.subjectId);
        if (meta === undefined) return false;
        state.subjects.set(change.expected.subjectId, { ...meta, version: meta.version + 1 });
      }
      const indexAt = indexOf(
        change.next,
        change.at,
        change.kind === 'schedule.replace' ? change.retryAt : undefined,
      );
      state.entries.set(key, { entry: clone(change.next), ...(indexAt === undefined ? {} : { indexAt }) });
      return true;
    }
    case 'window.run': {
      const key = `${change.dataClass}#${change.target}`;
      const last = state.windowRuns.get(key);
      if (last !== undefined && last >= change.slot) return false;
      state.windowRuns.set(key, change.slot);
      return true;
    }
    case 'notice.sent': {
      const key = subjectKey(change.subjectId, change.dataClass);
      const notice = state.notices.get(key);
      if (notice === undefined) return false;
      const { indexAt: _indexAt, ...rest } = notice;
      state.notices.set(key, { ...rest, sentAt: notice.sentAt ?? change.at });
      return true;
    }
    case 'erasure.tally': {
      const { tally } = change;
      const key = `${tally.shard}#${tally.month}#${tally.dataClass}#${tally.ruleRef}`;
      const row = state.tallies.get(key) ?? {
        month: tally.month,
        dataClass: tally.dataClass,
        ruleRef: tally.ruleRef,
        deletions: 0,
        anonymisations: 0,
        restrictions: 0,
        items: 0,
      };
      const counter = ACTION_COUNTER[tally.action];
      state.tallies.set(key, {
        ...row,
        [counter]: row[counter] + tally.erasures,
        items: row.items + tally.items,
      });
      return true;
    }
    case 'hold.idempotency': {
      if (state.holdIdempotency.has(change.key)) return false;
      state.holdIdempotency.set(change.key, { holdId: change.holdId, bodyHash: change.bodyHash });
      return true;
    }
    case 'hold.place': {
      if (state.holds.has(change.hold.holdId)) return false;
      state.holds.set(change.hold.holdId, clone(change.hold));
      return true;
    }
    case 'hold.release': {
      const current = state.holds.get(change.hold.holdId);
      if (current === undefined || current.releasedAt !== undefined) return false;
      // As DynamoHoldStore: a deletion blocked on the hold since it was read fails the release.
      if (current.blockCount !== change.hold.blockCount) return false;
      const { identifiers: _identifiers, blockCount: _blockCount, ...kept } = current;
      state.holds.set(current.holdId, {
        ...kept,
        subjectId: releasedHoldSubject(pseudonymKey, current.subjectId),
        releasedAt: change.releasedAt,
      });
      return true;
    }
    case 'hold.confirm': {
      const current = state.holds.get(change.hold.holdId);
      if (current === undefined || current.releasedAt !== undefined) return false;
      state.holds.set(current.holdId, { ...current, blockCount: (current.blockCount ?? 0) + 1 });
      return true;
    }
    case 'suppression.add':
      for (const entry of change.entries) state.suppressions.set(entry.hash, clone(entry));
      return true;
    case 'suppression.lift':
      for (const hash of change.hashes) state.suppressions.delete(hash);
      return true;
  }
};

/** Anchors kept in memory; `anchors` is open for tests that tamper with them. */
export class InMemoryAnchorStore implements AnchorStore {
  anchors: Anchor[] = [];

  async append(anchor: Anchor): Promise<void> {
    if (this.anchors.some((existing) => existing.seq === anchor.seq)) {
      throw new ConcurrentModificationError(`Anchor ${anchor.seq} was written first by another writer`);
    }
    this.anchors.push(clone(anchor));
    this.anchors.sort((a, b) => a.seq - b.seq);
  }

  async list(): Promise<Anchor[]> {
    return clone(this.anchors);
  }

  async latest(): Promise<Anchor | undefined> {
    return clone(this.anchors.at(-1));
  }
}

/**
 * The identifier resolver over a map of subject ids to the identifiers a lookup table would hold
 * for them; `failing` makes it unavailable (or answer with the error given), as a table or service
 * that is down would. Every query is recorded.
 */
export class InMemoryIdentifierResolver implements IdentifierResolver {
  readonly queries: { subjectId: string; requestId: string }[] = [];
  readonly known = new Map<string, Record<string, unknown>>();
  failing: Error | undefined;

  constructor(readonly name = 'identity-lookup') {}

  async resolve(query: { subjectId: string; requestId: string }): Promise<Record<string, unknown>> {
    this.queries.push({ ...query });
    if (this.failing !== undefined) throw this.failing;
    return structuredClone(this.known.get(query.subjectId) ?? {});
  }
}
