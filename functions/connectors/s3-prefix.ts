import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandOutput,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  type ObjectIdentifier,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  addressedValue,
  type Connector,
  type ConnectorInvocation,
  type ConnectorOutcome,
  type ExportedRecords,
  type ExportInvocation,
  type PreviewLimits,
  type PreviewResult,
  type S3PrefixTarget,
  type VerificationResult,
  type WindowInvocation,
  type WindowOutcome,
} from '../../domain/connectors/types.js';
import { cutoffFor } from '../../domain/schedule/windows.js';
import {
  fillSubjectTemplate,
  subjectSegmentProblem,
  subjectTemplateProblem,
  templateRoot,
} from '../../domain/vocabulary/index.js';
import {
  awsErrorName,
  awsStatusCode,
  ConnectorPermanentError,
  ConnectorRetryableError,
  classifyAwsError,
  parseOlderThan,
} from './errors.js';
import { type ListingStop, listingStop, stopsBeforeNextPage } from './listing-stop.js';

/** S3 DeleteObjects accepts at most 1,000 keys per call. */
export const S3_DELETE_BATCH = 1000;
/**
 * DeleteObjects calls in flight while the listing goes on: a prefix of many objects is erased at
 * the pace of its listing, not of listing plus deleting. S3 takes 3,500 deletes per second per
 * prefix; 4 batches of 1,000 at once stay well within what a retry with backoff absorbs.
 */
export const S3_DELETE_CONCURRENCY = 4;

/** Objects up to this size are exported as text when they are text; larger ones as base64. */
export const EXPORT_TEXT_MAX_BYTES = 256 * 1024;
/** Content one export copies from one target before it reports `truncated`. */
export const DEFAULT_EXPORT_MAX_BYTES = 5 * 1024 * 1024;

export interface S3PrefixConnectorDeps {
  readonly s3: S3Client;
  /** @default DEFAULT_EXPORT_MAX_BYTES */
  readonly exportMaxBytes?: number;
}

/** Content types that are text whatever their bytes say. */
const TEXT_TYPE =
  /^(text\/|application\/(json|xml|csv|yaml|x-yaml|javascript|ld\+json)\b|[^;]*\+(json|xml)\b)/i;
/** Content types that say nothing about the bytes: those are sniffed. */
const UNTYPED = /^(application\/octet-stream|binary\/octet-stream)?\s*(;|$)/i;

/** The bytes as text when they are UTF-8 text (no NUL or other control characters but tab/CR/LF). */
const asText = (bytes: Uint8Array, contentType: string | undefined): string | undefined => {
  if (bytes.byteLength > EXPORT_TEXT_MAX_BYTES) return undefined;
  const type = contentType ?? '';
  if (!TEXT_TYPE.test(type) && !UNTYPED.test(type)) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters mark binary data.
  return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? undefined : text;
};

/** One thing to delete: an object version, a delete marker, or (unversioned listing) an object. */
interface Listed {
  readonly key: string;
  /** Absent when the endpoint cannot list versions (see `listEntries`). */
  readonly versionId?: string;
  readonly lastModified: Date | undefined;
  readonly deleteMarker: boolean;
  /** Bytes, as listed (current-object listings only). */
  readonly size?: number;
}

/**
 * The prefix that holds exactly one subject's objects, or a permanent error. The template must
 * contain `{subjectId}/` and the subject id must be usable as a path segment (domain/vocabulary's
 * subject-template rules): without the placeholder the prefix would be the same for every subject
 * (possibly the whole bucket), without the `/` the prefix `video/ab` of subject `ab` would also
 * match `video/abc/...` of subject `abc`, and a subject id with `/`, `\`, `..` or control
 * characters could reach outside its own folder.
 */
export const subjectPrefix = (target: S3PrefixTarget, subjectId: string): string => {
  const templateProblem = subjectTemplateProblem(target.prefixTemplate);
  if (templateProblem !== undefined) {
    throw new ConnectorPermanentError(`Target '${target.name}': prefixTemplate ${templateProblem}`, {
      target: target.name,
      code: 'InvalidPrefixTemplate',
    });
  }
  const subjectProblem = subjectSegmentProblem(subjectId);
  if (subjectProblem !== undefined) {
    throw new ConnectorPermanentError(
      `Target '${target.name}': the subject id cannot be used in an S3 prefix: it ${subjectProblem}`,
      { target: target.name, code: 'UnsafeSubjectId' },
    );
  }
  const prefix = fillSubjectTemplate(target.prefixTemplate, subjectId);
  // Unreachable with the rules above; kept so that relaxing them can never erase a whole bucket.
  if (prefix.trim() === '' || prefix === '/') {
    throw new ConnectorPermanentError(`Target '${target.name}': prefixTemplate yields an empty prefix`, {
      target: target.name,
      code: 'InvalidPrefixTemplate',
    });
  }
  return prefix;
};

/** The static part of the template before the subject id: what a window run lists. */
export const windowRoot = (target: S3PrefixTarget): string => {
  const problem = subjectTemplateProblem(target.prefixTemplate);
  if (problem !== undefined) {
    throw new ConnectorPermanentError(`Target '${target.name}': prefixTemplate ${problem}`, {
      target: target.name,
      code: 'InvalidPrefixTemplate',
    });
  }
  return templateRoot(target.prefixTemplate);
};

/** The subject whose prefix holds `key`, or undefined when the key is no subject's (never erased). */
export const subjectOfKey = (target: S3PrefixTarget, root: string, key: string): string | undefined => {
  if (!key.startsWith(root)) return undefined;
  const rest = key.slice(root.length);
  const subject = rest.slice(0, Math.max(0, rest.indexOf('/')));
  if (subject === '' || subjectSegmentProblem(subject) !== undefined) return undefined;
  return key.startsWith(fillSubjectTemplate(target.prefixTemplate, subject)) ? subject : undefined;
};

const isNotImplemented = (error: unknown): boolean => {
  const name = awsErrorName(error);
  const status = awsStatusCode(error);
  return name === 'NotImplemented' || name === 'MethodNotAllowed' || status === 501 || status === 405;
};

/**
 * Deletes every object version and delete marker under `prefixTemplate` (with the subject id
 * substituted). In a versioned bucket a plain DELETE only adds a delete marker and keeps the data,
 * so the erasure lists versions and deletes each by version id; delete markers go too, because
 * their keys carry the subject id.
 */
export const createS3PrefixConnector = (deps: S3PrefixConnectorDeps): Connector<S3PrefixTarget> => {
  const { s3 } = deps;
  const exportMaxBytes = Math.max(1, deps.exportMaxBytes ?? DEFAULT_EXPORT_MAX_BYTES);

  /** An object's content and type; undefined when it is gone since it was listed. */
  const readObject = async (
    target: S3PrefixTarget,
    key: string,
  ): Promise<{ bytes: Uint8Array; contentType: string | undefined } | undefined> => {
    let object: GetObjectCommandOutput;
    try {
      object = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: key }));
    } catch (error) {
      if (awsErrorName(error) === 'NoSuchKey') return undefined;
      throw classifyAwsError(error, 'S3 GetObject', target.name);
    }
    if (object.Body === undefined) return { bytes: new Uint8Array(), contentType: object.ContentType };
    try {
      return { bytes: await object.Body.transformToByteArray(), contentType: object.ContentType };
    } catch (error) {
      throw classifyAwsError(error, 'S3 GetObject', target.name);
    }
  };

  const listCurrentPage = async (
    target: S3PrefixTarget,
    prefix: string,
    token: string | undefined,
  ): Promise<ListObjectsV2CommandOutput> => {
    try {
      return await s3.send(
        new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix, ContinuationToken: token }),
      );
    } catch (error) {
      throw classifyAwsError(error, 'S3 ListObjectsV2', target.name);
    }
  };

  /** Pages of the current objects; `first` is a first page already read (the cross-check's). */
  async function* listCurrentObjects(
    target: S3PrefixTarget,
    prefix: string,
    first?: ListObjectsV2CommandOutput,
    stop?: ListingStop,
  ): AsyncGenerator<Listed[]> {
    let page = first ?? (await listCurrentPage(target, prefix, undefined));
    for (;;) {
      yield (page.Contents ?? []).flatMap((o) =>
        o.Key === undefined
          ? []
          : [{ key: o.Key, lastModified: o.LastModified, deleteMarker: false, size: o.Size }],
      );
      if (!page.IsTruncated) return;
      const token = page.NextContinuationToken;
      if (token === undefined) {
        throw new ConnectorRetryableError(
          `S3 ListObjectsV2 for target '${target.name}': truncated page without a token`,
          {
            target: target.name,
            code: 'MalformedListing',
          },
        );
      }
      if (stopsBeforeNextPage(stop)) return;
      page = await listCurrentPage(target, prefix, token);
    }
  }

  /**
   * Buckets whose version listing came back empty while the object listing had objects: an
   * endpoint that cannot list versions (S3 itself never answers so). An erasure there lists
   * current objects at once instead of asking for versions and cross-checking every time.
   * Verification never relies on it: it lists versions and cross-checks each time, and versions
   * it finds clear the bucket from here (a cross-check that met an upload racing the listing
   * must not keep a versioned bucket on the current-object path).
   */
  const versionless = new Set<string>();

  /**
   * Pages of everything under the prefix: versions and delete markers, or current objects only
   * when the endpoint cannot list versions. That fallback exists for S3-compatible endpoints and
   * the local emulator: fauxqs (1.9.2, and 2.4.1 even with versioning enabled) lists no versions,
   * answering a ListObjectVersions request with a 200 that the SDK parses as "no versions".
   * Trusting that empty answer would erase nothing and verify "nothing left". So an empty first
   * page is cross-checked with ListObjectsV2: on S3 every current object is also a version, so
   * objects there mean the version listing cannot be trusted. Endpoints that answer
   * NotImplemented/405/501 fall back too. The fallback deletes without version ids, which on
   * an unversioned bucket removes the data.
   *
   * `remembered`: a bucket known to list no versions is listed with ListObjectsV2 at once.
   * `eager`: the cross-check's page is asked for with the version listing, not after it: for a
   * verification, whose listings are empty when the erasure worked and which then needs both.
   */
  async function* listEntries(
    target: S3PrefixTarget,
    prefix: string,
    {
      remembered,
      eager = false,
      stop,
    }: { readonly remembered: boolean; readonly eager?: boolean; readonly stop?: ListingStop },
  ): AsyncGenerator<Listed[]> {
    if (remembered && versionless.has(target.bucket)) {
      yield* listCurrentObjects(target, prefix, undefined, stop);
      return;
    }
    const early = eager ? listCurrentPage(target, prefix, undefined) : undefined;
    // Awaited below only when needed; never an unhandled rejection otherwise.
    early?.catch(() => undefined);
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let first = true; ; first = false) {
      if (!first && stopsBeforeNextPage(stop)) return;
      let page: ListObjectVersionsCommandOutput;
      try {
        page = await s3.send(
          new ListObjectVersionsCommand({
            Bucket: target.bucket,
            Prefix: prefix,
            KeyMarker: keyMarker,
            VersionIdMarker: versionIdMarker,
          }),
        );
      } catch (error) {
        if (first && isNotImplemented(error)) {
          yield* listCurrentObjects(target, prefix, early === undefined ? undefined : await early, stop);
          return;
        }
        throw classifyAwsError(error, 'S3 ListObjectVersions', target.name);
      }
      const versions = page.Versions ?? [];
      const markers = page.DeleteMarkers ?? [];
      if (first && versions.length === 0 && markers.length === 0) {
        // The cross-check reads a whole first page, which the fallback then starts from.
        const current = await (early ?? listCurrentPage(target, prefix, undefined));
        if ((current.Contents ?? []).length > 0) {
          versionless.add(target.bucket);
          yield* listCurrentObjects(target, prefix, current, stop);
        }
        return;
      }
      if (first) versionless.delete(target.bucket);
      yield [
        ...versions.flatMap((v) =>
          v.Key === undefined
            ? []
            : [{ key: v.Key, versionId: v.VersionId, lastModified: v.LastModified, deleteMarker: false }],
        ),
        ...markers.flatMap((m) =>
          m.Key === undefined
            ? []
            : [{ key: m.Key, versionId: m.VersionId, lastModified: m.LastModified, deleteMarker: true }],
        ),
      ];
      if (!page.IsTruncated) return;
      if (page.NextKeyMarker === undefined) {
        throw new ConnectorRetryableError(
          `S3 ListObjectVersions for target '${target.name}': truncated page without a key marker`,
          { target: target.name, code: 'MalformedListing' },
        );
      }
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
  }

  /** What `olderThan` and the prefix allow us to touch. */
  const selector = (prefix: string, olderThan: Date | undefined) => (entry: Listed) =>
    // A key outside the prefix can only come from a misbehaving endpoint; never delete it.
    entry.key.startsWith(prefix) &&
    (olderThan === undefined ||
      // No LastModified: the object cannot be shown to be older than the window, so it stays.
      (entry.lastModified !== undefined && entry.lastModified.getTime() < olderThan.getTime()));

  const deleteBatch = async (target: S3PrefixTarget, batch: readonly Listed[]): Promise<number> => {
    if (batch.length === 0) return 0;
    const objects: ObjectIdentifier[] = batch.map((e) =>
      e.versionId === undefined ? { Key: e.key } : { Key: e.key, VersionId: e.versionId },
    );
    let result: DeleteObjectsCommandOutput;
    try {
      result = await s3.send(
        new DeleteObjectsCommand({ Bucket: target.bucket, Delete: { Objects: objects, Quiet: true } }),
      );
    } catch (error) {
      throw classifyAwsError(error, 'S3 DeleteObjects', target.name);
    }
    const errors = result.Errors ?? [];
    if (errors.length > 0) {
      // Codes only: the keys in `Errors` carry the subject id.
      const codes = [...new Set(errors.map((e) => e.Code ?? 'Unknown'))].sort().join(', ');
      throw new ConnectorRetryableError(
        `S3 DeleteObjects for target '${target.name}': ${errors.length} of ${batch.length} deletions failed (${codes})`,
        { target: target.name, code: 'PartialDeleteFailure' },
      );
    }
    return batch.length;
  };

  /**
   * What `execute` would delete for `invocation`, and `verify` finds left: versions and markers.
   * `signal` (dry runs only): once aborted, no further page is read (`partial` when one was left).
   */
  const countSelected = async (
    target: S3PrefixTarget,
    invocation: ConnectorInvocation,
    // Counts never trust a remembered "no versions": they must see what an erasure leaves.
    listing: { readonly remembered: false; readonly eager?: boolean } = { remembered: false },
    signal?: AbortSignal,
  ): Promise<{ count: number; partial: boolean }> => {
    const prefix = subjectPrefix(target, addressedValue(invocation));
    const selected = selector(prefix, parseOlderThan(invocation.olderThan, target.name));
    const stop = listingStop(signal);
    let count = 0;
    for await (const page of listEntries(target, prefix, {
      ...listing,
      ...(stop === undefined ? {} : { stop }),
    })) {
      count += page.filter(selected).length;
    }
    return { count, partial: stop?.cut === true };
  };

  const requireDelete = (target: S3PrefixTarget, invocation: ConnectorInvocation): void => {
    if (invocation.action !== 'delete') {
      throw new ConnectorPermanentError(
        `Target '${target.name}' (s3-prefix) supports only 'delete', not '${invocation.action}'`,
        { target: target.name, code: 'UnsupportedAction' },
      );
    }
  };

  return {
    kind: 's3-prefix',

    /**
     * A dry run: the versions and delete markers `execute` would delete (the same listing, prefix
     * and `olderThan` selection), so a versioned bucket counts every version, not just the objects.
     */
    async preview(
      target: S3PrefixTarget,
      invocation: ConnectorInvocation,
      limits: PreviewLimits = {},
    ): Promise<PreviewResult> {
      requireDelete(target, invocation);
      const { count, partial } = await countSelected(target, invocation, undefined, limits.signal);
      return { status: 'counted', count, unit: 'object-versions', ...(partial ? { partial } : {}) };
    },

    /**
     * The current objects under the subject's prefix with their content: text as it is, anything
     * else (or text over EXPORT_TEXT_MAX_BYTES) as base64. Old versions are not exported: they are
     * not the subject's data as the service holds it. Stops before `exportMaxBytes` of content.
     */
    async export(target: S3PrefixTarget, invocation: ExportInvocation): Promise<ExportedRecords> {
      const prefix = subjectPrefix(target, addressedValue(invocation));
      const records: Record<string, unknown>[] = [];
      let used = 0;
      for await (const page of listCurrentObjects(target, prefix)) {
        for (const entry of page) {
          // A key outside the prefix can only come from a misbehaving endpoint; never copy it.
          if (!entry.key.startsWith(prefix)) continue;
          // Checked against the listed size first, so an object over the budget is never read.
          if (used + (entry.size ?? 0) > exportMaxBytes) return { records, truncated: true };
          const object = await readObject(target, entry.key);
          if (object === undefined) continue;
          const text = asText(object.bytes, object.contentType);
          const content = text ?? Buffer.from(object.bytes).toString('base64');
          used += text === undefined ? content.length : object.bytes.byteLength;
          if (used > exportMaxBytes) return { records, truncated: true };
          records.push({
            key: entry.key,
            size: object.bytes.byteLength,
            ...(entry.lastModified === undefined ? {} : { lastModified: entry.lastModified.toISOString() }),
            ...(object.contentType === undefined ? {} : { contentType: object.contentType }),
            ...(text === undefined ? { encoding: 'base64' } : {}),
            content,
          });
        }
      }
      return { records, truncated: false };
    },

    async execute(target: S3PrefixTarget, invocation: ConnectorInvocation): Promise<ConnectorOutcome> {
      requireDelete(target, invocation);
      const prefix = subjectPrefix(target, addressedValue(invocation));
      const olderThan = parseOlderThan(invocation.olderThan, target.name);
      const selected = selector(prefix, olderThan);

      // Delete markers are deleted after the versions listed before them: removing a marker first
      // would briefly make an older version of the object current (readable) again.
      let versions: Listed[] = [];
      let markers: Listed[] = [];
      let deleted = 0;
      // Batches being deleted while the listing goes on; every one is awaited before returning.
      let inFlight: Promise<number>[] = [];
      const settleAll = async () => {
        const results = await Promise.allSettled(inFlight);
        inFlight = [];
        for (const result of results) {
          if (result.status === 'rejected') throw result.reason;
          deleted += result.value;
        }
      };
      const send = async (batch: readonly Listed[]) => {
        if (batch.length === 0) return;
        if (inFlight.length >= S3_DELETE_CONCURRENCY) await settleAll();
        const pending = deleteBatch(target, batch);
        // Handled in settleAll; never an unhandled rejection while the listing goes on.
        pending.catch(() => undefined);
        inFlight.push(pending);
      };
      for await (const page of listEntries(target, prefix, { remembered: true })) {
        for (const entry of page) {
          if (!selected(entry)) continue;
          (entry.deleteMarker ? markers : versions).push(entry);
        }
        while (versions.length >= S3_DELETE_BATCH) {
          await send(versions.slice(0, S3_DELETE_BATCH));
          versions = versions.slice(S3_DELETE_BATCH);
        }
        if (markers.length >= S3_DELETE_BATCH) {
          await send(versions);
          versions = [];
          await settleAll();
          while (markers.length >= S3_DELETE_BATCH) {
            await send(markers.slice(0, S3_DELETE_BATCH));
            markers = markers.slice(S3_DELETE_BATCH);
          }
          await settleAll();
        }
      }
      // The versions sent so far are gone before a marker goes; the rest (under 1,000 versions and
      // under 1,000 markers) one batch after the other, versions first.
      await settleAll();
      const rest = [...versions, ...markers];
      for (let i = 0; i < rest.length; i += S3_DELETE_BATCH) {
        await send(rest.slice(i, i + S3_DELETE_BATCH));
        await settleAll();
      }
      return { status: 'done', affectedCount: deleted };
    },

    /**
     * A rolling-window run across every subject: lists the template's static root (`video/` of
     * `video/{subjectId}/`), reads each key's subject from the template, and deletes the versions
     * (and delete markers) whose LastModified is before that subject's cut-off, unless holds
     * protect the subject. S3 cannot list by age, so the listing grows with the objects under the
     * root, not with what expired: in AWS an S3 Lifecycle rule on the root (Expiration and
     * NoncurrentVersionExpiration after the window) is the native alternative, with held
     * subjects' objects kept by an Object Lock legal hold. The verification read lists again.
     */
    async expire(target: S3PrefixTarget, invocation: WindowInvocation): Promise<WindowOutcome> {
      const root = windowRoot(target);
      const excluded = new Set(invocation.excludedSubjects);
      const verdict = (entry: Listed): 'erase' | 'held' | 'keep' => {
        const subject = subjectOfKey(target, root, entry.key);
        if (subject === undefined || entry.lastModified === undefined) return 'keep';
        if (entry.lastModified.getTime() >= Date.parse(cutoffFor(invocation, subject))) return 'keep';
        return excluded.has(subject) ? 'held' : 'erase';
      };
      let versions: Listed[] = [];
      const markers: Listed[] = [];
      let erased = 0;
      let held = 0;
      for await (const page of listEntries(target, root, { remembered: false })) {
        for (const entry of page) {
          const decided = verdict(entry);
          if (decided === 'held') held++;
          if (decided === 'erase') (entry.deleteMarker ? markers : versions).push(entry);
        }
        while (versions.length >= S3_DELETE_BATCH) {
          erased += await deleteBatch(target, versions.slice(0, S3_DELETE_BATCH));
          versions = versions.slice(S3_DELETE_BATCH);
        }
      }
      // Markers after the versions listed with them (see `execute`).
      const rest = [...versions, ...markers];
      for (let i = 0; i < rest.length; i += S3_DELETE_BATCH) {
        erased += await deleteBatch(target, rest.slice(i, i + S3_DELETE_BATCH));
      }
      let remainingExpired = 0;
      let oldest: Date | undefined;
      for await (const page of listEntries(target, root, { remembered: false })) {
        for (const entry of page) {
          if (subjectOfKey(target, root, entry.key) === undefined || entry.lastModified === undefined)
            continue;
          if (verdict(entry) === 'erase') remainingExpired++;
          if (!entry.deleteMarker && (oldest === undefined || entry.lastModified < oldest))
            oldest = entry.lastModified;
        }
      }
      return {
        erased,
        held,
        remainingExpired,
        ...(oldest === undefined ? {} : { oldestRemainingAt: oldest.toISOString() }),
      };
    },

    async verify(target: S3PrefixTarget, invocation: ConnectorInvocation): Promise<VerificationResult> {
      const { count: remaining } = await countSelected(target, invocation, {
        remembered: false,
        eager: true,
      });
      if (remaining === 0) return { verified: true };
      return {
        verified: false,
        remaining,
        detail: `${remaining} object version(s) or delete marker(s) remain under the prefix of target '${target.name}'`,
      };
    },
  };
};
