/**
 * The catalogue of audit events: every type the trail can hold, and, for the events that use
 * cases record beside the request/task state machine, the one place that builds each event and
 * its idempotency key. A key names the fact once (`hold:<id>:placed`), so recording the same fact
 * twice (a retry, a redelivery) appends it once.
 */
import type { LegalHold } from '../holds.js';
import type { ScheduleDecision } from '../schedule/types.js';
import type { AuditEvent } from './types.js';

export const AUDIT_EVENT_TYPES = [
  // Request state machine (domain/erasure).
  'request.received',
  'request.withheld',
  'request.blocked',
  'request.dispatched',
  'request.rejected',
  'request.deadline_extended',
  'request.completed',
  'request.partially_failed',
  'request.redriven',
  'request.cancelled',
  // Task state machine (domain/erasure). A task's outcome is one entry: `task.verified` (executed
  // and verified, with its counts) or `task.failed`. `task.started`, `task.restarted` and
  // `task.succeeded` are no longer appended (an attempt's start is an unaudited lease); trails
  // written before keep them, so they stay in the catalogue.
  'task.started',
  'task.restarted',
  'task.awaiting_callback',
  'task.succeeded',
  'task.verified',
  'task.failed',
  'task.redriven',
  'task.cancelled',
  'deletion.too_late',
  // Beside the state machines.
  'task.held',
  'task.attempt_failed',
  'deletion.blocked',
  // Rolling windows enforced per target (domain/audit/window-events.ts).
  'window.run',
  'notice.due',
  'notice.sent',
  'lifecycle.recorded',
  'hold.placed',
  'hold.released',
  'export.generated',
  // A dry run of an erasure request: counts only, and nothing changed (erasure-preview.ts).
  'request.previewed',
  'suppression.lifted',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

type Detail = NonNullable<AuditEvent['detail']>;

/** ALE-2: classes left out of a request because they must be kept while an invoice is unpaid. */
export const requestWithheld = (
  requestId: string,
  withheld: readonly { readonly dataClass: string; readonly reason: string }[],
  at: string,
): AuditEvent => ({
  type: 'request.withheld',
  at,
  idempotencyKey: `request:${requestId}:withheld`,
  requestId,
  detail: {
    dataClasses: withheld.map((item) => item.dataClass).join(','),
    reasons: [...new Set(withheld.map((item) => item.reason))].join(','),
  },
});

interface TaskRef {
  readonly taskId: string;
  readonly requestId: string;
  readonly dataClass: string;
  readonly target: string;
}

const taskFields = (task: TaskRef) => ({
  requestId: task.requestId,
  taskId: task.taskId,
  dataClass: task.dataClass,
  target: task.target,
});

/** ALM-3 after dispatch: a hold stopped a task before it erased anything. */
export const taskHeld = (task: TaskRef, holdIds: readonly string[], at: string): AuditEvent => {
  const sorted = [...holdIds].sort();
  return {
    type: 'task.held',
    at,
    idempotencyKey: `task:${task.taskId}:held:${sorted.join('+')}`,
    ...taskFields(task),
    detail: { holds: sorted.join(',') },
  };
};

/** A due deletion the sweep could not run; `entryRef` is a keyed reference to the entry. */
export const deletionBlocked = (
  entry: { readonly dataClass: string; readonly ruleRef: string; readonly dueAt: string },
  entryRef: string,
  blockers: readonly string[],
  retryAt: string | undefined,
  at: string,
): AuditEvent => ({
  type: 'deletion.blocked',
  at,
  idempotencyKey: `schedule:${entryRef}:blocked:${blockers.join(',')}`,
  dataClass: entry.dataClass,
  ruleRef: entry.ruleRef,
  detail: {
    dueAt: entry.dueAt,
    blockers: blockers.join(','),
    ...(retryAt === undefined ? {} : { retryAt }),
  },
});

/** IMOU-3: `sent` once a notice target acknowledged it; `due` when the deployment has none. */
export const noticeRecorded = (
  notice: {
    readonly dataClass: string;
    readonly ruleRef: string;
    readonly noticeAt: string;
    readonly dueAt: string;
  },
  entryRef: string,
  target: string | undefined,
  at: string,
): AuditEvent => ({
  type: target === undefined ? 'notice.due' : 'notice.sent',
  at,
  idempotencyKey: `notice:${entryRef}`,
  dataClass: notice.dataClass,
  ruleRef: notice.ruleRef,
  ...(target === undefined ? {} : { target }),
  detail: { noticeAt: notice.noticeAt, deletionDueAt: notice.dueAt },
});

/** What a lifecycle event changed: data classes, rules and due times, never the subject id. */
export const lifecycleRecorded = (
  event: { readonly eventId: string; readonly type: string; readonly occurredAt: string },
  decisions: readonly ScheduleDecision[],
  at: string,
): AuditEvent => ({
  type: 'lifecycle.recorded',
  at,
  idempotencyKey: `event:${event.eventId}`,
  detail: {
    eventType: event.type,
    occurredAt: event.occurredAt,
    decisions: decisions.map((d) => `${d.change}:${d.dataClass}:${d.ruleRef}:${d.dueAt}`).join(','),
  },
});

export const holdPlaced = (hold: LegalHold): AuditEvent => ({
  type: 'hold.placed',
  at: hold.createdAt,
  idempotencyKey: `hold:${hold.holdId}:placed`,
  detail: {
    holdId: hold.holdId,
    reason: hold.reason,
    dataClasses: hold.dataClasses?.join(',') ?? '*',
    ...(hold.until === undefined ? {} : { until: hold.until }),
  },
});

export const holdReleased = (holdId: string, at: string): AuditEvent => ({
  type: 'hold.released',
  at,
  idempotencyKey: `hold:${holdId}:released`,
  detail: { holdId },
});

/** ALU-6 / ALE-5: counts and flags per source, never the exported data. */
export const exportGenerated = (exportId: string, detail: Detail, at: string): AuditEvent => ({
  type: 'export.generated',
  at,
  idempotencyKey: `export:${exportId}`,
  detail,
});

/**
 * A dry run of an erasure request: what it would erase, withhold or leave blocked, as counts per
 * task, never the data or the subject id. `previewId` is derived from the caller's Idempotency-Key
 * when one is given, so a retried dry run is audited once.
 */
export const requestPreviewed = (previewId: string, detail: Detail, at: string): AuditEvent => ({
  type: 'request.previewed',
  at,
  idempotencyKey: `preview:${previewId}`,
  detail: { previewId, ...detail },
});

/** A cancelling event arrived after (part of) the deletion it cancels had run: named, never hidden. */
export const deletionTooLate = (
  request: { readonly requestId: string },
  entry: { readonly dataClass: string; readonly ruleRef: string; readonly dueAt: string },
  event: { readonly eventId: string; readonly type: string; readonly occurredAt: string },
  targets: readonly string[],
  at: string,
): AuditEvent => ({
  type: 'deletion.too_late',
  at,
  idempotencyKey: `request:${request.requestId}:too_late:${event.eventId}`,
  requestId: request.requestId,
  dataClass: entry.dataClass,
  ruleRef: entry.ruleRef,
  detail: {
    eventType: event.type,
    occurredAt: event.occurredAt,
    dueAt: entry.dueAt,
    targets: targets.join(','),
  },
});
