/**
 * Rolling windows enforced per target (IMOU-1, IMOU-2, ALE-3, ALE-4) at the use-case level: the
 * sweep's window runs over the in-memory ports, with a fake store behind `expire` that keeps
 * timestamped items of many subjects. Assertions are on what is erased, stored and audited.
 */
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../domain/audit/chain.js';
import type { WindowInvocation, WindowOutcome } from '../../domain/connectors/types.js';
import type { LegalHold } from '../../domain/holds.js';
import { cutoffFor } from '../../domain/schedule/windows.js';
import { releaseLegalHold } from '../../functions/services/legal-holds.js';
import { recordLifecycleEvent } from '../../functions/services/lifecycle-events.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import { runWindows } from '../../functions/services/window-runs.js';
import { bearer, callApi } from '../helpers/api-handler.js';
import { stubRegistry } from '../helpers/connectors.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const NOW = '2026-12-01T00:05:00.000Z';
const DAY = 86_400_000;
const daysBefore = (days: number, from = NOW) => new Date(Date.parse(from) - days * DAY).toISOString();

interface Item {
  readonly subjectId: string;
  readonly at: string;
}

/** One store per target name: what `expire` would find there. */
const fakeStores = () => {
  const stores = new Map<string, Item[]>();
  const expire = async (invocation: WindowInvocation & { target?: string }): Promise<WindowOutcome> => {
    const items = stores.get(invocation.target ?? '') ?? [];
    const excluded = new Set(invocation.excludedSubjects);
    let held = 0;
    const kept = items.filter((item) => {
      if (item.at >= cutoffFor(invocation, item.subjectId)) return true;
      if (excluded.has(item.subjectId)) {
        held++;
        return true;
      }
      return false;
    });
    stores.set(invocation.target ?? '', kept);
    const oldest = kept.map((item) => item.at).sort()[0];
    return {
      erased: items.length - kept.length,
      held,
      remainingExpired: 0,
      ...(oldest === undefined ? {} : { oldestRemainingAt: oldest }),
    };
  };
  return { stores, expire };
};

const setup = (now = NOW) => {
  const built = handlerDeps({ now });
  const { stores, expire } = fakeStores();
  const connectors = stubRegistry(undefined, undefined, async (invocation) => expire(invocation));
  // The stub records the target; hand it to the fake store through the invocation.
  const registry = {
    ...connectors,
    expire: (target: { readonly name: string }, invocation: WindowInvocation) =>
      connectors.expire(target as never, { ...invocation, target: target.name } as WindowInvocation),
  };
  return {
    built,
    stores,
    connectors,
    deps: { ...built.deps, connectors: registry, settings: { ...built.deps.settings, windowRuns: true } },
  };
};

const windowEntries = (built: HandlerDeps) =>
  built.ports.allEntries().filter((entry) => entry.type === 'window.run');

const alarmsOf = (subjects: number, daysOld: (index: number) => number): Item[] =>
  Array.from({ length: subjects }, (_, index) => ({
    subjectId: `subject-${String(index).padStart(4, '0')}`,
    at: daysBefore(daysOld(index)),
  }));

describe('window runs', () => {
  it('IMOU-2: one run erases only the expired alarm events across many subjects, with zero per-subject requests, tasks or schedule writes', async () => {
    // Prepare: 200 subjects; every 10th has an alarm 9 days old, the rest 2 days old.
    const { built, stores, deps } = setup();
    stores.set(
      'alarm-events',
      alarmsOf(200, (index) => (index % 10 === 0 ? 9 : 2)),
    );

    // Act
    const report = await sweepDueDeletions(deps, NOW);

    // Assess
    expect(report.windows).toContainEqual(
      expect.objectContaining({ dataClass: 'alarm-events', ruleRef: 'IMOU-2', status: 'ran', erased: 20 }),
    );
    expect(stores.get('alarm-events')).toHaveLength(180);
    expect(stores.get('alarm-events')?.every((item) => item.at > daysBefore(8))).toBe(true);
    expect(built.ports.state.requests.size).toBe(0);
    expect(built.ports.state.tasks.size).toBe(0);
    expect(built.ports.state.entries.size).toBe(0);
    expect(built.ports.sent).toEqual([]);
  });

  it('writes exactly one audit entry per target and run, on the target chain, without subject ids', async () => {
    // Prepare
    const { built, stores, deps } = setup();
    stores.set(
      'alarm-events',
      alarmsOf(50, (index) => (index < 5 ? 10 : 1)),
    );

    // Act
    await sweepDueDeletions(deps, NOW);

    // Assess: IMOU-1, IMOU-2 and the three partner-service classes (ALE-3, ALE-4).
    const entries = windowEntries(built);
    expect(entries.map((entry) => `${entry.dataClass}@${entry.target}`).sort()).toEqual([
      'alarm-events@alarm-events',
      'cloud-video-window@cloud-video',
      'consumption-data@partner-services',
      'fault-traffic@partner-services',
      'traffic-statistics@partner-services',
    ]);
    const alarms = entries.find((entry) => entry.dataClass === 'alarm-events');
    expect(alarms).toMatchObject({
      chainId: 'window:alarm-events',
      ruleRef: 'IMOU-2',
      detail: expect.objectContaining({
        slot: '2026-12-01T00:00:00.000Z',
        cutoff: '2026-11-24T00:00:00.000Z',
        erased: 5,
        held: 0,
        oldestRemainingAt: daysBefore(1),
        oldestRemainingAgeSeconds: 86_400,
      }),
    });
    expect(alarms?.subjectPseudonym).toBeUndefined();
    expect(JSON.stringify(entries)).not.toContain('subject-');
    const chain = built.ports.state.chains.get('window:alarm-events') ?? [];
    expect(verifyChain(chain, { chainId: 'window:alarm-events' }).ok).toBe(true);
  });

  it('a window chain is verified through the API by its name (chain=window:<target>)', async () => {
    // Prepare
    const { built, stores, deps } = setup();
    stores.set(
      'alarm-events',
      alarmsOf(10, (index) => (index < 2 ? 10 : 1)),
    );
    await sweepDueDeletions(deps, NOW);
    await callApi(built, { method: 'POST', path: '/v1/audit/anchors', headers: bearer('compliance') });
    const verify = (query: Record<string, string>) =>
      callApi(built, { method: 'GET', path: '/v1/audit/verification', query, headers: bearer('compliance') });

    // Act
    const window = await verify({ chain: 'window:alarm-events' });
    const unknown = await verify({ chain: 'window:no-such-target' });
    const both = await verify({ chain: 'system', subjectId: 'subject-0001' });
    const notAChain = await verify({ chain: 'subject-0001' });

    // Assess
    expect(window.status).toBe(200);
    expect(window.body).toMatchObject({
      chainId: 'window:alarm-events',
      verification: { ok: true, unanchored: 0 },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body?.error?.message).toBe('No audit trail exists for chain window:no-such-target');
    expect(both.status).toBe(400);
    expect(both.body?.error).toMatchObject({ field: 'chain' });
    expect(notAChain.status).toBe(400);
    expect(notAChain.body?.error).toMatchObject({ field: 'chain' });
  });

  it('is idempotent in one slot: a second sweep, or two at once, erase once and audit once', async () => {
    // Prepare
    const { built, stores, deps, connectors } = setup();
    stores.set(
      'alarm-events',
      alarmsOf(20, () => 10),
    );

    // Act
    const [first, concurrent] = await Promise.all([runWindows(deps, NOW), runWindows(deps, NOW)]);
    const later = await runWindows(deps, '2026-12-01T18:00:00.000Z');

    // Assess
    const alarmRuns = [...first, ...concurrent].filter((run) => run.dataClass === 'alarm-events');
    expect(alarmRuns.map((run) => run.status).sort()).toEqual(['raced', 'ran']);
    expect(later.find((run) => run.dataClass === 'alarm-events')?.status).toBe('done');
    expect(windowEntries(built).filter((entry) => entry.dataClass === 'alarm-events')).toHaveLength(1);
    expect(stores.get('alarm-events')).toEqual([]);
    // The later sweep in the same slot asked no connector.
    expect(connectors.windowRuns.filter((run) => run.dataClass === 'alarm-events')).toHaveLength(2);
  });

  it('ALE-5: what a run erased is counted for the erasures report with its record, once per slot', async () => {
    // Prepare: 12 of 20 alarms expired.
    const { built, stores, deps } = setup();
    stores.set(
      'alarm-events',
      alarmsOf(20, (index) => (index < 12 ? 10 : 1)),
    );

    // Act: the run, and a second sweep in the same slot.
    await runWindows(deps, NOW);
    await runWindows(deps, NOW);

    // Assess
    const counted = await built.ports.reports.erasureCounts('2026-12', '2026-12');
    expect(counted.filter((row) => row.dataClass === 'alarm-events')).toEqual([
      {
        month: '2026-12',
        dataClass: 'alarm-events',
        ruleRef: 'IMOU-2',
        deletions: 1,
        anonymisations: 0,
        restrictions: 0,
        items: 12,
      },
    ]);
  });

  it('runs again at the next slot only, and a late sweep runs the current slot once', async () => {
    // Prepare
    const { built, deps } = setup();

    // Act
    await runWindows(deps, NOW);
    await runWindows(deps, '2026-12-04T09:00:00.000Z');

    // Assess
    const slots = windowEntries(built)
      .filter((entry) => entry.dataClass === 'alarm-events')
      .map((entry) => entry.detail?.slot);
    expect(slots).toEqual(['2026-12-01T00:00:00.000Z', '2026-12-04T00:00:00.000Z']);
    const monthly = windowEntries(built).filter((entry) => entry.dataClass === 'fault-traffic');
    expect(monthly).toHaveLength(1);
  });

  it('ALM-3: excludes the data of held subjects (counted as held) and erases it at a later run after release', async () => {
    // Prepare
    const { built, stores, deps } = setup();
    stores.set(
      'alarm-events',
      alarmsOf(10, () => 10),
    );
    const hold: LegalHold = {
      holdId: 'hold_alarm',
      subjectId: 'subject-0003',
      dataClasses: ['alarm-events'],
      reason: 'litigation-2026-044',
      createdAt: '2026-11-01T00:00:00.000Z',
    };
    await built.ports.uow.commit([{ kind: 'hold.place', hold }]);

    // Act
    const held = await runWindows(deps, NOW);
    const whileHeld = stores.get('alarm-events')?.map((item) => item.subjectId);
    await releaseLegalHold(deps, 'hold_alarm');
    const released = await runWindows(deps, '2026-12-02T00:05:00.000Z');

    // Assess
    expect(held.find((run) => run.dataClass === 'alarm-events')).toMatchObject({ erased: 9, held: 1 });
    expect(whileHeld).toEqual(['subject-0003']);
    expect(released.find((run) => run.dataClass === 'alarm-events')).toMatchObject({ erased: 1, held: 0 });
    expect(stores.get('alarm-events')).toEqual([]);
    const details = windowEntries(built)
      .filter((entry) => entry.dataClass === 'alarm-events')
      .map((entry) => [entry.detail?.heldSubjects, entry.detail?.held]);
    expect(details).toEqual([
      [1, 1],
      [0, 0],
    ]);
  });

  it("IMOU-1: honours each plan's storage period: a P7D plan loses 10-day-old video, the default P30D keeps it, a P90D plan keeps 60-day-old video", async () => {
    // Prepare
    const { stores, deps } = setup();
    const renew = (subjectId: string, storagePeriod?: string) =>
      recordLifecycleEvent(deps, {
        subjectId,
        type: 'plan.renewed',
        occurredAt: '2026-11-20T00:00:00.000Z',
        attributes: storagePeriod === undefined ? {} : { storagePeriod },
      });
    await renew('short-plan', 'P7D');
    await renew('default-plan');
    await renew('long-plan', 'P90D');
    stores.set('cloud-video', [
      { subjectId: 'short-plan', at: daysBefore(10) },
      { subjectId: 'default-plan', at: daysBefore(10) },
      { subjectId: 'default-plan', at: daysBefore(40) },
      { subjectId: 'long-plan', at: daysBefore(60) },
      { subjectId: 'long-plan', at: daysBefore(100) },
      { subjectId: 'no-event', at: daysBefore(40) },
    ]);

    // Act
    const report = await runWindows(deps, NOW);

    // Assess
    expect(report.find((run) => run.dataClass === 'cloud-video-window')).toMatchObject({
      ruleRef: 'IMOU-1',
      erased: 4,
    });
    expect(stores.get('cloud-video')).toEqual([
      { subjectId: 'default-plan', at: daysBefore(10) },
      { subjectId: 'long-plan', at: daysBefore(60) },
    ]);
  });

  it('IMOU-1: a plan that expires ends its own window; plan.renewed stores it once, never re-armed per day', async () => {
    // Prepare
    const { built, deps } = setup();
    const at = (day: string) => `2026-11-${day}T08:00:00.000Z`;
    await recordLifecycleEvent(deps, {
      subjectId: 'plan-subject',
      type: 'plan.renewed',
      occurredAt: at('10'),
      attributes: { storagePeriod: 'P7D' },
    });
    const commitsAfterEvent = built.ports.commits.length;

    // Act
    for (const day of ['2026-11-11', '2026-11-12', '2026-11-13'])
      await runWindows(deps, `${day}T00:05:00.000Z`);
    const windowsWhileRunning = await deps.schedules.subjectWindows('cloud-video-window');
    const runCommits = built.ports.commits.slice(commitsAfterEvent);
    await recordLifecycleEvent(deps, {
      subjectId: 'plan-subject',
      type: 'plan.expired',
      occurredAt: at('14'),
      attributes: {},
    });

    // Assess: only window-run commits (daily classes each day, monthly ones once), none for the subject.
    expect(runCommits).toHaveLength(5 + 2 + 2);
    expect(runCommits.every((commit) => commit.changes.every((change) => change.kind === 'window.run'))).toBe(
      true,
    );
    expect(windowsWhileRunning).toEqual([{ subjectId: 'plan-subject', window: 'P7D' }]);
    expect(await deps.schedules.subjectWindows('cloud-video-window')).toEqual([]);
  });

  it('a failing target records nothing, leaves the other runs and the sweep going, and is run at the next sweep', async () => {
    // Prepare
    const { built, deps } = setup();
    let failing = true;
    const flaky = {
      ...deps.connectors,
      expire: async (target: { readonly name: string }, invocation: WindowInvocation) => {
        if (failing && target.name === 'alarm-events') throw new Error('store unavailable');
        return deps.connectors.expire(target, invocation);
      },
    };

    // Act
    const first = await sweepDueDeletions({ ...deps, connectors: flaky }, NOW);
    failing = false;
    const second = await runWindows({ ...deps, connectors: flaky }, '2026-12-01T06:00:00.000Z');

    // Assess
    expect(first.windows?.find((run) => run.dataClass === 'alarm-events')?.status).toBe('failed');
    expect(first.windows?.filter((run) => run.status === 'ran')).toHaveLength(4);
    expect(second.find((run) => run.dataClass === 'alarm-events')?.status).toBe('ran');
    expect(windowEntries(built).filter((entry) => entry.dataClass === 'alarm-events')).toHaveLength(1);
  });
});
