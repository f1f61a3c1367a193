import { validateReasonCode } from '../../domain/erasure/index.js';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import type { LegalHold } from '../../domain/holds.js';
import { nowIso, type ServiceDeps } from './deps.js';

export interface LegalHoldInput {
  readonly subjectId: string;
  readonly dataClasses?: readonly string[];
  readonly reason: string;
  readonly until?: string;
}

/** ALM-3: statutory retention wins over deletion. A hold blocks every due deletion it covers. */
export const placeLegalHold = async (deps: ServiceDeps, input: LegalHoldInput): Promise<LegalHold> => {
  const createdAt = nowIso(deps);
  // Checked before the hold is stored: the audit append would refuse a reason holding the subject
  // id, and a hold stored without its audit entry would block deletions with a 400 answered.
  validateReasonCode(input.reason, 'reason', input.subjectId);
  input.dataClasses?.forEach((dataClass, index) => {
    if (!deps.config.catalog.dataClasses.some((policy) => policy.dataClass === dataClass)) {
      throw new ValidationError(`Unknown data class '${dataClass}'`, `dataClasses[${index}]`);
    }
  });
  if (input.until !== undefined && input.until <= createdAt) {
    throw new ValidationError('until must be in the future', 'until');
  }
  const hold: LegalHold = {
    holdId: `hold_${deps.randomId().replaceAll('-', '')}`,
    subjectId: input.subjectId,
    reason: input.reason,
    createdAt,
    ...(input.dataClasses === undefined ? {} : { dataClasses: [...new Set(input.dataClasses)] }),
    ...(input.until === undefined ? {} : { until: input.until }),
  };
  await deps.holds.place(hold);
  await deps.audit.append(
    {
      type: 'hold.placed',
      at: createdAt,
      idempotencyKey: `hold:${hold.holdId}:placed`,
      detail: {
        holdId: hold.holdId,
        reason: hold.reason,
        dataClasses: hold.dataClasses?.join(',') ?? '*',
        ...(hold.until === undefined ? {} : { until: hold.until }),
      },
    },
    hold.subjectId,
  );
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
  if (await deps.holds.release(hold, at)) {
    await deps.audit.append(
      { type: 'hold.released', at, idempotencyKey: `hold:${holdId}:released`, detail: { holdId } },
      hold.subjectId,
    );
  }
  await deps.schedules.rearmBlocked(hold.subjectId, at);
};
