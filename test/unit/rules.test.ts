/**
 * One test per rule of retention-rules.md that the catalog enforces, named after the rule, with
 * concrete dates: what the built-in catalog and the pure scheduling functions decide. The
 * end-to-end counterparts live in test/integration/pipeline.test.ts (see docs/rules.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { allRuleIds, BUILT_IN_CATALOG, CAPABILITY_MAPPINGS } from '../../domain/policy/catalog.js';
import { policyFor } from '../../domain/policy/config.js';
import { decide } from '../../domain/schedule/decide.js';
import { afterBlocked, evaluateDue } from '../../domain/schedule/due.js';
import type { ScheduleDecision, SubjectSchedule } from '../../domain/schedule/types.js';
import { cutoffFor, planWindowRun, type SubjectWindow } from '../../domain/schedule/windows.js';
import { createConnectorRegistry } from '../../functions/connectors/registry.js';
import { ROUTES } from '../../functions/shared/routes.js';
import {
  scheduleApply,
  scheduleEmpty,
  scheduleEntry,
  scheduleEvent,
  scheduleHold,
  validationErrorOf,
} from '../helpers/factories.js';

const catalog = BUILT_IN_CATALOG;

/** The 25 rule ids of retention-rules.md, copied from the document (the reference workload). */
const RULE_IDS = [
  'ALU-1',
  'ALU-2',
  'ALU-3',
  'ALU-4',
  'ALU-5',
  'ALU-6',
  'ALL-1',
  'ALL-2',
  'ALL-3',
  'ALL-4',
  'ALL-5',
  'IMOU-1',
  'IMOU-2',
  'IMOU-3',
  'IMOU-4',
  'IMOU-5',
  'IMOU-6',
  'ALM-1',
  'ALM-2',
  'ALM-3',
  'ALE-1',
  'ALE-2',
  'ALE-3',
  'ALE-4',
  'ALE-5',
];

const decisionFor = (decisions: readonly ScheduleDecision[], dataClass: string, change = 'scheduled') => {
  const decision = decisions.find(
    (candidate) => candidate.dataClass === dataClass && candidate.change === change,
  );
  if (decision === undefined) throw new Error(`no ${change} decision for ${dataClass}`);
  return decision;
};

/** Runs the sweep's evaluation for one class of a schedule at `now`. */
const evaluate = (
  schedule: SubjectSchedule,
  dataClass: string,
  now: string,
  holds = [] as ReturnType<typeof scheduleHold>[],
) =>
  evaluateDue({
    catalog,
    policy: policyFor(catalog, dataClass),
    entry: scheduleEntry(schedule, dataClass),
    schedule,
    holds,
    now,
  });

/** The window run of `dataClass` due at `now` (its first target), as the sweep plans it. */
const windowRun = (
  dataClass: string,
  now: string,
  options: { subjectWindows?: SubjectWindow[]; holds?: ReturnType<typeof scheduleHold>[] } = {},
) => {
  const policy = policyFor(catalog, dataClass);
  return planWindowRun({
    catalog,
    policy,
    target: policy.targets[0] as string,
    now,
    subjectWindows: options.subjectWindows ?? [],
    holds: options.holds ?? [],
  });
};

describe('rule coverage', () => {
  it('every rule id of retention-rules.md is covered by the catalog ruleRefs or a capability mapping', () => {
    // Prepare / Act
    const covered = allRuleIds();

    // Assess
    expect(covered).toEqual([...RULE_IDS].sort());
  });

  it('the catalog cites only rule ids of retention-rules.md', () => {
    const cited = catalog.dataClasses.flatMap((policy) => policy.ruleRefs);
    expect(cited.filter((id) => !RULE_IDS.includes(id))).toEqual([]);
  });

  it('docs/rules.md lists every rule id, and every domain test it names exists', () => {
    // Prepare
    const doc = readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8');
    const unitDir = new URL('./', import.meta.url);
    const testSources = readdirSync(unitDir)
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => readFileSync(new URL(file, unitDir), 'utf8'))
      .join('\n');
    const rows = doc.split('\n').filter((line) => /^\| (ALU|ALL|IMOU|ALM|ALE)-\d+ /.test(line));

    // Act
    const ids = rows.map((row) => row.split('|')[1]?.trim());
    const namedTests = rows.flatMap((row) =>
      [...(row.split('|')[4] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1] ?? ''),
    );

    // Assess
    expect([...ids].sort()).toEqual([...RULE_IDS].sort());
    expect(namedTests.length).toBeGreaterThanOrEqual(RULE_IDS.length);
    expect(namedTests.filter((name) => !testSources.includes(name))).toEqual([]);
  });
});

describe('Alleato (telecom)', () => {
  it('ALE-1: contract ended 2026-01-31 → customer profile deleted 2028-01-31 from records and partner services', () => {
    // Prepare
    const ended = scheduleEvent('contract.ended', '2026-01-31');

    // Act
    const { decisions, next } = decide(catalog, scheduleEmpty(), ended);

    // Assess
    expect(decisionFor(decisions, 'customer-profile')).toEqual({
      change: 'scheduled',
      dataClass: 'customer-profile',
      action: 'delete',
      dueAt: '2028-01-31T00:00:00.000Z',
      ruleRef: 'ALE-1',
    });
    expect(evaluate(next, 'customer-profile', '2028-01-31T00:00:00.000Z')).toEqual({ kind: 'run' });
    expect(policyFor(catalog, 'customer-profile').targets).toEqual(['customer-records', 'partner-services']);
  });

  it('ALE-2: an unpaid invoice blocks billing-traffic deletion; settled 2027-03-01 → due 2029-03-01', () => {
    // Prepare: settled 2025-01-01 → due 2027-01-01; a new invoice is unpaid since 2026-12-01
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('invoice.settled', '2025-01-01'),
      scheduleEvent('invoice.unpaid', '2026-12-01'),
    ]);
    expect(scheduleEntry(schedule, 'billing-traffic').dueAt).toBe('2027-01-01T00:00:00.000Z');

    // Act
    const atDue = evaluate(schedule, 'billing-traffic', '2027-01-01T00:00:00.000Z');
    const blocked = { ...schedule, entries: schedule.entries.map((entry) => afterBlocked(entry)) };
    const settled = decide(catalog, blocked, scheduleEvent('invoice.settled', '2027-03-01'));

    // Assess
    expect(atDue).toEqual({
      kind: 'blocked',
      blockers: [{ kind: 'unpaid-invoice', since: '2026-12-01T00:00:00.000Z' }],
    });
    expect(decisionFor(settled.decisions, 'billing-traffic', 'rescheduled').dueAt).toBe(
      '2029-03-01T00:00:00.000Z',
    );
    expect(settled.next.unpaidInvoiceSince).toBeUndefined();
    expect(evaluate(settled.next, 'billing-traffic', '2029-03-01T00:00:00.000Z')).toEqual({ kind: 'run' });
  });

  it('ALE-3: active 2026-03-10 → monthly window runs from 2026-04-01 erase fault traffic older than 6 months (2025-10-01) and statistics older than 24 months (2024-04-01), for every subject at once', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('subject.active', '2026-03-10T08:00:00.000Z'),
    ]);

    // Act
    const fault = windowRun('fault-traffic', '2026-04-01T00:00:00.000Z');
    const lateInMonth = windowRun('fault-traffic', '2026-04-17T13:00:00.000Z');
    const statistics = windowRun('traffic-statistics', '2026-04-01T00:00:00.000Z');

    // Assess
    expect(scheduleEntry(schedule, 'fault-traffic')).toMatchObject({
      status: 'windowed',
      dueAt: '2026-04-01T00:00:00.000Z',
    });
    expect(fault).toMatchObject({
      ruleRef: 'ALE-3',
      target: 'partner-services',
      cutoff: '2025-10-01T00:00:00.000Z',
    });
    expect(lateInMonth).toMatchObject({
      slot: '2026-04-01T00:00:00.000Z',
      cutoff: '2025-10-01T00:00:00.000Z',
    });
    expect(statistics).toMatchObject({ ruleRef: 'ALE-3', cutoff: '2024-04-01T00:00:00.000Z' });
  });

  it('ALE-4: consumption data older than 24 months is erased by monthly window runs: 2026-04-01 → before 2024-04-01, 2026-05-01 → before 2024-05-01', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('subject.active', '2026-03-10T08:00:00.000Z'),
    ]);
    const again = decide(catalog, schedule, scheduleEvent('subject.active', '2026-04-20T08:00:00.000Z'));

    // Act
    const firstRun = windowRun('consumption-data', '2026-04-01T00:00:00.000Z');
    const secondRun = windowRun('consumption-data', '2026-05-01T00:00:00.000Z');

    // Assess
    expect(firstRun).toMatchObject({ ruleRef: 'ALE-4', cutoff: '2024-04-01T00:00:00.000Z' });
    expect(secondRun).toMatchObject({ ruleRef: 'ALE-4', cutoff: '2024-05-01T00:00:00.000Z' });
    // Activity does not re-arm anything per subject: the window applies already.
    expect(again.decisions.map((decision) => decision.dataClass)).not.toContain('consumption-data');
  });
});

describe('ALUTECH Smart (smart-home app)', () => {
  it('ALU-1: data provided while using the app is kept at most 2 years: contract ended 2024-02-29 → deleted 2026-02-28', () => {
    // Prepare / Act
    const { decisions } = decide(catalog, scheduleEmpty(), scheduleEvent('contract.ended', '2024-02-29'));

    // Assess
    expect(policyFor(catalog, 'customer-profile').ruleRefs).toContain('ALU-1');
    expect(decisionFor(decisions, 'customer-profile').dueAt).toBe('2026-02-28T00:00:00.000Z');
  });

  it('ALU-2: stored in PL → due after the PL override: contract ended 2026-11-30 → 2027-11-30 (SE 2029-11-30, DE the default 2028-11-30)', () => {
    // Prepare
    const endedIn = (jurisdiction: string) =>
      scheduleEvent('contract.ended', '2026-11-30', { attributes: { jurisdiction } });

    // Act
    const poland = decide(catalog, scheduleEmpty(), endedIn('PL')).next;
    const sweden = decide(catalog, scheduleEmpty(), endedIn('SE')).next;
    const germany = decide(catalog, scheduleEmpty(), endedIn('DE')).next;

    // Assess
    expect(scheduleEntry(poland, 'customer-profile')).toMatchObject({
      dueAt: '2027-11-30T00:00:00.000Z',
      jurisdiction: 'PL',
    });
    expect(scheduleEntry(sweden, 'customer-profile')).toMatchObject({
      dueAt: '2029-11-30T00:00:00.000Z',
      jurisdiction: 'SE',
    });
    expect(scheduleEntry(germany, 'customer-profile').dueAt).toBe('2028-11-30T00:00:00.000Z');
    expect(scheduleEntry(germany, 'customer-profile').jurisdiction).toBeUndefined();
  });

  it.each([
    ['SW', "is not an assigned ISO 3166-1 alpha-2 country code (e.g. 'SE')"],
    ['XX', "is not an assigned ISO 3166-1 alpha-2 country code (e.g. 'SE')"],
    ['UK', "is not an ISO 3166-1 alpha-2 country code: use 'GB'"],
  ])(
    'ALU-2: a jurisdiction no country has (%s) is refused, not kept for the default period',
    (code, problem) => {
      // Prepare
      const event = scheduleEvent('contract.ended', '2026-11-30', { attributes: { jurisdiction: code } });

      // Act
      const error = validationErrorOf(() => decide(catalog, scheduleEmpty(), event));

      // Assess
      expect(error.field).toBe('attributes.jurisdiction');
      expect(error.message).toBe(`attributes.jurisdiction '${code}' ${problem}`);
    },
  );

  it("ALU-4: a child's data detected 2026-06-01T12:00Z is deleted at once where possible and restricted at once where not", () => {
    // Prepare / Act
    const { decisions } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('child_data.detected', '2026-06-01T12:00:00.000Z'),
    );

    // Assess
    expect(decisionFor(decisions, 'child-data')).toMatchObject({
      action: 'delete',
      dueAt: '2026-06-01T12:00:00.000Z',
    });
    expect(decisionFor(decisions, 'child-data-restricted')).toEqual({
      change: 'scheduled',
      dataClass: 'child-data-restricted',
      action: 'restrict',
      dueAt: '2026-06-01T12:00:00.000Z',
      ruleRef: 'ALU-4',
    });
  });

  it('ALU-5: processing is restricted for one data class (partner services) from 2026-06-01T12:00Z, and the restriction runs like a deletion', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('child_data.detected', '2026-06-01T12:00:00.000Z'),
    ]);
    const policy = policyFor(catalog, 'child-data-restricted');

    // Act
    const result = evaluate(schedule, 'child-data-restricted', '2026-06-01T12:00:00.000Z');

    // Assess
    expect(policy).toMatchObject({ action: 'restrict', targets: ['partner-services'] });
    expect(policy.ruleRefs).toContain('ALU-5');
    expect(result).toEqual({ kind: 'run' });
    expect(CAPABILITY_MAPPINGS.find((mapping) => mapping.ruleRef === 'ALU-5')?.implementedBy).toContain(
      'restrict',
    );
  });

  it('ALU-6: portability is mapped to the export route, which exists and every built-in data store answers', () => {
    // Prepare
    const mapping = CAPABILITY_MAPPINGS.find((candidate) => candidate.ruleRef === 'ALU-6');
    const registry = createConnectorRegistry({
      s3: new S3Client({ region: 'eu-west-1' }),
      documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' })),
      secretFor: () => 'unused',
    });

    // Assess: the mapping names a route that is really declared, and no built-in kind lacks export.
    expect(mapping?.implementedBy).toMatch(
      /^portability export: POST \/v1\/subjects\/\{subjectId\}\/export /,
    );
    expect(
      ROUTES.some((route) => `${route.method} ${route.path}` === 'POST /v1/subjects/{subjectId}/export'),
    ).toBe(true);
    for (const kind of ['s3-prefix', 'dynamodb-items', 'http-webhook']) {
      expect(typeof registry.connectorFor({ name: kind, kind }).export, kind).toBe('function');
    }
  });
});

describe('Allsync (file sync)', () => {
  it('ALL-1: account closed 2026-05-10T08:00Z → all its data deleted at once, from every store', () => {
    // Prepare / Act
    const { decisions, next } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('account.closed', '2026-05-10T08:00:00.000Z'),
    );

    // Assess
    expect(decisionFor(decisions, 'closed-account')).toEqual({
      change: 'scheduled',
      dataClass: 'closed-account',
      action: 'delete',
      dueAt: '2026-05-10T08:00:00.000Z',
      ruleRef: 'ALL-1',
    });
    expect(evaluate(next, 'closed-account', '2026-05-10T08:00:00.000Z')).toEqual({ kind: 'run' });
  });

  it("ALL-2: deleting the account 2026-05-10T08:00Z deletes the user's records and files at once", () => {
    // Prepare / Act
    const { decisions } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('account.deleted', '2026-05-10T08:00:00.000Z'),
    );

    // Assess
    expect(decisionFor(decisions, 'closed-account').dueAt).toBe('2026-05-10T08:00:00.000Z');
    expect(policyFor(catalog, 'closed-account').targets).toEqual(
      expect.arrayContaining(['customer-records', 'user-files']),
    );
  });

  it('ALL-3: suspended 2026-11-30 → deletion due 2027-02-28; restored 2027-01-15 → cancelled', () => {
    // Prepare
    const suspended = decide(catalog, scheduleEmpty(), scheduleEvent('account.suspended', '2026-11-30'));

    // Act
    const restored = decide(catalog, suspended.next, scheduleEvent('account.restored', '2027-01-15'));

    // Assess
    expect(decisionFor(suspended.decisions, 'suspended-account').dueAt).toBe('2027-02-28T00:00:00.000Z');
    expect(restored.decisions).toEqual([
      {
        change: 'cancelled',
        dataClass: 'suspended-account',
        action: 'delete',
        dueAt: '2027-02-28T00:00:00.000Z',
        ruleRef: 'ALL-3',
      },
    ]);
    expect(scheduleEntry(restored.next, 'suspended-account').status).toBe('cancelled');
  });

  it('ALL-3: an account suspended 2026-11-30 and not restored is deleted on 2027-02-28, not a moment before', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('account.suspended', '2026-11-30')]);

    // Act / Assess
    expect(() => evaluate(schedule, 'suspended-account', '2027-02-27T23:59:59.999Z')).toThrow();
    expect(evaluate(schedule, 'suspended-account', '2027-02-28T00:00:00.000Z')).toEqual({ kind: 'run' });
  });

  it('ALL-3: a restore 2027-01-15 that arrives before the suspension 2026-11-30 it undoes still keeps the account', () => {
    // Prepare / Act
    const { schedule, decisions } = scheduleApply(catalog, [
      scheduleEvent('account.restored', '2027-01-15'),
      scheduleEvent('account.suspended', '2026-11-30'),
    ]);

    // Assess
    expect(decisions).toEqual([[], []]);
    expect(scheduleEntry(schedule, 'suspended-account').status).toBe('cancelled');
  });

  it('ALL-4: cookies set at the last activity 2024-02-29T10:00Z are deleted 2025-02-28T10:00Z; activity 2024-06-01 moves it to 2025-06-01', () => {
    // Prepare
    const first = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('subject.active', '2024-02-29T10:00:00.000Z'),
    );

    // Act
    const later = decide(catalog, first.next, scheduleEvent('subject.active', '2024-06-01'));

    // Assess
    expect(decisionFor(first.decisions, 'cookies').dueAt).toBe('2025-02-28T10:00:00.000Z');
    expect(decisionFor(later.decisions, 'cookies', 'rescheduled').dueAt).toBe('2025-06-01T00:00:00.000Z');
  });

  it('ALL-5: data found 2026-06-01T12:00Z to come from a user under 18 is deleted at once from records, files, video and alarms', () => {
    // Prepare / Act
    const { decisions } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('child_data.detected', '2026-06-01T12:00:00.000Z'),
    );

    // Assess
    expect(decisionFor(decisions, 'child-data')).toEqual({
      change: 'scheduled',
      dataClass: 'child-data',
      action: 'delete',
      dueAt: '2026-06-01T12:00:00.000Z',
      ruleRef: 'ALL-5',
    });
    expect(policyFor(catalog, 'child-data').targets).toEqual([
      'customer-records',
      'user-files',
      'cloud-video',
      'alarm-events',
    ]);
  });
});

describe('Imou (cameras and cloud video)', () => {
  it('IMOU-1: plan expired 2026-04-30 → cloud video deleted at once; renewed 2026-04-30T06:00Z before the sweep → cancelled', () => {
    // Prepare
    const expired = decide(catalog, scheduleEmpty(), scheduleEvent('plan.expired', '2026-04-30'));

    // Act
    const renewed = decide(catalog, expired.next, scheduleEvent('plan.renewed', '2026-04-30T06:00:00.000Z'));

    // Assess
    expect(decisionFor(expired.decisions, 'cloud-video').dueAt).toBe('2026-04-30T00:00:00.000Z');
    expect(decisionFor(renewed.decisions, 'cloud-video', 'cancelled').dueAt).toBe('2026-04-30T00:00:00.000Z');
  });

  it('IMOU-1: rolling window: plan renewed 2026-03-01 with storagePeriod P7D → daily window runs erase its video older than 7 days (2026-03-02 → before 2026-02-23), other subjects at the default 30 days', () => {
    // Prepare
    const renewed = scheduleEvent('plan.renewed', '2026-03-01T10:00:00.000Z', {
      attributes: { storagePeriod: 'P7D' },
    });
    const { schedule } = scheduleApply(catalog, [renewed]);
    const entry = scheduleEntry(schedule, 'cloud-video-window');
    const subjectWindows = [{ subjectId: entry.subjectId, window: 'P7D' }];

    // Act
    const firstRun = windowRun('cloud-video-window', '2026-03-02T00:00:00.000Z', { subjectWindows });
    const secondRun = windowRun('cloud-video-window', '2026-03-03T00:00:00.000Z', { subjectWindows });

    // Assess
    expect(entry).toMatchObject({
      status: 'windowed',
      subjectWindow: 'P7D',
      dueAt: '2026-03-02T00:00:00.000Z',
    });
    expect(cutoffFor(firstRun, entry.subjectId)).toBe('2026-02-23T00:00:00.000Z');
    expect(cutoffFor(firstRun, 'another-subject')).toBe('2026-01-31T00:00:00.000Z');
    expect(cutoffFor(secondRun, entry.subjectId)).toBe('2026-02-24T00:00:00.000Z');
    expect(firstRun.target).toBe('cloud-video');
  });

  it('IMOU-1: the rolling window stops when the plan expires 2026-05-01', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('plan.renewed', '2026-03-01', { attributes: { storagePeriod: 'P30D' } }),
    ]);

    // Act
    const { decisions, next } = decide(catalog, schedule, scheduleEvent('plan.expired', '2026-05-01'));

    // Assess
    expect(decisionFor(decisions, 'cloud-video-window', 'cancelled')).toBeDefined();
    expect(scheduleEntry(next, 'cloud-video-window').status).toBe('cancelled');
    expect(decisionFor(decisions, 'cloud-video').dueAt).toBe('2026-05-01T00:00:00.000Z');
  });

  it('IMOU-2: alarm events are kept 7 days: active 2026-03-03T09:00Z → the window run of 2026-03-04 erases alarms before 2026-02-25, the next one before 2026-02-26; a held subject is excluded', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('subject.active', '2026-03-03T09:00:00.000Z'),
    ]);
    const hold = scheduleHold({ createdAt: '2026-03-01T00:00:00.000Z' });

    // Act
    const firstRun = windowRun('alarm-events', '2026-03-04T00:00:00.000Z', { holds: [hold] });
    const secondRun = windowRun('alarm-events', '2026-03-05T00:00:00.000Z');

    // Assess
    expect(scheduleEntry(schedule, 'alarm-events').status).toBe('windowed');
    expect(firstRun).toMatchObject({
      ruleRef: 'IMOU-2',
      target: 'alarm-events',
      cutoff: '2026-02-25T00:00:00.000Z',
      excludedSubjects: [hold.subjectId],
    });
    expect(secondRun).toMatchObject({ cutoff: '2026-02-26T00:00:00.000Z', excludedSubjects: [] });
  });

  it('IMOU-3: active 2026-03-15 → deleted 2028-03-15 with a notice 3 months before (2027-12-15); activity 2026-09-01 moves both', () => {
    // Prepare
    const first = decide(catalog, scheduleEmpty(), scheduleEvent('subject.active', '2026-03-15'));

    // Act
    const later = decide(catalog, first.next, scheduleEvent('subject.active', '2026-09-01'));

    // Assess
    expect(decisionFor(first.decisions, 'inactive-account').dueAt).toBe('2028-03-15T00:00:00.000Z');
    expect(decisionFor(first.decisions, 'inactive-account', 'notice')).toEqual({
      change: 'notice',
      dataClass: 'inactive-account',
      action: 'delete',
      dueAt: '2027-12-15T00:00:00.000Z',
      ruleRef: 'IMOU-3',
    });
    expect(decisionFor(later.decisions, 'inactive-account', 'rescheduled').dueAt).toBe(
      '2028-09-01T00:00:00.000Z',
    );
    expect(decisionFor(later.decisions, 'inactive-account', 'notice').dueAt).toBe('2028-06-01T00:00:00.000Z');
    expect(scheduleEntry(later.next, 'inactive-account').noticeAt).toBe('2028-06-01T00:00:00.000Z');
  });

  it('IMOU-4: deleting the account 2026-07-01 erases records, files, video and alarms at once and stops the pending schedules', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [
      scheduleEvent('subject.active', '2026-06-20'),
      scheduleEvent('plan.renewed', '2026-06-01', { attributes: { storagePeriod: 'P7D' } }),
    ]);

    // Act
    const { decisions } = decide(catalog, schedule, scheduleEvent('account.deleted', '2026-07-01'));

    // Assess
    expect(decisionFor(decisions, 'closed-account')).toMatchObject({
      dueAt: '2026-07-01T00:00:00.000Z',
      action: 'delete',
    });
    expect(policyFor(catalog, 'closed-account').targets).toEqual(
      expect.arrayContaining(['customer-records', 'user-files', 'cloud-video', 'alarm-events']),
    );
    const cancelled = decisions
      .filter((decision) => decision.change === 'cancelled')
      .map((decision) => decision.dataClass);
    expect(cancelled.sort()).toEqual([
      'alarm-events',
      'cloud-video-window',
      'consumption-data',
      'fault-traffic',
      'inactive-account',
      'traffic-statistics',
    ]);
  });

  it('IMOU-5: product withdrawn 2026-09-01 → its data anonymised at once', () => {
    // Prepare / Act
    const { decisions } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('product.withdrawn', '2026-09-01', { attributes: { productId: 'camera-x1' } }),
    );

    // Assess
    expect(decisions).toEqual([
      {
        change: 'scheduled',
        dataClass: 'withdrawn-product-data',
        action: 'anonymise',
        dueAt: '2026-09-01T00:00:00.000Z',
        ruleRef: 'IMOU-5',
      },
    ]);
  });
});

describe('Alumio (B2B integration)', () => {
  it('ALM-1: consent withdrawn 2026-02-10T14:30Z → marketing contact deleted at once', () => {
    // Prepare / Act
    const { decisions } = decide(
      catalog,
      scheduleEmpty(),
      scheduleEvent('consent.withdrawn', '2026-02-10T14:30:00.000Z'),
    );

    // Assess
    expect(decisions).toEqual([
      {
        change: 'scheduled',
        dataClass: 'marketing-contact',
        action: 'delete',
        dueAt: '2026-02-10T14:30:00.000Z',
        ruleRef: 'ALM-1',
      },
    ]);
  });

  it('ALM-2: relationship ended 2026-12-31 → contact deleted by 2029-12-31', () => {
    // Prepare / Act
    const { decisions } = decide(catalog, scheduleEmpty(), scheduleEvent('relationship.ended', '2026-12-31'));

    // Assess
    expect(decisionFor(decisions, 'business-contact')).toMatchObject({
      dueAt: '2029-12-31T00:00:00.000Z',
      ruleRef: 'ALM-2',
    });
  });

  it('ALM-3: a legal hold blocks a due deletion: suspended 2026-11-30, hold until 2027-06-30 → blocked on 2027-02-28, runs on 2027-06-30', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('account.suspended', '2026-11-30')]);
    const holds = [
      scheduleHold({
        holdId: 'tax-2026',
        createdAt: '2027-01-01T00:00:00.000Z',
        until: '2027-06-30T00:00:00.000Z',
      }),
    ];

    // Act
    const atDue = evaluate(schedule, 'suspended-account', '2027-02-28T00:00:00.000Z', holds);
    const atHoldEnd = evaluate(schedule, 'suspended-account', '2027-06-30T00:00:00.000Z', holds);

    // Assess
    expect(atDue).toEqual({
      kind: 'blocked',
      blockers: [{ kind: 'legal-hold', holdIds: ['tax-2026'] }],
      retryAt: '2027-06-30T00:00:00.000Z',
    });
    expect(atHoldEnd).toEqual({ kind: 'run' });
  });

  it('ALM-3: a released hold no longer blocks, and every class honours holds', () => {
    // Prepare
    const { schedule } = scheduleApply(catalog, [scheduleEvent('consent.withdrawn', '2026-02-10')]);
    const active = scheduleHold({ holdId: 'litigation', createdAt: '2026-01-01T00:00:00.000Z' });
    const released = { ...active, releasedAt: '2026-03-01T00:00:00.000Z' };

    // Act
    const whileHeld = evaluate(schedule, 'marketing-contact', '2026-02-10T00:00:00.000Z', [active]);
    const afterRelease = evaluate(schedule, 'marketing-contact', '2026-03-01T00:00:00.000Z', [released]);

    // Assess
    expect(catalog.dataClasses.every((policy) => policy.blockers.includes('legal-hold'))).toBe(true);
    expect(whileHeld).toEqual({
      kind: 'blocked',
      blockers: [{ kind: 'legal-hold', holdIds: ['litigation'] }],
    });
    expect(afterRelease).toEqual({ kind: 'run' });
  });
});
