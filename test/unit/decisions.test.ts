/**
 * Decisions that moved out of the use cases into domain/: the retry budget, stuck-work recovery,
 * ALE-2 withholding, hold placement, the sweep watermark and the audit event catalogue.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES, holdPlaced, taskHeld } from '../../domain/audit/events.js';
import { mayBeStuck, stoppedTasks } from '../../domain/erasure/recovery.js';
import {
  attemptsExhausted,
  backoffSeconds,
  decideAttemptFailure,
  MAX_BACKOFF_SECONDS,
  MAX_ROUNDS,
  MAX_RUN_SECONDS,
  MAX_VISIBILITY_SECONDS,
  safeErrorCode,
} from '../../domain/erasure/retry.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { withholdRetained } from '../../domain/erasure/withhold.js';
import { RetentionRequiredError, ValidationError } from '../../domain/errors.js';
import { newHold } from '../../domain/holds.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { decide } from '../../domain/schedule/decide.js';
import { monthsBefore, sweepStart, watermarkAfter } from '../../domain/schedule/watermark.js';
import { storedRequest, storedTask } from '../helpers/factories.js';

const NOW = '2027-03-15T06:00:00.000Z';

describe('the retry budget of a task', () => {
  it('backs off exponentially from the base, capped, and never below the base', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 120 }), (attempt, base) => {
        const delay = backoffSeconds(attempt, base);
        expect(delay).toBeLessThanOrEqual(Math.max(MAX_BACKOFF_SECONDS, base));
        expect(delay).toBe(Math.min(MAX_BACKOFF_SECONDS, base * 2 ** (attempt - 1)));
        expect(backoffSeconds(attempt + 1, base)).toBeGreaterThanOrEqual(delay);
      }),
    );
  });

  it('retries a passing failure within what SQS accepts, honouring a longer Retry-After', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 400_000 }),
        (receiveCount, hint) => {
          const decision = decideAttemptFailure({
            permanent: false,
            receiveCount,
            maxReceives: 21,
            retryAfterHintSeconds: hint,
          });
          expect(decision.kind).toBe('retry');
          if (decision.kind !== 'retry') return;
          expect(decision.retryAfterSeconds).toBeLessThanOrEqual(MAX_VISIBILITY_SECONDS - MAX_RUN_SECONDS);
          expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(
            Math.min(hint, MAX_VISIBILITY_SECONDS - MAX_RUN_SECONDS),
          );
          expect(decision.retryAfterSeconds).toBeGreaterThanOrEqual(backoffSeconds(receiveCount));
        },
      ),
    );
  });

  it('fails on the last allowed receive (dead letter) and at once on a permanent error (acknowledged)', () => {
    expect(decideAttemptFailure({ permanent: false, receiveCount: 5, maxReceives: 5 })).toEqual({
      kind: 'fail',
      reason: 'retries-exhausted',
      deadLetter: true,
    });
    expect(decideAttemptFailure({ permanent: true, receiveCount: 1, maxReceives: 5 })).toEqual({
      kind: 'fail',
      reason: 'permanent',
      deadLetter: false,
    });
    expect(decideAttemptFailure({ permanent: false, receiveCount: 4, maxReceives: 5 }).kind).toBe('retry');
  });

  it('gives up after MAX_ROUNDS rounds of deliveries in all', () => {
    expect(attemptsExhausted({ attempts: 5 * MAX_ROUNDS - 1 }, 5)).toBe(false);
    expect(attemptsExhausted({ attempts: 5 * MAX_ROUNDS }, 5)).toBe(true);
  });

  it('keeps error codes short and free of text that is not a code', () => {
    expect(safeErrorCode('Access Denied: files/alice/')).toBe('Access-Denied:-files-alice-');
    expect(safeErrorCode(undefined)).toBe('unknown');
    expect(safeErrorCode('x'.repeat(100))).toHaveLength(60);
  });
});

const id = (name: string) => `${name}_1`;
const request = (patch: Partial<ErasureRequest>) => storedRequest(id, '2027-03-15T05:00:00.000Z', patch);
const task = (patch: Partial<ErasureTask>) => storedTask(id, request({}), patch);

describe('stuck-work recovery', () => {
  it('reviews a received request only after its dispatch had time, a dispatched one after 30 minutes, a blocked one always', () => {
    expect(mayBeStuck(request({ receivedAt: '2027-03-15T05:59:00.000Z' }), NOW)).toBe(false);
    expect(mayBeStuck(request({ receivedAt: '2027-03-15T05:57:00.000Z' }), NOW)).toBe(true);
    expect(
      mayBeStuck(
        request({ status: 'dispatched', taskCount: 2, dispatchedAt: '2027-03-15T05:45:00.000Z' }),
        NOW,
      ),
    ).toBe(false);
    expect(
      mayBeStuck(
        request({ status: 'dispatched', taskCount: 2, dispatchedAt: '2027-03-15T05:15:00.000Z' }),
        NOW,
      ),
    ).toBe(true);
    expect(mayBeStuck(request({ status: 'blocked' }), NOW)).toBe(true);
    // Dispatched with no task (nothing it could address): settled at the next review.
    expect(
      mayBeStuck(
        request({ status: 'dispatched', taskCount: 0, dispatchedAt: '2027-03-15T05:59:00.000Z' }),
        NOW,
      ),
    ).toBe(true);
  });

  it('re-sends tasks never started, started long ago, or awaiting a callback for a day', () => {
    const tasks = [
      task({ taskId: 'pending' }),
      task({ taskId: 'running-now', status: 'running', startedAt: '2027-03-15T05:50:00.000Z' }),
      task({ taskId: 'running-long', status: 'running', startedAt: '2027-03-15T05:00:00.000Z' }),
      task({
        taskId: 'callback-hours',
        status: 'running',
        awaitingCallback: true,
        startedAt: '2027-03-15T00:00:00.000Z',
      }),
      task({
        taskId: 'callback-day',
        status: 'running',
        awaitingCallback: true,
        startedAt: '2027-03-14T05:00:00.000Z',
      }),
      task({ taskId: 'verified', status: 'verified' }),
    ];
    expect(
      stoppedTasks(tasks, NOW, { holds: [], catalog: BUILT_IN_CATALOG }).map((candidate) => candidate.taskId),
    ).toEqual(['pending', 'running-long', 'callback-day']);
  });
});

describe('ALE-2: withholding for an unpaid invoice', () => {
  it('ALE-2: keeps billing traffic while an invoice is unpaid and names it; erases the rest', () => {
    const result = withholdRetained(BUILT_IN_CATALOG, { unpaidInvoiceSince: '2027-01-01T00:00:00.000Z' }, [
      'billing-traffic',
      'closed-account',
    ]);
    expect(result).toEqual({
      erasable: ['closed-account'],
      withheld: [{ dataClass: 'billing-traffic', reason: 'unpaid-invoice' }],
    });
    expect(withholdRetained(BUILT_IN_CATALOG, {}, ['billing-traffic']).withheld).toEqual([]);
  });

  it('ALE-2: refuses a request for nothing but classes that must be kept', () => {
    expect(() =>
      withholdRetained(BUILT_IN_CATALOG, { unpaidInvoiceSince: '2027-01-01T00:00:00.000Z' }, [
        'billing-traffic',
      ]),
    ).toThrow(RetentionRequiredError);
  });
});

describe('ALM-3: placing a hold', () => {
  const context = { holdId: 'hold_1', createdAt: NOW, knownDataClasses: ['cloud-video', 'closed-account'] };

  it('ALM-3: builds the hold with its classes once each', () => {
    expect(
      newHold(
        { subjectId: 's-1', reason: 'litigation-2027-001', dataClasses: ['cloud-video', 'cloud-video'] },
        context,
      ),
    ).toEqual({
      holdId: 'hold_1',
      subjectId: 's-1',
      reason: 'litigation-2027-001',
      createdAt: NOW,
      dataClasses: ['cloud-video'],
    });
  });

  it.each([
    ['an unknown data class', { dataClasses: ['cloud-video', 'nope'] }, 'dataClasses[1]'],
    ['an end in the past', { until: '2027-03-01T00:00:00.000Z' }, 'until'],
    ['a reason that is not a code', { reason: 'because I said so' }, 'reason'],
    [
      'a reason that carries an identifier value the hold names',
      { reason: 'cam-00bb-kept', identifiers: { deviceId: ['CAM-00BB'] } },
      'reason',
    ],
  ])('refuses %s, naming the field', (_name, patch, field) => {
    try {
      newHold({ subjectId: 's-1', reason: 'litigation', ...patch }, context);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });
});

describe('the sweep watermark', () => {
  it('counts calendar months back', () => {
    expect(monthsBefore('2027-03-31T12:00:00.000Z', 1)).toBe('2027-02');
    expect(monthsBefore('2027-01-15T00:00:00.000Z', 12)).toBe('2026-01');
  });

  it('starts a year back on a new deployment, from the watermark otherwise', () => {
    expect(sweepStart(undefined, NOW)).toBe('2026-03');
    expect(sweepStart('2027-02', NOW)).toBe('2027-02');
  });

  it('trails the earlier of the slot and the clock by a month, so it never passes the real clock', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2001-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }),
        fc.date({ min: new Date('2001-01-01'), max: new Date('2090-01-01'), noInvalidDate: true }),
        (slot, clock) => {
          const next = watermarkAfter(slot.toISOString(), clock.toISOString());
          expect(next < clock.toISOString().slice(0, 7)).toBe(true);
          expect(next < slot.toISOString().slice(0, 7)).toBe(true);
        },
      ),
    );
  });
});

describe('the audit event catalogue', () => {
  it('lists every type once, and its builders make only listed types with stable keys', () => {
    expect(new Set(AUDIT_EVENT_TYPES).size).toBe(AUDIT_EVENT_TYPES.length);
    const held = taskHeld(
      { taskId: 't', requestId: 'r', dataClass: 'd', target: 'x' },
      ['hold_b', 'hold_a'],
      NOW,
    );
    expect(held.idempotencyKey).toBe('task:t:held:hold_a+hold_b');
    const placed = holdPlaced({ holdId: 'hold_1', subjectId: 's', reason: 'litigation', createdAt: NOW });
    for (const event of [held, placed]) expect(AUDIT_EVENT_TYPES).toContain(event.type);
  });
});

describe('ALL-3: a restore that arrives after the deletion was claimed', () => {
  const suspended = {
    subjectId: 'subject-1',
    dataClass: 'suspended-account',
    status: 'dispatched' as const,
    action: 'delete' as const,
    ruleRef: 'ALL-3',
    dueAt: '2026-08-01T00:00:00.000Z',
    trigger: { eventId: 'evt_s', type: 'account.suspended' as const, occurredAt: '2026-05-01T00:00:00.000Z' },
    lastEvent: {
      eventId: 'evt_s',
      type: 'account.suspended' as const,
      occurredAt: '2026-05-01T00:00:00.000Z',
    },
    lastChange: 'scheduled' as const,
  };
  const restore = (occurredAt: string) =>
    decide(
      BUILT_IN_CATALOG,
      { subjectId: 'subject-1', entries: [suspended] },
      { subjectId: 'subject-1', eventId: 'evt_r', type: 'account.restored', occurredAt, attributes: {} },
    );

  it('ALL-3: withdraws the claimed deletion when the restore happened before it was due', () => {
    const result = restore('2026-07-15T00:00:00.000Z');
    expect(result.withdrawn).toEqual([suspended]);
    expect(result.decisions).toContainEqual(
      expect.objectContaining({ dataClass: 'suspended-account', change: 'cancelled' }),
    );
  });

  it('ALL-3: keeps it when the restore came after the due date (the deletion was right)', () => {
    const result = restore('2026-08-05T00:00:00.000Z');
    expect(result.withdrawn ?? []).toEqual([]);
    expect(result.decisions.filter((decision) => decision.dataClass === 'suspended-account')).toEqual([]);
  });
});
