import type { SubjectIdentifiers } from '../identifiers/types.js';
import type { RetentionAction } from '../policy/types.js';

/** Where a data class's data lives. Names are referenced from the catalog's `targets`. */
export type ConnectorTarget = S3PrefixTarget | DynamoDbItemsTarget | HttpWebhookTarget;

export interface S3PrefixTarget {
  readonly name: string;
  readonly kind: 's3-prefix';
  readonly bucket: string;
  /**
   * Key prefix with one placeholder: `{subjectId}`, or a declared identifier the data is keyed by
   * (`video/{deviceId}/`: one prefix per device serial of the subject).
   */
  readonly prefixTemplate: string;
}

export interface DynamoDbItemsTarget {
  readonly name: string;
  readonly kind: 'dynamodb-items';
  readonly table: string;
  /** Attribute holding the subject id: the table's partition key, or the GSI's partition key. */
  readonly subjectAttribute: string;
  /**
   * The declared identifier `subjectAttribute` holds, when the table is keyed by one (`email`)
   * rather than by the subject id: items are found by each of its values. @default 'subjectId'
   */
  readonly identifier?: string;
  /** Query this GSI instead of the table when the subject id is not the partition key. */
  readonly indexName?: string;
  /** Key attributes of the table (needed to delete items found through a GSI). */
  readonly keyAttributes: readonly string[];
  /** Attributes overwritten in `anonymise` mode (set to the anonymised marker). */
  readonly anonymiseAttributes?: readonly string[];
  /** ISO 8601 instant attribute used to honour `olderThan` (rolling windows). */
  readonly timestampAttribute?: string;
  /**
   * The time-ordered GSI window runs erase through (rolling windows across every subject): its
   * partition key is `partitionAttribute`, its sort key `timestampAttribute` (canonical UTC ISO
   * instants, so text order is time order). Each item carries one of `partitions` (write
   * sharding: one value per ~1,000 writes/s); a run queries each with `timestamp < cut-off`.
   * Its projection must include `subjectAttribute` (the table keys are always projected).
   */
  readonly windowIndex?: WindowIndex;
}

export interface WindowIndex {
  readonly indexName: string;
  readonly partitionAttribute: string;
  /** The values items put in `partitionAttribute`. @default ['all'] */
  readonly partitions?: readonly string[];
}

export interface HttpWebhookTarget {
  readonly name: string;
  readonly kind: 'http-webhook';
  readonly url: string;
  /** Name of the secret used to sign requests (resolved to a value by the runtime). */
  readonly signingSecretName: string;
  /** Request timeout in milliseconds. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * The service answers dry-run previews (`action: 'preview'`, functions/connectors/README.md).
   * @default false: a service that does not know the call could take it for an erasure, so it is
   * never sent one, and a dry run reports its count as unknown.
   */
  readonly preview?: boolean;
  /**
   * Declared identifiers sent with each erasure (`identifiers` in the signed body), for a service
   * that finds the subject's data by them. @default none: only the subject id is sent
   */
  readonly identifiers?: readonly string[];
}

/** The one identifier value a unit of work addresses (`deviceId` = one serial). */
export interface IdentifierAddress {
  readonly name: string;
  readonly value: string;
}

/** What one connector is asked to do for one task. */
export interface ConnectorInvocation {
  readonly taskId: string;
  readonly requestId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly action: RetentionAction;
  /**
   * The value this unit of work finds data by, when the target is keyed by a declared identifier
   * (a task fans out to one invocation per value). Absent: the subject id.
   */
  readonly address?: IdentifierAddress;
  /** The identifiers a webhook target declares, for a service that finds the data by them. */
  readonly identifiers?: SubjectIdentifiers;
  /** Only data older than this instant (rolling windows, IMOU-1). */
  readonly olderThan?: string;
  /** Idempotency key forwarded to other services: stable across retries of the task. */
  readonly idempotencyKey: string;
  /**
   * The nonce of this attempt (`callbackNonceFor`): a service that answers later by callback must
   * send it back, so its answer settles this attempt and no later one. Other connectors ignore it.
   */
  readonly callbackNonce?: string;
}

/** The value a connector finds data by: the invocation's address, else the subject id. */
export const addressedValue = (invocation: {
  readonly subjectId: string;
  readonly address?: IdentifierAddress;
}): string => invocation.address?.value ?? invocation.subjectId;

export type ConnectorOutcome =
  /** Done here: `affectedCount` items/objects deleted, anonymised or restricted. */
  | { readonly status: 'done'; readonly affectedCount: number }
  /** Accepted by another service that will call back (HTTP 202). */
  | { readonly status: 'pending'; readonly affectedCount: 0 };

export type VerificationResult =
  | { readonly verified: true }
  | { readonly verified: false; readonly remaining: number; readonly detail: string };

/**
 * What a dry run learns from one connector about one planned task: how much of the subject's data
 * the same invocation's `execute` would erase (delete, anonymise or restrict), read without
 * changing anything. `unknown` when the system cannot tell (a webhook that does not answer
 * previews); a dry run says so rather than guess.
 */
export type PreviewResult =
  | {
      readonly status: 'counted';
      readonly count: number;
      /** What is counted: `object-versions` (S3: versions and delete markers), `items`, `records`. */
      readonly unit: string;
      /** Counting stopped at the dry run's time limit (`PreviewLimits`): there are at least `count`. */
      readonly partial?: true;
    }
  | { readonly status: 'unknown'; readonly reason: 'not-supported' | 'not-counted' };

/** How long a dry run may count: it must answer within the API's time, however much a subject holds. */
export interface PreviewLimits {
  /**
   * Aborted when counting must stop. A connector checks it between pages (the page in flight is
   * counted) and answers what it counted so far, marked `partial` when a page was left unread.
   */
  readonly signal?: AbortSignal;
}

/** What one connector is asked to copy for a portability export (ALU-6). */
export interface ExportInvocation {
  /** Id of the export; forwarded as the idempotency key, since repeating an export is harmless. */
  readonly exportId: string;
  readonly subjectId: string;
  /** As for an erasure: the value the target is read by, when keyed by a declared identifier. */
  readonly address?: IdentifierAddress;
  /** The identifiers a webhook target declares. */
  readonly identifiers?: SubjectIdentifiers;
  /** The requested data classes that name this target. */
  readonly dataClasses: readonly string[];
}

/** The subject's data in one target, as plain JSON-able records. */
export interface ExportedRecords {
  readonly records: readonly Readonly<Record<string, unknown>>[];
  /** True when a size or count limit stopped the copy before everything was read. */
  readonly truncated: boolean;
}

/** What one connector is asked to do for one rolling-window run: one target, every subject. */
export interface WindowInvocation {
  /** Stable for the (data class, target, slot): the idempotency key of a webhook call. */
  readonly runId: string;
  readonly dataClass: string;
  /** Items older than this are erased... */
  readonly cutoff: string;
  /** ...unless their subject has a cut-off of its own (a plan's storage period, IMOU-1). */
  readonly subjectCutoffs: Readonly<Record<string, string>>;
  /** Subjects whose data legal holds protect (ALM-3): their items stay, counted as `held`. */
  readonly excludedSubjects: readonly string[];
}

export interface WindowOutcome {
  readonly erased: number;
  readonly held: number;
  /** Verification read after the erase: items past their cut-off, not held, still found. */
  readonly remainingExpired?: number;
  /** The oldest item left (held ones included); absent when nothing is left or it cannot be told. */
  readonly oldestRemainingAt?: string;
}

/**
 * A connector erases one data class's data of one subject from one system. Implementations must
 * be idempotent: `execute` may run several times for the same task (retries, duplicate delivery).
 * `verify` reads back independently and must not trust `execute`'s answer.
 */
export interface Connector<T extends ConnectorTarget = ConnectorTarget> {
  readonly kind: T['kind'];
  execute(target: T, invocation: ConnectorInvocation): Promise<ConnectorOutcome>;
  verify(target: T, invocation: ConnectorInvocation): Promise<VerificationResult>;
  /**
   * Reads the subject's data for a portability export (ALU-6), changing nothing. Optional: a
   * target whose connector lacks it is reported as not supported in the export.
   */
  export?(target: T, invocation: ExportInvocation): Promise<ExportedRecords>;
  /**
   * Counts what `execute` would erase for the same invocation (a dry run), changing nothing: the
   * same listing, query and filters as `execute`, no writes. Optional: a target whose connector
   * lacks it is reported with an unknown count.
   */
  preview?(target: T, invocation: ConnectorInvocation, limits?: PreviewLimits): Promise<PreviewResult>;
  /**
   * Erases what is older than the run's cut-offs across every subject (rolling windows), at a
   * cost that grows with what expired where the store allows it. Idempotent. Optional: a class
   * whose target lacks it cannot be a rolling window there.
   */
  expire?(target: T, invocation: WindowInvocation): Promise<WindowOutcome>;
}
