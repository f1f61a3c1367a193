import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Anchor } from '../../domain/audit/anchor.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import type { AnchorStore } from '../../domain/ports/index.js';

const PREFIX = 'anchors/';

/** `0000000042.json`: zero-padded, so listing order is seq order. */
export const anchorFileName = (seq: number): string => `${String(seq).padStart(10, '0')}.json`;

/**
 * Anchors in an S3 bucket with versioning and Object Lock (compliance mode, default retention set
 * on the bucket by infra/constructs/orchestrator-data.ts): a written anchor cannot be deleted or
 * overwritten by anyone, root included, until its retention ends. Puts are conditional
 * (`If-None-Match: *`), so a second writer of the same seq fails instead of adding a version, and
 * carry a SHA-256 checksum, which Object Lock requires.
 */
export class S3AnchorStore implements AnchorStore {
  /**
   * The highest anchor key this store has seen: a warm function lists only what came after it.
   * Keys are zero-padded, so S3's ascending key order is seq order and `StartAfter` skips the rest.
   */
  private newestKey: string | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async append(anchor: Anchor): Promise<void> {
    await this.put(anchor).catch((error: unknown) => {
      // Another writer (a sweep and POST /v1/audit/anchors at once) took this seq first.
      if (
        error instanceof Error &&
        ['PreconditionFailed', 'ConditionalRequestConflict'].includes(error.name)
      ) {
        throw new ConcurrentModificationError(`Anchor ${anchor.seq} was written first by another writer`, {
          cause: error,
        });
      }
      throw error;
    });
  }

  /**
   * The newest anchor: lists keys after the newest one seen (1,000 per request; a cold start lists
   * them all, a warm one usually a single page) and reads one object. A listing rather than a
   * pointer kept elsewhere: nothing to keep in step with the bucket, and no pointer left behind
   * when a run stops between the put and its update.
   */
  async latest(): Promise<Anchor | undefined> {
    let key = this.newestKey;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: PREFIX,
          ...(token === undefined
            ? key === undefined
              ? {}
              : { StartAfter: key }
            : { ContinuationToken: token }),
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined && (key === undefined || object.Key > key)) key = object.Key;
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    if (key === undefined) return undefined;
    this.newestKey = key;
    const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse((await Body?.transformToString('utf8')) ?? 'null') as Anchor;
  }

  private async put(anchor: Anchor): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: `${PREFIX}${anchorFileName(anchor.seq)}`,
        Body: JSON.stringify(anchor),
        ContentType: 'application/json',
        IfNoneMatch: '*',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }

  /** Every anchor, by seq. Reads one object per anchor: fine for hourly anchors over years. */
  async list(): Promise<Anchor[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: PREFIX, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    keys.sort();
    const anchors: Anchor[] = [];
    for (const key of keys) {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      anchors.push(JSON.parse((await Body?.transformToString('utf8')) ?? 'null') as Anchor);
    }
    return anchors;
  }
}
