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
