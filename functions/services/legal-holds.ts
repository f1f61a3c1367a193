import { holdPlaced, holdReleased } from '../../domain/audit/events.js';
import { NotFoundError } from '../../domain/errors.js';
import { type HoldRequest, type LegalHold, newHold } from '../../domain/holds.js';
import { nowIso, type ServiceDeps } from './deps.js';

export type LegalHoldInput = HoldRequest;

/** ALM-3: statutory retention wins over deletion. A hold blocks every due deletion it covers. */
export const placeLegalHold = async (deps: ServiceDeps, input: LegalHoldInput): Promise<LegalHold> => {
  const hold = newHold(input, {
    holdId: `hold_${deps.randomId().replaceAll('-', '')}`,
    createdAt: nowIso(deps),
    knownDataClasses: deps.config.catalog.dataClasses.map((policy) => policy.dataClass),
  });
  const outcome = await deps.uow.commit(
    [{ kind: 'hold.place', hold }],
    [{ event: holdPlaced(hold), subjectId: hold.subjectId }],
  );
  if (!outcome.committed) throw new Error(`Legal hold id '${hold.holdId}' is already taken`);
  return hold;
};

/**
 * Ends a hold. Deletions it blocked go back into the due index at once, so the next sweep runs
 * them (unless another hold still covers them). Releasing twice is harmless.
 */
export const releaseLegalHold = async (deps: ServiceDeps, holdId: string): Promise<void> => {
  const hold = await deps.holds.find(holdId);
  if (hold === undefined) throw new NotFoundError(`Legal hold '${holdId}' not found`);
  const at = nowIso(deps);
  // A hold already released fails its condition and appends nothing: the first release is audited.
  await deps.uow.commit(
    [{ kind: 'hold.release', hold, releasedAt: at }],
    [{ event: holdReleased(holdId, at), subjectId: hold.subjectId }],
  );
  const { schedule } = await deps.schedules.load(hold.subjectId);
  for (const entry of schedule.entries.filter((candidate) => candidate.status === 'blocked')) {
    await deps.uow.commit([{ kind: 'schedule.replace', expected: entry, next: entry, at, retryAt: at }]);
  }
};
