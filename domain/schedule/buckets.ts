/**
 * Keys of the `byDueBucket` index (docs/architecture.md): `dueBucket = <YYYY-MM>#<shard>` spreads a
 * month's entries over shards, `dueKey = <dueAt>#<subjectId>#<dataClass>` sorts them by due time.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { requireCanonicalInstant } from '../time.js';

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;
/** Two digits per shard. */
const MAX_SHARDS = 100;

const checkShards = (shards: number): void => {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
    throw new ValidationError(`shards must be an integer from 1 to ${MAX_SHARDS}, got ${shards}`, 'shards');
  }
};

/** `YYYY-MM` of a canonical instant. */
export const monthOf = (instant: string): string => {
  requireCanonicalInstant(instant, 'instant');
  return instant.slice(0, 7);
};

/** The subject's shard, `00`..`shards-1`: a hash, so it is stable across deployments and runs. */
export function shardOf(subjectId: string, shards: number): string {
  checkShards(shards);
  const hash = createHash('sha256').update(subjectId, 'utf8').digest().readUInt32BE(0);
  return String(hash % shards).padStart(2, '0');
}

/**
 * The bucket of an entry due at `dueAt`. With `writtenAt`, an entry already overdue when it is
 * written goes to the month of `writtenAt` instead, so it cannot land behind the sweep's watermark.
 */
export function dueBucket(dueAt: string, subjectId: string, shards: number, writtenAt?: string): string {
  requireCanonicalInstant(dueAt, 'dueAt');
  if (writtenAt !== undefined) requireCanonicalInstant(writtenAt, 'writtenAt');
  const bucketInstant = writtenAt !== undefined && writtenAt > dueAt ? writtenAt : dueAt;
  return `${bucketInstant.slice(0, 7)}#${shardOf(subjectId, shards)}`;
}

export function dueKey(dueAt: string, subjectId: string, dataClass: string): string {
  requireCanonicalInstant(dueAt, 'dueAt');
  return `${dueAt}#${subjectId}#${dataClass}`;
}

/**
 * Query `dueKey < dueKeyUpperBound(now)` to get every entry due at or before `now`: `$` sorts right
 * after `#`, so `dueKey <= now` would miss the entries due exactly at `now`.
 */
export function dueKeyUpperBound(now: string): string {
  requireCanonicalInstant(now, 'now');
  return `${now}$`;
}

const parseMonth = (month: string, field: string): number => {
  const match = MONTH.exec(month);
  if (match === null) throw new ValidationError(`${field} '${month}' is not a month (YYYY-MM)`, field);
  return Number(match[1]) * 12 + Number(match[2]) - 1;
};

const formatMonth = (index: number): string =>
  `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;

/** Every month from `fromMonth` to the month of `toInstant`, both included; empty if `fromMonth` is later. */
export function bucketMonths(fromMonth: string, toInstant: string): string[] {
  const first = parseMonth(fromMonth, 'fromMonth');
  const last = parseMonth(monthOf(toInstant), 'toInstant');
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, offset) => formatMonth(first + offset));
}

/** Every bucket a sweep at `now` queries: each month from the watermark to now's, times each shard. */
export function bucketsToSweep(watermarkMonth: string, now: string, shards: number): string[] {
  checkShards(shards);
  const shardIds = Array.from({ length: shards }, (_, shard) => String(shard).padStart(2, '0'));
  return bucketMonths(watermarkMonth, now).flatMap((month) => shardIds.map((shard) => `${month}#${shard}`));
}
