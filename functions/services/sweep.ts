import { deletionBlocked, noticeRecorded } from '../../domain/audit/events.js';
import { pseudonymise } from '../../domain/audit/index.js';
import { deadlineWithin, isFinal, isOverdue, scheduledRequestId } from '../../domain/erasure/index.js';
import { mayBeStuck, NEAR_DEADLINE_MS, stoppedTasks } from '../../domain/erasure/recovery.js';
import type { ErasureRequest } from '../../domain/erasure/types.js';
import { holdsBlocking, type LegalHold } from '../../domain/holds.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';
import type { DueItem } from '../../domain/ports/index.js';
import { bucketsToSweep } from '../../domain/schedule/buckets.js';
import { afterDispatch, evaluateDue } from '../../domain/schedule/due.js';
import type { ScheduleEntry, SubjectSchedule } from '../../domain/schedule/types.js';
import { sweepStart, watermarkAfter } from '../../domain/schedule/watermark.js';
import { findPolicy, retentionReason } from '../../domain/vocabulary/index.js';
import { METRIC } from '../shared/metric-names.js';
import { anchorAuditTrail } from './anchors.js';
import type { SweepDeps } from './deps.js';
import { createRequest, dispatchOrBlock } from './erasure-requests.js';
import { settle } from './run-task.js';
import { runWindows, type WindowRunReport } from './window-runs.js';

export interface SweepReport {
  readonly now: string;
  readonly bucketsRead: number;
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
  readonly redispatched: number;
  readonly overdue: number;
  readonly nearDeadline: number;
  /** Rolling-window runs per target (window-runs.ts); empty without connectors. */
  readonly windows?: readonly WindowRunReport[];
  /** The anchor this sweep wrote (absent: no chain moved, or anchoring failed and is retried next time). */
  readonly anchor?: { readonly seq: number; readonly chains: number };
}

/**
 * Due items handled at once. Each is a dozen small reads and writes; in parallel a sweep keeps
 * up with bursts, and every write is conditional, so items of one subject may race safely.
 */
const SWEEP_CONCURRENCY = 8;
/** A keyed reference to one due entry, for audit idempotency keys (which are stored in the trail). */
const entryRef = (key: string, subjectId: string, dataClass: string, dueAt: string) =>
  pseudonymise(key, `${subjectId}#${dataClass}#${dueAt}`).slice(0, 32);

/**
 * Runs every deletion and notice due at `now`. Reads only the due index buckets from the watermark
 * to now's month (cost grows with due entries, not with all schedules), and is safe to run twice:
 * scheduled requests have deterministic ids and entries are replaced only if unchanged since read.
 */
export const sweepDueDeletions = async (deps: SweepDeps, now: string): Promise<SweepReport> => {
  const clockNow = deps.clock().toISOString();
  const watermark = sweepStart(await deps.schedules.sweepWatermark(), clockNow);
  const buckets = bucketsToSweep(watermark, now, deps.settings.dueBucketShards);
  const context = new SweepContext(deps, now);
  let failures = 0;
  for (const bucket of buckets) {
    failures += await inParallel(await deps.schedules.queryDue(bucket, now), SWEEP_CONCURRENCY, (item) =>
      context.handle(item),
    );
  }
  // The watermark stays put after a failure, so the failed items are read again next time.
  if (failures === 0) await deps.schedules.advanceWatermark(watermarkAfter(now, clockNow));
  const windows =
    deps.connectors === undefined || deps.settings.windowRuns === false
      ? []
      : await runWindows({ ...deps, connectors: deps.connectors }, now);
  const open = await reviewOpenRequests(deps, now, clockNow);
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
  deps.metrics.flush();
  deps.log.info('sweep finished', {
    ...anchor,
    now,
    buckets: buckets.length,
    dispatched: context.report.dispatched.length,
    blocked: context.report.blocked.length,
    notices: context.report.notices.length,
    heldNotices: context.report.heldNotices.length,
    ...open,
  });
  return { now, bucketsRead: buckets.length, ...context.report, ...open, windows, ...anchor };
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
  readonly report: Pick<SweepReport, 'dispatched' | 'blocked' | 'notices' | 'heldNotices'> & {
    dispatched: SweepReport['dispatched'][number][];
    blocked: SweepReport['blocked'][number][];
    notices: SweepReport['notices'][number][];
    heldNotices: SweepReport['heldNotices'][number][];
  } = { dispatched: [], blocked: [], notices: [], heldNotices: [] };
  private readonly holdsBySubject = new Map<string, Promise<LegalHold[]>>();
  private readonly schedulesBySubject = new Map<string, Promise<SubjectSchedule>>();

  constructor(
    private readonly deps: SweepDeps,
    private readonly now: string,
  ) {}

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

  private async handleEntry(indexed: ScheduleEntry): Promise<void> {
    // The index can lag the table: judge the entry as it is now (an event may have cancelled it).
    const schedule = await this.scheduleOf(indexed.subjectId);
    const entry = schedule.entries.find((candidate) => candidate.dataClass === indexed.dataClass);
    if (entry === undefined || (entry.status !== 'pending' && entry.status !== 'blocked')) return;
    if (entry.dueAt > this.now) return;
    const policy = findPolicy(this.deps.config.catalog, entry.dataClass);
    if (policy === undefined) {
      this.deps.log.warn('due entry of a data class the catalog no longer has', {
        dataClass: entry.dataClass,
      });
      return;
    }
    const verdict = evaluateDue({
      catalog: this.deps.config.catalog,
      policy,
      entry,
      schedule,
      holds: await this.holdsOf(entry.subjectId),
      now: this.now,
    });
    if (verdict.kind === 'blocked') {
      await this.block(entry, verdict.blockers, verdict.retryAt);
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
    const claimed = afterDispatch(entry, policy, this.now);
    // The request and the claim on the entry are one transaction: a restore that lands first wins
    // (the claim's condition fails and nothing is erased), and one that lands after finds the
    // entry dispatched and cannot report a cancellation that did not happen.
    const created = await createRequest(
      this.deps,
      {
        requestId,
        subjectId: entry.subjectId,
        origin: 'schedule',
        dataClasses: [entry.dataClass],
        reason: retentionReason(entry.ruleRef),
        ...(olderThan === undefined ? {} : { olderThan }),
      },
      [{ kind: 'schedule.claim', expected: entry, next: claimed, at: this.now }],
    );
    let request = created;
    if (request === undefined) {
      // Not created: either the entry changed under us (skip), or an earlier sweep created the
      // request and stopped before it could claim the entry (finish that sweep's work).
      request = await this.deps.requests.get(requestId);
      if (request === undefined) return;
      const replaced = await this.deps.uow.commit([
        { kind: 'schedule.replace', expected: entry, next: claimed, at: this.now },
      ]);
      // A concurrent sweep claimed the entry first: the request and its dispatch are its work.
      if (!replaced.committed) return;
    }
    if (!isFinal(request.request.status)) await dispatchOrBlock(this.deps, request.request, request.tasks);
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
  ): Promise<void> {
    const names = blockers.map((blocker) =>
      blocker.kind === 'legal-hold' ? `legal-hold:${blocker.holdIds.join('+')}` : 'unpaid-invoice',
    );
    const blocked: ScheduleEntry = { ...entry, status: 'blocked' };
    const ref = this.ref(entry.subjectId, entry.dataClass, entry.dueAt);
    await this.deps.uow.commit(
      [
        {
          kind: 'schedule.replace',
          expected: entry,
          next: blocked,
          at: this.now,
          ...(retryAt === undefined ? {} : { retryAt }),
        },
      ],
      [{ event: deletionBlocked(entry, ref, names, retryAt, this.now), subjectId: entry.subjectId }],
    );
    this.report.blocked.push({
      dataClass: entry.dataClass,
      ruleRef: entry.ruleRef,
      dueAt: entry.dueAt,
      blockers: names,
    });
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
      holds = this.deps.holds.forSubject(subjectId);
      this.holdsBySubject.set(subjectId, holds);
    }
    return holds;
  }

  private scheduleOf(subjectId: string): Promise<SubjectSchedule> {
    let schedule = this.schedulesBySubject.get(subjectId);
    if (schedule === undefined) {
      schedule = this.deps.schedules.load(subjectId).then((stored) => stored.schedule);
      this.schedulesBySubject.set(subjectId, schedule);
    }
    return schedule;
  }
}

/**
 * Requests not yet final: moves on those that may be stuck (domain/erasure/recovery.ts) and counts
 * the ones past or near their deadline (ALU-3).
 */
const reviewOpenRequests = async (
  deps: SweepDeps,
  now: string,
  clockNow: string,
): Promise<{ redispatched: number; overdue: number; nearDeadline: number }> => {
  const open: ErasureRequest[] = await deps.requests.listOpen();
  let redispatched = 0;
  for (const request of open.filter((candidate) => mayBeStuck(candidate, clockNow))) {
    try {
      if (await reviewOne(deps, request, clockNow)) redispatched++;
    } catch (error) {
      // One request in an unexpected state must not stop the sweep for every other one.
      deps.log.error('open request review failed', {
        requestId: request.requestId,
        errorName: error instanceof Error ? error.name : typeof error,
      });
    }
  }
  return {
    redispatched,
    overdue: open.filter((request) => isOverdue(request, now)).length,
    nearDeadline: open.filter(
      (request) => !isOverdue(request, now) && deadlineWithin(request, now, NEAR_DEADLINE_MS),
    ).length,
  };
};

/**
 * Moves one open request on; true when something was (re)sent: a lost dispatch or ended holds are
 * dispatched again; a dispatched request is settled if every task has reported (its last reporter
 * stopped short), and its stopped tasks are sent again, but not those a legal hold still covers.
 */
const reviewOne = async (deps: SweepDeps, request: ErasureRequest, clockNow: string): Promise<boolean> => {
  const found = await deps.requests.get(request.requestId);
  if (found === undefined || isFinal(found.request.status)) return false;
  if (found.request.status !== 'dispatched') {
    const next = await dispatchOrBlock(deps, found.request, found.tasks);
    return next.status === 'dispatched';
  }
  await settle(deps, request.requestId);
  const holds = await deps.holds.forSubject(found.request.subjectId);
  const stopped = stoppedTasks(found.tasks, clockNow, { holds, catalog: deps.config.catalog });
  await deps.queue.send(stopped.map((task) => ({ taskId: task.taskId, requestId: task.requestId })));
  return stopped.length > 0;
};
