/**
 * A dry run of an erasure request: what intake would decide for it, task by task and class by
 * class, from the same plan (`planTasks`, `tasksFromPlan`), the same ALE-2 split (`withholding`)
 * and the same hold rule (`heldTasks`) a real request goes through. Pure: the service reads the
 * schedule and holds and asks the connectors for counts.
 */
import { heldTasks, type LegalHold } from '../holds.js';
import { findPolicy } from '../policy/lookup.js';
import type { DeploymentConfig, RetentionAction } from '../policy/types.js';
import { planKey } from './plan.js';
import type { ErasureTask } from './types.js';
import type { Withholding } from './withhold.js';

/** What would become of some data: erased, kept back by a legal hold (ALM-3), or withheld (ALE-2). */
export type PreviewOutcome = 'erase' | 'blocked' | 'withheld';
export type PreviewReason = 'legal-hold' | 'unpaid-invoice';

/** How intake would answer the request: stored and dispatched, stored and blocked, or refused (ALE-2). */
export type PreviewIntake = 'dispatched' | 'blocked' | 'refused';

/** One task a real request would have (or, for withheld classes, would have had). */
export interface PreviewTask {
  readonly task: ErasureTask;
  /** The requested classes whose data this task reaches (a store-wide target holds several). */
  readonly dataClasses: readonly string[];
  readonly outcome: PreviewOutcome;
  readonly reason?: PreviewReason;
  /** Ids of the holds that keep the task from erasing, sorted. */
  readonly blockedBy?: readonly string[];
}

export interface ClassPreview {
  readonly dataClass: string;
  readonly action: RetentionAction;
  readonly outcome: PreviewOutcome;
  readonly reason?: PreviewReason;
  readonly blockedBy?: readonly string[];
  /** The targets the catalog keeps the class's data in. */
  readonly targets: readonly string[];
}

export interface PreviewDecision {
  readonly intake: PreviewIntake;
  readonly tasks: readonly PreviewTask[];
  readonly dataClasses: readonly ClassPreview[];
}

export interface PreviewInput {
  /** The classes the request names (or the default ones), before ALE-2. */
  readonly requested: readonly string[];
  readonly withholding: Withholding;
  /** The tasks intake would create for `withholding.erasable` (what `createRequest` plans). */
  readonly eraseTasks: readonly ErasureTask[];
  /** The tasks the withheld classes would need beyond `eraseTasks` (counted, never erased). */
  readonly withheldTasks: readonly ErasureTask[];
  /** The subject's holds, as intake reads them. */
  readonly holds: readonly LegalHold[];
  /** Every active hold, when a task erases by identifier values (`heldTasks`), as intake reads them. */
  readonly active?: readonly LegalHold[];
  readonly now: string;
}

const actionOf = (config: DeploymentConfig, dataClass: string): RetentionAction | undefined =>
  findPolicy(config.catalog, dataClass)?.action;

/** The requested classes a task reaches: those `planTasks` would give to the same task. */
const classesOf = (config: DeploymentConfig, task: ErasureTask, requested: readonly string[]): string[] => {
  const key = planKey({ name: task.target, kind: task.connector }, task.action, task.dataClass);
  return requested.filter((dataClass) => {
    const policy = findPolicy(config.catalog, dataClass);
    if (policy === undefined || !policy.targets.includes(task.target)) return false;
    return planKey({ name: task.target, kind: task.connector }, policy.action, dataClass) === key;
  });
};

const sortedUnion = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())].sort();

export const decidePreview = (config: DeploymentConfig, input: PreviewInput): PreviewDecision => {
  const held = new Map(
    heldTasks(input.eraseTasks, input.holds, config.catalog, input.now, input.active).map(
      ({ task, holdIds }) => [task.taskId, holdIds],
    ),
  );
  const withheldClasses = new Set(input.withholding.withheld.map((item) => item.dataClass));
  const tasks: PreviewTask[] = [
    ...input.eraseTasks.map((task): PreviewTask => {
      const dataClasses = classesOf(config, task, input.requested);
      const blockedBy = held.get(task.taskId);
      return blockedBy === undefined
        ? { task, dataClasses, outcome: 'erase' }
        : { task, dataClasses, outcome: 'blocked', reason: 'legal-hold', blockedBy };
    }),
    ...input.withheldTasks.map(
      (task): PreviewTask => ({
        task,
        dataClasses: classesOf(config, task, input.requested),
        outcome: 'withheld',
        reason: 'unpaid-invoice',
      }),
    ),
  ];
  const dataClasses = input.requested.map((dataClass): ClassPreview => {
    const action = actionOf(config, dataClass) ?? 'delete';
    const targets = findPolicy(config.catalog, dataClass)?.targets ?? [];
    if (withheldClasses.has(dataClass)) {
      return { dataClass, action, outcome: 'withheld', reason: 'unpaid-invoice', targets };
    }
    const blockedBy = sortedUnion(
      tasks
        .filter((task) => task.outcome === 'blocked' && task.dataClasses.includes(dataClass))
        .map((task) => task.blockedBy ?? []),
    );
    return blockedBy.length === 0
      ? { dataClass, action, outcome: 'erase', targets }
      : { dataClass, action, outcome: 'blocked', reason: 'legal-hold', blockedBy, targets };
  });
  const intake: PreviewIntake =
    input.withholding.erasable.length === 0 ? 'refused' : held.size > 0 ? 'blocked' : 'dispatched';
  return { intake, tasks, dataClasses };
};
