import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIFECYCLE_EVENT_TYPES, type LifecycleEvent } from '../../domain/events.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { parseCatalog } from '../../domain/policy/schema.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';
import {
  bucketMonths,
  bucketsToSweep,
  dueBucket,
  dueKey,
  dueKeyUpperBound,
  monthOf,
  shardOf,
} from '../../domain/schedule/buckets.js';
import { decide } from '../../domain/schedule/decide.js';
import { afterBlocked, afterDispatch, evaluateDue, nextRollingRun } from '../../domain/schedule/due.js';
import type { ScheduleEntry, SubjectSchedule } from '../../domain/schedule/types.js';
import {
  cutoffFor,
  listingCutoff,
  planWindowRun,
  windowRunDue,
  windowRunsOf,
  windowSlot,
} from '../../domain/schedule/windows.js';
import {
  SCHEDULE_SUBJECT,
  scheduleApply,
  scheduleEmpty,
  scheduleEntry,
  scheduleEvent,
  scheduleHold,
  validationErrorOf,
} from '../helpers/factories.js';

const catalog = BUILT_IN_CATALOG;
const policyOf = (dataClass: string): DataClassPolicy => {
  const policy = catalog.dataClasses.find((candidate) => candidate.dataClass === dataClass);
  if (policy === undefined) throw new Error(`no policy ${dataClass}`);
  return policy;
};

describe('decide: input', () => {
  it('rejects an unknown event type naming the field', () => {
    // Prepare
    const event = {
      ...scheduleEvent('account.suspended', '2026-11-30'),
      type: 'account.paused',
    } as unknown as LifecycleEvent;

    // Act
    const error = validationErrorOf(() => decide(catalog, scheduleEmpty(), event));

    // Assess
    expect(error).toMatchObject({
      field: 'type',
      message: "type 'account.paused' is not a known lifecycle event type",
    });
  });

  it('rejects an event of another subject, a malformed time and a malformed jurisdiction', () => {
    expect(
      validationErrorOf(() =>
        decide(catalog, scheduleEmpty('subject-2'), scheduleEvent('account.suspended', '2026-11-30')),
      ).field,
    ).toBe('subjectId');
    expect(
      validationErrorOf(() =>
        decide(catalog, scheduleEmpty(), {
          ...scheduleEvent('account.suspended', '2026-11-30'),
          occurredAt: '30/11/2026',
        }),
      ).field,
    ).toBe('occurredAt');
    expect(
      validationErrorOf(() =>
        decide(
          catalog,
          scheduleEmpty(),
          scheduleEvent('contract.ended', '2026-11-30', { attributes: { jurisdiction: 'Sweden' } }),
        ),
      ).field,
    ).toBe('attributes.jurisdiction');
  });

  it('reads occurredAt with any offset as the canonical UTC instant', () => {
    // Prepare
    const event = {
      ...scheduleEvent('account.suspended', '2026-11-30'),
      occurredAt: '2026-11-30T01:00:00+01:00',
    };

    // Act
    const { next } = decide(catalog, scheduleEmpty(), event);

    // Assess
    expect(scheduleEntry(next, 'suspended-account')).toMatchObject({
      dueAt: '2027-02-28T00:00:00.000Z',
      trigger: { occurredAt: '2026-11-30T00:00:00.000Z' },
    });
  });
});

describe('decide: triggers', () => {
  it('schedules a new entry at occurredAt + period with the first ruleRef', () => {
    // Prepare
    const suspended = scheduleEvent('account.suspended', '2026-11-30');

    // Act
    const { decisions, next } = decide(catalog, scheduleEmpty(), suspended);

    // Assess
    expect(decisions).toEqual([
      {
        change: 'scheduled',
        dataClass: 'suspended-account',
        action: 'delete',
        dueAt: '2027-02-28T00:00:00.000Z',
        ruleRef: 'ALL-3',
      },
    ]);
    const ref = { eventId: suspended.eventId, type: suspended.type, occurredAt: suspended.occurredAt };
    expect(next.entries).toEqual([
      {
        subjectId: SCHEDULE_SUBJECT,
        dataClass: 'suspended-account',
        status: 'pending',
        action: 'delete',
        ruleRef: 'ALL-3',
        dueAt: '2027-02-28T00:00:00.000Z',
        trigger: ref,
        lastEvent: ref,
        lastChange: 'scheduled',
      },
    ]);
  });

  it('reschedules a pending entry when a newer trigger moves the due time', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('contract.ended', '2026-01-31')]);

    // Act
    const { decisions, next } = decide(catalog, schedule, scheduleEvent('contract.ended', '2026-03-31'));

    // Assess
    expect(decisions).toEqual([
      expect.objectContaining({ change: 'rescheduled', dueAt: '2028-03-31T00:00:00.000Z' }),
    ]);
    expect(scheduleEntry(next, 'customer-profile')).toMatchObject({
      status: 'pending',
      lastChange: 'rescheduled',
    });
  });

  it('ignores a trigger older than the latest event of the entry', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('contract.ended', '2026-03-31')]);

    // Act
    const result = decide(catalog, schedule, scheduleEvent('contract.ended', '2026-01-31'));

    // Assess
    expect(result.decisions).toEqual([]);
    expect(result.next).toBe(schedule);
  });

  it('reports nothing for a newer trigger that leaves the due time as it is', () => {
    // Prepare: closing and deleting at the same instant both make closed-account due then
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('account.closed', '2026-05-10T08:00:00.000Z'),
    ]);

    // Act
    const result = decide(catalog, schedule, scheduleEvent('account.deleted', '2026-05-10T08:00:00.000Z'));

    // Assess
    expect(result.decisions).toEqual([]);
    expect(scheduleEntry(result.next, 'closed-account').dueAt).toBe('2026-05-10T08:00:00.000Z');
  });

  it('schedules again after a dispatch', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('plan.expired', '2026-04-30')]);
    const dispatched: SubjectSchedule = {
      ...schedule,
      entries: schedule.entries.map((entry) =>
        entry.dataClass === 'cloud-video'
          ? afterDispatch(entry, policyOf('cloud-video'), '2026-04-30T00:05:00.000Z')
          : entry,
      ),
    };

    // Act
    const { decisions } = decide(catalog, dispatched, scheduleEvent('plan.expired', '2027-04-30'));

    // Assess
    expect(decisions).toEqual([
      expect.objectContaining({
        change: 'scheduled',
        dataClass: 'cloud-video',
        dueAt: '2027-04-30T00:00:00.000Z',
      }),
    ]);
  });

  it('orders events of the same instant by eventId, whatever the arrival order', () => {
    // Prepare
    const a = scheduleEvent('contract.ended', '2026-01-31', { attributes: { jurisdiction: 'SE' } });
    const b = scheduleEvent('contract.ended', '2026-01-31', { attributes: { jurisdiction: 'PL' } });

    // Act
    const ab = scheduleApply(catalog, [a, b]).schedule;
    const ba = scheduleApply(catalog, [b, a]).schedule;

    // Assess
    expect(scheduleEntry(ab, 'customer-profile').dueAt).toBe(scheduleEntry(ba, 'customer-profile').dueAt);
  });
});

describe('decide: cancellation', () => {
  it('cancels a pending entry, reporting the due time it had and dropping its notice', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('subject.active', '2026-03-15')]);

    // Act
    const { decisions, next } = decide(catalog, schedule, scheduleEvent('account.closed', '2026-04-01'));

    // Assess
    expect(decisions).toContainEqual({
      change: 'cancelled',
      dataClass: 'inactive-account',
      action: 'delete',
      dueAt: '2028-03-15T00:00:00.000Z',
      ruleRef: 'IMOU-3',
    });
    const cancelled = scheduleEntry(next, 'inactive-account');
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      lastChange: 'cancelled',
      dueAt: '2028-03-15T00:00:00.000Z',
    });
    expect(cancelled.noticeAt).toBeUndefined();
  });

  it('stores a silent tombstone when nothing is pending, so an older trigger arriving later cannot revive it', () => {
    // Prepare
    const restored = scheduleEvent('account.restored', '2027-01-15');
    const lateSuspension = scheduleEvent('account.suspended', '2026-11-30');

    // Act
    const first = decide(catalog, scheduleEmpty(), restored);
    const second = decide(catalog, first.next, lateSuspension);

    // Assess
    expect(first.decisions).toEqual([]);
    expect(scheduleEntry(first.next, 'suspended-account')).toMatchObject({
      status: 'cancelled',
      lastEventSilent: true,
    });
    expect(second.decisions).toEqual([]);
    expect(scheduleEntry(second.next, 'suspended-account').status).toBe('cancelled');
  });

  it('lets a newer trigger schedule over a tombstone', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('account.suspended', '2026-11-30'),
      scheduleEvent('account.restored', '2027-01-15'),
    ]);

    // Act
    const { decisions } = decide(catalog, schedule, scheduleEvent('account.suspended', '2027-03-01'));

    // Assess
    expect(decisions).toEqual([
      expect.objectContaining({ change: 'scheduled', dueAt: '2027-06-01T00:00:00.000Z' }),
    ]);
  });

  it('does not cancel a dispatched entry but records the cancel, so an older trigger cannot schedule it again', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('account.suspended', '2026-11-30')]);
    const entry = scheduleEntry(schedule, 'suspended-account');
    const dispatched = {
      ...schedule,
      entries: [afterDispatch(entry, policyOf('suspended-account'), '2027-02-28T00:01:00.000Z')],
    };

    // Act
    const restore = decide(catalog, dispatched, scheduleEvent('account.restored', '2027-03-01'));
    const lateTrigger = decide(catalog, restore.next, scheduleEvent('account.suspended', '2027-02-15'));

    // Assess
    expect(restore.decisions).toEqual([]);
    expect(scheduleEntry(restore.next, 'suspended-account')).toMatchObject({
      status: 'dispatched',
      lastEventSilent: true,
    });
    expect(lateTrigger.decisions).toEqual([]);
  });

  it('ignores a cancel older than the trigger', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('account.suspended', '2027-03-01')]);

    // Act
    const result = decide(catalog, schedule, scheduleEvent('account.restored', '2027-01-15'));

    // Assess
    expect(result.decisions).toEqual([]);
    expect(scheduleEntry(result.next, 'suspended-account').status).toBe('pending');
  });
});

describe('decide: replay', () => {
  it('reports the recorded decisions of a re-sent trigger and changes nothing', () => {
    // Prepare
    const active = scheduleEvent('subject.active', '2026-03-15');
    const first = decide(catalog, scheduleEmpty(), active);

    // Act
    const replay = decide(catalog, first.next, active);

    // Assess
    expect(replay.decisions).toEqual(first.decisions);
    expect(replay.next).toBe(first.next);
    expect(first.decisions).toContainEqual(
      expect.objectContaining({ change: 'notice', dataClass: 'inactive-account' }),
    );
  });

  it('reports the recorded cancellation of a re-sent cancel, and nothing for a re-sent silent one', () => {
    // Prepare
    const restored = scheduleEvent('account.restored', '2027-01-15');
    const withPending = scheduleApply(catalog, [scheduleEvent('account.suspended', '2026-11-30')]).schedule;
    const cancelled = decide(catalog, withPending, restored);
    const tombstone = decide(catalog, scheduleEmpty(), restored);

    // Act
    const replayCancelled = decide(catalog, cancelled.next, restored);
    const replayTombstone = decide(catalog, tombstone.next, restored);

    // Assess
    expect(replayCancelled.decisions).toEqual([
      expect.objectContaining({ change: 'cancelled', dueAt: '2027-02-28T00:00:00.000Z' }),
    ]);
    expect(replayCancelled.decisions).toEqual(cancelled.decisions);
    expect(replayTombstone.decisions).toEqual([]);
    expect(replayTombstone.next).toBe(tombstone.next);
  });
});

describe('decide: invoices (ALE-2)', () => {
  it('keeps unpaidInvoiceSince from the newest invoice event, whatever the arrival order', () => {
    // Prepare
    const unpaid = scheduleEvent('invoice.unpaid', '2026-12-01');
    const settled = scheduleEvent('invoice.settled', '2027-03-01');

    // Act
    const inOrder = scheduleApply(catalog, [unpaid, settled]).schedule;
    const reversed = scheduleApply(catalog, [settled, unpaid]).schedule;
    const onlyUnpaid = scheduleApply(catalog, [unpaid]).schedule;

    // Assess
    expect(onlyUnpaid.unpaidInvoiceSince).toBe('2026-12-01T00:00:00.000Z');
    expect(inOrder.unpaidInvoiceSince).toBeUndefined();
    expect(reversed.unpaidInvoiceSince).toBeUndefined();
    expect(reversed.lastInvoiceEvent).toEqual(inOrder.lastInvoiceEvent);
  });

  it('re-arms an entry an unpaid invoice blocked when the invoice is settled', () => {
    // Prepare: a class blocked by unpaid invoices that invoice.settled does not trigger
    const custom = parseCatalog({
      version: 'test',
      dataClasses: [
        {
          dataClass: 'usage-records',
          description: 'Usage records',
          ruleRefs: ['ALE-2'],
          triggers: ['contract.ended'],
          retention: 'P1M',
          action: 'delete',
          blockers: ['unpaid-invoice'],
          targets: ['partner-services'],
        },
      ],
    });
    const { schedule } = scheduleApply(custom, [
      scheduleEvent('contract.ended', '2026-01-01'),
      scheduleEvent('invoice.unpaid', '2026-01-15'),
    ]);
    const blocked = { ...schedule, entries: schedule.entries.map(afterBlocked) };

    // Act
    const { decisions, next } = decide(custom, blocked, scheduleEvent('invoice.settled', '2026-03-01'));

    // Assess
    expect(decisions).toEqual([
      expect.objectContaining({
        change: 'rescheduled',
        dataClass: 'usage-records',
        dueAt: '2026-02-01T00:00:00.000Z',
      }),
    ]);
    expect(scheduleEntry(next, 'usage-records').status).toBe('pending');
    expect(next.unpaidInvoiceSince).toBeUndefined();
  });
});

describe('decide: rolling windows', () => {
  it("takes the window from the trigger's attribute and runs on the interval's grid", () => {
    // Prepare
    const renewed = scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', {
      attributes: { storagePeriod: 'P7D' },
    });

    // Act
    const { next } = decide(catalog, scheduleEmpty(), renewed);

    // Assess
    expect(scheduleEntry(next, 'cloud-video-window')).toMatchObject({
      dueAt: '2026-03-02T00:00:00.000Z',
      rollingWindow: 'P7D',
    });
  });

  it('falls back to the policy period when the attribute is absent', () => {
    const { next } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z'),
    );
    expect(scheduleEntry(next, 'cloud-video-window').rollingWindow).toBe('P30D');
  });

  it('rejects a malformed or zero window naming the attribute', () => {
    const malformed = scheduleEvent('plan.renewed', '2026-03-01', {
      attributes: { storagePeriod: 'seven days' },
    });
    const zero = scheduleEvent('plan.renewed', '2026-03-01', { attributes: { storagePeriod: 'P0D' } });
    expect(validationErrorOf(() => decide(catalog, scheduleEmpty(), malformed)).field).toBe(
      'attributes.storagePeriod',
    );
    expect(validationErrorOf(() => decide(catalog, scheduleEmpty(), zero)).field).toBe(
      'attributes.storagePeriod',
    );
  });

  it('reschedules when the window changes', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', { attributes: { storagePeriod: 'P7D' } }),
    ]);

    // Act
    const { decisions, next } = decide(
      catalog,
      schedule,
      scheduleEvent('plan.renewed', '2026-03-01T11:00:00.000Z', { attributes: { storagePeriod: 'P30D' } }),
    );

    // Assess
    expect(decisions).toEqual([
      expect.objectContaining({ change: 'rescheduled', dataClass: 'cloud-video-window' }),
    ]);
    expect(scheduleEntry(next, 'cloud-video-window').rollingWindow).toBe('P30D');
  });

  it('stores a rolling window once: later triggers with the same window decide nothing and re-arm nothing', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('subject.active', '2026-03-03T09:00:00.000Z'),
    ]);

    // Act
    const sameDay = decide(catalog, schedule, scheduleEvent('subject.active', '2026-03-03T17:00:00.000Z'));
    const weekLater = decide(
      catalog,
      sameDay.next,
      scheduleEvent('subject.active', '2026-03-10T12:00:00.000Z'),
    );

    // Assess
    expect(sameDay.decisions.map((decision) => decision.dataClass)).not.toContain('alarm-events');
    expect(weekLater.decisions.map((decision) => decision.dataClass)).not.toContain('alarm-events');
    expect(scheduleEntry(weekLater.next, 'alarm-events')).toMatchObject({
      status: 'windowed',
      dueAt: '2026-03-04T00:00:00.000Z',
    });
  });

  it('keeps a window of its own only when it differs from the policy', () => {
    const own = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', { attributes: { storagePeriod: 'P7D' } }),
    ).next;
    const same = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', { attributes: { storagePeriod: 'P30D' } }),
    ).next;
    expect(scheduleEntry(own, 'cloud-video-window').subjectWindow).toBe('P7D');
    expect(scheduleEntry(same, 'cloud-video-window').subjectWindow).toBeUndefined();
  });

  it('ends the window when a cancelling event comes (plan.expired), and a later renewal starts it again', () => {
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', { attributes: { storagePeriod: 'P7D' } }),
      scheduleEvent('plan.expired', '2026-04-01T00:00:00.000Z'),
    ]);
    expect(scheduleEntry(schedule, 'cloud-video-window').status).toBe('cancelled');
    const renewed = decide(catalog, schedule, scheduleEvent('plan.renewed', '2026-04-02T00:00:00.000Z'));
    expect(scheduleEntry(renewed.next, 'cloud-video-window')).toMatchObject({
      status: 'windowed',
      rollingWindow: 'P30D',
    });
  });
});

// ---- properties ---------------------------------------------------------------------------------

const BASE_MS = Date.parse('2026-01-01T00:00:00.000Z');

/** Events with distinct times over ~3 years, each type of the contract, optional attributes. */
const eventSets = fc
  .uniqueArray(fc.integer({ min: 0, max: 3 * 365 * 24 }), { minLength: 1, maxLength: 12 })
  .chain((hours) =>
    fc.tuple(
      ...hours.map((hour) =>
        fc
          .record({
            type: fc.constantFrom(...LIFECYCLE_EVENT_TYPES),
            jurisdiction: fc.constantFrom(undefined, 'SE', 'PL', 'DE'),
            storagePeriod: fc.constantFrom(undefined, 'P7D', 'P30D'),
          })
          .map(({ type, jurisdiction, storagePeriod }) =>
            scheduleEvent(type, new Date(BASE_MS + hour * 3_600_000).toISOString(), {
              attributes: {
                ...(jurisdiction === undefined ? {} : { jurisdiction }),
                ...(storagePeriod === undefined ? {} : { storagePeriod }),
              },
            }),
          ),
      ),
    ),
  );

const byTime = (events: readonly LifecycleEvent[]) =>
  [...events].sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));

/** What a pending entry commits to, without the bookkeeping of which event set it. */
const commitments = (schedule: SubjectSchedule) =>
  schedule.entries
    .filter((entry) => entry.status === 'pending')
    .map(({ dataClass, status, action, ruleRef, dueAt, noticeAt, rollingWindow, jurisdiction }) => ({
      dataClass,
      status,
      action,
      ruleRef,
      dueAt,
      noticeAt,
      rollingWindow,
      jurisdiction,
    }))
    .sort((a, b) => a.dataClass.localeCompare(b.dataClass));

const statuses = (schedule: SubjectSchedule) =>
  Object.fromEntries(schedule.entries.map((entry) => [entry.dataClass, entry.status]));

describe('decide: properties', () => {
  it('re-sending any event reports the same decisions and leaves the same schedule', () => {
    fc.assert(
      fc.property(eventSets, fc.nat(), (events, pick) => {
        // Prepare
        const { schedule } = scheduleApply(catalog, events.slice(0, -1));
        const event = events[pick % events.length] ?? events[0];
        if (event === undefined) return true;

        // Act
        const first = decide(catalog, schedule, event);
        const again = decide(catalog, first.next, event);

        // Assess
        expect(again.decisions).toEqual(first.decisions);
        expect(again.next).toEqual(first.next);
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('leaves the same pending entries in any arrival order as in time order', () => {
    fc.assert(
      fc.property(
        eventSets.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
          ),
        ),
        ([events, arrival]) => {
          // Act
          const sorted = scheduleApply(catalog, byTime(events)).schedule;
          const shuffled = scheduleApply(catalog, arrival).schedule;

          // Assess
          expect(commitments(shuffled)).toEqual(commitments(sorted));
          expect(statuses(shuffled)).toEqual(statuses(sorted));
          expect(shuffled.unpaidInvoiceSince).toEqual(sorted.unpaidInvoiceSince);
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never schedules a deletion before its trigger, nor a notice after its deletion', () => {
    fc.assert(
      fc.property(eventSets, (events) => {
        const { schedule } = scheduleApply(catalog, events);
        return schedule.entries
          .filter((entry) => entry.status === 'pending')
          .every(
            (entry) =>
              entry.dueAt >= entry.trigger.occurredAt &&
              (entry.noticeAt === undefined || entry.noticeAt <= entry.dueAt),
          );
      }),
    );
  });
});

// ---- evaluateDue / afterDispatch -----------------------------------------------------------------

describe('evaluateDue', () => {
  const suspendedSchedule = scheduleApply(catalog, [
    scheduleEvent('account.suspended', '2026-11-30'),
  ]).schedule;
  const suspendedEntry = scheduleEntry(suspendedSchedule, 'suspended-account');
  const due = (
    overrides: { holds?: ReturnType<typeof scheduleHold>[]; now?: string; entry?: ScheduleEntry } = {},
  ) =>
    evaluateDue({
      catalog,
      policy: policyOf('suspended-account'),
      entry: overrides.entry ?? suspendedEntry,
      schedule: suspendedSchedule,
      holds: overrides.holds ?? [],
      now: overrides.now ?? '2027-02-28T00:00:00.000Z',
    });

  it('runs a due entry without holds', () => {
    expect(due()).toEqual({ kind: 'run' });
  });

  it('is blocked by an active hold on the class, with retryAt the earliest end when every hold ends', () => {
    // Prepare
    const holds = [
      scheduleHold({ holdId: 'hold-1', until: '2027-06-30T00:00:00.000Z' }),
      scheduleHold({
        holdId: 'hold-2',
        dataClasses: ['suspended-account'],
        until: '2027-04-30T00:00:00.000Z',
      }),
    ];

    // Act
    const result = due({ holds });

    // Assess
    expect(result).toEqual({
      kind: 'blocked',
      blockers: [{ kind: 'legal-hold', holdIds: ['hold-1', 'hold-2'] }],
      retryAt: '2027-04-30T00:00:00.000Z',
    });
  });

  it('has no retryAt while a blocking hold has no end', () => {
    const result = due({
      holds: [scheduleHold({ until: '2027-06-30T00:00:00.000Z' }), scheduleHold({ holdId: 'hold-2' })],
    });
    expect(result).toEqual({
      kind: 'blocked',
      blockers: [{ kind: 'legal-hold', holdIds: ['hold-1', 'hold-2'] }],
    });
  });

  it('ignores released and ended holds, holds on other classes and holds of other subjects', () => {
    const holds = [
      scheduleHold({ holdId: 'released', releasedAt: '2027-02-01T00:00:00.000Z' }),
      scheduleHold({ holdId: 'ended', until: '2027-02-28T00:00:00.000Z' }),
      scheduleHold({ holdId: 'other-class', dataClasses: ['billing-traffic'] }),
      scheduleHold({ holdId: 'other-subject', subjectId: 'subject-2' }),
    ];
    expect(due({ holds })).toEqual({ kind: 'run' });
  });

  it('blocks on an unpaid invoice only the classes listing that blocker', () => {
    // Prepare
    const schedule = scheduleApply(catalog, [
      scheduleEvent('invoice.settled', '2025-01-01'),
      scheduleEvent('account.suspended', '2026-10-01'),
      scheduleEvent('invoice.unpaid', '2026-12-01'),
    ]).schedule;
    const evaluate = (dataClass: string) =>
      evaluateDue({
        catalog,
        policy: policyOf(dataClass),
        entry: scheduleEntry(schedule, dataClass),
        schedule,
        holds: [scheduleHold({ until: '2027-06-30T00:00:00.000Z' })],
        now: '2027-01-02T00:00:00.000Z',
      });

    // Act
    const billing = evaluate('billing-traffic');
    const suspended = evaluate('suspended-account');

    // Assess: the invoice gives no retryAt, only the settlement clears it
    expect(billing).toEqual({
      kind: 'blocked',
      blockers: [
        { kind: 'legal-hold', holdIds: ['hold-1'] },
        { kind: 'unpaid-invoice', since: '2026-12-01T00:00:00.000Z' },
      ],
    });
    expect(suspended).toEqual({
      kind: 'blocked',
      blockers: [{ kind: 'legal-hold', holdIds: ['hold-1'] }],
      retryAt: '2027-06-30T00:00:00.000Z',
    });
  });

  it('refuses an entry that is not due, not pending, or of another class', () => {
    expect(validationErrorOf(() => due({ now: '2027-02-27T23:59:59.999Z' })).field).toBe('dueAt');
    expect(validationErrorOf(() => due({ entry: { ...suspendedEntry, status: 'cancelled' } })).field).toBe(
      'status',
    );
    expect(validationErrorOf(() => due({ entry: { ...suspendedEntry, dataClass: 'cookies' } })).field).toBe(
      'dataClass',
    );
  });
});

describe('afterDispatch', () => {
  it('marks a one-off deletion dispatched', () => {
    const { schedule } = scheduleApply(catalog, [scheduleEvent('account.suspended', '2026-11-30')]);
    const entry = scheduleEntry(schedule, 'suspended-account');
    expect(afterDispatch(entry, policyOf('suspended-account'), '2027-02-28T00:01:00.000Z')).toEqual({
      ...entry,
      status: 'dispatched',
    });
  });

  it('hands a per-subject rolling entry stored before window runs over to them after its last run', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', { attributes: { storagePeriod: 'P7D' } }),
    ]);
    const legacy = { ...scheduleEntry(schedule, 'cloud-video-window'), status: 'pending' as const };

    // Act
    const after = afterDispatch(legacy, policyOf('cloud-video-window'), '2026-03-09T13:00:00.000Z');

    // Assess
    expect(after).toMatchObject({
      status: 'windowed',
      dueAt: '2026-03-10T00:00:00.000Z',
      rollingWindow: 'P7D',
      subjectWindow: 'P7D',
    });
  });

  it('runs a rolling window on the grid of its interval', () => {
    expect(nextRollingRun('2026-03-03T09:00:00.000Z', 'P1D')).toBe('2026-03-04T00:00:00.000Z');
    expect(nextRollingRun('2026-03-03T09:00:00.000Z', 'P7D')).toBe('2026-03-07T00:00:00.000Z');
    expect(nextRollingRun('2026-03-10T00:00:00.000Z', 'P1M')).toBe('2026-04-01T00:00:00.000Z');
  });
});

// ---- window runs ------------------------------------------------------------------------------------

describe('window runs', () => {
  it('run once per grid slot: the slot at or before now, due until it is recorded', () => {
    const alarms = policyOf('alarm-events');
    expect(windowSlot(alarms, '2026-03-03T09:00:00.000Z')).toBe('2026-03-03T00:00:00.000Z');
    expect(windowSlot(alarms, '2026-03-03T00:00:00.000Z')).toBe('2026-03-03T00:00:00.000Z');
    expect(windowSlot(policyOf('fault-traffic'), '2026-03-31T23:59:59.999Z')).toBe(
      '2026-03-01T00:00:00.000Z',
    );
    expect(windowRunDue('2026-03-03T00:00:00.000Z', undefined)).toBe(true);
    expect(windowRunDue('2026-03-03T00:00:00.000Z', '2026-03-02T00:00:00.000Z')).toBe(true);
    expect(windowRunDue('2026-03-03T00:00:00.000Z', '2026-03-03T00:00:00.000Z')).toBe(false);
  });

  it('lists one run per rolling class and target', () => {
    expect(windowRunsOf(catalog).map(({ policy, target }) => `${policy.dataClass}@${target}`)).toEqual([
      'cloud-video-window@cloud-video',
      'alarm-events@alarm-events',
      'fault-traffic@partner-services',
      'traffic-statistics@partner-services',
      'consumption-data@partner-services',
    ]);
  });

  it('gives subjects with a window of their own their own cut-off, and lists up to the latest one', () => {
    const plan = planWindowRun({
      catalog,
      policy: policyOf('cloud-video-window'),
      target: 'cloud-video',
      now: '2026-03-10T05:00:00.000Z',
      subjectWindows: [
        { subjectId: 'short', window: 'P7D' },
        { subjectId: 'long', window: 'P90D' },
        { subjectId: 'default', window: 'P30D' },
      ],
      holds: [],
    });
    expect(plan.cutoff).toBe('2026-02-08T00:00:00.000Z');
    expect(plan.subjectCutoffs).toEqual({
      short: '2026-03-03T00:00:00.000Z',
      long: '2025-12-10T00:00:00.000Z',
    });
    expect(cutoffFor(plan, 'default')).toBe(plan.cutoff);
    expect(listingCutoff(plan)).toBe('2026-03-03T00:00:00.000Z');
  });

  it('excludes the subjects whose active holds cover the class or its target (ALM-3), not released or ended ones', () => {
    const now = '2026-03-10T05:00:00.000Z';
    const plan = planWindowRun({
      catalog,
      policy: policyOf('cloud-video-window'),
      target: 'cloud-video',
      now,
      subjectWindows: [],
      holds: [
        scheduleHold({ holdId: 'h1', subjectId: 'whole', dataClasses: undefined }),
        scheduleHold({ holdId: 'h2', subjectId: 'video', dataClasses: ['cloud-video'] }),
        scheduleHold({ holdId: 'h3', subjectId: 'billing', dataClasses: ['billing-traffic'] }),
        scheduleHold({ holdId: 'h4', subjectId: 'ended', until: '2026-03-01T00:00:00.000Z' }),
        scheduleHold({ holdId: 'h5', subjectId: 'released', releasedAt: '2026-03-02T00:00:00.000Z' }),
      ],
    });
    expect(plan.excludedSubjects).toEqual(['video', 'whole']);
  });
});

// ---- buckets ---------------------------------------------------------------------------------------

describe('buckets', () => {
  it('puts an entry in the month of its due time and a stable two-digit shard', () => {
    // Prepare / Act
    const bucket = dueBucket('2027-02-28T00:00:00.000Z', SCHEDULE_SUBJECT, 16);

    // Assess
    expect(bucket).toMatch(/^2027-02#(0\d|1[0-5])$/);
    expect(bucket).toBe(`2027-02#${shardOf(SCHEDULE_SUBJECT, 16)}`);
    expect(dueBucket('2027-02-28T00:00:00.000Z', SCHEDULE_SUBJECT, 1)).toBe('2027-02#00');
  });

  it("puts an entry already overdue when written in the writing month's bucket", () => {
    const shard = shardOf(SCHEDULE_SUBJECT, 16);
    expect(dueBucket('2026-05-10T08:00:00.000Z', SCHEDULE_SUBJECT, 16, '2026-07-02T00:00:00.000Z')).toBe(
      `2026-07#${shard}`,
    );
    expect(dueBucket('2026-09-10T08:00:00.000Z', SCHEDULE_SUBJECT, 16, '2026-07-02T00:00:00.000Z')).toBe(
      `2026-09#${shard}`,
    );
  });

  it('gives every subject the same shard every time, within range (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 100 }), (subjectId, shards) => {
        const shard = shardOf(subjectId, shards);
        return shard === shardOf(subjectId, shards) && /^\d{2}$/.test(shard) && Number(shard) < shards;
      }),
    );
  });

  it('spreads subjects over the shards', () => {
    // Prepare
    const counts = new Map<string, number>();

    // Act
    for (let index = 0; index < 1600; index += 1) {
      const shard = shardOf(`subject-${index}`, 16);
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }

    // Assess
    expect(counts.size).toBe(16);
    expect(Math.min(...counts.values())).toBeGreaterThan(50);
  });

  it('sorts due keys by due time, and the upper bound includes entries due exactly now', () => {
    // Prepare
    const now = '2027-02-28T00:00:00.000Z';
    const dueNow = dueKey(now, 'subject-9', 'suspended-account');
    const dueLater = dueKey('2027-02-28T00:00:00.001Z', 'subject-0', 'cookies');
    const dueBefore = dueKey('2027-02-27T23:59:59.999Z', 'zz', 'zz');

    // Act
    const bound = dueKeyUpperBound(now);

    // Assess
    expect(dueNow).toBe('2027-02-28T00:00:00.000Z#subject-9#suspended-account');
    expect(dueBefore < bound && dueNow < bound).toBe(true);
    expect(dueLater > bound).toBe(true);
  });

  it('lists the months from the watermark to now, both included', () => {
    expect(bucketMonths('2026-11', '2027-02-15T10:00:00.000Z')).toEqual([
      '2026-11',
      '2026-12',
      '2027-01',
      '2027-02',
    ]);
    expect(bucketMonths('2027-02', '2027-02-01T00:00:00.000Z')).toEqual(['2027-02']);
    expect(bucketMonths('2027-03', '2027-02-01T00:00:00.000Z')).toEqual([]);
    expect(monthOf('2027-02-28T00:00:00.000Z')).toBe('2027-02');
  });

  it('sweeps every shard of every month', () => {
    // Prepare / Act
    const buckets = bucketsToSweep('2026-12', '2027-01-10T00:00:00.000Z', 3);

    // Assess
    expect(buckets).toEqual([
      '2026-12#00',
      '2026-12#01',
      '2026-12#02',
      '2027-01#00',
      '2027-01#01',
      '2027-01#02',
    ]);
  });

  it('rejects bad shard counts, months and instants naming the field', () => {
    expect(validationErrorOf(() => shardOf('s', 0)).field).toBe('shards');
    expect(validationErrorOf(() => shardOf('s', 101)).field).toBe('shards');
    expect(validationErrorOf(() => shardOf('s', 1.5)).field).toBe('shards');
    expect(validationErrorOf(() => bucketMonths('2026-13', '2027-01-10T00:00:00.000Z')).field).toBe(
      'fromMonth',
    );
    expect(validationErrorOf(() => dueBucket('2027-02-28', 's', 16)).field).toBe('dueAt');
    expect(validationErrorOf(() => dueKey('2027-02-28T00:00:00Z', 's', 'c')).field).toBe('dueAt');
  });
});
