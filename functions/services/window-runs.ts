import { windowChainId, windowRunRecorded } from '../../domain/audit/window-events.js';
import type { LegalHold } from '../../domain/holds.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';
import type { Change } from '../../domain/ports/index.js';
import { erasureTally } from '../../domain/reports/erasures.js';
import type { SubjectWindow } from '../../domain/schedule/windows.js';
import { planWindowRun, windowRunDue, windowRunsOf, windowSlot } from '../../domain/schedule/windows.js';
import { findTarget } from '../../domain/vocabulary/index.js';
import type { ConnectorRegistry } from '../connectors/registry.js';
import type { ServiceDeps } from './deps.js';

/** What window runs need: no requests, no tasks, no queue. */
export type WindowDeps = Pick<ServiceDeps, 'config' | 'schedules' | 'holds' | 'uow' | 'log'> & {
  readonly connectors: Pick<ConnectorRegistry, 'expire'>;
};

export interface WindowRunReport {
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly target: string;
  readonly slot: string;
  /**
   * `ran`: erased and recorded (one audit entry); `done`: this slot was recorded before;
   * `raced`: a concurrent sweep recorded it first; `failed`: tried again at the next sweep.
   */
  readonly status: 'ran' | 'done' | 'raced' | 'failed';
  readonly erased?: number;
  readonly held?: number;
}

/** The id of one run: stable for its (class, target, slot), so a retried webhook call is recognised. */
export const windowRunId = (dataClass: string, target: string, slot: string): string =>
  `window:${dataClass}:${target}:${slot}`;

/**
 * Every rolling window whose run is due at `now` (IMOU-1, IMOU-2, ALE-3, ALE-4): one run per
 * (data class, target) and grid slot, across every subject. Per run: the last recorded slot (one
 * read), once per sweep the active holds (excluded subjects) and per class the subjects with a
 * window of their own, then the connector's `expire` and one commit of the slot with its audit
 * entry on the target's chain. Nothing per subject: no requests, tasks or schedule writes.
 *
 * Idempotent: a slot already recorded is skipped; two sweeps racing both erase (connectors are
 * idempotent) but only one records the slot and its audit entry. A run that fails records
 * nothing and is tried again at the next sweep; its counts are those of the run that records.
 */
export const runWindows = async (deps: WindowDeps, now: string): Promise<WindowRunReport[]> => {
  const reports: WindowRunReport[] = [];
  let holds: Promise<LegalHold[]> | undefined;
  const subjectWindows = new Map<string, Promise<SubjectWindow[]>>();
  for (const { policy, target } of windowRunsOf(deps.config.catalog)) {
    const slot = windowSlot(policy, now);
    const [ruleRef = policy.dataClass] = policy.ruleRefs;
    const base = { dataClass: policy.dataClass, ruleRef, target, slot };
    try {
      const report = await runOne(deps, now, policy, target, base, {
        holds: () => {
          holds ??= deps.holds.active(now);
          return holds;
        },
        subjectWindows: () => {
          let windows = subjectWindows.get(policy.dataClass);
          if (windows === undefined) {
            // Only classes whose trigger carries a window can have subjects with their own.
            windows =
              policy.rollingWindowAttribute === undefined
                ? Promise.resolve([])
                : deps.schedules.subjectWindows(policy.dataClass);
            subjectWindows.set(policy.dataClass, windows);
          }
          return windows;
        },
      });
      if (report !== undefined) reports.push(report);
    } catch (error) {
      // One target failing (a store down, a conflict) must not stop the other runs nor the sweep.
      deps.log.error('window run failed; tried again at the next sweep', {
        dataClass: policy.dataClass,
        target,
        slot,
        errorName: error instanceof Error ? error.name : typeof error,
      });
      reports.push({ ...base, status: 'failed' });
    }
  }
  return reports;
};

/** One run of one (class, target); undefined when the target is not configured. */
const runOne = async (
  deps: WindowDeps,
  now: string,
  policy: DataClassPolicy,
  target: string,
  base: Pick<WindowRunReport, 'dataClass' | 'ruleRef' | 'target' | 'slot'>,
  read: { holds: () => Promise<LegalHold[]>; subjectWindows: () => Promise<SubjectWindow[]> },
): Promise<WindowRunReport | undefined> => {
  const { slot } = base;
  if (!windowRunDue(slot, await deps.schedules.lastWindowRun(policy.dataClass, target))) {
    return { ...base, status: 'done' };
  }
  const connectorTarget = findTarget(deps.config, target);
  if (connectorTarget === undefined) return undefined;
  const plan = planWindowRun({
    catalog: deps.config.catalog,
    policy,
    target,
    now,
    subjectWindows: await read.subjectWindows(),
    holds: await read.holds(),
  });
  const outcome = await deps.connectors.expire(connectorTarget, {
    runId: windowRunId(plan.dataClass, target, slot),
    dataClass: plan.dataClass,
    cutoff: plan.cutoff,
    subjectCutoffs: plan.subjectCutoffs,
    excludedSubjects: plan.excludedSubjects,
  });
  // ALE-5: what the run erased is counted with the run's record (its slot claim makes it count once).
  const tally: Change[] =
    outcome.erased > 0
      ? [
          {
            kind: 'erasure.tally',
            tally: erasureTally({
              at: now,
              dataClass: plan.dataClass,
              ruleRef: base.ruleRef,
              action: policy.action,
              items: outcome.erased,
              key: windowRunId(plan.dataClass, target, slot),
            }),
          },
        ]
      : [];
  const committed = await deps.uow.commit(
    [{ kind: 'window.run', dataClass: plan.dataClass, target, slot, at: now }, ...tally],
    [{ event: windowRunRecorded(plan, outcome, now), chain: windowChainId(target) }],
  );
  return {
    ...base,
    status: committed.committed ? 'ran' : 'raced',
    erased: outcome.erased,
    held: outcome.held,
  };
};
