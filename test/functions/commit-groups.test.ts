import { describe, expect, it } from 'vitest';
import { CommitGroups } from '../../functions/services/commit-groups.js';

/** A commit that waits until released, recording the groups it was given. */
const gatedCommits = () => {
  const groups: { key: string; items: readonly number[] }[] = [];
  const gates: (() => void)[] = [];
  const commit = async (key: string, items: readonly number[]) => {
    groups.push({ key, items });
    await new Promise<void>((resolve) => gates.push(resolve));
    if (items.includes(13)) throw new Error('unlucky group');
    return items.map((item) => item * 10);
  };
  /** Lets the oldest commit in flight finish, and what follows it run. */
  const release = async () => {
    gates.shift()?.();
    await settle();
  };
  return { groups, commit, release };
};

const settle = () => new Promise((resolve) => setImmediate(resolve));
const LONG = { maxGroup: 8, lingerMs: 60_000 };

describe('CommitGroups', () => {
  it('waits until every participant of a key has submitted or left, then commits them together', async () => {
    // Prepare
    const { groups, commit, release } = gatedCommits();
    const committer = new CommitGroups(commit, LONG);
    const [first, second, third] = [1, 2, 3].map(() => committer.enter('req-1')) as [
      ReturnType<typeof committer.enter>,
      ReturnType<typeof committer.enter>,
      ReturnType<typeof committer.enter>,
    ];

    // Act
    const results = [first.submit(1), second.submit(2)];
    await settle();
    const beforeThirdLeft = groups.length;
    third.leave();
    await settle();
    await release();

    // Assess
    expect(beforeThirdLeft).toBe(0);
    expect(groups).toEqual([{ key: 'req-1', items: [1, 2] }]);
    expect(await Promise.all(results)).toEqual([10, 20]);
  });

  it('commits a lone participant at once; those that submit meanwhile go together next', async () => {
    // Prepare
    const { groups, commit, release } = gatedCommits();
    const committer = new CommitGroups(commit, LONG);

    // Act
    const first = committer.enter('req-1').submit(1);
    await settle();
    const later = [2, 3, 4].map((item) => committer.enter('req-1').submit(item));
    await release();
    await release();

    // Assess
    expect(groups).toEqual([
      { key: 'req-1', items: [1] },
      { key: 'req-1', items: [2, 3, 4] },
    ]);
    expect(await first).toBe(10);
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('holds an outcome back for lingerMs at most when a sibling neither submits nor leaves', async () => {
    // Prepare
    const { groups, commit, release } = gatedCommits();
    const committer = new CommitGroups(commit, { maxGroup: 8, lingerMs: 30 });
    const slow = committer.enter('req-1');
    const started = performance.now();

    // Act
    const result = committer.enter('req-1').submit(1);
    while (groups.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const waited = performance.now() - started;
    await release();

    // Assess
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waited).toBeLessThan(2000);
    expect(await result).toBe(10);
    slow.leave();
  });

  it('keeps keys apart, and takes at most maxGroup items a commit', async () => {
    // Prepare
    const { groups, commit, release } = gatedCommits();
    const committer = new CommitGroups(commit, { maxGroup: 2, lingerMs: 60_000 });
    const a = [1, 2, 3, 4].map(() => committer.enter('a'));
    const b = committer.enter('b');

    // Act
    const results = [b.submit(5), ...a.map((participant, index) => participant.submit(index + 1))];
    await settle();
    for (let step = 0; step < 3; step++) await release();

    // Assess
    expect(await Promise.all(results)).toEqual([50, 10, 20, 30, 40]);
    expect(groups).toEqual([
      { key: 'b', items: [5] },
      { key: 'a', items: [1, 2] },
      { key: 'a', items: [3, 4] },
    ]);
  });

  it('a failed commit fails its own group only; the next one goes on', async () => {
    // Prepare
    const { groups, commit, release } = gatedCommits();
    const committer = new CommitGroups(commit, LONG);

    // Act
    const first = committer.enter('a').submit(13);
    const failed = expect(first).rejects.toThrow('unlucky group');
    await settle();
    const second = committer.enter('a').submit(2);
    await release();
    await release();
    await failed;

    // Assess
    expect(await second).toBe(20);
    expect(groups.map((group) => group.items)).toEqual([[13], [2]]);
    expect(() => new CommitGroups(commit, { maxGroup: 0, lingerMs: 1 })).toThrow(RangeError);
  });
});

describe('CommitGroups, a group whose commit fails', () => {
  it('commits its items again one by one, so only the bad one fails', async () => {
    // Prepare: a commit that refuses any group holding 13, at once.
    const groups: (readonly number[])[] = [];
    const committer = new CommitGroups(
      async (_key: string, items: readonly number[]) => {
        groups.push(items);
        if (items.includes(13)) throw new Error('unlucky group');
        return items.map((item) => item * 10);
      },
      { maxGroup: 8, lingerMs: 60_000 },
    );
    const participants = [1, 13, 3].map(() => committer.enter('req-1'));

    // Act
    const results = await Promise.allSettled(
      participants.map((participant, index) => participant.submit([1, 13, 3][index] as number)),
    );

    // Assess
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : 'rejected'))).toEqual([
      10,
      'rejected',
      30,
    ]);
    expect(groups).toEqual([[1, 13, 3], [1], [13], [3]]);
  });
});

describe('CommitGroups, a group of like items (retryEachAlone: false)', () => {
  it('fails the whole group with the one error, without committing each again', async () => {
    // Prepare
    const groups: (readonly number[])[] = [];
    const committer = new CommitGroups(
      async (_key: string, items: readonly number[]) => {
        groups.push(items);
        throw new Error('ProvisionedThroughputExceededException');
      },
      { maxGroup: 8, lingerMs: 60_000, retryEachAlone: false },
    );
    const participants = [1, 2, 3].map(() => committer.enter('req-1'));

    // Act
    const results = await Promise.allSettled(
      participants.map((participant, index) => participant.submit(index)),
    );

    // Assess
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(groups).toEqual([[0, 1, 2]]);
  });
});

describe('CommitGroups, a participant that leaves after its lane was replaced', () => {
  it('does not drop the new lane: later participants of the key still group together', async () => {
    // Prepare: the first participant submits, its commit finishes, and it leaves only later.
    const { groups, commit, release } = gatedCommits();
    const committer = new CommitGroups(commit, LONG);
    const early = committer.enter('req-1');
    const first = early.submit(1);
    await settle();
    await release();
    await first;
    const second = committer.enter('req-1');

    // Act
    early.leave();
    const third = committer.enter('req-1');
    const results = [second.submit(2), third.submit(3)];
    await settle();
    await release();

    // Assess
    expect(await Promise.all(results)).toEqual([20, 30]);
    expect(groups.map((group) => group.items)).toEqual([[1], [2, 3]]);
  });
});
