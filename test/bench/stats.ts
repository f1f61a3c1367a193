import { performance } from 'node:perf_hooks';

/** One line of the results table: the median of `samples` and their spread (min–max). */
export interface Row {
  readonly what: string;
  readonly samples: readonly number[];
  readonly unit: string;
}

export const median = (samples: readonly number[]): number => {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  if (sorted.length % 2 === 1) return upper;
  return ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
};

/** P(X ≤ k) for X ~ Binomial(n, 1/2). */
const binomialHalfCdf = (n: number, k: number): number => {
  let term = 0.5 ** n;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum;
};

/**
 * A distribution-free interval for the median of what `samples` were drawn from: the order
 * statistics x(k) and x(n + 1 − k) with the largest k whose coverage, 1 − 2·P(Binomial(n, ½) < k),
 * is at least `confidence`. No assumption about the shape of the noise, which on a shared machine
 * is anything but normal. Undefined when there are too few samples for that confidence (under 6
 * for 95 %).
 */
export const medianInterval = (
  samples: readonly number[],
  confidence = 0.95,
): { readonly low: number; readonly high: number; readonly coverage: number } | undefined => {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  let best: { low: number; high: number; coverage: number } | undefined;
  for (let k = 1; k <= Math.floor((n + 1) / 2); k++) {
    const coverage = 1 - 2 * binomialHalfCdf(n, k - 1);
    if (coverage < confidence) break;
    best = { low: sorted[k - 1] as number, high: sorted[n - k] as number, coverage };
  }
  return best;
};

/** Milliseconds `fn` took, with its result. */
export const timed = async <T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> => {
  const start = performance.now();
  const result = await fn();
  return { ms: performance.now() - start, result };
};

/** Runs `fn` for every item with at most `concurrency` in flight; rejects on the first failure. */
export const forEachConcurrently = async <T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      const item = items[index];
      if (item !== undefined) await fn(item, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
};

export const range = (count: number): number[] => Array.from({ length: count }, (_, index) => index);

/** Per second, from a count and milliseconds. */
export const perSecond = (count: number, ms: number): number => (ms <= 0 ? Number.NaN : (count * 1000) / ms);

/** 3 significant digits, thousands separated: 0.0123, 1.23, 12.3, 123, 1,234. */
export const formatNumber = (value: number): string => {
  if (!Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, 2 - magnitude);
  return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: decimals });
};

export const formatSpread = (samples: readonly number[]): string => {
  if (samples.length < 2) return '–';
  const low = Math.min(...samples);
  const high = Math.max(...samples);
  if (low === high) return `${formatNumber(low)} (all equal)`;
  const mid = median(samples);
  const percent = mid === 0 ? '' : ` (±${Math.round(((high - low) / 2 / Math.abs(mid)) * 100)}%)`;
  return `${formatNumber(low)}–${formatNumber(high)}${percent}`;
};

/** A Markdown table with columns what, N, median, spread (min–max), unit. */
export const markdownTable = (rows: readonly Row[]): string => {
  const lines = [
    '| what | N | median | spread (min–max) | unit |',
    '| --- | ---: | ---: | ---: | --- |',
    ...rows.map(
      (row) =>
        `| ${row.what} | ${row.samples.length} | ${formatNumber(median(row.samples))} | ${formatSpread(row.samples)} | ${row.unit} |`,
    ),
  ];
  return lines.join('\n');
};

/** Progress and diagnostics go to stderr, so stdout holds only the report. */
export const progress = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
};
