/**
 * The audit entry of a rolling-window run: exactly one per target and run, on the target's own
 * chain (`windowChainId`), never on a subject's. Counts and instants only: no subject ids.
 */
import type { WindowRunPlan } from '../schedule/windows.js';
import type { AuditEvent } from './types.js';

/** The chain window runs of one target append to. */
export const windowChainId = (target: string): string => `window:${target}`;

/** What a connector reports for a window run (domain/connectors/types.ts `WindowOutcome`). */
export interface WindowRunCounts {
  readonly erased: number;
  /** Items past their cut-off kept because a legal hold protects their subject (ALM-3). */
  readonly held: number;
  /** Verification read after the erase: items past their cut-off, not held, still there. */
  readonly remainingExpired?: number;
  /** The oldest item left in the target (held ones included), if the store can tell. */
  readonly oldestRemainingAt?: string;
}

export const windowRunRecorded = (plan: WindowRunPlan, counts: WindowRunCounts, at: string): AuditEvent => {
  const oldest = counts.oldestRemainingAt;
  const ageSeconds =
    oldest === undefined ? undefined : Math.max(0, Math.floor((Date.parse(at) - Date.parse(oldest)) / 1000));
  return {
    type: 'window.run',
    at,
    idempotencyKey: `window:${plan.dataClass}:${plan.target}:${plan.slot}`,
    dataClass: plan.dataClass,
    ruleRef: plan.ruleRef,
    target: plan.target,
    detail: {
      slot: plan.slot,
      window: plan.window,
      cutoff: plan.cutoff,
      subjectWindows: Object.keys(plan.subjectCutoffs).length,
      heldSubjects: plan.excludedSubjects.length,
      erased: counts.erased,
      held: counts.held,
      ...(counts.remainingExpired === undefined ? {} : { remainingExpired: counts.remainingExpired }),
      ...(oldest === undefined ? {} : { oldestRemainingAt: oldest }),
      ...(ageSeconds === undefined ? {} : { oldestRemainingAgeSeconds: ageSeconds }),
    },
  };
};
