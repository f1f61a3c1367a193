/**
 * The bench's interval for a median (test/bench/stats.ts): the order statistics a table of the
 * binomial distribution gives, a coverage that never falls below what was asked, and an interval
 * that always holds the sample median.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, medianInterval } from '../bench/stats.js';

const ranks = (count: number) => Array.from({ length: count }, (_, index) => index + 1);

describe('medianInterval', () => {
  it.each([
    { n: 6, low: 1, high: 6, coverage: 0.9688 },
    { n: 10, low: 2, high: 9, coverage: 0.9785 },
    { n: 15, low: 4, high: 12, coverage: 0.9648 },
    { n: 21, low: 6, high: 16, coverage: 0.9734 },
  ])('95 % over $n samples: x($low) to x($high), covering $coverage', ({ n, low, high, coverage }) => {
    // Act: ranks 1..n, in reverse, so the bounds are the ranks themselves.
    const interval = medianInterval([...ranks(n)].reverse());

    // Assess
    expect(interval).toMatchObject({ low, high });
    expect(interval?.coverage).toBeCloseTo(coverage, 4);
  });

  it('has no 95 % interval under 6 samples (five give at most 93.75 %)', () => {
    expect(medianInterval(ranks(5))).toBeUndefined();
    expect(medianInterval(ranks(5), 0.9)).toMatchObject({ low: 1, high: 5, coverage: 0.9375 });
  });

  it('covers at least what was asked and holds the sample median', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 6, maxLength: 60 }),
        fc.constantFrom(0.8, 0.9, 0.95),
        (samples, confidence) => {
          const interval = medianInterval(samples, confidence);
          expect(interval).toBeDefined();
          if (interval === undefined) return;
          expect(interval.coverage).toBeGreaterThanOrEqual(confidence);
          expect(interval.low).toBeLessThanOrEqual(median(samples));
          expect(interval.high).toBeGreaterThanOrEqual(median(samples));
        },
      ),
    );
  });
});
