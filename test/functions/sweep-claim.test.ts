/**
 * What the sweep does when the schedule changes under it. The due index (which projects the whole
 * entry) is read and judged without re-loading the schedule; every write that follows is
 * conditional on the entry's status, due time and last event, so a stale index copy writes
 * nothing. The races are staged on the in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import type { DueItem } from '../../domain/ports/index.js';
import type { ScheduleEntry } from '../../domain/schedule/types.js';
import { sweepDueDeletions } from '../../functions/services/sweep.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const NOW = '2027-03-01T00:00:00.000Z';
const SUBJECT = 'subject-claim-race';

const suspended: ScheduleEntry = {
  subjectId: SUBJECT,
  dataClass: 'suspended-account',
  status: 'pending',
  action: 'delete',
  ruleRef: 'ALL-3',
  dueAt: '2027-02-28T00:00:00.000Z',
  trigger: { eventId: 'evt_suspended', type: 'account.suspended', occurredAt: '2026-11-28T00:00:00.000Z' },
  lastEvent: { eventId: 'evt_suspended', type: 'account.suspended', occurredAt: '2026-11-28T00:00:00.000Z' },
  lastChange: 'scheduled',
};

const restored: ScheduleEntry = {
  ...suspended,
  status: 'cancelled',
  lastEvent: { eventId: 'evt_restored', type: 'account.restored', occurredAt: '2027-01-15T00:00:00.000Z' },
  lastChange: 'cancelled',
};

/** The table holds `entry`; the due index (which can lag) still lists the entry as pending. */
const stored = (entry: ScheduleEntry): HandlerDeps => {
  const built = handlerDeps({ now: NOW, dueBucketShards: 1 });
  built.ports.state.subjects.set(SUBJECT, { version: 1 });
  built.ports.state.entries.set(`${SUBJECT}\u0000suspended-account`, { entry });
  const indexed: DueItem[] = [{ kind: 'entry', entry: suspended }];
  built.ports.schedules.queryDue = async (bucket) => (bucket === '2027-02#00' ? indexed : []);
  return built;
};

describe('a sweep racing a lifecycle event', () => {
  it('ALL-3: an account restored before the index caught up is not erased: the claim on the stale copy fails', async () => {
    // Prepare: the table already holds the restore's tombstone.
    const built = stored(restored);

    // Act
    const report = await sweepDueDeletions(built.deps, NOW);

    // Assess: one commit, refused on the claim's condition; nothing stored, audited or sent.
    expect(report.dispatched).toEqual([]);
    expect(built.ports.commits.map((commit) => commit.result)).toEqual([
      { committed: false, conflict: 1, change: 'schedule.claim' },
    ]);
    expect(built.ports.state.entries.get(`${SUBJECT}\u0000suspended-account`)?.entry).toEqual(restored);
    expect(built.ports.state.requests.size).toBe(0);
    expect(built.ports.allEntries()).toEqual([]);
    expect(built.ports.sent).toEqual([]);
  });

  it('ALL-3: a restore that lands between the judgement and the claim wins: no request, no task sent', async () => {
    // Prepare: the entry is pending when read; the restore lands just before the claim commits.
    const built = stored(suspended);
    built.ports.beforeCommit = (changes) => {
      if (changes.some((change) => change.kind === 'schedule.claim')) {
        built.ports.state.entries.set(`${SUBJECT}\u0000suspended-account`, { entry: restored });
      }
    };

    // Act
    const report = await sweepDueDeletions(built.deps, NOW);

    // Assess: the claim lost, so the request was not created with it, nothing audited, nothing sent.
    expect(report.dispatched).toEqual([]);
    const [claim] = built.ports.commits;
    expect(claim?.result).toMatchObject({ committed: false, change: 'schedule.claim' });
    expect(built.ports.state.requests.size).toBe(0);
    expect(built.ports.allEntries()).toEqual([]);
    expect(built.ports.sent).toEqual([]);
  });
});
