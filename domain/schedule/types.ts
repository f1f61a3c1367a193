import type { LifecycleEventType } from '../events.js';
import type { SubjectIdentifiers } from '../identifiers/types.js';
import type { RetentionAction } from '../policy/types.js';

/**
 * - `pending`: will run at `dueAt` unless cancelled or blocked.
 * - `cancelled`: a tombstone; kept so that an older trigger arriving late cannot revive it.
 * - `blocked`: due but a blocker (unpaid invoice) stops it; re-armed when the blocker clears.
 * - `dispatched`: the sweep created the erasure request for it.
 * - `windowed`: a rolling window (IMOU-1, IMOU-2, ALE-3, ALE-4) applies to the subject. It is never
 *   due by itself: the target's window runs (domain/schedule/windows.ts) enforce it for every
 *   subject at once, so nothing is re-armed per subject.
 */
export type ScheduleStatus = 'pending' | 'cancelled' | 'blocked' | 'dispatched' | 'windowed';

export interface EventRef {
  readonly eventId: string;
  readonly type: LifecycleEventType;
  readonly occurredAt: string;
}

/** One data class's deletion for one subject. At most one entry per (subjectId, dataClass). */
export interface ScheduleEntry {
  readonly subjectId: string;
  readonly dataClass: string;
  readonly status: ScheduleStatus;
  readonly action: RetentionAction;
  readonly ruleRef: string;
  /**
   * When the deletion runs (pending/blocked/dispatched); for cancelled, the due time it had; for
   * windowed, the first window run that covers the subject.
   */
  readonly dueAt: string;
  /** When the subject is to be told (policies with `notice`). */
  readonly noticeAt?: string;
  /** The event that set the clock. */
  readonly trigger: EventRef;
  /** The latest event (trigger, cancel or blocker) applied to this entry; older events are ignored. */
  readonly lastEvent: EventRef;
  /** The change `lastEvent` made, so a re-sent event reports the same decisions. */
  readonly lastChange: DecisionChange;
  /**
   * True when `lastEvent` was recorded without reporting a decision (a tombstone stored before any
   * trigger, a second cancel, a cancel after dispatch): re-sending that event reports nothing.
   */
  readonly lastEventSilent?: boolean;
  /** Rolling windows (IMOU-1): the window length, and only data older than `dueAt - window` is erased. */
  readonly rollingWindow?: string;
  /**
   * A windowed entry's own window when it differs from the policy's (IMOU-1: the plan's
   * storagePeriod). Stored once when the event arrives; window runs read these (and only these)
   * to honour per-subject windows.
   */
  readonly subjectWindow?: string;
  /** Jurisdiction whose override set the period (ALU-2), if any. */
  readonly jurisdiction?: string;
  /**
   * The subject's identifiers from the events that scheduled it: kept, like the subject id, only
   * while the entry may still run, so the sweep's request can address targets keyed by them.
   */
  readonly identifiers?: SubjectIdentifiers;
}

/** A subject's schedule as the decision function sees it. */
export interface SubjectSchedule {
  readonly subjectId: string;
  readonly entries: readonly ScheduleEntry[];
  /** Set while an invoice is unpaid (ALE-2): the occurredAt of the `invoice.unpaid` event. */
  readonly unpaidInvoiceSince?: string;
  /** The latest invoice event applied, for out-of-order resolution of unpaid/settled. */
  readonly lastInvoiceEvent?: EventRef;
}

/**
 * `too_late`: a cancelling event arrived after the deletion it cancels had run (in part): what was
 * erased is listed in `erased`.
 */
export type DecisionChange = 'scheduled' | 'rescheduled' | 'cancelled' | 'notice' | 'too_late';

export interface ScheduleDecision {
  readonly change: DecisionChange;
  readonly dataClass: string;
  readonly action: RetentionAction;
  /** scheduled/rescheduled: the new due time; cancelled: the due time that no longer applies; notice: when to notify. */
  readonly dueAt: string;
  readonly ruleRef: string;
  /** too_late: what was erased before the cancelling event arrived, where and when. */
  readonly erased?: readonly { readonly target: string; readonly erasedAt?: string }[];
}

export interface DecisionResult {
  readonly decisions: readonly ScheduleDecision[];
  /** The schedule after applying the event. Equal to the input when the event changes nothing. */
  readonly next: SubjectSchedule;
  /**
   * Deletions already claimed by the sweep that this (late) cancelling event withdraws, as they
   * were: their erasure requests must be withdrawn (`withdrawRequest`).
   */
  readonly withdrawn?: readonly ScheduleEntry[];
}
