import { createHmac } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { isCanonicalInstant } from '../time.js';
import { isCommonWordsOnly } from './common-words.js';
import type { AuditEvent } from './types.js';

/**
 * The subject's keyed pseudonym: HMAC-SHA-256 of the subject id, hex. Keyed, so whoever reads the
 * audit trail cannot confirm a guessed identifier (e-mail, customer number) by hashing it. The id is
 * used exactly as given (no trimming or case folding): ids are opaque to the orchestrator.
 */
export const pseudonymise = (key: string | Uint8Array, subjectId: string): string => {
  if (key.length === 0) throw new ValidationError('The pseudonym key must not be empty', 'key');
  if (subjectId.length === 0) throw new ValidationError('The subject id must not be empty', 'subjectId');
  return createHmac('sha256', key).update(subjectId, 'utf8').digest('hex');
};

/**
 * What a forgotten subject id starts with: a final request, its tasks and a released hold keep
 * `pseudonym:<pseudonym>` in place of the id.
 */
export const FORGOTTEN_PREFIX = 'pseudonym:';

const REGEXP_SYNTAX = /[\\^$.*+?()[\]{}|/]/g;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * Matches the subject id case-insensitively wherever it is not glued to further letters or digits.
 * The boundary keeps short ids (`"42"`) from matching inside timestamps and hex ids, which would
 * make every audit append of that subject fail; `user-42`, `/42/` or `42@host` still match.
 */
const subjectIdPattern = (subjectId: string, flags: string): RegExp => {
  const characters = Array.from(subjectId);
  const startsWithWord = LETTER_OR_DIGIT.test(characters[0] ?? '');
  const endsWithWord = LETTER_OR_DIGIT.test(characters[characters.length - 1] ?? '');
  const escaped = subjectId.replace(REGEXP_SYNTAX, '\\$&');
  return new RegExp(
    `${startsWithWord ? '(?<![\\p{L}\\p{N}])' : ''}${escaped}${endsWithWord ? '(?![\\p{L}\\p{N}])' : ''}`,
    `iu${flags}`,
  );
};

const requireSubjectId = (subjectId: string): void => {
  if (subjectId.length === 0) throw new ValidationError('The subject id must not be empty', 'subjectId');
};

/**
 * Ids shorter than this are not looked for: `1` or `2028` would be found in the orchestrator's own
 * rule refs (`ALE-1`) and dates, and refusing those appends would stop that subject's erasures.
 */
export const MIN_DETECTABLE_SUBJECT_ID_LENGTH = 6;

/**
 * Whether the raw id can be looked for at all: not too short, and not made only of words the
 * trail itself uses (`request`, `delete`, a data-class name), which would be "found" in every
 * entry and stop that subject's erasures while proving nothing.
 */
export const isDetectableSubjectId = (subjectId: string): boolean =>
  subjectId.length >= MIN_DETECTABLE_SUBJECT_ID_LENGTH && !isCommonWordsOnly(subjectId);

/** Whether `text` contains the raw subject id (see `subjectIdPattern` for what counts). */
export const containsSubjectId = (text: string, subjectId: string): boolean => {
  requireSubjectId(subjectId);
  if (!isDetectableSubjectId(subjectId)) return false;
  return subjectIdPattern(subjectId, '').test(text);
};

/** `text` with every occurrence of the raw subject id replaced, for messages that outlive the subject. */
export const redactSubjectId = (text: string, subjectId: string, replacement = '[subject]'): string => {
  requireSubjectId(subjectId);
  return text.replace(subjectIdPattern(subjectId, 'g'), replacement);
};

const findSubjectId = (value: unknown, path: string, pattern: RegExp): string | undefined => {
  // A canonical instant is only digits and separators: a short numeric id would match inside it.
  if (typeof value === 'string') return !isCanonicalInstant(value) && pattern.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findSubjectId(item, `${path}[${index}]`, pattern);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, member] of Object.entries(value)) {
      // The key itself is not repeated in the path when it is the offending part.
      if (pattern.test(key)) return path === '' ? '[key]' : `${path}.[key]`;
      const memberPath = path === '' ? key : `${path}.${key}`;
      const found = findSubjectId(member, memberPath, pattern);
      if (found !== undefined) return found;
    }
  }
  return undefined;
};

/**
 * Defence in depth before an append: throws a `ValidationError` naming the field if the raw subject
 * id appears in any string value (or key) of the event. The trail outlives the erasure, so a leaked
 * id there would undo it. The message never repeats the id. Values that are canonical instants are
 * skipped, and numbers are not checked (counts would collide with numeric ids).
 */
export const assertNoSubjectData = (event: AuditEvent, subjectId: string): void => {
  requireSubjectId(subjectId);
  if (!isDetectableSubjectId(subjectId)) return;
  const field = findSubjectId(event, '', subjectIdPattern(subjectId, ''));
  if (field !== undefined) {
    throw new ValidationError(`Audit event field '${field}' contains the subject id`, field);
  }
};
