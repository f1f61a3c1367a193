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
    await mkdir(this.dir, { recursive: true });
    const names = (await readdir(this.dir)).filter((name) => name.endsWith('.json')).sort();
    return Promise.all(
      names.map(async (name) => JSON.parse(await readFile(join(this.dir, name), 'utf8')) as Anchor),
    );
  }
}
