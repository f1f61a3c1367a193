/**
 * The pieces of the audit search that are pure: CSV fields (RFC 4180) and the signed cursor.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { csvField, decodeCursor, encodeCursor } from '../../domain/audit/index.js';
import { ValidationError } from '../../domain/errors.js';

const KEY = 'unit-test-pseudonym-key-0123456789';

/** One RFC 4180 field read back: unquoted as it is, quoted with doubled quotes undone. */
const readField = (field: string): string =>
  field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field;

describe('CSV fields (RFC 4180)', () => {
  it('read back to the value, and hold no bare separator, quote or line break', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', ',', '"', '\r', '\n', 'é', '=') }), (value) => {
        const field = csvField(value);
        const bare = field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '') : field;
        return readField(field) === value && !(field.startsWith('"') ? /"/ : /[",\r\n]/).test(bare);
      }),
    );
  });
});

describe('audit cursors', () => {
  const search = { subjectId: 'pseudonym-abc', dataClass: 'invoices' };
  const position = {
    day: '2026-11-02',
    key: { chainId: 'pseudonym-abc', seq: 17, at: '2026-11-02T10:00:00.000Z' },
  };

  it('round-trip the position for the same search and key', () => {
    expect(decodeCursor(KEY, search, encodeCursor(KEY, search, position))).toEqual(position);
  });

  it('refuse any change of one character, another search or another key, naming cursor', () => {
    const cursor = encodeCursor(KEY, search, position);
    const attempts = [
      ...Array.from(
        cursor,
        (char, index) => `${cursor.slice(0, index)}${char === 'A' ? 'B' : 'A'}${cursor.slice(index + 1)}`,
      ),
      cursor.slice(0, -1),
      `${cursor}.x`,
      'x'.repeat(3000),
    ].filter((attempt) => attempt !== cursor);
    for (const attempt of attempts) {
      expect(() => decodeCursor(KEY, search, attempt)).toThrow(ValidationError);
    }
    expect(() => decodeCursor(KEY, { ...search, dataClass: 'other' }, cursor)).toThrow(/another search/);
    expect(() => decodeCursor(`${KEY}-rotated`, search, cursor)).toThrow(/not issued by this API/);
    try {
      decodeCursor(KEY, search, 'nope');
    } catch (error) {
      expect((error as ValidationError).field).toBe('cursor');
    }
    expect.assertions(attempts.length + 3);
  });
});
