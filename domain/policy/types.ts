import type { ConnectorTarget } from '../connectors/types.js';
import type { LifecycleEventType } from '../events.js';
import type { IdentifierDeclarations } from '../identifiers/identifiers.js';
import type { IdentifierResolverConfig } from '../identifiers/resolver.js';

export type RetentionAction = 'delete' | 'anonymise' | 'restrict';

/** Something that stops a due deletion from running. `legal-hold` applies to every data class. */
export type BlockerKind = 'legal-hold' | 'unpaid-invoice';

/** The retention rule of one data class. A catalog is plain data, validated by `parseCatalog`. */
export interface DataClassPolicy {
  /** kebab-case, unique in the catalog (`customer-profile`). */
  readonly dataClass: string;
  readonly description: string;
  /** Rule ids this class enforces (`ALE-1`); the first one is the `ruleRef` of its decisions. */
  readonly ruleRefs: readonly string[];
  /** Events that start (or restart) the retention clock. */
  readonly triggers: readonly LifecycleEventType[];
  /** ISO 8601 duration counted from the trigger's `occurredAt` (`P24M`; `P0D` = as soon as possible). */
  readonly retention: string;
  readonly action: RetentionAction;
  /** ISO 8601 duration before the due time at which the subject is told (IMOU-3). Not longer than `retention`. */
  readonly notice?: string;
  /** Events that cancel a pending deletion (`account.restored`). */
  readonly cancelledBy: readonly LifecycleEventType[];
  /** Always contains `legal-hold`. */
  readonly blockers: readonly BlockerKind[];
  /** Country code → ISO 8601 duration that replaces `retention` where the data is stored there (ALU-2). */
  readonly jurisdictionOverrides: Readonly<Record<string, string>>;
  /**
   * Rolling window while a plan runs (IMOU-1): the trigger event's attribute that carries the window
   * (e.g. `storagePeriod`). After each run the deletion re-arms one window later and only data
   * older than the window is erased.
   */
  readonly rollingWindowAttribute?: string;
  /**
   * The retention is a rolling window over the data's age (IMOU-1, IMOU-2, ALE-3, ALE-4) rather than
   * a one-off deletion: each run erases only data older than the window, then re-arms. Implied by
   * `rollingWindowAttribute`; set it alone for a fixed window (the window is then `retention`).
   */
  readonly rolling?: boolean;
  /**
   * How often a rolling window runs (ISO 8601 duration, not longer than the window). Data lives at
   * most window + interval. Absent: the window itself (data may then live up to twice the window).
   */
  readonly rollingInterval?: string;
  /** Names of connector targets holding this class's data; resolved by deployment config. */
  readonly targets: readonly string[];
}

export interface PolicyCatalog {
  readonly version: string;
  readonly dataClasses: readonly DataClassPolicy[];
}

/**
 * A rule of retention-rules.md that is about handling requests rather than scheduling a data
 * class, mapped to the capability that implements it.
 */
export interface CapabilityMapping {
  readonly ruleRef: string;
  readonly capability: string;
  readonly implementedBy: string;
}

/** What a deployment runs: the catalog and the real systems its target names point at. */
export interface DeploymentConfig {
  readonly catalog: PolicyCatalog;
  readonly targets: readonly ConnectorTarget[];
  /**
   * Where advance notices (IMOU-3) go: an http-webhook target (a notification service that pushes
   * or e-mails the subject). Without it the sweep can only record that a notice is due.
   */
  readonly notices?: { readonly target: string };
  /**
   * Identifiers of a subject beyond its subject id (`email`, `deviceId`), by name, with the pattern
   * their values must match. Targets may address data by them; requests, events, holds and
   * exports may carry them. @default none
   */
  readonly identifiers?: IdentifierDeclarations;
  /** Suppression after erasure. */
  readonly suppression?: {
    /**
     * How long an erased subject's identifiers stay suppressed (ISO 8601). @default the longest
     * retention of any class in the catalog (jurisdiction overrides included)
     */
    readonly period?: string;
  };
  /**
   * Where intake looks up a subject's identifiers (a lookup table or a signed webhook), merged with
   * those it is sent. @default none: only sent identifiers are used
   */
  readonly identifierResolver?: IdentifierResolverConfig;
}
