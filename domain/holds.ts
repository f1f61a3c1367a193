import { pseudonymise } from './audit/pseudonym.js';
import { ValidationError } from './errors.js';
import { validateReasonCode } from './vocabulary/codes.js';

/** A legal hold (ALM-3): while active, no deletion of the covered data classes runs. */
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
}

export const isHoldActive = (hold: LegalHold, now: string): boolean =>
  hold.releasedAt === undefined && (hold.until === undefined || hold.until > now);

export const holdCovers = (hold: LegalHold, dataClass: string): boolean =>
  hold.dataClasses === undefined || hold.dataClasses.includes(dataClass);

/** The holds that stop `dataClass` from being deleted at `now`. */
export const blockingHolds = (holds: readonly LegalHold[], dataClass: string, now: string): LegalHold[] =>
  holds.filter((hold) => isHoldActive(hold, now) && holdCovers(hold, dataClass));

export interface HoldRequest {
  readonly subjectId: string;
  readonly dataClasses?: readonly string[];
  readonly reason: string;
  readonly until?: string;
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
  validateReasonCode(input.reason, 'reason', input.subjectId);
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
  };
};

/** What a released hold keeps instead of the subject id: its keyed pseudonym. */
export const releasedHoldSubject = (pseudonymKey: string, subjectId: string): string =>
  subjectId.startsWith('pseudonym:') ? subjectId : `pseudonym:${pseudonymise(pseudonymKey, subjectId)}`;
