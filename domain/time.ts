/**
 * Instants and ISO 8601 calendar durations, in UTC.
 *
 * Instants travel as canonical strings (`2026-11-30T00:00:00.000Z`, the `Date#toISOString` form,
 * years 0000-9999), so they compare correctly as strings. Durations are calendar durations: `P1M`
 * is 28 to 31 days depending on where it starts, so arithmetic is done on the calendar, never on a
 * fixed number of milliseconds.
 */
import { ValidationError } from './errors.js';

/** A parsed ISO 8601 duration (`PnYnMnWnDTnHnMnS`). Every component is >= 0. */
export interface Duration {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  /** May carry milliseconds (`PT1.5S`). */
  readonly seconds: number;
}

const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;

const EXTENDED_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?::\d{2})?)$/;
const BASIC_INSTANT =
  /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(?:(\d{2})(?:[.,](\d+))?)?([Zz]|[+-]\d{2}(?:\d{2})?)$/;
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d{1,3})?)S)?)?$/;

const utcMidnight = (year: number, monthIndex: number, day: number): number => {
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  return date.getTime();
};

const EARLIEST_MS = utcMidnight(0, 0, 1);
const LATEST_MS = utcMidnight(10000, 0, 1) - 1;

const daysInMonth = (year: number, monthIndex: number): number =>
  new Date(utcMidnight(year, monthIndex + 1, 1) - MS_PER_DAY).getUTCDate();

const toCanonical = (epochMs: number, what: string, field?: string): string => {
  if (!Number.isFinite(epochMs) || epochMs < EARLIEST_MS || epochMs > LATEST_MS) {
    throw new ValidationError(`${what} falls outside the years 0000-9999`, field);
  }
  return new Date(epochMs).toISOString();
};

const describe = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : typeof value);

const parseOffsetMinutes = (offset: string): number | undefined => {
  if (offset === 'Z' || offset === 'z') return 0;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  return (offset.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
};

const instantToEpochMs = (value: string): number | undefined => {
  const match = EXTENDED_INSTANT.exec(value) ?? BASIC_INSTANT.exec(value);
  if (match === null) return undefined;
  const [, year, month, day, hour, minute, second = '0', fraction = '', offset = ''] = match;
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo - 1) || h > 23 || mi > 59 || s > 59)
    return undefined;
  const offsetMinutes = parseOffsetMinutes(offset);
  if (offsetMinutes === undefined) return undefined;
  // Sub-millisecond digits are truncated: the canonical form has millisecond precision.
  const millis = Number(fraction.slice(0, 3).padEnd(3, '0'));
  return (
    utcMidnight(y, mo - 1, d) +
    h * MS_PER_HOUR +
    mi * MS_PER_MINUTE +
    s * MS_PER_SECOND +
    millis -
    offsetMinutes * MS_PER_MINUTE
  );
};

/** What an instant may be, for messages: `<field> <value> is not <INSTANT_RULE>`. */
export const INSTANT_RULE = 'an ISO 8601 instant with a UTC offset (e.g. 2026-11-30T00:00:00Z)';
/** What a stored instant must be, for messages. */
export const CANONICAL_INSTANT_RULE = 'a canonical instant (YYYY-MM-DDTHH:mm:ss.sssZ)';
/** What a duration may be, for messages. */
export const DURATION_RULE = 'an ISO 8601 duration (e.g. P24M, P7D)';

/**
 * Parses any ISO 8601 instant that carries a UTC offset (`2026-11-30T01:00+01:00`,
 * `20261130T000000Z`, `2026-11-30T00:00:00.123456Z`) into the canonical UTC form. A local time
 * without an offset is rejected: it names no instant.
 */
export function parseInstant(value: unknown, field: string): string {
  const epochMs = typeof value === 'string' ? instantToEpochMs(value) : undefined;
  if (epochMs === undefined) {
    throw new ValidationError(`${field} ${describe(value)} is not ${INSTANT_RULE}`, field);
  }
  return toCanonical(epochMs, `${field} ${describe(value)}`, field);
}

/** True for the canonical form only (`2026-11-30T00:00:00.000Z`) of a real instant (no 30 February). */
export const isCanonicalInstant = (value: unknown): value is string =>
  typeof value === 'string' && CANONICAL_INSTANT.test(value) && instantToEpochMs(value) !== undefined;

/**
 * Returns `value` if it is a canonical instant, else throws a ValidationError naming `field`. For
 * instants the domain stores and compares as strings; input from outside goes through `parseInstant`.
 */
export function requireCanonicalInstant(value: unknown, field: string): string {
  if (!isCanonicalInstant(value)) {
    throw new ValidationError(`${field} ${describe(value)} is not ${CANONICAL_INSTANT_RULE}`, field);
  }
  return value;
}

const tryParseDuration = (value: string): Duration | undefined => {
  const match = DURATION.exec(value);
  if (match === null) return undefined;
  const [, years, months, weeks, days, hours, minutes, seconds] = match;
  const hasDatePart = [years, months, weeks, days].some((part) => part !== undefined);
  const hasTimePart = [hours, minutes, seconds].some((part) => part !== undefined);
  // `P` alone and a `T` with nothing after it match the pattern but name no duration.
  if (!hasDatePart && !hasTimePart) return undefined;
  if (value.includes('T') && !hasTimePart) return undefined;
  const toNumber = (part: string | undefined): number =>
    part === undefined ? 0 : Number(part.replace(',', '.'));
  const duration: Duration = {
    years: toNumber(years),
    months: toNumber(months),
    weeks: toNumber(weeks),
    days: toNumber(days),
    hours: toNumber(hours),
    minutes: toNumber(minutes),
    seconds: toNumber(seconds),
  };
  return Object.values(duration).every((component) => Number.isSafeInteger(Math.ceil(component)))
    ? duration
    : undefined;
};

/** True when `value` is a non-negative ISO 8601 duration (`P24M`, `P1Y6M`, `P7D`, `PT12H`, `P0D`). */
export const isDuration = (value: unknown): value is string =>
  typeof value === 'string' && tryParseDuration(value) !== undefined;

/**
 * Parses `PnYnMnWnDTnHnMnS`. Only the seconds may have a fraction (up to milliseconds). Negative
 * (`-P1Y`, `P-1Y`), empty (`P`, `PT`) and malformed values are rejected with a ValidationError
 * naming `field`.
 */
export function parseDuration(value: unknown, field: string): Duration {
  const duration = typeof value === 'string' ? tryParseDuration(value) : undefined;
  if (duration === undefined) {
    throw new ValidationError(`${field} ${describe(value)} is not ${DURATION_RULE}`, field);
  }
  return duration;
}

/** The canonical text of a duration (`P1Y2M`, `PT1.5S`, `P0D` for zero). */
export function formatDuration(duration: Duration): string {
  const date = [
    [duration.years, 'Y'],
    [duration.months, 'M'],
    [duration.weeks, 'W'],
    [duration.days, 'D'],
  ] as const;
  const time = [
    [duration.hours, 'H'],
    [duration.minutes, 'M'],
    [duration.seconds, 'S'],
  ] as const;
  const render = (parts: readonly (readonly [number, string])[]): string =>
    parts
      .filter(([amount]) => amount > 0)
      .map(([amount, unit]) => `${amount}${unit}`)
      .join('');
  const datePart = render(date);
  const timePart = render(time);
  if (datePart === '' && timePart === '') return 'P0D';
  return `P${datePart}${timePart === '' ? '' : `T${timePart}`}`;
}

export const isZeroDuration = (duration: Duration): boolean =>
  Object.values(duration).every((component) => component === 0);

const asDuration = (duration: Duration | string): Duration =>
  typeof duration === 'string' ? parseDuration(duration, 'duration') : duration;

/**
 * Years and months first, clamped to the last day of a shorter month; then weeks and days; then
 * the time part. Subtraction walks the same steps backwards, so it is not an exact inverse:
 * 2027-02-28 - P3M = 2026-11-28, although 2026-11-30 + P3M = 2027-02-28.
 */
const shift = (instant: string, duration: Duration, sign: 1 | -1): string => {
  const epochMs = instantToEpochMs(instant);
  if (epochMs === undefined) {
    throw new ValidationError(`instant ${describe(instant)} is not an ISO 8601 instant with a UTC offset`);
  }
  const start = new Date(epochMs);
  const year = start.getUTCFullYear();
  const monthIndex = start.getUTCMonth();
  const timeOfDayMs = epochMs - utcMidnight(year, monthIndex, start.getUTCDate());
  const totalMonths = year * 12 + monthIndex + sign * (duration.years * 12 + duration.months);
  const targetYear = Math.floor(totalMonths / 12);
  const targetMonthIndex = totalMonths - targetYear * 12;
  if (targetYear < 0 || targetYear > 9999) {
    throw new ValidationError(
      `${instant} ${sign > 0 ? '+' : '-'} ${formatDuration(duration)} falls outside the years 0000-9999`,
    );
  }
  const targetDay = Math.min(start.getUTCDate(), daysInMonth(targetYear, targetMonthIndex));
  const shifted =
    utcMidnight(targetYear, targetMonthIndex, targetDay) +
    timeOfDayMs +
    sign * (duration.weeks * 7 + duration.days) * MS_PER_DAY +
    sign *
      (duration.hours * MS_PER_HOUR +
        duration.minutes * MS_PER_MINUTE +
        Math.round(duration.seconds * MS_PER_SECOND));
  return toCanonical(shifted, `${instant} ${sign > 0 ? '+' : '-'} ${formatDuration(duration)}`);
};

/**
 * `instant + duration` in UTC calendar arithmetic: 2026-11-30 + P3M = 2027-02-28. Monotonic in the
 * date, not strictly in the instant: 30 Jan 10:00 and 31 Jan 05:00 + P1M both land on 28 Feb, in
 * swapped order.
 */
export const addDuration = (instant: string, duration: Duration | string): string =>
  shift(instant, asDuration(duration), 1);

/** `instant - duration`, the same steps as addDuration backwards (years/months, then days, then time). */
export const subtractDuration = (instant: string, duration: Duration | string): string =>
  shift(instant, asDuration(duration), -1);

/**
 * Where duration comparisons are made. Calendar durations have no length of their own (P1M is
 * 28-31 days, P1Y is 365 or 366), so "is A longer than B" is only defined from a starting instant:
 * we add both to this fixed instant and compare the results. From here P1M = 31 days, so
 * P30D < P1M and P31D = P1M; from another start the answer could differ by a few days.
 */
export const DURATION_REFERENCE_INSTANT = '2000-01-01T00:00:00.000Z';

/** -1, 0 or 1 as `a` ends before, with or after `b` when both start at `reference`. */
export function compareDurations(
  a: Duration | string,
  b: Duration | string,
  reference: string = DURATION_REFERENCE_INSTANT,
): -1 | 0 | 1 {
  const endA = addDuration(reference, a);
  const endB = addDuration(reference, b);
  if (endA === endB) return 0;
  return endA < endB ? -1 : 1;
}

const scale = (duration: Duration, factor: number): Duration => ({
  years: duration.years * factor,
  months: duration.months * factor,
  weeks: duration.weeks * factor,
  days: duration.days * factor,
  hours: duration.hours * factor,
  minutes: duration.minutes * factor,
  seconds: duration.seconds * factor,
});

const approximateMs = (duration: Duration): number =>
  (duration.years * 365.2425 + duration.months * 30.436875 + duration.weeks * 7 + duration.days) *
    MS_PER_DAY +
  duration.hours * MS_PER_HOUR +
  duration.minutes * MS_PER_MINUTE +
  duration.seconds * MS_PER_SECOND;

/**
 * The first instant of the grid `origin + k × step` (k any integer, `k × step` scaling every
 * component) strictly after `after`. Scaling from the origin, rather than adding `step` again
 * and again, keeps month steps from drifting after a clamp (31 Jan → 28 Feb → 28 Mar).
 */
export function nextBoundary(after: string, step: Duration | string, origin: string): string {
  const stepDuration = asDuration(step);
  if (isZeroDuration(stepDuration)) {
    throw new ValidationError(
      `a boundary step must be longer than zero, got ${formatDuration(stepDuration)}`,
    );
  }
  const boundary = (k: number): string =>
    k >= 0 ? addDuration(origin, scale(stepDuration, k)) : subtractDuration(origin, scale(stepDuration, -k));
  const afterMs = instantToEpochMs(after);
  const originMs = instantToEpochMs(origin);
  if (afterMs === undefined || originMs === undefined) {
    throw new ValidationError(`cannot place ${describe(after)} on a grid from ${describe(origin)}`);
  }
  // The estimate lands within a step or two of the answer; the loops settle it exactly.
  let k = Math.floor((afterMs - originMs) / approximateMs(stepDuration));
  while (boundary(k) > after) k -= 1;
  while (boundary(k + 1) <= after) k += 1;
  return boundary(k + 1);
}
