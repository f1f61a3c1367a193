import { lifecycleRecorded } from '../../domain/audit/events.js';
import { pseudonymise } from '../../domain/audit/index.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import type { LifecycleEvent, LifecycleEventType } from '../../domain/events.js';
import { decide } from '../../domain/schedule/decide.js';
import type { ScheduleDecision } from '../../domain/schedule/types.js';
import { nowIso, type ServiceDeps } from './deps.js';

export interface LifecycleEventInput {
  readonly subjectId: string;
  readonly type: LifecycleEventType;
  /** Canonical ISO instant (the API normalises it). */
  readonly occurredAt: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface LifecycleEventResult {
  readonly eventId: string;
  readonly decisions: readonly ScheduleDecision[];
}

const MAX_ATTEMPTS = 5;

/**
 * The same event always gets the same id, so a re-sent event is recognised and answered the same
 * way. Keyed, because the id is audited and must not let anyone confirm a guessed subject id.
 */
export const lifecycleEventId = (key: string, input: LifecycleEventInput): string => {
  const attributes = Object.keys(input.attributes)
    .sort()
    .map((key) => [key, input.attributes[key]]);
  const digest = pseudonymise(
    key,
    JSON.stringify([input.subjectId, input.type, input.occurredAt, attributes]),
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
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const recorded = await deps.schedules.recordedEvent(event.subjectId, event.eventId);
    if (recorded !== undefined) return recorded;
    const stored = await deps.schedules.load(event.subjectId);
    const { decisions, next } = decide(deps.config.catalog, stored.schedule, event);
    const result = { eventId: event.eventId, decisions };
    const at = nowIso(deps);
    const outcome = await deps.uow.commit(
      [{ kind: 'schedule.save', previous: stored, next, event: result, at }],
      [{ event: lifecycleRecorded(event, decisions, at), subjectId: event.subjectId }],
    );
    if (outcome.committed) return result;
  }
  throw new ConcurrentModificationError('The subject schedule kept changing while the event was applied');
};
