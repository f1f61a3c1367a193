/**
 * s3-prefix connector against a mocked S3Client. The local emulator (fauxqs) has no versioning,
 * so everything about object versions and delete markers, partial DeleteObjects failures and
 * throttling is covered here with aws-sdk-client-mock; test/integration/connectors.test.ts runs
 * the unversioned path against fauxqs itself.
 */
import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandInput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandInput,
  type ListObjectVersionsCommandOutput,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectorInvocation, S3PrefixTarget } from '../../../domain/connectors/types.js';
import { ConnectorPermanentError, ConnectorRetryableError } from '../../../functions/connectors/errors.js';
import {
  createS3PrefixConnector,
  EXPORT_TEXT_MAX_BYTES,
  S3_DELETE_CONCURRENCY,
  subjectPrefix,
} from '../../../functions/connectors/s3-prefix.js';

const s3Mock = mockClient(S3Client);
afterEach(() => {
  s3Mock.reset();
});

const SUBJECT = 'subj-7f3a';
const target: S3PrefixTarget = {
  name: 'videos',
  kind: 's3-prefix',
  bucket: 'media',
  prefixTemplate: 'video/{subjectId}/',
};
const invocation = (overrides: Partial<ConnectorInvocation> = {}): ConnectorInvocation => ({
  taskId: 'task-1',
  requestId: 'req-1',
  subjectId: SUBJECT,
  dataClass: 'videos',
  action: 'delete',
  idempotencyKey: 'idem-1',
  ...overrides,
});
const connector = () => createS3PrefixConnector({ s3: new S3Client({ region: 'us-east-1' }) });

const s3Error = (name: string, status: number, fault: 'client' | 'server') =>
  new S3ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name} for ${SUBJECT}`,
  });

interface FakeVersion {
  readonly Key: string;
  readonly VersionId: string;
  readonly LastModified: Date;
  readonly deleteMarker: boolean;
}

/**
 * A versioned bucket as S3 lists it: keys ascending, versions of a key newest first, pages of
 * `pageSize` continued by KeyMarker + VersionIdMarker. DeleteObjects removes exact versions.
 */
const fakeVersionedBucket = (entries: FakeVersion[], pageSize = 1000) => {
  let stored = [...entries].sort((a, b) =>
    a.Key === b.Key ? b.LastModified.getTime() - a.LastModified.getTime() : a.Key < b.Key ? -1 : 1,
  );
  const list = (input: ListObjectVersionsCommandInput): ListObjectVersionsCommandOutput => {
    const matching = stored.filter((e) => e.Key.startsWith(input.Prefix ?? ''));
    let start = 0;
    if (input.KeyMarker !== undefined) {
      const at = matching.findIndex(
        (e) => e.Key === input.KeyMarker && e.VersionId === input.VersionIdMarker,
      );
      start = at + 1;
    }
    const page = matching.slice(start, start + pageSize);
    const last = page.at(-1);
    const truncated = start + pageSize < matching.length;
    return {
      $metadata: {},
      IsTruncated: truncated,
      ...(truncated && last ? { NextKeyMarker: last.Key, NextVersionIdMarker: last.VersionId } : {}),
      Versions: page
        .filter((e) => !e.deleteMarker)
        .map((e) => ({ Key: e.Key, VersionId: e.VersionId, LastModified: e.LastModified })),
      DeleteMarkers: page
        .filter((e) => e.deleteMarker)
        .map((e) => ({ Key: e.Key, VersionId: e.VersionId, LastModified: e.LastModified })),
    };
  };
  const remove = (input: DeleteObjectsCommandInput) => {
    const gone = new Set((input.Delete?.Objects ?? []).map((o) => `${o.Key}\u0000${o.VersionId}`));
    stored = stored.filter((e) => !gone.has(`${e.Key}\u0000${e.VersionId}`));
    return { $metadata: {} };
  };
  s3Mock.on(ListObjectVersionsCommand).callsFake(list);
  s3Mock.on(DeleteObjectsCommand).callsFake(remove);
  s3Mock.on(ListObjectsV2Command).callsFake(() => ({
    $metadata: {},
    IsTruncated: false,
    Contents: stored
      .filter((e) => !e.deleteMarker)
      .map((e) => ({ Key: e.Key, LastModified: e.LastModified })),
  }));
  return { remaining: () => stored };
};

const versionsOf = (prefix: string, keys: number, perKey: number, at = new Date('2024-01-01T00:00:00Z')) =>
  Array.from({ length: keys }, (_, k) =>
    Array.from({ length: perKey }, (_, v) => ({
      Key: `${prefix}clip-${String(k).padStart(5, '0')}.mp4`,
      VersionId: `v${v}`,
      LastModified: new Date(at.getTime() + v * 60_000),
      deleteMarker: false,
    })),
  ).flat();

describe('subjectPrefix', () => {
  it('substitutes the subject id into the template', () => {
    expect(subjectPrefix(target, SUBJECT)).toBe(`video/${SUBJECT}/`);
    expect(subjectPrefix({ ...target, prefixTemplate: 'u/{subjectId}/media/{subjectId}/' }, 'a')).toBe(
      'u/a/media/a/',
    );
  });

  it.each([
    ['has no {subjectId} (would match every subject)', 'video/'],
    ['is empty (would erase the whole bucket)', ''],
    ['has {subjectId} not followed by / (video/ab would match video/abc)', 'video/{subjectId}'],
    ['has {subjectId} followed by other text', 'video/{subjectId}-raw/'],
  ])('rejects a template that %s', (_why, prefixTemplate) => {
    expect(() => subjectPrefix({ ...target, prefixTemplate }, SUBJECT)).toThrow(ConnectorPermanentError);
  });

  it.each([
    ['a slash', 'a/b'],
    ['a parent reference', '..'],
    ['a parent reference inside', 'x..y'],
    ['a backslash', 'a\\b'],
    ['a control character', 'a\nb'],
    ['nothing', ''],
    ['only blanks', '  '],
  ])('rejects a subject id containing %s, so it cannot escape its prefix', (_why, subjectId) => {
    expect(() => subjectPrefix(target, subjectId)).toThrow(ConnectorPermanentError);
  });

  it('does not substitute a placeholder that comes from the subject id itself', () => {
    expect(subjectPrefix(target, '{subjectId}')).toBe('video/{subjectId}/');
  });
});

describe('s3-prefix execute (mocked S3: fauxqs has no versioning)', () => {
  it('versioned bucket: erases every version and delete marker of the subject, >1000 versions in two DeleteObjects calls', async () => {
    const mine = [
      ...versionsOf(`video/${SUBJECT}/`, 600, 2),
      {
        Key: `video/${SUBJECT}/deleted.mp4`,
        VersionId: 'dm1',
        LastModified: new Date('2024-02-01T00:00:00Z'),
        deleteMarker: true,
      },
      {
        Key: `video/${SUBJECT}/deleted.mp4`,
        VersionId: 'old',
        LastModified: new Date('2024-01-01T00:00:00Z'),
        deleteMarker: false,
      },
    ];
    const others = versionsOf('video/subj-other/', 10, 2);
    const bucket = fakeVersionedBucket([...mine, ...others]);

    const outcome = await connector().execute(target, invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 1202 });
    expect(bucket.remaining()).toEqual(expect.arrayContaining(others.map((o) => expect.objectContaining(o))));
    expect(bucket.remaining()).toHaveLength(others.length);
    const deletes = s3Mock.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input);
    expect(deletes).toHaveLength(2);
    expect(deletes.map((d) => d.Delete?.Objects?.length)).toEqual([1000, 202]);
    for (const d of deletes) {
      expect(d.Bucket).toBe('media');
      expect(d.Delete?.Quiet).toBe(true);
      expect(d.Delete?.Objects?.every((o) => o.VersionId !== undefined)).toBe(true);
    }
    // Paginated with both markers, and only ever under the subject's prefix.
    const lists = s3Mock.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input);
    expect(lists.map((l) => l.Prefix)).toEqual([`video/${SUBJECT}/`, `video/${SUBJECT}/`]);
    expect(lists[1]?.KeyMarker).toBeDefined();
    expect(lists[1]?.VersionIdMarker).toBeDefined();
  });

  it('deletes while it lists: DeleteObjects calls overlap the listing, at most S3_DELETE_CONCURRENCY at once', async () => {
    // Prepare: 6,000 versions, listed 1,000 a page; each DeleteObjects takes a moment.
    fakeVersionedBucket(versionsOf(`video/${SUBJECT}/`, 3000, 2));
    let inFlight = 0;
    let most = 0;
    const events: string[] = [];
    s3Mock.on(DeleteObjectsCommand).callsFake(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      events.push('delete');
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight--;
      return { $metadata: {} };
    });
    s3Mock.on(ListObjectVersionsCommand).callsFake(async (input: ListObjectVersionsCommandInput) => {
      events.push('list');
      const all = versionsOf(`video/${SUBJECT}/`, 3000, 2);
      const start =
        input.KeyMarker === undefined
          ? 0
          : all.findIndex((e) => e.Key === input.KeyMarker && e.VersionId === input.VersionIdMarker) + 1;
      const slice = all.slice(start, start + 1000);
      const last = slice.at(-1);
      const truncated = start + 1000 < all.length;
      return {
        $metadata: {},
        IsTruncated: truncated,
        ...(truncated && last ? { NextKeyMarker: last.Key, NextVersionIdMarker: last.VersionId } : {}),
        Versions: slice.map((e) => ({ Key: e.Key, VersionId: e.VersionId, LastModified: e.LastModified })),
      };
    });

    // Act
    const outcome = await connector().execute(target, invocation());

    // Assess
    expect(outcome).toEqual({ status: 'done', affectedCount: 6000 });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(6);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(S3_DELETE_CONCURRENCY);
    // The second page was listed before the first batch's delete had answered.
    expect(events.slice(0, 3)).toEqual(['list', 'delete', 'list']);
  });

  it('versioned bucket: deletes a delete marker only after the versions listed before it', async () => {
    fakeVersionedBucket([
      { Key: `video/${SUBJECT}/a`, VersionId: 'm', LastModified: new Date('2024-03-01'), deleteMarker: true },
      {
        Key: `video/${SUBJECT}/a`,
        VersionId: 'v',
        LastModified: new Date('2024-01-01'),
        deleteMarker: false,
      },
    ]);

    await connector().execute(target, invocation());

    const objects = s3Mock
      .commandCalls(DeleteObjectsCommand)
      .flatMap((c) => c.args[0].input.Delete?.Objects ?? []);
    expect(objects.map((o) => o.VersionId)).toEqual(['v', 'm']);
  });

  it('honours olderThan: only versions last modified before it are deleted', async () => {
    const bucket = fakeVersionedBucket(
      versionsOf(`video/${SUBJECT}/`, 3, 3, new Date('2024-01-01T00:00:00Z')),
    );

    const outcome = await connector().execute(target, invocation({ olderThan: '2024-01-01T00:01:30Z' }));

    // v0 (00:00) and v1 (00:01) of each key are older; v2 (00:02) stays.
    expect(outcome).toEqual({ status: 'done', affectedCount: 6 });
    expect(bucket.remaining().map((e) => e.VersionId)).toEqual(['v2', 'v2', 'v2']);
  });

  it('is idempotent: a second run finds nothing and deletes nothing', async () => {
    fakeVersionedBucket(versionsOf(`video/${SUBJECT}/`, 5, 2));
    const c = connector();

    await c.execute(target, invocation());
    const again = await c.execute(target, invocation());

    expect(again).toEqual({ status: 'done', affectedCount: 0 });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(1);
  });

  it('never deletes a listed key outside the prefix (misbehaving endpoint)', async () => {
    s3Mock.on(ListObjectVersionsCommand).resolves({
      IsTruncated: false,
      Versions: [
        { Key: `video/${SUBJECT}/a`, VersionId: '1' },
        { Key: 'video/someone-else/b', VersionId: '2' },
      ],
    });
    s3Mock.on(DeleteObjectsCommand).resolves({});

    const outcome = await connector().execute(target, invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 1 });
    const objects = s3Mock
      .commandCalls(DeleteObjectsCommand)
      .flatMap((c) => c.args[0].input.Delete?.Objects ?? []);
    expect(objects).toEqual([{ Key: `video/${SUBJECT}/a`, VersionId: '1' }]);
  });

  it('DeleteObjects answering with partial Errors is retryable, and the message names no key or subject', async () => {
    s3Mock.on(ListObjectVersionsCommand).resolves({
      IsTruncated: false,
      Versions: [
        { Key: `video/${SUBJECT}/a`, VersionId: '1' },
        { Key: `video/${SUBJECT}/b`, VersionId: '2' },
      ],
    });
    s3Mock.on(DeleteObjectsCommand).resolves({
      Errors: [{ Key: `video/${SUBJECT}/b`, VersionId: '2', Code: 'InternalError', Message: 'try again' }],
    });

    const error = await connector()
      .execute(target, invocation())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect(String((error as Error).message)).toContain('1 of 2');
    expect(String((error as Error).message)).not.toContain(SUBJECT);
  });

  it.each([
    ['SlowDown', 503, 'server'],
    ['InternalError', 500, 'server'],
    ['RequestTimeout', 400, 'client'],
  ] as const)('%s (throttling, 5xx, timeout) from S3 is retryable', async (name, status, fault) => {
    s3Mock.on(ListObjectVersionsCommand).rejects(s3Error(name, status, fault));

    const error = await connector()
      .execute(target, invocation())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorRetryableError);
    expect((error as Error).message).not.toContain(SUBJECT);
  });

  it.each([
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
  ])('%s is permanent: the target or its permissions are wrong', async (name, status) => {
    s3Mock.on(ListObjectVersionsCommand).rejects(s3Error(name, status, 'client'));

    await expect(connector().execute(target, invocation())).rejects.toBeInstanceOf(ConnectorPermanentError);
  });

  it.each(['anonymise', 'restrict'] as const)(
    'refuses %s (only delete is supported) without touching S3',
    async (action) => {
      await expect(connector().execute(target, invocation({ action }))).rejects.toBeInstanceOf(
        ConnectorPermanentError,
      );
      expect(s3Mock.calls()).toHaveLength(0);
    },
  );

  it('refuses a subject id that would escape the prefix without touching S3', async () => {
    await expect(connector().execute(target, invocation({ subjectId: '../x' }))).rejects.toBeInstanceOf(
      ConnectorPermanentError,
    );
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it('refuses an unparsable olderThan', async () => {
    await expect(
      connector().execute(target, invocation({ olderThan: 'last tuesday' })),
    ).rejects.toBeInstanceOf(ConnectorPermanentError);
  });

  it('falls back to ListObjectsV2 when the version listing is empty but objects exist (how fauxqs answers)', async () => {
    s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: true });
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ IsTruncated: true, NextContinuationToken: 't1', Contents: [{ Key: `video/${SUBJECT}/a` }] })
      .on(ListObjectsV2Command, { ContinuationToken: 't1' })
      .resolves({ IsTruncated: false, Contents: [{ Key: `video/${SUBJECT}/b` }] });
    s3Mock.on(DeleteObjectsCommand).resolves({});

    const outcome = await connector().execute(target, invocation());

    expect(outcome).toEqual({ status: 'done', affectedCount: 2 });
    const objects = s3Mock
      .commandCalls(DeleteObjectsCommand)
      .flatMap((c) => c.args[0].input.Delete?.Objects ?? []);
    expect(objects).toEqual([{ Key: `video/${SUBJECT}/a` }, { Key: `video/${SUBJECT}/b` }]);
    // The cross-check's page is the fallback's first page: two pages, two listings.
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(2);
  });

  it('remembers a bucket that lists no versions for erasures, never for verification', async () => {
    const versionless = () => {
      s3Mock.reset();
      s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
      s3Mock
        .on(ListObjectsV2Command)
        .resolves({ IsTruncated: false, Contents: [{ Key: `video/${SUBJECT}/a` }] });
      s3Mock.on(DeleteObjectsCommand).resolves({});
    };
    const s3Connector = connector();
    versionless();
    await s3Connector.execute(target, invocation());
    expect(s3Mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(1);

    // The next erasure in that bucket lists current objects at once.
    versionless();
    await expect(s3Connector.execute(target, invocation())).resolves.toEqual({
      status: 'done',
      affectedCount: 1,
    });
    expect(s3Mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(1);

    // Verification still asks for versions; versions it finds end the shortcut.
    s3Mock.reset();
    s3Mock.on(ListObjectVersionsCommand).resolves({
      IsTruncated: false,
      Versions: [{ Key: `video/${SUBJECT}/a`, VersionId: 'v1', IsLatest: false }],
    });
    await expect(s3Connector.verify(target, invocation())).resolves.toMatchObject({
      verified: false,
      remaining: 1,
    });
    expect(s3Mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(1);
    s3Mock.on(DeleteObjectsCommand).resolves({});
    await s3Connector.execute(target, invocation());
    expect(s3Mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(2);
    expect(s3Mock.commandCalls(DeleteObjectsCommand)[0]?.args[0].input.Delete?.Objects).toEqual([
      { Key: `video/${SUBJECT}/a`, VersionId: 'v1' },
    ]);
  });

  it('falls back to ListObjectsV2 when the endpoint answers ListObjectVersions with NotImplemented', async () => {
    s3Mock.on(ListObjectVersionsCommand).rejects(s3Error('NotImplemented', 501, 'server'));
    s3Mock
      .on(ListObjectsV2Command)
      .resolves({ IsTruncated: false, Contents: [{ Key: `video/${SUBJECT}/a` }] });
    s3Mock.on(DeleteObjectsCommand).resolves({});

    await expect(connector().execute(target, invocation())).resolves.toEqual({
      status: 'done',
      affectedCount: 1,
    });
  });

  it('nothing under the prefix: done with 0 and no DeleteObjects call', async () => {
    s3Mock.on(ListObjectVersionsCommand).resolves({ IsTruncated: false });
    s3Mock.on(ListObjectsV2Command).resolves({ IsTruncated: false, KeyCount: 0 });

    await expect(connector().execute(target, invocation())).resolves.toEqual({
      status: 'done',
      affectedCount: 0,
    });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });
});

describe('s3-prefix verify (mocked S3: fauxqs has no versioning)', () => {
  it('counts remaining versions and delete markers; a noncurrent version alone fails verification', async () => {
    fakeVersionedBucket([
      { Key: `video/${SUBJECT}/a`, VersionId: 'm', LastModified: new Date('2024-03-01'), deleteMarker: true },
      {
        Key: `video/${SUBJECT}/a`,
        VersionId: 'v',
        LastModified: new Date('2024-01-01'),
        deleteMarker: false,
      },
    ]);

    const result = await connector().verify(target, invocation());

    expect(result).toMatchObject({ verified: false, remaining: 2 });
    expect(JSON.stringify(result)).not.toContain(SUBJECT);
  });

  it('is verified after execute, reading the bucket again', async () => {
    fakeVersionedBucket(versionsOf(`video/${SUBJECT}/`, 700, 2));
    const c = connector();

    await c.execute(target, invocation());

    await expect(c.verify(target, invocation())).resolves.toEqual({ verified: true });
  });

  it('respects olderThan: newer versions left in place do not fail verification', async () => {
    fakeVersionedBucket(versionsOf(`video/${SUBJECT}/`, 2, 2, new Date('2024-01-01T00:00:00Z')));
    const inv = invocation({ olderThan: '2024-01-01T00:00:30Z' });
    const c = connector();

    expect(await c.verify(target, inv)).toMatchObject({ verified: false, remaining: 2 });
    await c.execute(target, inv);
    expect(await c.verify(target, inv)).toEqual({ verified: true });
  });
});

describe('s3-prefix export (ALU-6)', () => {
  const exportInvocation = { exportId: 'exp_1', subjectId: SUBJECT, dataClasses: ['videos'] };
  const AT = new Date('2025-01-02T03:04:05.000Z');

  /** A GetObject answer; the SDK's streaming body reduced to the one method the connector uses. */
  const body = (bytes: Uint8Array | string, contentType?: string): GetObjectCommandOutput => ({
    $metadata: {},
    Body: {
      transformToByteArray: async () => (typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes),
    } as unknown as GetObjectCommandOutput['Body'],
    ...(contentType === undefined ? {} : { ContentType: contentType }),
  });

  const listing = (objects: { Key: string; Size: number }[]) =>
    s3Mock.on(ListObjectsV2Command).resolves({
      IsTruncated: false,
      Contents: objects.map((object) => ({ ...object, LastModified: AT })),
    });

  it('exports text as text and binary data as base64, with key, size, time and content type', async () => {
    const binary = new Uint8Array([0x00, 0x00, 0x00, 0x18, 0x66, 0x74, 0x79, 0x70]);
    listing([
      { Key: `video/${SUBJECT}/notes.txt`, Size: 5 },
      { Key: `video/${SUBJECT}/clip.mp4`, Size: binary.byteLength },
      { Key: `video/${SUBJECT}/meta.json`, Size: 8 },
    ]);
    s3Mock
      .on(GetObjectCommand, { Key: `video/${SUBJECT}/notes.txt` })
      .resolves(body('héllo'))
      .on(GetObjectCommand, { Key: `video/${SUBJECT}/clip.mp4` })
      .resolves(body(binary, 'video/mp4'))
      .on(GetObjectCommand, { Key: `video/${SUBJECT}/meta.json` })
      .resolves(body('{"a":1}', 'application/json'));

    const exported = await connector().export?.(target, exportInvocation);

    expect(exported).toEqual({
      truncated: false,
      records: [
        {
          key: `video/${SUBJECT}/notes.txt`,
          size: 6,
          lastModified: AT.toISOString(),
          content: 'héllo',
        },
        {
          key: `video/${SUBJECT}/clip.mp4`,
          size: 8,
          lastModified: AT.toISOString(),
          contentType: 'video/mp4',
          encoding: 'base64',
          content: Buffer.from(binary).toString('base64'),
        },
        {
          key: `video/${SUBJECT}/meta.json`,
          size: 7,
          lastModified: AT.toISOString(),
          contentType: 'application/json',
          content: '{"a":1}',
        },
      ],
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
      Bucket: 'media',
      Prefix: `video/${SUBJECT}/`,
    });
    expect(s3Mock.commandCalls(DeleteObjectsCommand)).toHaveLength(0);
  });

  it('sends untyped bytes that are not UTF-8 text, and text over 256 KiB, as base64', async () => {
    const large = 'a'.repeat(EXPORT_TEXT_MAX_BYTES + 1);
    listing([
      { Key: `video/${SUBJECT}/raw.bin`, Size: 2 },
      { Key: `video/${SUBJECT}/large.txt`, Size: large.length },
    ]);
    s3Mock
      .on(GetObjectCommand, { Key: `video/${SUBJECT}/raw.bin` })
      .resolves(body(new Uint8Array([0xc3, 0x28]), 'application/octet-stream'))
      .on(GetObjectCommand, { Key: `video/${SUBJECT}/large.txt` })
      .resolves(body(large, 'text/plain'));

    const exported = await connector().export?.(target, exportInvocation);

    expect(exported?.records.map((record) => [record.key, record.encoding])).toEqual([
      [`video/${SUBJECT}/raw.bin`, 'base64'],
      [`video/${SUBJECT}/large.txt`, 'base64'],
    ]);
    expect(Buffer.from(String(exported?.records[1]?.content), 'base64').toString('utf8')).toBe(large);
  });

  it('stops before the byte budget and says the copy is truncated, without reading what does not fit', async () => {
    listing([
      { Key: `video/${SUBJECT}/a.txt`, Size: 6 },
      { Key: `video/${SUBJECT}/b.txt`, Size: 6 },
      { Key: `video/${SUBJECT}/c.txt`, Size: 6 },
    ]);
    s3Mock.on(GetObjectCommand).resolves(body('123456', 'text/plain'));

    const exported = await createS3PrefixConnector({
      s3: new S3Client({ region: 'us-east-1' }),
      exportMaxBytes: 15,
    }).export?.(target, exportInvocation);

    expect(exported?.truncated).toBe(true);
    expect(exported?.records.map((record) => record.key)).toEqual([
      `video/${SUBJECT}/a.txt`,
      `video/${SUBJECT}/b.txt`,
    ]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2);
  });

  it('skips an object deleted since the listing and never copies a key outside the prefix', async () => {
    listing([
      { Key: `video/${SUBJECT}/gone.txt`, Size: 1 },
      { Key: 'video/someone-else/x.txt', Size: 1 },
    ]);
    s3Mock.on(GetObjectCommand).rejects(s3Error('NoSuchKey', 404, 'client'));

    const exported = await connector().export?.(target, exportInvocation);

    expect(exported).toEqual({ truncated: false, records: [] });
    expect(s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      `video/${SUBJECT}/gone.txt`,
    ]);
  });

  it('refuses an unsafe subject id and classifies a denied read as permanent', async () => {
    await expect(
      connector().export?.(target, { ...exportInvocation, subjectId: '../x' }),
    ).rejects.toBeInstanceOf(ConnectorPermanentError);
    listing([{ Key: `video/${SUBJECT}/a.txt`, Size: 1 }]);
    s3Mock.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403, 'client'));
    await expect(connector().export?.(target, exportInvocation)).rejects.toBeInstanceOf(
      ConnectorPermanentError,
    );
  });
});
