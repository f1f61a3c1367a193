import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../domain/errors.js';
import {
  addDuration,
  compareDurations,
  formatDuration,
  isCanonicalInstant,
  isDuration,
  nextBoundary,
  parseDuration,
  parseInstant,
  requireCanonicalInstant,
  subtractDuration,
} from '../../domain/time.js';

const instants = fc
  .date({
    min: new Date('1970-01-01T00:00:00.000Z'),
    max: new Date('2600-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map((date) => date.toISOString());
const ZERO = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };
const midnights = instants.map((instant) => `${instant.slice(0, 10)}T00:00:00.000Z`);

const daysInMonth = (year: number, monthIndex: number): number =>
  new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();

const captureError = (act: () => unknown): unknown => {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
};

describe('isCanonicalInstant', () => {
  it.each([
    ['2026-11-21T10:00:00.000Z', true],
    ['2026-11-21T10:00:00Z', false],
    ['2026-11-21T10:00:00.000+00:00', false],
    ['2026-02-30T10:00:00.000Z', false],
    ['not a date', false],
  ])('%s → %s', (value, expected) => {
    // Act / Assess
    expect(isCanonicalInstant(value)).toBe(expected);
  });
});

describe('requireCanonicalInstant', () => {
  it('returns a canonical instant as it is', () => {
    // Act / Assess
    expect(requireCanonicalInstant('2026-11-21T10:00:00.000Z', 'at')).toBe('2026-11-21T10:00:00.000Z');
  });

  it.each(['2026-11-21T10:00:00Z', '2026-02-30T10:00:00.000Z', 42])(
    'refuses %j, naming the field',
    (value) => {
      // Act
      const error = captureError(() => requireCanonicalInstant(value, 'dueAt'));

      // Assess
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field: 'dueAt' });
    },
  );
});

describe('parseInstant', () => {
  it.each([
    ['2026-11-30T00:00:00.000Z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T00:00Z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T01:00:00+01:00', '2026-11-30T00:00:00.000Z'],
    ['2026-11-29T19:30:00-04:30', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T00:00:00+00', '2026-11-30T00:00:00.000Z'],
    ['20261130T013000+0130', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30t00:00:00z', '2026-11-30T00:00:00.000Z'],
    ['2026-11-30T00:00:00.1234567Z', '2026-11-30T00:00:00.123Z'],
    ['2026-11-30T00:00:00,5Z', '2026-11-30T00:00:00.500Z'],
    ['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
  ])('%s → %s', (input, canonical) => {
    // Prepare / Act
    const parsed = parseInstant(input, 'occurredAt');

    // Assess
    expect(parsed).toBe(canonical);
    expect(isCanonicalInstant(parsed)).toBe(true);
  });

  it.each([
    ['2026-11-30T00:00:00', 'no offset'],
    ['2026-11-30', 'a date only'],
    ['2026-02-29T00:00:00Z', 'a day that does not exist'],
    ['2026-11-30T24:00:00Z', 'hour 24'],
    ['2026-11-30T00:00:60Z', 'a leap second'],
    ['2026-11-30T00:00:00+24:00', 'an offset of 24 hours'],
    ['0000-01-01T00:00:00+01:00', 'a year before 0000'],
    ['not a date', 'text'],
    ['', 'an empty string'],
  ])('rejects %s (%s), naming the field', (input) => {
    // Prepare / Act
    const error = captureError(() => parseInstant(input, 'occurredAt'));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'occurredAt' });
    const message = (error as ValidationError).message;
    expect(message.startsWith(`occurredAt '${input}' `)).toBe(true);
    expect(message).toMatch(/is not an ISO 8601 instant|falls outside the years 0000-9999/);
  });

  it('rejects a value that is not a string', () => {
    // Prepare / Act
    const error = captureError(() => parseInstant(1764460800000, 'receivedAt'));

    // Assess
    expect(error).toMatchObject({
      field: 'receivedAt',
      message: expect.stringContaining('receivedAt number'),
    });
  });

  it('returns canonical instants unchanged (property)', () => {
    fc.assert(fc.property(instants, (instant) => parseInstant(instant, 'at') === instant));
  });

  it('reads an instant with any offset as the same UTC instant (property)', () => {
    fc.assert(
      fc.property(
        instants,
        fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 }),
        (instant, offsetMinutes) => {
          // Prepare: write the instant as local time at the offset
          const local = new Date(Date.parse(instant) + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
          const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');

          // Act / Assess
          return parseInstant(`${local}${sign}${hours}:${minutes}`, 'at') === instant;
        },
      ),
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['P24M', { months: 24 }],
    ['P1Y', { years: 1 }],
    ['P3Y6M4DT12H30M5S', { years: 3, months: 6, days: 4, hours: 12, minutes: 30, seconds: 5 }],
    ['P2W', { weeks: 2 }],
    ['P1W3D', { weeks: 1, days: 3 }],
    ['PT36H', { hours: 36 }],
    ['PT1.5S', { seconds: 1.5 }],
    ['P0D', {}],
  ])('%s', (text, components) => {
    // Prepare / Act
    const duration = parseDuration(text, 'retention');

    // Assess
    expect(duration).toEqual({ ...ZERO, ...components });
    expect(isDuration(text)).toBe(true);
  });

  it.each([
    'P',
    'PT',
    'P1YT',
    '-P1Y',
    'P-1Y',
    'P1.5Y',
    'P1M2Y',
    'p1y',
    '1Y',
    'P1Y ',
    'PT1.2345S',
    'P99999999999999999999D',
    '',
  ])('rejects %j, naming the field', (text) => {
    // Prepare / Act
    const error = captureError(() => parseDuration(text, 'dataClasses[0].retention'));

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({
      field: 'dataClasses[0].retention',
      message: `dataClasses[0].retention '${text}' is not an ISO 8601 duration (e.g. P24M, P7D)`,
    });
    expect(isDuration(text)).toBe(false);
  });

  it('formats what it parses back to an equal duration (property)', () => {
    const durations = fc
      .record({
        years: fc.nat(50),
        months: fc.nat(50),
        weeks: fc.nat(50),
        days: fc.nat(400),
        hours: fc.nat(48),
        minutes: fc.nat(120),
        seconds: fc.nat(120),
      })
      .map(formatDuration);
    fc.assert(fc.property(durations, (text) => formatDuration(parseDuration(text, 'd')) === text));
  });
});

describe('addDuration / subtractDuration', () => {
  it.each([
    ['2026-11-30', 'P3M', '2027-02-28'],
    ['2026-01-31', 'P24M', '2028-01-31'],
    ['2024-02-29', 'P1Y', '2025-02-28'],
    ['2024-02-29', 'P4Y', '2028-02-29'],
    ['2026-01-31', 'P1M', '2026-02-28'],
    ['2028-01-31', 'P1M', '2028-02-29'],
    ['2026-12-15', 'P1M', '2027-01-15'],
    ['2026-03-01', 'P7D', '2026-03-08'],
    ['2026-12-28', 'P1W', '2027-01-04'],
  ])('%s + %s = %s', (start, duration, end) => {
    // Prepare / Act
    const result = addDuration(`${start}T00:00:00.000Z`, duration);

    // Assess
    expect(result).toBe(`${end}T00:00:00.000Z`);
  });

  it('applies years and months first, then days, then the time part', () => {
    // Prepare: months first: 30 Jan + 1 month = 28 Feb (clamped), + 2 days = 2 Mar (days first would give 1 Mar)
    const start = '2026-01-30T22:00:00.000Z';

    // Act
    const result = addDuration(start, 'P1M2DT3H');

    // Assess
    expect(result).toBe('2026-03-03T01:00:00.000Z');
  });

  it('subtracts with the same steps backwards, so it is not an exact inverse of month clamping', () => {
    // Prepare / Act
    const notice = subtractDuration('2027-02-28T00:00:00.000Z', 'P3M');
    const imouNotice = subtractDuration('2028-03-15T00:00:00.000Z', 'P3M');

    // Assess
    expect(notice).toBe('2026-11-28T00:00:00.000Z');
    expect(imouNotice).toBe('2027-12-15T00:00:00.000Z');
  });

  it('keeps the time of day and milliseconds', () => {
    expect(addDuration('2026-01-31T23:59:59.999Z', 'P1M')).toBe('2026-02-28T23:59:59.999Z');
    expect(addDuration('2026-01-31T10:00:00.000Z', 'PT1.5S')).toBe('2026-01-31T10:00:01.500Z');
  });

  it('refuses a result outside the years 0000-9999', () => {
    expect(() => addDuration('9999-06-01T00:00:00.000Z', 'P1Y')).toThrow(ValidationError);
    expect(() => subtractDuration('0000-06-01T00:00:00.000Z', 'P1Y')).toThrow(ValidationError);
  });

  it('never overflows into the following month when clamping (property)', () => {
    fc.assert(
      fc.property(instants, fc.nat(600), (instant, months) => {
        // Prepare
        const start = new Date(instant);
        const totalMonths = start.getUTCFullYear() * 12 + start.getUTCMonth() + months;
        const year = Math.floor(totalMonths / 12);
        const monthIndex = totalMonths % 12;

        // Act
        const result = new Date(addDuration(instant, { ...ZERO, months }));

        // Assess
        return (
          result.getUTCFullYear() === year &&
          result.getUTCMonth() === monthIndex &&
          result.getUTCDate() === Math.min(start.getUTCDate(), daysInMonth(year, monthIndex))
        );
      }),
    );
  });

  it('keeps the day of the month whenever the target month has it (property)', () => {
    fc.assert(
      fc.property(instants, fc.nat(40), fc.nat(24), (instant, years, months) => {
        const result = addDuration(instant, { ...ZERO, years, months });
        return new Date(instant).getUTCDate() > 28 || result.slice(8) === instant.slice(8);
      }),
    );
  });

  it('treats P0D and PT0S as the identity (property)', () => {
    fc.assert(
      fc.property(
        instants,
        (instant) => addDuration(instant, 'P0D') === instant && subtractDuration(instant, 'PT0S') === instant,
      ),
    );
  });

  it('is monotonic in the duration: more months never give an earlier instant (property)', () => {
    fc.assert(
      fc.property(instants, fc.nat(300), fc.nat(300), (instant, a, b) => {
        const [fewer, more] = a <= b ? [a, b] : [b, a];
        return (
          addDuration(instant, { ...ZERO, months: fewer }) <= addDuration(instant, { ...ZERO, months: more })
        );
      }),
    );
  });

  it('is monotonic in the start date for calendar durations (property)', () => {
    fc.assert(
      fc.property(midnights, midnights, fc.nat(30), fc.nat(40), fc.nat(400), (a, b, years, months, days) => {
        const [earlier, later] = a <= b ? [a, b] : [b, a];
        const duration = { ...ZERO, years, months, days };
        return addDuration(earlier, duration) <= addDuration(later, duration);
      }),
    );
  });

  it('is exactly invertible for days and time (property)', () => {
    fc.assert(
      fc.property(instants, fc.nat(3000), fc.nat(1000), (instant, days, hours) => {
        const duration = { ...ZERO, days, hours };
        return subtractDuration(addDuration(instant, duration), duration) === instant;
      }),
    );
  });
});

describe('compareDurations', () => {
  it('compares from the fixed reference instant 2000-01-01, where P1M is 31 days', () => {
    expect(compareDurations('P3M', 'P24M')).toBe(-1);
    expect(compareDurations('P1Y', 'P12M')).toBe(0);
    expect(compareDurations('P1M', 'P30D')).toBe(1);
    expect(compareDurations('P1M', 'P31D')).toBe(0);
    expect(compareDurations('P2W', 'P14D')).toBe(0);
  });

  it('can give another answer from another reference, which is why the reference is fixed', () => {
    expect(compareDurations('P1M', 'P30D', '2026-02-01T00:00:00.000Z')).toBe(-1);
  });
});

describe('nextBoundary', () => {
  const origin = '2000-01-01T00:00:00.000Z';

  it.each([
    ['2026-03-01T00:00:00.000Z', 'P7D', '2026-03-07T00:00:00.000Z'],
    ['2026-03-07T00:00:00.000Z', 'P7D', '2026-03-14T00:00:00.000Z'],
    ['2026-03-03T09:00:00.000Z', 'P1D', '2026-03-04T00:00:00.000Z'],
    ['2026-03-10T00:00:00.000Z', 'P1M', '2026-04-01T00:00:00.000Z'],
    ['2026-03-01T00:00:00.000Z', 'P30D', '2026-03-15T00:00:00.000Z'],
    ['1999-12-31T12:00:00.000Z', 'P1D', '2000-01-01T00:00:00.000Z'],
    ['1990-03-01T00:00:00.000Z', 'P6M', '1990-07-01T00:00:00.000Z'],
  ])('after %s on a %s grid → %s', (after, step, expected) => {
    expect(nextBoundary(after, step, origin)).toBe(expected);
  });

  it('rejects a zero step', () => {
    expect(() => nextBoundary('2026-03-01T00:00:00.000Z', 'P0D', origin)).toThrow(ValidationError);
  });

  it('returns the first grid point strictly after the instant (property)', () => {
    const steps = fc.constantFrom('P1D', 'P7D', 'P30D', 'P1M', 'P6M', 'P24M', 'PT12H', 'P1M1D');
    fc.assert(
      fc.property(instants, steps, (after, step) => {
        // Act
        const next = nextBoundary(after, step, origin);
        const justBefore = new Date(Date.parse(next) - 1).toISOString();

        // Assess: later than `after`, and every instant in [after, next) maps to the same point
        return next > after && nextBoundary(justBefore, step, origin) === next;
      }),
    );
  });
});
