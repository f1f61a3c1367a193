/**
 * The pure rules behind the scaled-out sweep: when an open request may next be stuck (the review
 * index's sort key) and when a fan-out run lets the watermark move.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CALLBACK_TIMEOUT_MS,
  mayBeStuck,
  nextReviewAt,
  reviewAtOf,
  STUCK_AFTER_MS,
  STUCK_DISPATCH_AFTER_MS,
} from '../../domain/erasure/recovery.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { laterMonth, watermarkAfter, watermarkAfterRun } from '../../domain/schedule/watermark.js';
import { storedRequest, storedTask } from '../helpers/factories.js';

const AT = '2027-01-10T10:00:00.000Z';
const plus = (instant: string, ms: number) => new Date(Date.parse(instant) + ms).toISOString();
let counter = 0;
const fresh = (label: string) => `${label}-${++counter}`;
const request = (overrides: Partial<ErasureRequest> = {}) => storedRequest(fresh, AT, overrides);
const task = (of: ErasureRequest, overrides: Partial<ErasureTask> = {}) => storedTask(fresh, of, overrides);

describe('reviewAtOf', () => {
  it('is the first instant mayBeStuck says yes, for received and dispatched requests', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 86_400_000 }), fc.boolean(), (offset, dispatched) => {
        const at = plus(AT, offset);
        const open = dispatched
          ? request({ status: 'dispatched', taskCount: 3, receivedAt: AT, dispatchedAt: at })
          : request({ status: 'received', receivedAt: at });
        const reviewAt = reviewAtOf(open) ?? '';
        expect(mayBeStuck(open, plus(reviewAt, 1))).toBe(true);
        expect(mayBeStuck(open, plus(reviewAt, -1))).toBe(false);
      }),
    );
  });

  it('reviews a received request after 2 minutes, a dispatched one after 30 (one without tasks at once), a blocked one at once, a final one never', () => {
    expect(reviewAtOf(request({ status: 'received', receivedAt: AT }))).toBe(plus(AT, STUCK_AFTER_MS));
    expect(reviewAtOf(request({ status: 'dispatched', taskCount: 3, dispatchedAt: AT }))).toBe(
      plus(AT, STUCK_DISPATCH_AFTER_MS),
    );
    // Nothing it could address (no task): at once, to be settled.
    expect(reviewAtOf(request({ status: 'dispatched', taskCount: 0, dispatchedAt: AT }))).toBe(AT);
    expect(reviewAtOf(request({ status: 'blocked', receivedAt: AT }))).toBe(AT);
    for (const status of ['completed', 'partially_failed', 'rejected', 'cancelled'] as const) {
      expect(reviewAtOf(request({ status }))).toBeUndefined();
    }
  });
});

describe('nextReviewAt', () => {
  it('puts a request awaiting a callback off until its callback timeout, and never sooner than a dispatch timeout', () => {
    const dispatched = request({ status: 'dispatched', dispatchedAt: AT });
    const awaiting = task(dispatched, {
      status: 'running',
      awaitingCallback: true,
      startedAt: AT,
      attempts: 1,
    });
    const now = plus(AT, STUCK_DISPATCH_AFTER_MS);
    expect(nextReviewAt(dispatched, [awaiting], now)).toBe(plus(AT, CALLBACK_TIMEOUT_MS));
    const pending = task(dispatched);
    expect(nextReviewAt(dispatched, [awaiting, pending], now)).toBe(plus(now, STUCK_DISPATCH_AFTER_MS));
    expect(nextReviewAt(dispatched, [], now)).toBe(plus(now, STUCK_DISPATCH_AFTER_MS));
  });

  it('is always after now', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 * 86_400_000 }), (offset) => {
        const dispatched = request({ status: 'dispatched', dispatchedAt: AT });
        const awaiting = task(dispatched, {
          status: 'running',
          awaitingCallback: true,
          startedAt: AT,
          attempts: 1,
        });
        const now = plus(AT, offset);
        expect(nextReviewAt(dispatched, [awaiting], now) > now).toBe(true);
      }),
    );
  });
});

describe('watermarkAfterRun', () => {
  const run = { runId: 'run-1', now: '2027-04-10T00:00:00.000Z', clockNow: '2027-04-10T00:00:05.000Z' };

  it('moves the watermark only when every bucket of the run was acknowledged', () => {
    expect(watermarkAfterRun(undefined)).toBeUndefined();
    expect(watermarkAfterRun({ ...run, pending: ['2027-03#01'] })).toBeUndefined();
    expect(watermarkAfterRun({ ...run, pending: [] })).toBe(watermarkAfter(run.now, run.clockNow));
    expect(watermarkAfterRun({ ...run, pending: [] })).toBe('2027-03');
  });

  it('keeps the later of two months', () => {
    expect(laterMonth('2027-01', '2027-03')).toBe('2027-03');
    expect(laterMonth('2027-03', undefined)).toBe('2027-03');
    expect(laterMonth(undefined, undefined)).toBeUndefined();
  });
});
