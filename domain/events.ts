/** Lifecycle events product services report. The API accepts exactly these names. */
export const LIFECYCLE_EVENT_TYPES = [
  'contract.ended',
  'account.suspended',
  'account.restored',
  'account.closed',
  'account.deleted',
  'plan.expired',
  'plan.renewed',
  'consent.withdrawn',
  'relationship.ended',
  'invoice.unpaid',
  'invoice.settled',
  'subject.active',
  'child_data.detected',
  'product.withdrawn',
] as const;

export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

import { ValidationError } from './errors.js';
import type { SubjectIdentifiers } from './identifiers/types.js';
import type { PolicyCatalog } from './policy/types.js';
import { sameNameLoosely } from './vocabulary/parse.js';

export interface LifecycleEvent {
  /** Deterministic id: the same (subjectId, type, occurredAt, attributes) always gets the same id. */
  readonly eventId: string;
  readonly subjectId: string;
  readonly type: LifecycleEventType;
  /** ISO 8601 instant in UTC (`2026-11-30T00:00:00.000Z`). Ordering uses this, never arrival time. */
  readonly occurredAt: string;
  /**
   * Free-form string attributes. Known keys:
   * - `jurisdiction`: ISO 3166-1 alpha-2 country where the data is stored (ALU-2 overrides).
   * - `storagePeriod`: ISO 8601 duration of a running plan's rolling window (IMOU-1).
   * - `productId`: the product that was withdrawn (IMOU-5).
   */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * The subject's identifiers (validated against the declared ones): a deletion the event
   * schedules keeps them while pending, so its request can address targets keyed by them.
   */
  readonly identifiers?: SubjectIdentifiers;
}

/** The attribute names the orchestrator reads: `jurisdiction`, `productId`, each rolling window's. */
export const knownAttributeNames = (catalog: PolicyCatalog): string[] => [
  ...new Set([
    'jurisdiction',
    'productId',
    ...catalog.dataClasses.flatMap((policy) =>
      policy.rollingWindowAttribute === undefined ? [] : [policy.rollingWindowAttribute],
    ),
  ]),
];

/**
 * Attributes are free-form, but one that differs from a known name only in case, `_` or `-`
 * (`Jurisdiction`, `storage_period`) is a typo: the event would be decided without it, with a
 * default retention that may be shorter. A ValidationError naming it and the name it stands for.
 */
export const requireAttributeNames = (
  attributes: Readonly<Record<string, string>>,
  catalog: PolicyCatalog,
): void => {
  const known = knownAttributeNames(catalog);
  for (const name of Object.keys(attributes)) {
    if (known.includes(name)) continue;
    const meant = known.find((candidate) => sameNameLoosely(candidate, name));
    if (meant !== undefined) {
      throw new ValidationError(
        `attributes.${name} is not a known attribute (did you mean ${meant}?)`,
        `attributes.${name}`,
      );
    }
  }
};
