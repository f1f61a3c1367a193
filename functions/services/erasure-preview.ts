import { requestPreviewed } from '../../domain/audit/events.js';
import { pseudonymise } from '../../domain/audit/index.js';
import type { PreviewResult } from '../../domain/connectors/types.js';
import { planKey, planTasks, requestedDataClasses, unaddressedTargets } from '../../domain/erasure/plan.js';
import {
  type ClassPreview,
  decidePreview,
  type PreviewIntake,
  type PreviewOutcome,
  type PreviewReason,
  type PreviewTask,
} from '../../domain/erasure/preview.js';
import { resolvedDetail } from '../../domain/erasure/request.js';
import { tasksFromPlan } from '../../domain/erasure/task.js';
import type { ErasureRequest } from '../../domain/erasure/types.js';
import { withholding } from '../../domain/erasure/withhold.js';
import type { RetentionAction } from '../../domain/policy/types.js';
import { targetNamed, validateReasonCode } from '../../domain/vocabulary/index.js';
import { isConnectorError } from '../connectors/errors.js';
import { nowIso, type ServiceDeps } from './deps.js';
import {
  bodyHash,
  type ErasureRequestInput,
  plannedTasks,
  requireSomethingToErase,
} from './erasure-requests.js';
import { resolveIdentifiers } from './identifier-resolution.js';
import { activeHoldsFor } from './legal-holds.js';
import { invocationsOf } from './run-task.js';

/** What a dry run needs: what intake reads, the connectors to count with, and the unit of work for its one audit entry. */
export type PreviewDeps = Pick<
  ServiceDeps,
  | 'config'
  | 'schedules'
  | 'holds'
  | 'uow'
  | 'connectors'
  | 'clock'
  | 'randomId'
  | 'settings'
  | 'identifierResolver'
>;

/** Why a count is missing: the connector cannot preview, the service did not count, or the read failed. */
export interface UnknownCount {
  readonly reason: 'not-supported' | 'not-counted' | 'error';
  /** The connector's error code (`error` only): no message, which might quote a key. */
  readonly code?: string;
}

/** One task of the planned request: the target, what it holds for the subject, and what would happen to it. */
export interface TargetPreview {
  readonly target: string;
  readonly connector: string;
  readonly action: RetentionAction;
  /** The requested classes whose data this task reaches (a store-wide target holds several). */
  readonly dataClasses: readonly string[];
  readonly outcome: PreviewOutcome;
  readonly reason?: PreviewReason;
  /** ALM-3: the holds that keep this task from erasing. */
  readonly blockedBy?: readonly string[];
  /** What `execute` would erase there now; null when it cannot be told (see `unknown`). */
  readonly count: number | null;
  /** Counting stopped at the time limit (`PREVIEW_COUNT_LIMIT_MS`): there are at least `count`. */
  readonly partial?: true;
  /** What is counted: `object-versions`, `items`, `records`. */
  readonly unit?: string;
  readonly unknown?: UnknownCount;
}

/** `POST /v1/erasure-requests` with `dryRun: true` → 200. Nothing was stored, queued or sent. */
export interface ErasurePreview {
  readonly dryRun: true;
  /** Names the preview's audit entry (`request.previewed`); no request has this id. */
  readonly previewId: string;
  readonly generatedAt: string;
  /** What intake would answer now: `dispatched`, `blocked` (ALM-3) or `refused` (409, ALE-2: every class withheld). */
  readonly intake: PreviewIntake;
  readonly dataClasses: readonly ClassPreview[];
  readonly targets: readonly TargetPreview[];
  /** ALE-2, as the receipt of a real request would name them. */
  readonly withheld?: ErasureRequest['withheld'];
  /**
   * Targets of the requested classes keyed by an identifier the request has no value of (sent or
   * resolved): the real request would not erase them, and its receipt would say so.
   */
  readonly unaddressed?: ErasureRequest['unaddressed'];
  /**
   * Sums of the known counts by outcome, how many tasks have no count, and how many were counted
   * only in part (their counts, and so the sums, are lower bounds).
   */
  readonly totals: {
    readonly erase: number;
    readonly blocked: number;
    readonly withheld: number;
    readonly unknown: number;
    readonly partial: number;
  };
}

const PREVIEW_ID_PREFIX = 'prv_';

/**
 * How long a dry run counts before it answers with what it has (`partial` counts): the API's
 * Lambda and API Gateway give up at 29 s, and the answer still needs its audit commit (up to 6.3 s
 * of backoff under contention, `COMMIT_BACKOFF_CAP_MS`). A subject with hundreds of thousands of
 * objects takes longer than that to list.
 */
export const PREVIEW_COUNT_LIMIT_MS = 15_000;

export interface PreviewOptions {
  /** @default PREVIEW_COUNT_LIMIT_MS */
  readonly countLimitMs?: number;
}

/**
 * A retried dry run (same Idempotency-Key, same body) gets the same id, so its audit entry is
 * appended once; keyed like every id derived from a subject's data.
 */
const previewIdFor = (deps: PreviewDeps, input: ErasureRequestInput, idempotencyKey?: string): string =>
  idempotencyKey === undefined
    ? `${PREVIEW_ID_PREFIX}${deps.randomId().replaceAll('-', '')}`
    : `${PREVIEW_ID_PREFIX}${pseudonymise(
        deps.settings.idKey,
        JSON.stringify(['preview', idempotencyKey, bodyHash(deps.settings.idKey, input)]),
      ).slice(0, 32)}`;

const countOf = async (
  deps: PreviewDeps,
  planned: PreviewTask,
  signal: AbortSignal,
): Promise<PreviewResult | UnknownCount> => {
  const target = targetNamed(deps.config, planned.task.target);
  const connector = deps.connectors.connectorFor(target);
  if (connector.preview === undefined) return { reason: 'not-supported' };
  const preview = connector.preview.bind(connector);
  try {
    // The same units of work the worker runs: one per value of the identifier the target is keyed by.
    const results = await Promise.all(
      invocationsOf(planned.task, target).map((invocation) => preview(target, invocation, { signal })),
    );
    let count = 0;
    let partial = false;
    for (const result of results) {
      if (result.status !== 'counted') return result;
      count += result.count;
      partial ||= result.partial === true;
    }
    const [first] = results;
    return first?.status === 'counted'
      ? { status: 'counted', count, unit: first.unit, ...(partial ? { partial: true as const } : {}) }
      : { reason: 'not-supported' };
  } catch (error) {
    // One target that cannot be read leaves the others' counts worth having; the answer says which.
    if (isConnectorError(error))
      return { reason: 'error', ...(error.code === undefined ? {} : { code: error.code }) };
    throw error;
  }
};

const targetPreview = (planned: PreviewTask, counted: PreviewResult | UnknownCount): TargetPreview => {
  const base = {
    target: planned.task.target,
    connector: planned.task.connector,
    action: planned.task.action,
    dataClasses: planned.dataClasses,
    outcome: planned.outcome,
    ...(planned.reason === undefined ? {} : { reason: planned.reason }),
    ...(planned.blockedBy === undefined ? {} : { blockedBy: planned.blockedBy }),
  };
  if ('status' in counted) {
    return counted.status === 'counted'
      ? {
          ...base,
          count: counted.count,
          unit: counted.unit,
          ...(counted.partial === true ? { partial: true as const } : {}),
        }
      : { ...base, count: null, unknown: { reason: counted.reason } };
  }
  return { ...base, count: null, unknown: counted };
};

/**
 * A dry run of `submitErasureRequest`: the same data classes, ALE-2 split, task plan and hold
 * check as intake, and each planned task's connector asked what it would erase (`preview`). Nothing
 * is stored, queued or sent to a partner as an erasure: no request, no tasks, no idempotency
 * record, no schedule change. One audit entry, `request.previewed`, with counts only, goes on the
 * subject's chain through the unit of work (no state change beside it).
 *
 * The Idempotency-Key is optional: a dry run reserves nothing, so the same key can then submit the
 * real request. When given, it only keeps a retried dry run from being audited twice.
 */
export const previewErasureRequest = async (
  deps: PreviewDeps,
  input: ErasureRequestInput,
  idempotencyKey?: string,
  options: PreviewOptions = {},
): Promise<ErasurePreview> => {
  // From the start: identifier resolution counts against the time too.
  const countingEnds = AbortSignal.timeout(options.countLimitMs ?? PREVIEW_COUNT_LIMIT_MS);
  const previewId = previewIdFor(deps, input, idempotencyKey);
  const requested = requestedDataClasses(deps.config, input.dataClasses);
  const [{ schedule }, holds] = await Promise.all([
    deps.schedules.load(input.subjectId),
    deps.holds.forSubject(input.subjectId),
  ]);
  const split = withholding(deps.config.catalog, schedule, requested);
  // The identifiers the real request would address: sent, and resolved as intake would.
  const { identifiers, resolved } = await resolveIdentifiers(
    deps,
    { subjectId: input.subjectId, requestId: previewId },
    input.identifiers,
  );
  // The request would refuse its reason with these identifiers (receiveRequest): so does its preview.
  validateReasonCode(input.reason, 'reason', input.subjectId, identifiers);
  const spec = {
    requestId: previewId,
    subjectId: input.subjectId,
    ...(identifiers === undefined ? {} : { identifiers }),
  };
  const eraseTasks =
    split.erasable.length === 0 ? [] : plannedTasks(deps, { ...spec, dataClasses: split.erasable });
  if (split.erasable.length > 0) requireSomethingToErase(deps, eraseTasks, split.erasable, identifiers);
  // The withheld classes' own tasks: what planning them after the erasable ones adds (the same keys
  // come first in the same order, so the rest is theirs alone).
  const withheldClasses = split.withheld.map((item) => item.dataClass);
  const withheldTasks = tasksFromPlan(
    planTasks(deps.config, [...split.erasable, ...withheldClasses], identifiers).slice(
      planTasks(deps.config, split.erasable, identifiers).length,
    ),
    spec,
  );
  const now = nowIso(deps);
  const decision = decidePreview(deps.config, {
    requested,
    withholding: split,
    eraseTasks,
    withheldTasks,
    holds,
    active: await activeHoldsFor(deps.holds, eraseTasks, now),
    now,
  });
  const targets = await Promise.all(
    decision.tasks.map(async (planned) => targetPreview(planned, await countOf(deps, planned, countingEnds))),
  );
  const totals = { erase: 0, blocked: 0, withheld: 0, unknown: 0, partial: 0 };
  for (const target of targets) {
    if (target.count === null) totals.unknown++;
    else totals[target.outcome] += target.count;
    if (target.partial === true) totals.partial++;
  }

  // Of the classes the request would erase, as its receipt names them.
  const unaddressed = unaddressedTargets(deps.config, split.erasable, identifiers);
  const detail: Record<string, string | number> = {
    intake: decision.intake,
    dataClasses: requested.join(','),
    erase: totals.erase,
    blocked: totals.blocked,
    withheld: totals.withheld,
    unknown: totals.unknown,
    ...(totals.partial === 0 ? {} : { partial: totals.partial }),
    ...(unaddressed.length === 0 ? {} : { unaddressed: unaddressed.map((u) => u.target).join(',') }),
    ...resolvedDetail(resolved),
  };
  decision.tasks.forEach(({ task }, index) => {
    const target = targets[index];
    if (target === undefined) return;
    // One key per planned task, as the plan names it: `customer-records#delete`, `partner-services#delete#cookies`.
    const key = planKey({ name: task.target, kind: task.connector }, task.action, task.dataClass);
    // A count that stopped at the time limit is a lower bound: `>=` says so.
    detail[`${key}.${target.outcome}`] =
      target.count === null ? 'unknown' : target.partial === true ? `>=${target.count}` : target.count;
  });
  await deps.uow.commit(
    [],
    [{ event: requestPreviewed(previewId, detail, now), subjectId: input.subjectId }],
  );

  return {
    dryRun: true,
    previewId,
    generatedAt: now,
    intake: decision.intake,
    dataClasses: decision.dataClasses,
    targets,
    ...(split.withheld.length === 0 ? {} : { withheld: split.withheld }),
    ...(unaddressed.length === 0 ? {} : { unaddressed }),
    totals,
  };
};
