/**
 * The opaque `cursor` of `GET /v1/audit`: the store's position (DynamoDB's LastEvaluatedKey) as
 * base64url JSON, bound to the search it belongs to and signed with HMAC-SHA-256. A caller cannot
 * forge a position (and so cannot make the API read outside the scope it asked for), and a cursor
 * that was altered, truncated or taken from another search is a 400 naming `cursor`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors.js';
import type { AuditPosition } from '../ports/index.js';
import { canonicalJson } from './canonical.js';

/** Longer cursors are refused before any decoding (a DynamoDB key is a few hundred bytes). */
export const MAX_CURSOR_LENGTH = 2048;

const CURSOR_VERSION = 1;

const mac = (key: string, payload: string): Buffer =>
  // A key of its own, derived from the deployment key: a cursor MAC is never a pseudonym.
  createHmac('sha256', createHmac('sha256', key).update('audit-cursor.v1').digest()).update(payload).digest();

const invalid = (why: string) => new ValidationError(`cursor ${why}; start again without it`, 'cursor');

const isKey = (value: unknown): value is Record<string, string | number> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((member) => typeof member === 'string' || typeof member === 'number');

/** The cursor of `position` within the search `search` (any JSON value naming scope and filters). */
export const encodeCursor = (key: string, search: unknown, position: AuditPosition): string => {
  const payload = Buffer.from(
    canonicalJson({ v: CURSOR_VERSION, s: canonicalJson(search), p: position }),
    'utf8',
  ).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
};

/** The position a cursor holds, if it is intact and belongs to `search`; else a 400 naming `cursor`. */
export const decodeCursor = (key: string, search: unknown, cursor: string): AuditPosition => {
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalid('is too long');
  const [payload, signature, ...rest] = cursor.split('.');
  if (payload === undefined || signature === undefined || rest.length > 0 || payload === '') {
    throw invalid('is malformed');
  }
  const expected = mac(key, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw invalid('was not issued by this API or was altered');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is malformed');
  }
  const { v, s, p } = (parsed ?? {}) as { v?: unknown; s?: unknown; p?: unknown };
  if (v !== CURSOR_VERSION) throw invalid('is of another version');
  if (s !== canonicalJson(search)) throw invalid('belongs to another search (filters changed)');
  const position = (p ?? {}) as { day?: unknown; key?: unknown };
  if (
    typeof p !== 'object' ||
    (position.day !== undefined && typeof position.day !== 'string') ||
    (position.key !== undefined && !isKey(position.key))
  ) {
    throw invalid('is malformed');
  }
  return {
    ...(position.day === undefined ? {} : { day: position.day as string }),
    ...(position.key === undefined ? {} : { key: position.key as Record<string, string | number> }),
  };
};
