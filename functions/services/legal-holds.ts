import { holdPlaced, holdReleased } from '../../domain/audit/events.js';
import { pseudonymise } from '../../domain/audit/index.js';
import type { HoldsInForce } from '../../domain/erasure/recovery.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { IdempotencyConflictError, NotFoundError } from '../../domain/errors.js';
import { type HoldRequest, type LegalHold, needsActiveHolds, newHold } from '../../domain/holds.js';
import type { HoldStore } from '../../domain/ports/index.js';
import { nowIso, type ServiceDeps } from './deps.js';
import { resolveIdentifiers } from './identifier-resolution.js';

export type LegalHoldInput = HoldRequest;

/** Keyed, like every value derived from a subject id that the orchestrator keeps. */
const holdBodyHash = (key: string, input: LegalHoldInput): string =>
  pseudonymise(
    key,
    JSON.stringify({
      subjectId: input.subjectId,
      reason: input.reason,
      dataClasses: input.dataClasses === undefined ? null : [...input.dataClasses].sort(),
      until: input.until ?? null,
      identifiers: input.identifiers ?? null,
    }),
  );

/**
 * The hold's input with the subject's identifiers as the deployment's resolver knows them (merged
 * with those given), so that the hold also recognises them in another subject's request. A hold
 * never waits on a lookup: if the resolver cannot answer, it is placed with what was given.
 */
const withResolvedIdentifiers = async (
  deps: ServiceDeps,
  input: LegalHoldInput,
  holdId: string,
): Promise<LegalHoldInput> => {
  if (deps.identifierResolver === undefined) return input;
  try {
    const { identifiers } = await resolveIdentifiers(
      deps,
      { subjectId: input.subjectId, requestId: holdId },
      input.identifiers,
    );
    return identifiers === undefined ? input : { ...input, identifiers };
  } catch (error) {
    deps.log.warn('identifier resolver did not answer; the hold is placed with the identifiers given', {
      holdId,
      errorName: error instanceof Error ? error.name : typeof error,
    });
    return input;
  }
};

/**
 * ALM-3: statutory retention wins over deletion. A hold blocks every due deletion it covers.
 * With an Idempotency-Key, placing again (a retry, a double click) answers the hold the key placed,
 * released or not, and places nothing; the key with another body is refused. The key's record is
 * committed with the hold, so two placements at once leave one hold.
 */
export const placeLegalHold = async (
  deps: ServiceDeps,
  input: LegalHoldInput,
  idempotencyKey?: string,
): Promise<{ readonly holdId: string; readonly releasedAt?: string }> => {
  const hash = idempotencyKey === undefined ? undefined : holdBodyHash(deps.settings.idKey, input);
  const replayed = async (key: string): Promise<{ holdId: string; releasedAt?: string } | undefined> => {
    const record = await deps.requests.holdIdempotencyRecord(key);
    if (record === undefined) return undefined;
    if (record.bodyHash !== hash) {
      throw new IdempotencyConflictError('This Idempotency-Key was already used for a different legal hold');
    }
    // A key of a hold released since answers it as it is: released (a retry places no new one).
    const hold = await deps.holds.find(record.holdId);
    return {
      holdId: record.holdId,
      ...(hold?.releasedAt === undefined ? {} : { releasedAt: hold.releasedAt }),
    };
  };
  if (idempotencyKey !== undefined) {
    const replay = await replayed(idempotencyKey);
    if (replay !== undefined) return replay;
  }
  const at = nowIso(deps);
  const holdId = `hold_${deps.randomId().replaceAll('-', '')}`;
  const hold = newHold(await withResolvedIdentifiers(deps, input, holdId), {
    holdId,
    createdAt: at,
    knownDataClasses: deps.config.catalog.dataClasses.map((policy) => policy.dataClass),
  });
  const outcome = await deps.uow.commit(
    [
      { kind: 'hold.place', hold },
      ...(idempotencyKey === undefined || hash === undefined
        ? []
        : [
            {
              kind: 'hold.idempotency' as const,
              key: idempotencyKey,
              holdId: hold.holdId,
              bodyHash: hash,
              at,
            },
          ]),
    ],
    [{ event: holdPlaced(hold), subjectId: hold.subjectId }],
  );
  if (outcome.committed) return { holdId: hold.holdId };
  // A placement with the same key committed first: answer its hold.
  const winner = idempotencyKey === undefined ? undefined : await replayed(idempotencyKey);
  if (winner !== undefined) return winner;
  throw new Error(`Legal hold id '${hold.holdId}' is already taken`);
};

/**
 * Reads and commits a release tries before it gives up on a subject whose schedule keeps moving:
 * a sweep shard may block several of the subject's deletions at once, each counted on the hold.
 */
export const RELEASE_ATTEMPTS = 8;
/** The longest pause between two attempts (full jitter, doubling from 20 ms): 1.6 s at most in all. */
const RELEASE_BACKOFF_CAP_MS = 500;

/**
 * Ends a hold. Deletions it blocked go back into the due index in the same commit, so the next
 * sweep runs them (unless another hold still covers them) even if this function dies right after
 * the release. Releasing again is harmless: a hold already released is left as it is (its subject
 * is a pseudonym by then) and nothing is appended.
 */
export const releaseLegalHold = async (deps: ServiceDeps, holdId: string): Promise<void> => {
  const found = await deps.holds.find(holdId);
  if (found === undefined) throw new NotFoundError(`Legal hold '${holdId}' not found`);
  if (found.releasedAt !== undefined) return;
  for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
    // The id lookup may lag; the subject's holds are read consistently, with their `blockCount`.
    const [holds, { schedule }] = await Promise.all([
      deps.holds.forSubject(found.subjectId),
      deps.schedules.load(found.subjectId),
    ]);
    const hold = holds.find((candidate) => candidate.holdId === holdId);
    // Gone from the subject's holds: released meanwhile (a released hold moves to a pseudonym).
    if (hold === undefined || hold.releasedAt !== undefined) return;
    const at = nowIso(deps);
    const requeued = schedule.entries
      .filter((entry) => entry.status === 'blocked')
      .map((entry) => ({ kind: 'schedule.replace' as const, expected: entry, next: entry, at, retryAt: at }));
    const outcome = await deps.uow.commit(
      [{ kind: 'hold.release', hold, releasedAt: at }, ...requeued],
      [{ event: holdReleased(holdId, at), subjectId: hold.subjectId }],
    );
    if (outcome.committed) return;
    // Another release won (the next read finds the hold gone), or the sweep blocked a deletion on
    // the hold or moved one of the subject's entries since they were read: read both again, after
    // a pause that lets a burst of blocks pass.
    const pause = Math.random() * Math.min(RELEASE_BACKOFF_CAP_MS, 10 * 2 ** attempt);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  throw new Error(`Legal hold '${holdId}': the release did not settle after ${RELEASE_ATTEMPTS} attempts`);
};

/**
 * Every hold active at `at`, of any subject, when one of `tasks` erases by identifier values
 * (`needsActiveHolds`): what `heldTasks` needs to find another subject's hold naming those values.
 * No read otherwise.
 */
export const activeHoldsFor = async (
  holds: Pick<HoldStore, 'active'>,
  tasks: readonly ErasureTask[],
  at: string,
): Promise<LegalHold[]> => (needsActiveHolds(tasks) ? holds.active(at) : []);

/**
 * The holds that may keep `tasks` of `subjectId` from erasing at `at` (`heldTasks`, `stoppedTasks`):
 * the subject's own, and every active hold when a task erases by identifier values; read at once.
 */
export const readHoldsInForce = async (
  deps: Pick<ServiceDeps, 'holds' | 'config'>,
  subjectId: string,
  tasks: readonly ErasureTask[],
  at: string,
): Promise<HoldsInForce & { readonly active: readonly LegalHold[] }> => {
  const [holds, active] = await Promise.all([
    deps.holds.forSubject(subjectId),
    activeHoldsFor(deps.holds, tasks, at),
  ]);
  return { holds, active, catalog: deps.config.catalog };
};

/**
 * Data minimisation for holds that ran out (`until` passed): each is moved to its subject's
 * pseudonym and loses its identifiers, as a release does (`releasedAt` is its end), so no hold
 * keeps the id or the e-mail of a person it no longer protects. Run by the sweep. No audit entry:
 * the hold's `hold.placed` entry records its end. A hold released by hand meanwhile wins.
 */
export const forgetEndedHolds = async (
  deps: Pick<ServiceDeps, 'holds' | 'uow'>,
  now: string,
): Promise<number> => {
  let forgotten = 0;
  for (const hold of await deps.holds.ended(now)) {
    const outcome = await deps.uow.commit([{ kind: 'hold.release', hold, releasedAt: hold.until ?? now }]);
    if (outcome.committed) forgotten++;
  }
  return forgotten;
};

/**
 * `holds` with `active` read once, for one run of the sweep (a shard, the review of open
 * requests): a hold that ends meanwhile still counts until the next sweep (the safe side), a hold
 * placed meanwhile is seen by the worker, which reads the holds again right before erasing.
 */
export const activeReadOnce = (holds: HoldStore): HoldStore => {
  let active: Promise<LegalHold[]> | undefined;
  return {
    find: (holdId) => holds.find(holdId),
    forSubject: (subjectId) => holds.forSubject(subjectId),
    ended: (now) => holds.ended(now),
    active: (now) => {
      active ??= holds.active(now);
      return active;
    },
  };
};
