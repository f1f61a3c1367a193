/**
 * ALE-5 erasure counts: how much was deleted, anonymised and restricted per month, data class and
 * rule. Counted when an erasure is verified (a task's outcome, a window run), in the commit that
 * records it, into sharded counters (the shard spreads concurrent outcomes over several items, so
 * they do not conflict on one); the report sums the shards.
 */

import { requestRuleRef } from '../erasure/transition.js';
import { ValidationError } from '../errors.js';
import type { RetentionAction } from '../policy/types.js';
import { shardOf } from '../schedule/buckets.js';

/** Counter items per (month, data class, rule): concurrent outcomes rarely meet on one. */
export const TALLY_SHARDS = 8;
/** The longest span the erasures report answers, in months. */
export const MAX_REPORT_MONTHS = 36;
/** The span it answers without `from`. */
export const DEFAULT_REPORT_MONTHS = 12;

/** One verified erasure to count: written with the outcome that verified it. */
export interface ErasureTally {
  /** `YYYY-MM` of the verification (UTC). */
  readonly month: string;
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly action: RetentionAction;
  /** Erasures it counts: 1, or more when outcomes committed together share a counter item. */
  readonly erasures: number;
  /** Records the erasures affected. */
  readonly items: number;
  /** `00`..: which counter item takes it (a hash of what was erased: a request id, a window run). */
  readonly shard: string;
}

export interface ErasureCountRow {
  readonly month: string;
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly deletions: number;
  readonly anonymisations: number;
  readonly restrictions: number;
  readonly items: number;
}

/** The counter a tally adds 1 to. */
export const ACTION_COUNTER: Readonly<
  Record<RetentionAction, 'deletions' | 'anonymisations' | 'restrictions'>
> = {
  delete: 'deletions',
  anonymise: 'anonymisations',
  restrict: 'restrictions',
};

/** The rule an erasure request's tasks were done under (the one its audit entries carry). */
export const erasureRuleRef = requestRuleRef;

export const erasureTally = (input: {
  readonly at: string;
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly action: RetentionAction;
  readonly items: number;
  /** What was erased (a request id, a window run id): spreads the tallies over the shards. */
  readonly key: string;
}): ErasureTally => ({
  month: input.at.slice(0, 7),
  dataClass: input.dataClass,
  ruleRef: input.ruleRef,
  action: input.action,
  erasures: 1,
  items: input.items,
  shard: shardOf(input.key, TALLY_SHARDS),
});

/**
 * Tallies of one commit added up per counter item and action: a transaction may write an item
 * once, and outcomes committed together (one request's tasks, sharded by its id) share one.
 */
export const sumTallies = (tallies: readonly ErasureTally[]): ErasureTally[] => {
  const sums = new Map<string, ErasureTally>();
  for (const tally of tallies) {
    const key = JSON.stringify([tally.shard, tally.month, tally.dataClass, tally.ruleRef, tally.action]);
    const sum = sums.get(key);
    sums.set(
      key,
      sum === undefined
        ? tally
        : { ...sum, erasures: sum.erasures + tally.erasures, items: sum.items + tally.items },
    );
  }
  return [...sums.values()];
};

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Months since year 0 of a `YYYY-MM`, or a 400 naming `field`. */
export const monthIndex = (month: string, field: string): number => {
  const match = MONTH.exec(month);
  if (match === null) throw new ValidationError(`${field} '${month}' is not a month (YYYY-MM)`, field);
  return Number(match[1]) * 12 + Number(match[2]) - 1;
};

export const monthAt = (index: number): string =>
  `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;

/**
 * The months a report covers: `from`..`to` inclusive; `to` defaults to now's month and `from` to
 * 11 months before `to`. `from` after `to`, or more than 36 months, is a 400 naming `from`.
 */
export const reportMonths = (
  query: { readonly from?: string; readonly to?: string },
  now: string,
): { readonly from: string; readonly to: string } => {
  const to = query.to === undefined ? monthIndex(now.slice(0, 7), 'now') : monthIndex(query.to, 'to');
  const from = query.from === undefined ? to - (DEFAULT_REPORT_MONTHS - 1) : monthIndex(query.from, 'from');
  if (from > to) throw new ValidationError('from must not be after to', 'from');
  if (to - from + 1 > MAX_REPORT_MONTHS) {
    throw new ValidationError(`from..to spans more than ${MAX_REPORT_MONTHS} months`, 'from');
  }
  return { from: monthAt(from), to: monthAt(to) };
};

/** Rows summed over shards (and anything else split), sorted by month, data class, rule ref. */
export const sumErasureCounts = (rows: readonly ErasureCountRow[]): ErasureCountRow[] => {
  const sums = new Map<string, ErasureCountRow>();
  for (const row of rows) {
    const key = `${row.month}\u0000${row.dataClass}\u0000${row.ruleRef}`;
    const sum = sums.get(key);
    sums.set(
      key,
      sum === undefined
        ? { ...row }
        : {
            ...sum,
            deletions: sum.deletions + row.deletions,
            anonymisations: sum.anonymisations + row.anonymisations,
            restrictions: sum.restrictions + row.restrictions,
            items: sum.items + row.items,
          },
    );
  }
  const order = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...sums.values()].sort(
    (a, b) => order(a.month, b.month) || order(a.dataClass, b.dataClass) || order(a.ruleRef, b.ruleRef),
  );
};
