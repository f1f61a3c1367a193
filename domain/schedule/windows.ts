/**
 * Rolling windows enforced per target (IMOU-1, IMOU-2, ALE-3, ALE-4): one run per (data class,
 * target) and grid slot erases what is older than the window across every subject, so the cost of
 * a window grows with what expires, not with subjects × days. Pure: the sweep (functions/services/
 * window-runs.ts) reads holds, per-subject windows and the last recorded slot, and asks the plan.
 *
 * Per-subject windows (a plan's `storagePeriod`): the run's default cut-off is `slot − window`;
 * subjects whose stored window differs get their own cut-off (`subjectCutoffs`). A connector lists
 * candidates up to the latest of those cut-offs and checks each item against its subject's one.
 * Only subjects with a window of their own are read, never every subject.
 */
import type { LegalHold } from '../holds.js';
import { holdsBlocking } from '../holds.js';
import { resolveRetention } from '../policy/config.js';
import { isRollingWindow } from '../policy/schema.js';
import type { DataClassPolicy, PolicyCatalog } from '../policy/types.js';
import { subtractDuration } from '../time.js';
import { nextRollingRun, rollingIntervalOf } from './due.js';

/** A subject whose window differs from its policy's (stored once from its trigger event). */
export interface SubjectWindow {
  readonly subjectId: string;
  readonly window: string;
}

/** One window run: what to erase in one target for one data class at one grid slot. */
export interface WindowRunPlan {
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly target: string;
  /** The grid slot this run stands for (ROLLING_WINDOW_ORIGIN + k × interval, at or before now). */
  readonly slot: string;
  /** The policy's window and its cut-off: items older than `cutoff` are erased. */
  readonly window: string;
  readonly cutoff: string;
  /** Cut-offs of subjects whose own window differs (subject id → cut-off). */
  readonly subjectCutoffs: Readonly<Record<string, string>>;
  /** Subjects whose data in this target active legal holds protect (ALM-3): never erased by this run. */
  readonly excludedSubjects: readonly string[];
}

/** The rolling-window policies of a catalog with each target they erase. */
export const windowRunsOf = (
  catalog: PolicyCatalog,
): readonly { readonly policy: DataClassPolicy; readonly target: string }[] =>
  catalog.dataClasses
    .filter((policy) => isRollingWindow(policy) && policy.action === 'delete')
    .flatMap((policy) => policy.targets.map((target) => ({ policy, target })));

/** The policy's own window (rolling windows ignore jurisdiction overrides: the catalog sets none). */
export const policyWindow = (policy: DataClassPolicy): string => resolveRetention(policy, undefined);

/** The latest slot on the policy's grid at or before `now`: the run that is due now. */
export const windowSlot = (policy: DataClassPolicy, now: string): string => {
  const interval = rollingIntervalOf(policy, policyWindow(policy));
  return subtractDuration(nextRollingRun(now, interval), interval);
};

/** Whether the run of `slot` is still to do, given the last slot recorded for the (class, target). */
export const windowRunDue = (slot: string, lastSlot: string | undefined): boolean =>
  lastSlot === undefined || lastSlot < slot;

/**
 * The run of `policy` on `target` at the slot due at `now`. `holds` are every active hold the
 * caller found (any subject); a hold excludes its subject when it covers the class or the target
 * (`holdsBlocking`, the one ALM-3 rule). Per-subject windows equal to the policy's are ignored.
 */
export function planWindowRun(input: {
  readonly catalog: PolicyCatalog;
  readonly policy: DataClassPolicy;
  readonly target: string;
  readonly now: string;
  readonly subjectWindows: readonly SubjectWindow[];
  readonly holds: readonly LegalHold[];
}): WindowRunPlan {
  const { catalog, policy, target, now } = input;
  const slot = windowSlot(policy, now);
  const window = policyWindow(policy);
  const subjectCutoffs: Record<string, string> = {};
  for (const { subjectId, window: own } of input.subjectWindows) {
    if (own !== window) subjectCutoffs[subjectId] = subtractDuration(slot, own);
  }
  const held = new Set(
    holdsBlocking(input.holds, catalog, { dataClass: policy.dataClass, target }, now).map(
      (hold) => hold.subjectId,
    ),
  );
  const [ruleRef = policy.dataClass] = policy.ruleRefs;
  return {
    dataClass: policy.dataClass,
    ruleRef,
    target,
    slot,
    window,
    cutoff: subtractDuration(slot, window),
    subjectCutoffs,
    excludedSubjects: [...held].sort(),
  };
}

/** The cut-off that applies to one subject's items in a run. */
export const cutoffFor = (
  plan: Pick<WindowRunPlan, 'cutoff' | 'subjectCutoffs'>,
  subjectId: string,
): string =>
  Object.hasOwn(plan.subjectCutoffs, subjectId) ? (plan.subjectCutoffs[subjectId] as string) : plan.cutoff;

/** The latest cut-off of a run: connectors list candidates older than this and check each one. */
export const listingCutoff = (plan: Pick<WindowRunPlan, 'cutoff' | 'subjectCutoffs'>): string =>
  Object.values(plan.subjectCutoffs).reduce(
    (latest, cutoff) => (cutoff > latest ? cutoff : latest),
    plan.cutoff,
  );
