/** The local anchor store: one file per anchor, never replaced; `latest` reads the newest file alone. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Anchor, nextAnchorHeader } from '../../domain/audit/index.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import { FolderAnchorStore } from '../../local/folder-anchor-store.js';

const anAnchor = (seq: number): Anchor => {
  const next = nextAnchorHeader(undefined, [], '2026-11-21T12:00:00.000Z', 'k'.repeat(64));
  return { ...next.header, seq, hash: next.hash, signature: 'c2ln', heads: [] };
};

const dirs: string[] = [];
const aStore = async (): Promise<FolderAnchorStore> => {
  const dir = await mkdtemp(join(tmpdir(), 'anchors-'));
  dirs.push(dir);
  return new FolderAnchorStore(dir);
};

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('FolderAnchorStore', () => {
  it('latest is the highest seq (names sort as numbers: 10 after 9), none when empty', async () => {
    // Prepare
    const store = await aStore();
    const empty = await store.latest();
    for (const seq of [1, 9, 10, 2]) await store.append(anAnchor(seq));

    // Act
    const latest = await store.latest();

    // Assess
    expect(empty).toBeUndefined();
    expect(latest?.seq).toBe(10);
    expect((await store.list()).map((anchor) => anchor.seq)).toEqual([1, 2, 9, 10]);
  });

  it('a second writer of the same seq is a concurrent modification', async () => {
    // Prepare
    const store = await aStore();
    await store.append(anAnchor(1));

    // Act + Assess
    await expect(store.append(anAnchor(1))).rejects.toBeInstanceOf(ConcurrentModificationError);
  });
});
