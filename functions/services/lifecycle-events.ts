import { deletionTooLate, lifecycleRecorded } from '../../domain/audit/events.js';
import { pseudonymise } from '../../domain/audit/index.js';
import { scheduledRequestId, withdrawRequest } from '../../domain/erasure/index.js';
import type { ErasureTask } from '../../domain/erasure/types.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import type { LifecycleEvent, LifecycleEventType } from '../../domain/events.js';
import { hasIdentifiers, type SubjectIdentifiers } from '../../domain/identifiers/identifiers.js';
import type { AuditRecord, Change } from '../../domain/ports/index.js';
import { decide } from '../../domain/schedule/decide.js';
import type { ScheduleDecision, ScheduleEntry } from '../../domain/schedule/types.js';
import { METRIC } from '../shared/metric-names.js';
import { nowIso, type ServiceDeps } from './deps.js';
import { checkSuppressions, eventSuppression } from './suppressions.js';

export interface LifecycleEventInput {
  readonly subjectId: string;
  readonly type: LifecycleEventType;
  /** Canonical ISO instant (the API normalises it). */
  readonly occurredAt: string;
  readonly attributes: Readonly<Record<string, string>>;
  /** Validated against the declared identifiers (`validateIdentifiers`). */
  readonly identifiers?: SubjectIdentifiers;
}

export interface LifecycleEventResult {
  readonly eventId: string;
  readonly decisions: readonly ScheduleDecision[];
  /**
   * The event's subject id or identifiers that belong to an erased subject (suppression list):
   * their names. The product service should not re-collect them. Absent when none is.
   */
  readonly suppressed?: readonly string[];
}

/** Events after which the subject is listed for suppression, in the event's own commit. */
const SUPPRESSING_EVENTS: readonly LifecycleEventType[] = ['account.deleted', 'account.closed'];

const MAX_ATTEMPTS = 5;

/**
 * The same event always gets the same id, so a re-sent event is recognised and answered the same
 * way. Keyed, because the id is audited and must not let anyone confirm a guessed subject id.
 */
export const lifecycleEventId = (key: string, input: LifecycleEventInput): string => {
  const attributes = Object.keys(input.attributes)
    .sort()
    .map((key) => [key, input.attributes[key]]);
  // Identifiers only when sent, so an event without them keeps the id it always had.
  const identifiers = hasIdentifiers(input.identifiers)
    ? [Object.entries(input.identifiers ?? {}).sort(([a], [b]) => a.localeCompare(b))]
    : [];
  const digest = pseudonymise(
    key,
    JSON.stringify([input.subjectId, input.type, input.occurredAt, attributes, ...identifiers]),
  );
  return `evt_${digest.slice(0, 32)}`;
};

/**
 * Applies a lifecycle event to the subject's schedule. Decisions come from the pure `decide`; the
 * schedule, the event's answer and its audit entry (data classes, rules and due times; never the
 * subject id) commit together under an optimistic lock, decided again on a concurrent change.
 */
export const recordLifecycleEvent = async (
  deps: ServiceDeps,
  input: LifecycleEventInput,
): Promise<LifecycleEventResult> => {
  const event: LifecycleEvent = { ...input, eventId: lifecycleEventId(deps.settings.idKey, input) };
  // One round trip for the event's answer and the subject's schedule (a replay wastes the
  // schedule read), with the commit's chain head read beside them.
  const readSchedule = () => {
    deps.uow.prepare?.([event.subjectId]);
    return Promise.all([
      deps.schedules.recordedEvent(event.subjectId, event.eventId),
      deps.schedules.load(event.subjectId),
    ]);
  };
  const [suppressed, firstRead] = await Promise.all([
    // Read before the event lists anything itself: a re-sent account.deleted is not its own match.
    deps.suppressions === undefined
      ? []
      : checkSuppressions(deps, {
          subjectId: input.subjectId,
          ...(input.identifiers === undefined ? {} : { identifiers: input.identifiers }),
        }),
    readSchedule(),
  ]);
  const flagged = <T extends LifecycleEventResult>(result: T): T =>
    suppressed.length === 0 ? result : { ...result, suppressed };
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const [recorded, stored] = attempt === 1 ? firstRead : await readSchedule();
    if (recorded !== undefined) return flagged(recorded);
    const decided = decide(deps.config.catalog, stored.schedule, event);
    const at = nowIso(deps);
    const late = await withdrawLate(deps, event, decided.withdrawn ?? [], at);
    const decisions = decided.decisions.map((decision) => late.decisions.get(decision.dataClass) ?? decision);
    const result = { eventId: event.eventId, decisions };
    const suppress =
      SUPPRESSING_EVENTS.includes(event.type) && deps.suppressions !== undefined
        ? [eventSuppression(deps, event, at)]
        : [];
    const outcome = await deps.uow.commit(
      [
        { kind: 'schedule.save', previous: stored, next: decided.next, event: result, at },
        ...late.changes,
        ...suppress,
      ],
      [{ event: lifecycleRecorded(event, decisions, at), subjectId: event.subjectId }, ...late.audit],
    );
    if (outcome.committed) {
      if (late.tooLate > 0) deps.metrics.count(METRIC.deletionTooLate, late.tooLate);
      return flagged(result);
    }
  }
  throw new ConcurrentModificationError('The subject schedule kept changing while the event was applied');
};

/**
 * Deletions a late cancelling event withdraws (the sweep had already claimed them): their
 * requests' unrun tasks are cancelled in the event's own commit, and what already ran is named in
 * a `too_late` decision and audited, never answered with silence.
 */
const withdrawLate = async (
  deps: ServiceDeps,
  event: LifecycleEvent,
  withdrawn: readonly ScheduleEntry[],
  at: string,
) => {
  const changes: Change[] = [];
  const audit: AuditRecord[] = [];
  const decisions = new Map<string, ScheduleDecision>();
  let tooLate = 0;
  for (const entry of withdrawn) {
    const requestId = scheduledRequestId(entry.subjectId, entry.dataClass, entry.dueAt, {
      key: deps.settings.idKey,
    });
    const found = await deps.requests.get(requestId);
    if (found === undefined) continue;
    const withdrawal = withdrawRequest(
      found.request,
      found.tasks,
      { eventType: event.type, occurredAt: event.occurredAt },
      at,
    );
    if (withdrawal.request !== undefined) {
      changes.push({
        kind: 'request.transition',
        next: withdrawal.request.next,
        from: [found.request.status],
        previous: found.request,
      });
      audit.push({ event: withdrawal.request.audit, subjectId: event.subjectId });
    }
    // The request's `request.cancelled` entry counts the cancelled tasks: one entry per request,
    // not per task, keeps the event's commit within DynamoDB's 100 items at any request size.
    for (const cancelled of withdrawal.cancelled) {
      const previous = found.tasks.find((task) => task.taskId === cancelled.next.taskId) as ErasureTask;
      changes.push({ kind: 'task.transition', next: cancelled.next, expected: previous });
    }
    if (withdrawal.tooLate.length === 0) continue;
    tooLate += withdrawal.tooLate.length;
    const targets = withdrawal.tooLate.map((task) => task.target);
    audit.push({
      event: deletionTooLate(found.request, entry, event, targets, at),
      subjectId: event.subjectId,
    });
    decisions.set(entry.dataClass, {
      change: 'too_late',
      dataClass: entry.dataClass,
      action: entry.action,
      dueAt: entry.dueAt,
      ruleRef: entry.ruleRef,
      erased: withdrawal.tooLate.map((task) => {
        const erasedAt = task.verifiedAt ?? task.succeededAt ?? task.startedAt;
        return { target: task.target, ...(erasedAt === undefined ? {} : { erasedAt }) };
      }),
    });
  }
  return { changes, audit, decisions, tooLate };
};
