/**
 * Test factories, one section per area; names start with their area (`schedule...`).
 */
import { createHash } from 'node:crypto';
import { claimAttempt, createTask, dispatchRequest, receiveRequest } from '../../domain/erasure/index.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { ValidationError } from '../../domain/errors.js';
import type { LifecycleEvent, LifecycleEventType } from '../../domain/events.js';
import type { LegalHold } from '../../domain/holds.js';
import type { PolicyCatalog } from '../../domain/policy/types.js';
import { decide } from '../../domain/schedule/decide.js';
import type { ScheduleDecision, ScheduleEntry, SubjectSchedule } from '../../domain/schedule/types.js';

// ---- schedule --------------------------------------------------------------------------------

export const SCHEDULE_SUBJECT = 'subject-1';

/** `2026-11-30` → `2026-11-30T00:00:00.000Z`; a full instant is returned as it is. */
export const scheduleAt = (dayOrInstant: string): string =>
  dayOrInstant.length === 10 ? `${dayOrInstant}T00:00:00.000Z` : dayOrInstant;

/** A lifecycle event with a deterministic id, as the API derives it from its content. */
export function scheduleEvent(
  type: LifecycleEventType,
  occurredAt: string,
  options: { readonly subjectId?: string; readonly attributes?: Record<string, string> } = {},
): LifecycleEvent {
  const subjectId = options.subjectId ?? SCHEDULE_SUBJECT;
  const attributes = options.attributes ?? {};
  const at = scheduleAt(occurredAt);
  const eventId = createHash('sha256')
    .update(JSON.stringify([subjectId, type, at, Object.entries(attributes).sort()]))
    .digest('hex')
    .slice(0, 16);
  return { eventId, subjectId, type, occurredAt: at, attributes };
}

export const scheduleEmpty = (subjectId: string = SCHEDULE_SUBJECT): SubjectSchedule => ({
  subjectId,
  entries: [],
});

/** Applies events in the given order; returns the final schedule and each event's decisions. */
export function scheduleApply(
  catalog: PolicyCatalog,
  events: readonly LifecycleEvent[],
  start: SubjectSchedule = scheduleEmpty(events[0]?.subjectId),
): { schedule: SubjectSchedule; decisions: (readonly ScheduleDecision[])[] } {
  const decisions: (readonly ScheduleDecision[])[] = [];
  let schedule = start;
  for (const event of events) {
    const result = decide(catalog, schedule, event);
    decisions.push(result.decisions);
    schedule = result.next;
  }
  return { schedule, decisions };
}

export function scheduleEntry(schedule: SubjectSchedule, dataClass: string): ScheduleEntry {
  const entry = schedule.entries.find((candidate) => candidate.dataClass === dataClass);
  if (entry === undefined) throw new Error(`no schedule entry for ${dataClass}`);
  return entry;
}

export const scheduleHold = (overrides: Partial<LegalHold> = {}): LegalHold => ({
  holdId: 'hold-1',
  subjectId: SCHEDULE_SUBJECT,
  reason: 'statutory-bookkeeping',
  createdAt: '2027-01-01T00:00:00.000Z',
  ...overrides,
});

/** The ValidationError `act` throws; fails the test if it throws nothing or something else. */
export const validationErrorOf = (act: () => unknown): ValidationError => {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
};

/** A stored request for adapter tests; `fresh` makes its ids unique within a file. */
export const storedRequest = (
  fresh: (name: string) => string,
  receivedAt: string,
  overrides: Partial<ErasureRequest> = {},
): ErasureRequest => ({
  requestId: fresh('req'),
  subjectId: fresh('person'),
  origin: 'api',
  dataClasses: ['closed-account'],
  reason: 'gdpr-art17-request',
  status: 'received',
  receivedAt,
  deadline: '2026-12-21T12:00:00.000Z',
  taskCount: 0,
  verifiedCount: 0,
  failedCount: 0,
  ...overrides,
});

/** A pending task of `request` for adapter tests. */
export const storedTask = (
  fresh: (name: string) => string,
  request: ErasureRequest,
  overrides: Partial<ErasureTask> = {},
): ErasureTask => ({
  taskId: fresh('task'),
  requestId: request.requestId,
  subjectId: request.subjectId,
  dataClass: 'closed-account',
  action: 'delete',
  target: 'user-files',
  connector: 's3-prefix',
  status: 'pending',
  attempts: 0,
  affectedCount: 0,
  ...overrides,
});

/**
 * A `closed-account` request dispatched at `at` with one running s3-prefix task per target
 * (`<requestId>_t<index>`), and its `request.received` event: what a worker finds mid-erasure.
 */
export const runningRequestOf = (options: {
  readonly requestId: string;
  readonly subjectId: string;
  readonly targets: readonly string[];
  readonly at: string;
  readonly origin?: 'api' | 'schedule';
}) => {
  const { requestId, subjectId, targets, at, origin = 'api' } = options;
  const { next: received, audit: receivedEvent } = receiveRequest({
    requestId,
    subjectId,
    origin,
    dataClasses: ['closed-account'],
    reason: origin === 'api' ? 'gdpr-art17-request' : 'retention:all-1',
    receivedAt: at,
    taskCount: targets.length,
  });
  const { next: request } = dispatchRequest(received, targets.length, at);
  const tasks: ErasureTask[] = targets.map((target, index) =>
    claimAttempt(
      {
        ...createTask({
          requestId,
          subjectId,
          dataClass: 'closed-account',
          action: 'delete',
          target,
          connector: 's3-prefix',
        }),
        taskId: `${requestId}_t${index}`,
      },
      at,
    ),
  );
  return { request, tasks, receivedEvent };
};
