import { deletionBlocked, noticeRecorded } from '../../domain/audit/events.js';
import { pseudonymise } from '../../domain/audit/index.js';
import {
  dispatchRequest,
  isFinal,
  planTasks,
  receiveRequest,
  scheduledRequestId,
  tasksFromPlan,
} from '../../domain/erasure/index.js';
import { mayBeStuck, NEAR_DEADLINE_MS, nextReviewAt, stoppedTasks } from '../../domain/erasure/recovery.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { heldTasks, holdsBlocking, type LegalHold } from '../../domain/holds.js';
import type { SubjectIdentifiers } from '../../domain/identifiers/types.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';
import type {
  Change,
  DueItem,
  HoldStore,
  RequestWithTasks,
  SweepShardMessage,
} from '../../domain/ports/index.js';
import { bucketsToSweep } from '../../domain/schedule/buckets.js';
import { afterDispatch, evaluateDue } from '../../domain/schedule/due.js';
import type { ScheduleEntry } from '../../domain/schedule/types.js';
import {
  laterMonth,
  sweepStart,
  watermarkAfter,
  watermarkAfterRun,
} from '../../domain/schedule/watermark.js';
import { findPolicy, retentionReason } from '../../domain/vocabulary/index.js';
import { METRIC } from '../shared/metric-names.js';
import { anchorAuditTrail } from './anchors.js';
import type { SweepDeps, SweepShardDeps } from './deps.js';
import { addressingOf, createRequest, dispatchOrBlock, MAX_TASKS_PER_REQUEST } from './erasure-requests.js';
import { resolveIdentifiers } from './identifier-resolution.js';
import { activeReadOnce, forgetEndedHolds, readHoldsInForce } from './legal-holds.js';
import { settle } from './run-task.js';
import { runWindows, type WindowRunReport } from './window-runs.js';

/** What one shard worker did with one due bucket. */
export interface SweepShardReport {
  readonly dispatched: readonly { requestId: string; dataClass: string; ruleRef: string; dueAt: string }[];
  readonly blocked: readonly {
    dataClass: string;
    ruleRef: string;
    dueAt: string;
    blockers: readonly string[];
  }[];
  readonly notices: readonly { dataClass: string; ruleRef: string; dueAt: string }[];
  /** ALM-3: notices not sent because holds block the deletion they announce; they stay due. */
  readonly heldNotices: readonly {
    dataClass: string;
    ruleRef: string;
    dueAt: string;
    blockers: readonly string[];
  }[];
}

export interface SweepReport extends SweepShardReport {
  readonly now: string;
  readonly bucketsRead: number;
  /**
   * Buckets with due work handed to the sweep-shard workers (queued: their outcomes are not in
   * this report); 0 when the sweep handled them itself.
   */
  readonly shardsQueued: number;
  readonly redispatched: number;
  readonly overdue: number;
  readonly nearDeadline: number;
  /** Rolling-window runs per target (window-runs.ts); empty without connectors. */
  readonly windows?: readonly WindowRunReport[];
  /** The anchor this sweep wrote (absent: no chain moved, or anchoring failed and is retried next time). */
  readonly anchor?: { readonly seq: number; readonly chains: number };
}

/**
 * Due items one shard worker handles at once. Each is a few small reads and writes; in parallel a
 * shard keeps up with bursts, and every write is conditional, so items of one subject may race safely.
 */
const SHARD_CONCURRENCY = 8;
/** Buckets checked for due work at once by the coordinator (one single-item query each). */
const CHECK_CONCURRENCY = 8;
/** A keyed reference to one due entry, for audit idempotency keys (which are stored in the trail). */
const entryRef = (key: string, subjectId: string, dataClass: string, dueAt: string) =>
  pseudonymise(key, `${subjectId}#${dataClass}#${dueAt}`).slice(0, 32);

const emptyShardReport = (): MutableShardReport => ({
  dispatched: [],
  blocked: [],
  notices: [],
  heldNotices: [],
});

type MutableShardReport = {
  -readonly [K in keyof SweepShardReport]: SweepShardReport[K][number][];
};

/** Adds one shard's outcome to the sweep's. */
export const mergeShardReport = (into: MutableShardReport, shard: SweepShardReport): void => {
  into.dispatched.push(...shard.dispatched);
  into.blocked.push(...shard.blocked);
  into.notices.push(...shard.notices);
  into.heldNotices.push(...shard.heldNotices);
};

/**
 * The sweep's coordinator: runs every deletion and notice due at `now`. It reads only the due
 * index buckets from the watermark to now's month (cost grows with due entries, not with all
 * schedules) and hands each bucket with due work to a shard worker: one message per bucket on the
 * sweep-shard queue (`deps.sweepShards`), or, without a queue (the API's sweep on demand, tests),
 * the same shard code here. The watermark moves only past buckets every shard acknowledged
 * (`watermarkAfterRun`): a run that is still in flight or had a failure moves it at no point, and
 * the next run reads those buckets again. Safe to run twice: scheduled requests have
 * deterministic ids and entries are claimed only if unchanged since read.
 */
export const sweepDueDeletions = async (deps: SweepDeps, now: string): Promise<SweepReport> => {
  const clockNow = deps.clock().toISOString();
  const finished = watermarkAfterRun(await deps.schedules.sweepRun());
  if (finished !== undefined) await deps.schedules.advanceWatermark(finished);
  const watermark = sweepStart(laterMonth(await deps.schedules.sweepWatermark(), finished), clockNow);
  const buckets = bucketsToSweep(watermark, now, deps.settings.dueBucketShards);
  const withWork: string[] = [];
  const checked = await Promise.all(
    chunks(buckets, CHECK_CONCURRENCY).map(async (chunk) => {
      const found: string[] = [];
      for (const bucket of chunk) if (await deps.schedules.hasDue(bucket, now)) found.push(bucket);
      return found;
    }),
  );
  // In bucket order, so shards go out oldest month first.
  const due = new Set(checked.flat());
  withWork.push(...buckets.filter((bucket) => due.has(bucket)));
  const runId = deps.randomId();
  await deps.schedules.startSweepRun({ runId, now, clockNow, pending: withWork });
  const messages: SweepShardMessage[] = withWork.map((bucket) => ({ runId, bucket, now }));
  const report = emptyShardReport();
  let shardsQueued = 0;
  if (deps.sweepShards !== undefined) {
    await deps.sweepShards.send(messages);
    shardsQueued = messages.length;
  } else {
    let failed = false;
    for (const message of messages) {
      try {
        mergeShardReport(report, await sweepShard(deps, message));
      } catch {
        failed = true;
      }
    }
    // Every shard was handled here: the watermark need not wait for the next run.
    if (!failed) await deps.schedules.advanceWatermark(watermarkAfter(now, clockNow));
  }
  const windows =
    deps.connectors === undefined || deps.settings.windowRuns === false
      ? []
      : await runWindows({ ...deps, connectors: deps.connectors }, now);
  const open = await reviewOpenRequests(deps, now, clockNow);
  // Holds that ran out keep no id (a failure is logged: the next sweep forgets them).
  const endedHolds = await forgetEndedHolds(deps, clockNow).catch((error: unknown) => {
    deps.log.error('forgetting ended legal holds failed; the next sweep tries again', {
      errorName: error instanceof Error ? error.name : typeof error,
    });
    return 0;
  });
  deps.metrics.count(METRIC.requestsOverdue, open.overdue);
  deps.metrics.count(METRIC.requestsNearDeadline, open.nearDeadline);
  // Last, so it holds what this sweep appended. A failure is logged: the next sweep anchors it all.
  const anchored = await anchorAuditTrail(deps).catch((error: unknown) => {
    deps.log.error('anchoring the audit trail failed; the next sweep tries again', {
      errorName: error instanceof Error ? error.name : typeof error,
    });
    return undefined;
  });
  const anchor =
    anchored?.anchor === undefined
      ? {}
      : { anchor: { seq: anchored.anchor.seq, chains: anchored.anchoredChains } };
  deps.log.info('sweep finished', {
    ...anchor,
    now,
    buckets: buckets.length,
    shards: withWork.length,
    shardsQueued,
    dispatched: report.dispatched.length,
    blocked: report.blocked.length,
    notices: report.notices.length,
    heldNotices: report.heldNotices.length,
    endedHolds,
    ...open,
  });
  return { now, bucketsRead: buckets.length, shardsQueued, ...report, ...open, windows, ...anchor };
};

const chunks = <T>(items: readonly T[], count: number): T[][] => {
  const out: T[][] = Array.from({ length: Math.min(count, items.length) }, () => []);
  items.forEach((item, index) => {
    out[index % out.length]?.push(item);
  });
  return out;
};

/**
 * One sweep shard: every due item of one bucket at the message's `now`. Throws when an item
 * failed, after trying every other one, so the message is delivered again; only a bucket whose
 * items all succeeded is acknowledged to its run (which lets the watermark move on).
 */
export const sweepShard = async (
  deps: SweepShardDeps,
  message: SweepShardMessage,
): Promise<SweepShardReport> => {
  const context = new SweepContext(deps, message.now);
  const failures = await inParallel(
    await deps.schedules.queryDue(message.bucket, message.now),
    SHARD_CONCURRENCY,
    (item) => context.handle(item),
  );
  if (failures > 0) {
    throw new Error(`${failures} due item(s) of a sweep shard failed; the shard is tried again`);
  }
  await deps.schedules.acknowledgeShard(message.runId, message.bucket);
  return context.report;
};

/**
 * Runs `work` over `items`, at most `limit` at a time. One failing item must not stop the others
 * (nor every later sweep): failures are counted and left to the caller; `work` logs them.
 */
const inParallel = async <T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<number> => {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch(() => {
        failures++;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
};

class SweepContext {
  readonly report: MutableShardReport = emptyShardReport();
  private readonly holdsBySubject = new Map<string, Promise<LegalHold[]>>();
  /** The use cases this shard calls read each subject's holds once, here. */
  private readonly deps: SweepShardDeps;
  private readonly holdStore: HoldStore;

  constructor(
    deps: SweepShardDeps,
    private readonly now: string,
  ) {
    // Every active hold, read once per shard run (when a task erases by identifier values).
    this.holdStore = activeReadOnce(deps.holds);
    const holds: HoldStore = { ...this.holdStore, forSubject: (subjectId) => this.holdsOf(subjectId) };
    this.deps = { ...deps, holds };
  }

  async handle(item: DueItem): Promise<void> {
    try {
      if (item.kind === 'notice') await this.sendNotice(item);
      else await this.handleEntry(item.entry);
    } catch (error) {
      this.deps.log.error('due item failed; retried at the next sweep', {
        dataClass: item.kind === 'notice' ? item.dataClass : item.entry.dataClass,
        kind: item.kind,
        errorName: error instanceof Error ? error.name : typeof error,
      });
      throw error;
    }
  }

  /**
   * Judges the entry as the due index holds it (the index projects the whole entry), without
   * loading the subject's schedule. The index can lag the table (an event may have cancelled or
   * moved the entry): every write that follows is conditional on the entry's status, due time and
   * last event, so a stale copy writes nothing. Only classes an unpaid invoice can block read the
   * schedule, for its invoice state.
   */
  private async handleEntry(indexed: ScheduleEntry, rejudged = false): Promise<void> {
    let entry: ScheduleEntry | undefined = indexed;
    const policy = findPolicy(this.deps.config.catalog, indexed.dataClass);
    if (policy === undefined) {
      this.deps.log.warn('due entry of a data class the catalog no longer has', {
        dataClass: indexed.dataClass,
      });
      return;
    }
    let schedule = { subjectId: indexed.subjectId, entries: [indexed] } as {
      subjectId: string;
      entries: readonly ScheduleEntry[];
      unpaidInvoiceSince?: string;
    };
    if (policy.blockers.includes('unpaid-invoice')) {
      schedule = (await this.deps.schedules.load(indexed.subjectId)).schedule;
      entry = schedule.entries.find((candidate) => candidate.dataClass === indexed.dataClass);
    }
    if (entry === undefined || (entry.status !== 'pending' && entry.status !== 'blocked')) return;
    if (entry.dueAt > this.now) return;
    // Blocked or run, a commit on the subject's chain almost always follows (not when another sweep
    // got there first): its head is read beside the holds.
    this.deps.uow.prepare?.([entry.subjectId]);
    const holds = await this.holdsOf(entry.subjectId);
    const verdict = evaluateDue({
      catalog: this.deps.config.catalog,
      policy,
      entry,
      schedule,
      holds,
      now: this.now,
    });
    if (verdict.kind === 'blocked') {
      const blocked = await this.block(entry, verdict.blockers, verdict.retryAt, holds);
      if (blocked === 'hold-released' && !rejudged) {
        // A hold was released since it was read (its release re-queued only what was blocked then):
        // judge the entry again on fresh holds, now, rather than leave it to a later sweep.
        this.holdsBySubject.delete(entry.subjectId);
        await this.handleEntry(indexed, true);
      }
      return;
    }
    await this.run(entry, policy, verdict.olderThan);
  }

  private async run(
    entry: ScheduleEntry,
    policy: DataClassPolicy,
    olderThan: string | undefined,
  ): Promise<void> {
    const requestId = scheduledRequestId(entry.subjectId, entry.dataClass, entry.dueAt, {
      key: this.deps.settings.idKey,
    });
    const claim: Extract<Change, { kind: 'schedule.claim' }> = {
      kind: 'schedule.claim',
      expected: entry,
      next: afterDispatch(entry, policy, this.now),
      at: this.now,
    };
    // A resolver that cannot answer fails this due item, which stays due: the next sweep tries
    // it again (`handle`), and nothing is claimed or created meanwhile.
    const addressed = await resolveIdentifiers(
      this.deps,
      { subjectId: entry.subjectId, requestId },
      entry.identifiers,
    );
    const spec = {
      requestId,
      subjectId: entry.subjectId,
      origin: 'schedule' as const,
      dataClasses: [entry.dataClass],
      reason: retentionReason(entry.ruleRef),
      ...(olderThan === undefined ? {} : { olderThan }),
      ...addressed,
    };
    const direct = await this.createDispatched(spec, claim);
    if (direct === 'changed') return;
    if (direct === 'sent') {
      this.dispatched(requestId, entry);
      return;
    }
    if (typeof direct === 'object') {
      // The request is blocked whole: a hold of another subject names one of its identifier values.
      this.report.blocked.push({
        dataClass: entry.dataClass,
        ruleRef: entry.ruleRef,
        dueAt: entry.dueAt,
        blockers: [`legal-hold:${direct.held.join('+')}`],
      });
      return;
    }
    // Not created: either the entry changed under us (skip), or an earlier sweep created the
    // request and stopped before it could claim the entry (finish that sweep's work).
    const request: RequestWithTasks | undefined = await this.deps.requests.get(requestId);
    if (request === undefined) return;
    const replaced = await this.deps.uow.commit([
      { kind: 'schedule.replace', expected: entry, next: claim.next, at: this.now },
    ]);
    // A concurrent sweep claimed the entry first: the request and its dispatch are its work.
    if (!replaced.committed) return;
    if (!isFinal(request.request.status)) await dispatchOrBlock(this.deps, request.request, request.tasks);
    this.dispatched(requestId, entry);
  }

  /**
   * The request, created already dispatched, its two audit entries and the claim on the entry: one
   * transaction (a restore that lands first wins: the claim's condition fails and nothing is
   * erased; one that lands after finds the entry dispatched). Then the task messages; a crash
   * before they go out leaves a dispatched request whose review re-sends them. A request a hold
   * partly covers takes the general path (`held`), which blocks it.
   */
  private async createDispatched(
    spec: {
      requestId: string;
      subjectId: string;
      origin: 'schedule';
      dataClasses: readonly string[];
      reason: string;
      olderThan?: string;
      identifiers?: SubjectIdentifiers;
      resolved?: Readonly<Record<string, number>>;
    },
    claim: Change,
  ): Promise<'sent' | { readonly held: readonly string[] } | 'exists' | 'changed'> {
    const planned = planTasks(this.deps.config, spec.dataClasses, spec.identifiers);
    if (planned.length > MAX_TASKS_PER_REQUEST) return this.general(spec, claim);
    const tasks: ErasureTask[] = tasksFromPlan(planned, spec);
    // Through this.deps.holds: the subject's holds from the shard's cache, the active ones read once.
    const { holds, active, catalog } = await readHoldsInForce(this.deps, spec.subjectId, tasks, this.now);
    if (tasks.length === 0 || heldTasks(tasks, holds, catalog, this.now, active).length > 0) {
      return this.general(spec, claim);
    }
    const at = this.deps.clock().toISOString();
    const received = receiveRequest({
      ...spec,
      receivedAt: at,
      taskCount: tasks.length,
      ...addressingOf(this.deps, spec),
    });
    const dispatched = dispatchRequest(received.next, tasks.length, at);
    const outcome = await this.deps.uow.commit(
      [{ kind: 'request.create', request: dispatched.next, tasks }, claim],
      [received.audit, dispatched.audit].map((event) => ({ event, subjectId: spec.subjectId })),
    );
    if (!outcome.committed) return outcome.conflict === 0 ? 'exists' : 'changed';
    await this.deps.queue.send(tasks.map((task) => ({ taskId: task.taskId, requestId: task.requestId })));
    return 'sent';
  }

  /**
   * Creates the request as the API does (`received`), then dispatches or blocks it: `sent`, or the
   * holds that block it.
   */
  private async general(
    spec: Parameters<typeof createRequest>[1],
    claim: Change,
  ): Promise<'sent' | { readonly held: readonly string[] } | 'exists'> {
    const created = await createRequest(this.deps, spec, [claim]);
    if (created === undefined) return 'exists';
    if (isFinal(created.request.status)) return 'sent';
    const after = await dispatchOrBlock(this.deps, created.request, created.tasks);
    return after.status === 'blocked' ? { held: after.blockedBy ?? [] } : 'sent';
  }

  private dispatched(requestId: string, entry: ScheduleEntry): void {
    this.report.dispatched.push({
      requestId,
      dataClass: entry.dataClass,
      ruleRef: entry.ruleRef,
      dueAt: entry.dueAt,
    });
  }

  private async block(
    entry: ScheduleEntry,
    blockers: readonly ({ kind: 'legal-hold'; holdIds: readonly string[] } | { kind: 'unpaid-invoice' })[],
    retryAt: string | undefined,
    holds: readonly LegalHold[],
  ): Promise<'blocked' | 'hold-released' | 'moved'> {
    const names = blockers.map((blocker) =>
      blocker.kind === 'legal-hold' ? `legal-hold:${blocker.holdIds.join('+')}` : 'unpaid-invoice',
    );
    const holdIds = new Set(
      blockers.flatMap((blocker) => (blocker.kind === 'legal-hold' ? blocker.holdIds : [])),
    );
    const blocked: ScheduleEntry = { ...entry, status: 'blocked' };
    const ref = this.ref(entry.subjectId, entry.dataClass, entry.dueAt);
    const outcome = await this.deps.uow.commit(
      [
        {
          kind: 'schedule.replace',
          expected: entry,
          next: blocked,
          at: this.now,
          ...(retryAt === undefined ? {} : { retryAt }),
        },
        // Only while each hold still stands: a hold released since it was read fails this commit
        // (its release re-queued only what was blocked then), and the caller judges again.
        ...holds
          .filter((hold) => holdIds.has(hold.holdId))
          .map((hold) => ({ kind: 'hold.confirm' as const, hold })),
      ],
      [{ event: deletionBlocked(entry, ref, names, retryAt, this.now), subjectId: entry.subjectId }],
    );
    if (!outcome.committed) return outcome.change === 'hold.confirm' ? 'hold-released' : 'moved';
    this.report.blocked.push({
      dataClass: entry.dataClass,
      ruleRef: entry.ruleRef,
      dueAt: entry.dueAt,
      blockers: names,
    });
    return 'blocked';
  }

  /**
   * IMOU-3: the subject is told before an inactivity deletion. The notice goes to the deployment's
   * notice target and is audited as sent only once that target acknowledged it; a failed delivery
   * stays due and is tried again at the next sweep. Without a target the audit says it is due,
   * never that it was sent. A notice announces a deletion: while legal holds block that deletion
   * (ALM-3, the same rule as for the entry) it is not sent, and stays due like an undelivered one.
   */
  private async sendNotice(item: Extract<DueItem, { kind: 'notice' }>): Promise<void> {
    const holds = holdsBlocking(
      await this.holdsOf(item.subjectId),
      this.deps.config.catalog,
      { dataClass: item.dataClass },
      this.now,
    );
    if (holds.length > 0) {
      this.report.heldNotices.push({
        dataClass: item.dataClass,
        ruleRef: item.ruleRef,
        dueAt: item.dueAt,
        blockers: [`legal-hold:${holds.map((hold) => hold.holdId).join('+')}`],
      });
      return;
    }
    const ref = this.ref(item.subjectId, item.dataClass, item.dueAt);
    const { notifier } = this.deps;
    if (notifier !== undefined) {
      try {
        await notifier.notify({
          noticeId: `notice_${ref}`,
          subjectId: item.subjectId,
          dataClass: item.dataClass,
          ruleRef: item.ruleRef,
          noticeAt: item.noticeAt,
          deletionDueAt: item.dueAt,
        });
      } catch (error) {
        this.deps.log.warn('notice delivery failed; retried at the next sweep', {
          dataClass: item.dataClass,
          target: notifier.target,
          errorName: error instanceof Error ? error.name : typeof error,
        });
        return;
      }
    }
    await this.deps.uow.commit(
      [{ kind: 'notice.sent', subjectId: item.subjectId, dataClass: item.dataClass, at: this.now }],
      [{ event: noticeRecorded(item, ref, notifier?.target, this.now), subjectId: item.subjectId }],
    );
    this.report.notices.push({ dataClass: item.dataClass, ruleRef: item.ruleRef, dueAt: item.dueAt });
  }

  private ref(subjectId: string, dataClass: string, dueAt: string): string {
    return entryRef(this.deps.settings.idKey, subjectId, dataClass, dueAt);
  }

  private holdsOf(subjectId: string): Promise<LegalHold[]> {
    let holds = this.holdsBySubject.get(subjectId);
    if (holds === undefined) {
      holds = this.holdStore.forSubject(subjectId);
      this.holdsBySubject.set(subjectId, holds);
    }
    return holds;
  }
}

/**
 * Open requests that may be stuck now: only those whose review time has come (the `byReviewAt`
 * index, `reviewAtOf`), so the cost grows with stuck work, not with open requests. Each is moved
 * on (domain/erasure/recovery.ts); one still open afterwards gets its next review time
 * (`nextReviewAt`), so a request waiting for a callback is read once per callback timeout, not at
 * every sweep. Requests a legal hold holds back are the exception: reviewed every sweep. The ALU-3 counts come from the index's own counts, not a read of every request.
 */
const reviewOpenRequests = async (
  deps: SweepDeps,
  now: string,
  clockNow: string,
): Promise<{ redispatched: number; overdue: number; nearDeadline: number }> => {
  const candidates = await deps.requests.reviewDue(clockNow);
  // Held requests are reviewed every sweep: the active holds are read once for all of them.
  const reviewDeps = { ...deps, holds: activeReadOnce(deps.holds) };
  let redispatched = 0;
  for (const { request, reviewAt } of candidates.filter((candidate) =>
    mayBeStuck(candidate.request, clockNow),
  )) {
    try {
      const reviewed = await reviewOne(reviewDeps, request, clockNow);
      if (reviewed.sent) redispatched++;
      // A request a hold holds back stays due for review: it moves on at the first sweep after
      // the hold ends (ALM-3). Cost: the requests of held subjects, which are few.
      if (reviewed.after !== undefined && !reviewed.held && !isFinal(reviewed.after.request.status)) {
        await deps.requests.deferReview(
          request.requestId,
          reviewAt,
          nextReviewAt(reviewed.after.request, reviewed.after.tasks, clockNow),
        );
      }
    } catch (error) {
      // One request in an unexpected state must not stop the sweep for every other one.
      deps.log.error('open request review failed', {
        requestId: request.requestId,
        errorName: error instanceof Error ? error.name : typeof error,
      });
    }
  }
  const counts = await deps.requests.deadlineCounts(now, NEAR_DEADLINE_MS);
  return { redispatched, ...counts };
};

/**
 * Moves one open request on; `sent` when something was (re)sent: a lost dispatch or ended holds are
 * dispatched again; a dispatched request is settled if every task has reported (its last reporter
 * stopped short), and its stopped tasks are sent again, but not those a legal hold still covers.
 * `after`: the request as the review left it (for its next review time).
 */
const reviewOne = async (
  deps: SweepDeps,
  request: ErasureRequest,
  clockNow: string,
): Promise<{ sent: boolean; held: boolean; after?: RequestWithTasks }> => {
  const found = await deps.requests.get(request.requestId);
  if (found === undefined || isFinal(found.request.status)) return { sent: false, held: false };
  if (found.request.status !== 'dispatched') {
    const next = await dispatchOrBlock(deps, found.request, found.tasks);
    return {
      sent: next.status === 'dispatched',
      held: next.status === 'blocked',
      after: { request: next, tasks: found.tasks },
    };
  }
  await settle(deps, request.requestId);
  const inForce = await readHoldsInForce(deps, found.request.subjectId, found.tasks, clockNow);
  const stopped = stoppedTasks(found.tasks, clockNow, inForce);
  await deps.queue.send(stopped.map((task) => ({ taskId: task.taskId, requestId: task.requestId })));
  const held = heldTasks(found.tasks, inForce.holds, inForce.catalog, clockNow, inForce.active).length > 0;
  return { sent: stopped.length > 0, held, after: found };
};
