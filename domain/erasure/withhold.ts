/**
 * ALE-2 for erasure requests: while an invoice is unpaid, classes blocked by `unpaid-invoice` are
 * kept (GDPR Art. 17(3)(e): needed for a legal claim). They are left out of the request and named
 * on it, so the requester is told; a request for nothing but such classes is refused.
 */
import { RetentionRequiredError } from '../errors.js';
import { findPolicy } from '../policy/lookup.js';
import type { PolicyCatalog } from '../policy/types.js';
import type { SubjectSchedule } from '../schedule/types.js';

export interface Withholding {
  readonly erasable: readonly string[];
  readonly withheld: readonly { readonly dataClass: string; readonly reason: 'unpaid-invoice' }[];
}

/**
 * The split alone, without refusing: a dry run reports a request for nothing but retained classes
 * as refused instead of failing (`withholdRetained` refuses it at intake).
 */
export const withholding = (
  catalog: PolicyCatalog,
  schedule: Pick<SubjectSchedule, 'unpaidInvoiceSince'>,
  requested: readonly string[],
): Withholding => {
  const retained = (dataClass: string) =>
    schedule.unpaidInvoiceSince !== undefined &&
    findPolicy(catalog, dataClass)?.blockers.includes('unpaid-invoice') === true;
  const withheld = requested
    .filter(retained)
    .map((dataClass) => ({ dataClass, reason: 'unpaid-invoice' as const }));
  const erasable = requested.filter((dataClass) => !retained(dataClass));
  return { erasable, withheld };
};

export const withholdRetained = (
  catalog: PolicyCatalog,
  schedule: Pick<SubjectSchedule, 'unpaidInvoiceSince'>,
  requested: readonly string[],
): Withholding => {
  const { erasable, withheld } = withholding(catalog, schedule, requested);
  if (erasable.length === 0) {
    throw new RetentionRequiredError(
      'Every requested data class must be kept while an invoice is unpaid (ALE-2)',
      'dataClasses',
    );
  }
  return { erasable, withheld };
};
