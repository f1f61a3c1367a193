/**
 * The local runtime's anchor store: one JSON file per anchor under the local state folder, written
 * with `wx` (never replaced). There is no Object Lock here: anyone with the folder can delete a
 * file, which verification then reports (the anchor chain breaks). In AWS the anchors go to an S3
 * bucket with Object Lock in compliance mode (functions/adapters/s3-anchor-store.ts).
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Anchor } from '../domain/audit/anchor.js';
import { ConcurrentModificationError } from '../domain/errors.js';
import type { AnchorStore } from '../domain/ports/index.js';
import { anchorFileName } from '../functions/adapters/s3-anchor-store.js';

export class FolderAnchorStore implements AnchorStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'anchors');
  }

  async append(anchor: Anchor): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFile(join(this.dir, anchorFileName(anchor.seq)), `${JSON.stringify(anchor, null, 2)}\n`, {
      flag: 'wx',
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EEXIST') {
        throw new ConcurrentModificationError(`Anchor ${anchor.seq} was written first by another writer`, {
          cause: error,
        });
      }
      throw error;
    });
  }

  async list(): Promise<Anchor[]> {
    const names = await this.names();
    return Promise.all(
      names.map(async (name) => JSON.parse(await readFile(join(this.dir, name), 'utf8')) as Anchor),
    );
  }

  /** Zero-padded names sort in seq order: the last one is the newest, the only file read. */
  async latest(): Promise<Anchor | undefined> {
    const name = (await this.names()).at(-1);
    return name === undefined
      ? undefined
      : (JSON.parse(await readFile(join(this.dir, name), 'utf8')) as Anchor);
  }

  private async names(): Promise<string[]> {
    await mkdir(this.dir, { recursive: true });
    return (await readdir(this.dir)).filter((name) => name.endsWith('.json')).sort();
  }
}
