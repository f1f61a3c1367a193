/**
 * What a lifecycle event does to a subject's schedule. Pure: the caller loads the schedule, calls
 * `decide`, and stores `next` with a conditional write.
 *
 * - Events are ordered by `occurredAt`, never by arrival; ties are broken by `eventId`, so every
 *   replica orders the same events the same way. An entry ignores events older than its `lastEvent`.
 * - The decisions of an entry depend only on the newest event that reached it, so the same events in
 *   any arrival order leave the same pending entries (for one-off periods and rolling windows alike).
 * - Re-sending an event (same `eventId`) changes nothing and reports what it reported the first time.
 * - A decision's `ruleRef` is the policy's first ruleRef: catalogs list the rule that states the
 *   period first (customer-profile: ALE-1, even when an ALU-2 override set the period).
 */
import { requireRollingWindow } from '../bounds.js';
import { ValidationError } from '../errors.js';
import { LIFECYCLE_EVENT_TYPES, type LifecycleEvent } from '../events.js';
import { countValues, hasIdentifiers, mergeIdentifiers } from '../identifiers/identifiers.js';
import { overridingJurisdiction, resolveRetention } from '../policy/config.js';
import { isRollingWindow } from '../policy/schema.js';
import type { DataClassPolicy, PolicyCatalog } from '../policy/types.js';
import { addDuration, parseInstant, subtractDuration } from '../time.js';
import { countryCodeProblem } from '../vocabulary/index.js';
import { nextRollingRun, rollingIntervalOf } from './due.js';
import type { DecisionResult, EventRef, ScheduleDecision, ScheduleEntry, SubjectSchedule } from './types.js';

/** True when `a` comes after `b` in event order (occurredAt, then eventId). */
const isAfter = (a: EventRef, b: EventRef): boolean =>
  a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.eventId > b.eventId);

const attribute = (event: LifecycleEvent, name: string): string | undefined =>
  Object.hasOwn(event.attributes, name) ? event.attributes[name] : undefined;

const firstRuleRef = (policy: DataClassPolicy): string => {
  const [ruleRef] = policy.ruleRefs;
  if (ruleRef === undefined) {
    throw new ValidationError(`data class '${policy.dataClass}' has no ruleRefs`, 'ruleRefs');
  }
  return ruleRef;
};

/** Checks what the schedule relies on and returns the event's reference with a canonical time. */
function eventRefOf(schedule: SubjectSchedule, event: LifecycleEvent): EventRef {
  if (!(LIFECYCLE_EVENT_TYPES as readonly string[]).includes(event.type)) {
    throw new ValidationError(`type '${String(event.type)}' is not a known lifecycle event type`, 'type');
  }
  if (typeof event.eventId !== 'string' || event.eventId === '') {
    throw new ValidationError('eventId is required', 'eventId');
  }
  if (event.subjectId !== schedule.subjectId) {
    throw new ValidationError('the event is about another subject than the schedule', 'subjectId');
  }
  const jurisdiction = attribute(event, 'jurisdiction');
  const problem = jurisdiction === undefined ? undefined : countryCodeProblem(jurisdiction);
  if (problem !== undefined) {
    throw new ValidationError(
      `attributes.jurisdiction '${jurisdiction}' ${problem}`,
      'attributes.jurisdiction',
    );
  }
  return {
    eventId: event.eventId,
    type: event.type,
    occurredAt: parseInstant(event.occurredAt, 'occurredAt'),
  };
}

/**
 * The window a rolling policy runs with: the trigger's attribute (IMOU-1 storagePeriod, P1D to P10Y:
 * `requireRollingWindow`), else the period.
 */
function rollingWindowFor(policy: DataClassPolicy, event: LifecycleEvent, period: string): string {
  const name = policy.rollingWindowAttribute;
  const value = name === undefined ? undefined : attribute(event, name);
  if (name === undefined || value === undefined) return period;
  return requireRollingWindow(value, `attributes.${name}`);
}

const decisionsOf = (entry: ScheduleEntry): ScheduleDecision[] => {
  const decision: ScheduleDecision = {
    change: entry.lastChange,
    dataClass: entry.dataClass,
    action: entry.action,
    dueAt: entry.dueAt,
    ruleRef: entry.ruleRef,
  };
  if (entry.lastChange === 'cancelled' || entry.noticeAt === undefined) return [decision];
  return [decision, { ...decision, change: 'notice', dueAt: entry.noticeAt }];
};

/** What the event recorded as an entry's lastEvent reported when it was applied. */
const recordedDecisions = (entry: ScheduleEntry): ScheduleDecision[] =>
  entry.lastEventSilent === true ? [] : decisionsOf(entry);

/** The entry as stored without a decision of its own: only the newer lastEvent is kept. */
const silently = (entry: ScheduleEntry, ref: EventRef): ScheduleEntry => ({
  ...entry,
  lastEvent: ref,
  lastEventSilent: true,
});

type Outcome =
  | {
      readonly entry: ScheduleEntry;
      readonly decisions: readonly ScheduleDecision[];
      /** A dispatched entry a late cancel withdraws, as it was. */
      readonly withdrawn?: ScheduleEntry;
    }
  | undefined;

function applyTrigger(
  policy: DataClassPolicy,
  entry: ScheduleEntry | undefined,
  event: LifecycleEvent,
  ref: EventRef,
): Outcome {
  if (entry !== undefined && isAfter(entry.lastEvent, ref)) return undefined;
  const jurisdiction = overridingJurisdiction(policy, attribute(event, 'jurisdiction'));
  const period = resolveRetention(policy, jurisdiction);
  const rollingWindow = isRollingWindow(policy) ? rollingWindowFor(policy, event, period) : undefined;
  // A rolling window is stored once and enforced by the target's window runs (windows.ts): the
  // entry only says that it applies, and with which window, from the first run that covers it.
  const dueAt =
    rollingWindow === undefined
      ? addDuration(ref.occurredAt, period)
      : nextRollingRun(ref.occurredAt, rollingIntervalOf(policy, rollingWindow));
  const noticeAt = policy.notice === undefined ? undefined : subtractDuration(dueAt, policy.notice);
  const action = policy.action;
  const ruleRef = firstRuleRef(policy);

  const active =
    entry !== undefined &&
    (entry.status === 'pending' || entry.status === 'blocked' || entry.status === 'windowed');
  // A later event may bring identifiers the entry did not have: the entry then records them.
  const identifiers = mergeIdentifiers(active ? entry.identifiers : undefined, event.identifiers);
  if (active) {
    const sameTerms =
      countValues(identifiers) === countValues(entry.identifiers) &&
      entry.rollingWindow === rollingWindow &&
      entry.jurisdiction === jurisdiction &&
      entry.action === action &&
      entry.ruleRef === ruleRef;
    // A window that applies already stays as it is, however often its trigger comes (every login
    // sends `subject.active`); a one-off period with an unchanged due time has nothing to reschedule.
    const armed = rollingWindow === undefined ? entry.dueAt === dueAt : entry.status === 'windowed';
    // Nothing to reschedule, but the entry must still record this newer event: otherwise an
    // older cancel arriving later would find the entry's lastEvent before it and cancel it.
    if (sameTerms && armed && entry.noticeAt === noticeAt)
      return { entry: silently(entry, ref), decisions: [] };
  }
  const change = active ? 'rescheduled' : 'scheduled';
  const subjectWindow = rollingWindow !== undefined && rollingWindow !== period ? rollingWindow : undefined;
  const next: ScheduleEntry = {
    subjectId: event.subjectId,
    dataClass: policy.dataClass,
    status: rollingWindow === undefined ? 'pending' : 'windowed',
    action,
    ruleRef,
    dueAt,
    ...(noticeAt === undefined ? {} : { noticeAt }),
    trigger: ref,
    lastEvent: ref,
    lastChange: change,
    ...(rollingWindow === undefined ? {} : { rollingWindow }),
    ...(subjectWindow === undefined ? {} : { subjectWindow }),
    ...(jurisdiction === undefined ? {} : { jurisdiction }),
    ...(rollingWindow === undefined && hasIdentifiers(identifiers) ? { identifiers } : {}),
  };
  return { entry: next, decisions: decisionsOf(next) };
}

function applyCancel(
  policy: DataClassPolicy,
  entry: ScheduleEntry | undefined,
  subjectId: string,
  ref: EventRef,
): Outcome {
  if (entry === undefined) {
    // A tombstone, so that a trigger older than this cancel, arriving later, cannot schedule anything.
    const tombstone: ScheduleEntry = {
      subjectId,
      dataClass: policy.dataClass,
      status: 'cancelled',
      action: policy.action,
      ruleRef: firstRuleRef(policy),
      dueAt: ref.occurredAt,
      trigger: ref,
      lastEvent: ref,
      lastChange: 'cancelled',
      lastEventSilent: true,
    };
    return { entry: tombstone, decisions: [] };
  }
  if (isAfter(entry.lastEvent, ref)) return undefined;
  if (entry.status === 'dispatched' && ref.occurredAt < entry.dueAt) {
    // The cancel happened before the deletion was due but arrived after the sweep claimed it: the
    // deletion must be withdrawn (the caller withdraws its request and reports what already ran).
    const { noticeAt: _noticeAt, lastEventSilent: _silent, ...kept } = entry;
    const withdrawn: ScheduleEntry = {
      ...kept,
      status: 'cancelled',
      lastEvent: ref,
      lastChange: 'cancelled',
    };
    return { entry: withdrawn, decisions: decisionsOf(withdrawn), withdrawn: entry };
  }
  if (entry.status === 'cancelled' || entry.status === 'dispatched') {
    // Too late to cancel a dispatched deletion, and a tombstone stays one; recording the newer
    // event still keeps older triggers from reviving the entry.
    return { entry: silently(entry, ref), decisions: [] };
  }
  const { noticeAt: _noticeAt, lastEventSilent: _silent, ...kept } = entry;
  const cancelled: ScheduleEntry = { ...kept, status: 'cancelled', lastEvent: ref, lastChange: 'cancelled' };
  return { entry: cancelled, decisions: decisionsOf(cancelled) };
}

/**
 * A settled invoice clears the unpaid-invoice blocker: entries it blocked become pending again
 * at their due time (already past, so the next sweep runs them) unless a trigger rescheduled them.
 */
function applyInvoiceCleared(
  policy: DataClassPolicy,
  entry: ScheduleEntry | undefined,
  ref: EventRef,
): Outcome {
  if (
    entry?.status !== 'blocked' ||
    !policy.blockers.includes('unpaid-invoice') ||
    isAfter(entry.lastEvent, ref)
  ) {
    return undefined;
  }
  const { lastEventSilent: _silent, ...kept } = entry;
  const rearmed: ScheduleEntry = { ...kept, status: 'pending', lastEvent: ref, lastChange: 'rescheduled' };
  return { entry: rearmed, decisions: decisionsOf(rearmed) };
}

/** The invoice state after `ref` (ALE-2): the newest invoice event wins. */
function invoiceStateAfter(
  schedule: SubjectSchedule,
  ref: EventRef,
): Pick<SubjectSchedule, 'unpaidInvoiceSince' | 'lastInvoiceEvent'> | undefined {
  if (ref.type !== 'invoice.unpaid' && ref.type !== 'invoice.settled') return undefined;
  const last = schedule.lastInvoiceEvent;
  if (last !== undefined && (last.eventId === ref.eventId || isAfter(last, ref))) return undefined;
  return ref.type === 'invoice.unpaid'
    ? { unpaidInvoiceSince: ref.occurredAt, lastInvoiceEvent: ref }
    : { lastInvoiceEvent: ref };
}

/**
 * Applies one lifecycle event to a subject's schedule.
 *
 * - A trigger schedules `occurredAt + period` (the ALU-2 override of `attributes.jurisdiction` if
 *   any). A rolling window's trigger stores a `windowed` entry once (its window, due at the first
 *   window run that covers the subject) and later triggers with the same window change nothing:
 *   window runs per target enforce it, never re-armed per subject. Reported `scheduled` for a new, cancelled or
 *   dispatched entry and `rescheduled` for a pending/blocked one whose due time changes; an
 *   unchanged due time reports nothing. Policies with a notice add a `notice` decision.
 * - A cancelling event turns a pending/blocked entry into a `cancelled` tombstone; with no entry
 *   it stores a tombstone silently. Dispatched entries are not cancelled.
 * - `invoice.unpaid` / `invoice.settled` maintain `unpaidInvoiceSince` (newest invoice event wins).
 */
export function decide(
  catalog: PolicyCatalog,
  schedule: SubjectSchedule,
  event: LifecycleEvent,
): DecisionResult {
  const ref = eventRefOf(schedule, event);
  // An attribute the catalog reads as a rolling window is checked whatever the event triggers.
  for (const policy of catalog.dataClasses) {
    const name = policy.rollingWindowAttribute;
    const value = name === undefined ? undefined : attribute(event, name);
    if (value !== undefined) requireRollingWindow(value, `attributes.${name}`);
  }
  const entries = new Map(schedule.entries.map((entry) => [entry.dataClass, entry]));
  const invoiceState = invoiceStateAfter(schedule, ref);
  const decisions: ScheduleDecision[] = [];
  const withdrawn: ScheduleEntry[] = [];
  let changed = false;

  for (const policy of catalog.dataClasses) {
    const entry = entries.get(policy.dataClass);
    if (entry !== undefined && entry.lastEvent.eventId === ref.eventId) {
      decisions.push(...recordedDecisions(entry));
      continue;
    }
    let outcome: Outcome;
    if (policy.triggers.includes(ref.type)) {
      outcome = applyTrigger(policy, entry, event, ref);
    } else if (policy.cancelledBy.includes(ref.type)) {
      outcome = applyCancel(policy, entry, schedule.subjectId, ref);
    } else if (ref.type === 'invoice.settled' && invoiceState !== undefined) {
      outcome = applyInvoiceCleared(policy, entry, ref);
    }
    if (outcome !== undefined) {
      entries.set(policy.dataClass, outcome.entry);
      decisions.push(...outcome.decisions);
      if (outcome.withdrawn !== undefined) withdrawn.push(outcome.withdrawn);
      changed = true;
    }
  }

  if (!changed && invoiceState === undefined) return { decisions, next: schedule, withdrawn };
  const { unpaidInvoiceSince, lastInvoiceEvent, ...rest } = schedule;
  const invoice = invoiceState ?? { unpaidInvoiceSince, lastInvoiceEvent };
  const next: SubjectSchedule = {
    ...rest,
    entries: [...entries.values()],
    ...(invoice.unpaidInvoiceSince === undefined ? {} : { unpaidInvoiceSince: invoice.unpaidInvoiceSince }),
    ...(invoice.lastInvoiceEvent === undefined ? {} : { lastInvoiceEvent: invoice.lastInvoiceEvent }),
  };
  return { decisions, next, withdrawn };
}
