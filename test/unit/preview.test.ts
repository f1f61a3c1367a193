/**
 * `decidePreview`: what a dry run says a request would do, from intake's own plan, ALE-2 split and
 * hold rule (ALM-3).
 */
import { describe, expect, it } from 'vitest';
import { planTasks } from '../../domain/erasure/plan.js';
import { decidePreview } from '../../domain/erasure/preview.js';
import { tasksFromPlan } from '../../domain/erasure/task.js';
import { withholding } from '../../domain/erasure/withhold.js';
import type { LegalHold } from '../../domain/holds.js';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/catalog.js';
import { parseDeploymentConfig } from '../../domain/policy/config.js';

const config = parseDeploymentConfig({ catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS });
const NOW = '2026-11-21T12:00:00.000Z';
const SUBJECT = 'subject-plan-1';

const decide = (
  requested: readonly string[],
  { holds = [], unpaid = false }: { holds?: readonly LegalHold[]; unpaid?: boolean } = {},
) => {
  const split = withholding(
    config.catalog,
    unpaid ? { unpaidInvoiceSince: '2026-10-01T00:00:00.000Z' } : {},
    requested,
  );
  const spec = { requestId: 'prv_test', subjectId: SUBJECT };
  const eraseTasks = tasksFromPlan(planTasks(config, split.erasable), spec);
  const withheldTasks = tasksFromPlan(
    planTasks(config, [...split.erasable, ...split.withheld.map((item) => item.dataClass)]).slice(
      eraseTasks.length,
    ),
    spec,
  );
  return decidePreview(config, { requested, withholding: split, eraseTasks, withheldTasks, holds, now: NOW });
};

const hold = (holdId: string, dataClasses: readonly string[], extra: Partial<LegalHold> = {}): LegalHold => ({
  holdId,
  subjectId: SUBJECT,
  reason: 'litigation-2026-001',
  createdAt: '2026-11-01T00:00:00.000Z',
  dataClasses,
  ...extra,
});

describe('decidePreview', () => {
  it('gives a store-wide task every requested class that lives there, and a webhook task only its own', () => {
    const { tasks } = decide(['customer-profile', 'business-contact', 'cookies']);

    const summary = tasks.map(({ task, dataClasses }) => [task.target, task.dataClass, dataClasses]);
    expect(summary).toEqual(
      expect.arrayContaining([
        ['customer-records', 'customer-profile', ['customer-profile', 'business-contact']],
        ['partner-services', 'customer-profile', ['customer-profile']],
        ['partner-services', 'business-contact', ['business-contact']],
        ['partner-services', 'cookies', ['cookies']],
      ]),
    );
    expect(tasks.every(({ outcome }) => outcome === 'erase')).toBe(true);
  });

  it('ALM-3: a hold on one class blocks every task on a target it lives in, and the classes those tasks reach', () => {
    const decision = decide(['suspended-account', 'cookies'], { holds: [hold('h1', ['customer-profile'])] });

    expect(decision.intake).toBe('blocked');
    const outcome = (target: string) => decision.tasks.find(({ task }) => task.target === target);
    expect(outcome('customer-records')).toMatchObject({ outcome: 'blocked', blockedBy: ['h1'] });
    expect(outcome('user-files')).toMatchObject({ outcome: 'erase' });
    // customer-profile lives in partner-services too.
    expect(outcome('partner-services')).toMatchObject({ outcome: 'blocked', blockedBy: ['h1'] });
    expect(decision.dataClasses.map(({ dataClass, outcome: o }) => [dataClass, o])).toEqual([
      ['suspended-account', 'blocked'],
      ['cookies', 'blocked'],
    ]);
  });

  it('ALM-3: a released or expired hold blocks nothing', () => {
    const decision = decide(['suspended-account'], {
      holds: [
        hold('released', ['customer-profile'], { releasedAt: '2026-11-10T00:00:00.000Z' }),
        hold('expired', [], { dataClasses: undefined, until: '2026-11-20T00:00:00.000Z' }),
      ],
    });

    expect(decision.intake).toBe('dispatched');
    expect(decision.tasks.every(({ outcome }) => outcome === 'erase')).toBe(true);
  });

  it('ALE-2: withheld classes get tasks of their own marked withheld; nothing but them is refused', () => {
    const mixed = decide(['billing-traffic', 'cookies'], { unpaid: true });
    const only = decide(['billing-traffic'], { unpaid: true });
    const paid = decide(['billing-traffic'], { unpaid: false });

    expect(mixed.intake).toBe('dispatched');
    expect(mixed.tasks.map(({ task, outcome, reason }) => [task.dataClass, outcome, reason])).toEqual([
      ['cookies', 'erase', undefined],
      ['billing-traffic', 'withheld', 'unpaid-invoice'],
    ]);
    expect(only.intake).toBe('refused');
    expect(paid.intake).toBe('dispatched');
    expect(paid.tasks.map(({ outcome }) => outcome)).toEqual(['erase']);
  });
});
