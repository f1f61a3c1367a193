import { FORGOTTEN_PREFIX, pseudonymise } from './audit/pseudonym.js';
import type { ErasureTask } from './erasure/types.js';
import { ValidationError } from './errors.js';
import { hasIdentifiers } from './identifiers/identifiers.js';
import type { SubjectIdentifiers } from './identifiers/types.js';
import { findPolicy } from './policy/lookup.js';
import type { PolicyCatalog } from './policy/types.js';
import { validateReasonCode } from './vocabulary/codes.js';

/**
 * A legal hold (ALM-3): while active, nothing erases the data of the covered data classes. It
 * protects data, not labels: see `holdsBlocking`.
 */
export interface LegalHold {
  readonly holdId: string;
  readonly subjectId: string;
  /** Absent: every data class of the subject. */
  readonly dataClasses?: readonly string[];
  /** A reason code, not free text (it is audited). */
  readonly reason: string;
  readonly createdAt: string;
  /** The hold ends by itself at this instant. */
  readonly until?: string;
  readonly releasedAt?: string;
  /**
   * How many times the sweep has blocked a deletion on this hold (absent: never). A release is
   * conditional on the count it read, so a block and a release that cross cannot leave a deletion
   * blocked by a hold that is gone: one of the two commits fails and reads again.
   */
  readonly blockCount?: number;
  /**
   * The subject's identifiers named when the hold was placed (a record of what it protects, raw
   * while active like the subject id); a released hold keeps none.
   */
  readonly identifiers?: SubjectIdentifiers;
}

export const isHoldActive = (hold: LegalHold, now: string): boolean =>
  hold.releasedAt === undefined && (hold.until === undefined || hold.until > now);

/** The targets the catalog keeps `dataClass`'s data in (none for a class it does not know). */
const targetsOfClass = (catalog: PolicyCatalog, dataClass: string): readonly string[] =>
  findPolicy(catalog, dataClass)?.targets ?? [];

/**
 * The targets a hold protects (`holdCovers`): every target its classes live in; a hold without
 * classes protects every target of the catalog. Sorted.
 */
export const holdTargets = (hold: LegalHold, catalog: PolicyCatalog): string[] => {
  const classes = hold.dataClasses ?? catalog.dataClasses.map((policy) => policy.dataClass);
  return [...new Set(classes.flatMap((dataClass) => targetsOfClass(catalog, dataClass)))].sort();
};

/** Erasing work: a data class's data, in one target (a task) or in every target of the class (a due entry, a notice). */
export interface ErasureScope {
  readonly dataClass: string;
  /** Absent: every target the catalog names for `dataClass`. */
  readonly target?: string;
}

/**
 * Whether `hold` protects data that `scope` would erase. Connectors erase a subject's data per
 * target (a prefix, a table's items, a partner service), and targets are shared by classes: a
 * `suspended-account` erasure empties `customer-records`, where `customer-profile` lives too. So a
 * hold covers its classes and every target they live in; a hold without classes covers everything.
 */
export const holdCovers = (
  hold: LegalHold,
  catalog: PolicyCatalog,
  { dataClass, target }: ErasureScope,
): boolean => {
  if (hold.dataClasses === undefined || hold.dataClasses.includes(dataClass)) return true;
  const erased = target === undefined ? targetsOfClass(catalog, dataClass) : [target];
  return hold.dataClasses.some((held) => targetsOfClass(catalog, held).some((name) => erased.includes(name)));
};

/**
 * ALM-3: the active holds that stop `scope` from being erased at `now`. The one rule for the sweep
 * (due entries, rolling windows, notices), dispatch, the worker and the request view. `holds` are
 * the subject's; the caller reads them.
 */
export const holdsBlocking = (
  holds: readonly LegalHold[],
  catalog: PolicyCatalog,
  scope: ErasureScope,
  now: string,
): LegalHold[] => holds.filter((hold) => isHoldActive(hold, now) && holdCovers(hold, catalog, scope));

/**
 * The holds that name one of `identifiers`' values under the same identifier: a task that erases by
 * those values erases data a hold protects, whoever's request it belongs to (a request may carry
 * another person's e-mail; the hold of that person must still win). Values are compared without
 * case: `Ana@` and `ana@` reach one mailbox, and a hold that covers too much only waits for
 * compliance, while one that covers too little lets held data go.
 */
const holdsNamingIdentifiers = (
  holds: readonly LegalHold[],
  identifiers: SubjectIdentifiers | undefined,
): LegalHold[] => {
  if (identifiers === undefined) return [];
  const folded = Object.entries(identifiers).map(
    ([name, values]) => [name, new Set(values.map((value) => value.toLowerCase()))] as const,
  );
  return holds.filter((hold) =>
    folded.some(([name, values]) => hold.identifiers?.[name]?.some((held) => values.has(held.toLowerCase()))),
  );
};

/** A task a hold keeps from erasing, and the ids of the holds (sorted). */
export interface HeldTask {
  readonly task: ErasureTask;
  readonly holdIds: readonly string[];
}

/**
 * Whether judging `tasks` needs every active hold, of any subject (`HoldStore.active`), beside the
 * subject's own: only when one of them erases by identifier values. Otherwise the subject's own
 * holds are all that can stop them, and the read is saved.
 */
export const needsActiveHolds = (tasks: readonly ErasureTask[]): boolean =>
  tasks.some((task) => hasIdentifiers(task.identifiers));

/**
 * ALM-3 for one task: the holds that keep it from erasing at `now`. `holds` are the subject's own;
 * `active` (every active hold, of any subject, when `needsActiveHolds`) adds those naming a value
 * the task erases by, as a request may carry another person's e-mail. Either kind must also cover
 * the task's class or target (`holdCovers`). The one rule for intake, dispatch, the dry run, the
 * request view, the sweep and the worker.
 */
export const holdsOnTask = (
  task: ErasureTask,
  holds: readonly LegalHold[],
  catalog: PolicyCatalog,
  now: string,
  active: readonly LegalHold[] = [],
): LegalHold[] => {
  const named = holdsNamingIdentifiers(active, task.identifiers).filter(
    (hold) => !holds.some((own) => own.holdId === hold.holdId),
  );
  return holdsBlocking(
    [...holds, ...named],
    catalog,
    { dataClass: task.dataClass, target: task.target },
    now,
  );
};

/**
 * The tasks of a request that holds keep from erasing at `now` (`holdsOnTask`): those that have
 * not erased yet (`pending`, or `running`, as the worker checks again before its connector call).
 * Tasks that succeeded, were verified or failed are past the point a hold can stop, and so is a
 * task awaiting a callback: the other service has the work (once its callback is late it is sent
 * again, and the worker's own check stops it asking again while a hold stands).
 */
export const heldTasks = (
  tasks: readonly ErasureTask[],
  holds: readonly LegalHold[],
  catalog: PolicyCatalog,
  now: string,
  active: readonly LegalHold[] = [],
): HeldTask[] =>
  tasks.flatMap((task) => {
    if ((task.status !== 'pending' && task.status !== 'running') || task.awaitingCallback === true) return [];
    const blocking = holdsOnTask(task, holds, catalog, now, active);
    return blocking.length === 0 ? [] : [{ task, holdIds: blocking.map((hold) => hold.holdId).sort() }];
  });

export interface HoldRequest {
  readonly subjectId: string;
  readonly dataClasses?: readonly string[];
  readonly reason: string;
  readonly until?: string;
  readonly identifiers?: SubjectIdentifiers;
}

/**
 * ALM-3: the rules for placing a hold. The reason is a code (it is audited), the classes exist in
 * the catalog, and an end, when given, lies in the future. Checked before anything is stored.
 */
export const newHold = (
  input: HoldRequest,
  context: {
    readonly holdId: string;
    readonly createdAt: string;
    readonly knownDataClasses: readonly string[];
  },
): LegalHold => {
  validateReasonCode(input.reason, 'reason', input.subjectId, input.identifiers);
  input.dataClasses?.forEach((dataClass, index) => {
    if (!context.knownDataClasses.includes(dataClass)) {
      throw new ValidationError(`Unknown data class '${dataClass}'`, `dataClasses[${index}]`);
    }
  });
  if (input.until !== undefined && input.until <= context.createdAt) {
    throw new ValidationError('until must be in the future', 'until');
  }
  return {
    holdId: context.holdId,
    subjectId: input.subjectId,
    reason: input.reason,
    createdAt: context.createdAt,
    ...(input.dataClasses === undefined ? {} : { dataClasses: [...new Set(input.dataClasses)] }),
    ...(input.until === undefined ? {} : { until: input.until }),
    ...(hasIdentifiers(input.identifiers) ? { identifiers: input.identifiers } : {}),
  };
};

/** What a released hold keeps instead of the subject id: its keyed pseudonym. */
export const releasedHoldSubject = (pseudonymKey: string, subjectId: string): string =>
  subjectId.startsWith(FORGOTTEN_PREFIX)
    ? subjectId
    : `${FORGOTTEN_PREFIX}${pseudonymise(pseudonymKey, subjectId)}`;
