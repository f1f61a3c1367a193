import { ValidationError } from '../errors.js';
import type { AuditEntry } from './types.js';

/** The fields of an `AuditEvent`; `chainEntry` copies only these, so no stray property is ever chained. */
export const AUDIT_EVENT_FIELDS = [
  'type',
  'at',
  'idempotencyKey',
  'requestId',
  'taskId',
  'dataClass',
  'ruleRef',
  'target',
  'detail',
] as const;

/**
 * The fields of a stored `AuditEntry`. A reader must drop anything else a store adds (index
 * attributes such as `day`) before `verifyChain`: the hash covers every field but `hash`.
 */
export const AUDIT_ENTRY_FIELDS = [
  ...AUDIT_EVENT_FIELDS,
  'chainId',
  'seq',
  'subjectPseudonym',
  'prevHash',
  'hash',
] as const;

const isPlainObject = (value: object): value is Record<string, unknown> => {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

const memberPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

const canonicalValue = (value: unknown, path: string): string => {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    // JSON would silently turn NaN/Infinity into null, and two different entries would hash alike.
    if (!Number.isFinite(value)) throw new ValidationError(`'${path}' is not a finite number`, path);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item, index) => canonicalValue(item, `${path}[${index}]`)).join(',')}]`;
  }
  if (typeof value === 'object' && isPlainObject(value)) {
    const members = Object.keys(value)
      .sort()
      .flatMap((key) => {
        const member = value[key];
        return member === undefined
          ? []
          : [`${JSON.stringify(key)}:${canonicalValue(member, memberPath(path, key))}`];
      });
    return `{${members.join(',')}}`;
  }
  // Dates, Maps, functions, bigints...: their JSON form is lossy or absent, so refuse them.
  throw new ValidationError(`'${path}' cannot be put in canonical JSON (${typeof value})`, path);
};

/**
 * Canonical JSON: object keys sorted (by UTF-16 code unit) at every depth, undefined members left
 * out, no whitespace. Equal data always gives the same string, so its hash is reproducible.
 */
export const canonicalJson = (value: unknown): string => canonicalValue(value, '');

/** The canonical form an entry's hash is computed over: every field except `hash` itself. */
export const canonicalEntry = (entry: Omit<AuditEntry, 'hash'> | AuditEntry): string => {
  const { hash: _hash, ...hashed } = entry as Partial<AuditEntry>;
  return canonicalJson(hashed);
};
