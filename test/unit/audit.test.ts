import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ENTRY_FIELDS,
  assertNoSubjectData,
  canonicalEntry,
  canonicalJson,
  chainEntry,
  containsSubjectId,
  GENESIS_HASH,
  hashEntry,
  isDetectableSubjectId,
  pseudonymise,
  redactSubjectId,
  verifyChain,
} from '../../domain/audit/index.js';
import type { AuditEntry, AuditEvent, ChainVerification } from '../../domain/audit/types.js';
import { ValidationError } from '../../domain/errors.js';

const PSEUDONYM_KEY = 'test-pseudonym-key-0123456789abcdef';
const CHAIN_ID = pseudonymise(PSEUDONYM_KEY, 'alice@example.com');
const OTHER_CHAIN_ID = pseudonymise(PSEUDONYM_KEY, 'bob@example.com');

const anEvent = (overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  type: 'task.verified',
  at: '2026-11-21T10:00:00.000Z',
  idempotencyKey: 'task:task_1:verified',
  requestId: 'req_1',
  taskId: 'task_1',
  detail: { status: 'verified', attempts: 1 },
  ...overrides,
});

const buildChain = (events: readonly AuditEvent[], chainId = CHAIN_ID): AuditEntry[] => {
  const chain: AuditEntry[] = [];
  for (const event of events) chain.push(chainEntry(chain.at(-1), event, chainId, chainId));
  return chain;
};

const eventsNumbered = (count: number): AuditEvent[] =>
  Array.from({ length: count }, (_, index) =>
    anEvent({ idempotencyKey: `event:${index + 1}`, detail: { position: index + 1 } }),
  );

const headOf = (chain: readonly AuditEntry[]) => {
  const last = chain.at(-1);
  return last === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: last.seq, hash: last.hash };
};

const at = <T>(items: readonly T[], index: number): T => {
  const item = items[index];
  if (item === undefined) throw new Error(`no item at ${index}`);
  return item;
};

const flipFirstHexDigit = (hex: string): string => `${hex.startsWith('0') ? '1' : '0'}${hex.slice(1)}`;

const breakOf = (result: ChainVerification) =>
  result.ok ? undefined : { index: result.index, problem: result.problem };

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

const instantArb = fc
  .date({
    min: new Date('2020-01-01T00:00:00.000Z'),
    max: new Date('2035-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map((date) => date.toISOString());

const eventArb: fc.Arbitrary<AuditEvent> = fc.record({
  type: fc.constantFrom(
    'request.received',
    'request.dispatched',
    'task.started',
    'task.verified',
    'deletion.blocked',
  ),
  at: instantArb,
  idempotencyKey: fc.string({ minLength: 1, maxLength: 30 }),
  requestId: fc.option(fc.stringMatching(/^req_[0-9a-f]{8}$/), { nil: undefined }),
  taskId: fc.option(fc.stringMatching(/^task_[0-9a-f]{8}$/), { nil: undefined }),
  dataClass: fc.option(fc.constantFrom('customer-profile', 'cloud-video', 'alarm-events'), {
    nil: undefined,
  }),
  detail: fc.option(
    fc.dictionary(
      fc.string({ maxLength: 10 }),
      fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean()),
    ),
    { nil: undefined },
  ),
});

const chainArb = (minLength: number) =>
  fc.array(eventArb, { minLength, maxLength: 12 }).map((events) => buildChain(events));

/** A chain and a position in it. */
const chainWithIndexArb = (minLength: number) =>
  chainArb(minLength).chain((chain) => fc.tuple(fc.constant(chain), fc.nat({ max: chain.length - 1 })));

const FORGED_EVENT = anEvent({ type: 'forged.event', idempotencyKey: 'forged' });

const MUTATIONS: ReadonlyArray<(entry: AuditEntry) => AuditEntry> = [
  (entry) => ({ ...entry, type: `${entry.type}.x` }),
  (entry) => ({ ...entry, at: new Date(Date.parse(entry.at) + 1).toISOString() }),
  (entry) => ({ ...entry, idempotencyKey: `${entry.idempotencyKey}!` }),
  (entry) => ({ ...entry, seq: entry.seq + 1 }),
  (entry) => ({ ...entry, prevHash: flipFirstHexDigit(entry.prevHash) }),
  (entry) => ({ ...entry, hash: flipFirstHexDigit(entry.hash) }),
  (entry) => ({ ...entry, chainId: OTHER_CHAIN_ID }),
  (entry) => ({ ...entry, subjectPseudonym: OTHER_CHAIN_ID }),
  (entry) => ({ ...entry, requestId: 'req_forged' }),
  (entry) => ({ ...entry, detail: { ...entry.detail, 'tampered!': true } }),
];

// ---------------------------------------------------------------------------------------------
// Canonical form
// ---------------------------------------------------------------------------------------------

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined members and has no whitespace', () => {
    // Prepare
    const value = { b: 1, a: { d: [true, 'x y'], c: undefined, b: null }, c: 'é' };

    // Act
    const canonical = canonicalJson(value);

    // Assess
    expect(canonical).toBe('{"a":{"b":null,"d":[true,"x y"]},"b":1,"c":"é"}');
  });

  it('gives equal data the same form whatever the key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (record) => {
        // Prepare
        const reversed = Object.fromEntries(Object.entries(record).reverse());

        // Act / Assess
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });

  it.each([
    ['NaN', { count: Number.NaN }],
    ['Infinity', { count: Number.POSITIVE_INFINITY }],
    ['a Date', { at: new Date(0) }],
    ['undefined in an array', { list: [undefined] }],
  ])('refuses %s, whose JSON form is lossy', (_name, value) => {
    // Act / Assess
    expect(() => canonicalJson(value)).toThrow(ValidationError);
  });

  it('leaves the hash out of the canonical form of an entry', () => {
    // Prepare
    const entry = chainEntry(undefined, anEvent(), CHAIN_ID);

    // Act
    const canonical = canonicalEntry(entry);

    // Assess
    expect(canonical).not.toContain('"hash"');
    expect(canonical).toContain('"prevHash"');
    expect(JSON.parse(canonical)).toEqual(
      Object.fromEntries(Object.entries(entry).filter(([key]) => key !== 'hash')),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Chaining
// ---------------------------------------------------------------------------------------------

describe('chainEntry', () => {
  it('starts a chain at seq 1 after the genesis hash, hashing the canonical form', () => {
    // Act
    const entry = chainEntry(undefined, anEvent(), CHAIN_ID, CHAIN_ID);

    // Assess
    expect(entry.seq).toBe(1);
    expect(entry.prevHash).toBe(GENESIS_HASH);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(entry.chainId).toBe(CHAIN_ID);
    expect(entry.subjectPseudonym).toBe(CHAIN_ID);
    expect(entry.hash).toBe(createHash('sha256').update(canonicalEntry(entry)).digest('hex'));
    expect(hashEntry(entry)).toBe(entry.hash);
  });

  it('links each entry to the one before it', () => {
    // Prepare
    const first = chainEntry(undefined, anEvent(), CHAIN_ID);

    // Act
    const second = chainEntry(first, anEvent({ idempotencyKey: 'second' }), CHAIN_ID);

    // Assess
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(second.hash).not.toBe(first.hash);
  });

  it('copies only the fields of an audit event, so a wider object cannot smuggle data into the chain', () => {
    // Prepare
    const wider = { ...anEvent(), subjectId: 'alice@example.com', requestId: undefined };

    // Act
    const entry = chainEntry(undefined, wider, CHAIN_ID);

    // Assess
    expect(Object.keys(entry)).not.toContain('subjectId');
    expect(Object.keys(entry)).not.toContain('requestId');
    expect(Object.keys(entry).every((key) => (AUDIT_ENTRY_FIELDS as readonly string[]).includes(key))).toBe(
      true,
    );
  });

  it.each([
    ['an empty chain id', () => chainEntry(undefined, anEvent(), ''), 'chainId'],
    ['a non-canonical instant', () => chainEntry(undefined, anEvent({ at: '2026-11-21' }), CHAIN_ID), 'at'],
    [
      'an empty idempotency key',
      () => chainEntry(undefined, anEvent({ idempotencyKey: '' }), CHAIN_ID),
      'idempotencyKey',
    ],
    [
      'a raw subject id as pseudonym',
      () => chainEntry(undefined, anEvent(), CHAIN_ID, 'alice'),
      'subjectPseudonym',
    ],
    [
      'a malformed previous hash',
      () => chainEntry({ seq: 1, hash: 'abc' }, anEvent(), CHAIN_ID),
      'previous.hash',
    ],
  ])('refuses %s', (_name, act, field) => {
    // Act / Assess
    expect(act).toThrow(expect.objectContaining({ name: 'ValidationError', field }));
  });
});

// ---------------------------------------------------------------------------------------------
// Verification: examples
// ---------------------------------------------------------------------------------------------

describe('verifyChain', () => {
  it('accepts a valid chain and reports its length and head', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(4));

    // Act
    const result = verifyChain(chain, { expectedHead: headOf(chain), chainId: CHAIN_ID });

    // Assess
    expect(result).toEqual({ ok: true, length: 4, headHash: at(chain, 3).hash });
  });

  it('accepts an empty chain whose head is the genesis', () => {
    // Act
    const result = verifyChain([], { expectedHead: { seq: 0, hash: GENESIS_HASH } });

    // Assess
    expect(result).toEqual({ ok: true, length: 0, headHash: GENESIS_HASH });
  });

  it('reports a modified field at the entry, with its seq', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(4));
    const tampered = chain.map((entry, index) =>
      index === 2 ? { ...entry, detail: { position: 99 } } : entry,
    );

    // Act
    const result = verifyChain(tampered);

    // Assess
    expect(result).toMatchObject({ ok: false, index: 2, seq: 3, problem: 'modified' });
    expect(result.ok ? '' : result.message).toMatch(/seq 3/);
  });

  it('reports a deleted entry as missing where it was', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(5));
    const withoutThird = chain.filter((_, index) => index !== 2);

    // Act
    const result = verifyChain(withoutThird);

    // Assess
    expect(result).toMatchObject({ ok: false, index: 2, seq: 4, problem: 'missing' });
  });

  it('reports two swapped entries as reordered at the first of them', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(5));
    const swapped = [at(chain, 0), at(chain, 3), at(chain, 2), at(chain, 1), at(chain, 4)];

    // Act
    const result = verifyChain(swapped);

    // Assess
    expect(result).toMatchObject({ ok: false, index: 1, seq: 4, problem: 'reordered' });
  });

  it('reports a forged, re-hashed entry slipped into the chain as inserted', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(4));
    const forged = chainEntry(at(chain, 1), FORGED_EVENT, CHAIN_ID, CHAIN_ID);
    const withForgery = [...chain.slice(0, 2), forged, ...chain.slice(2)];

    // Act
    const result = verifyChain(withForgery);

    // Assess
    expect(result).toMatchObject({ ok: false, index: 2, problem: 'inserted' });
  });

  it('reports an entry of another chain as wrong-chain', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(3));
    const foreign = at(buildChain(eventsNumbered(3), OTHER_CHAIN_ID), 1);
    const mixed = [at(chain, 0), foreign, at(chain, 2)];

    // Act
    const result = verifyChain(mixed);

    // Assess
    expect(result).toMatchObject({ ok: false, index: 1, problem: 'wrong-chain' });
  });

  it('checks every entry against the chain id it is asked about', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(2));

    // Act
    const result = verifyChain(chain, { chainId: OTHER_CHAIN_ID });

    // Assess
    expect(result).toMatchObject({ ok: false, index: 0, problem: 'wrong-chain' });
  });

  it('reports a truncated tail against the expected head, one past the last entry', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(4));

    // Act
    const result = verifyChain(chain.slice(0, 2), { expectedHead: headOf(chain) });

    // Assess
    expect(result).toMatchObject({ ok: false, index: 2, seq: undefined, problem: 'truncated' });
    expect(result.ok ? '' : result.message).toMatch(/seq 4/);
  });

  it('cannot see a truncated tail without the expected head', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(4));

    // Act
    const result = verifyChain(chain.slice(0, 2));

    // Assess
    expect(result.ok).toBe(true);
  });

  it('reports entries beyond the expected head as inserted', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(4));

    // Act
    const result = verifyChain(chain, { expectedHead: headOf(chain.slice(0, 3)) });

    // Assess
    expect(result).toMatchObject({ ok: false, index: 3, seq: 4, problem: 'inserted' });
  });

  it('reports a chain rewritten from scratch as modified where it departs from the head', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(3));
    const rewritten = buildChain([...eventsNumbered(2), FORGED_EVENT]);

    // Act
    const result = verifyChain(rewritten, { expectedHead: headOf(chain) });

    // Assess
    expect(result).toMatchObject({ ok: false, index: 2, problem: 'modified' });
  });

  it('verifies a segment after a known entry', () => {
    // Prepare
    const chain = buildChain(eventsNumbered(6));

    // Act
    const result = verifyChain(chain.slice(3), {
      after: headOf(chain.slice(0, 3)),
      expectedHead: headOf(chain),
    });

    // Assess
    expect(result).toEqual({ ok: true, length: 3, headHash: at(chain, 5).hash });
  });

  it('takes the chain most entries name as the reference when no chain id is given', () => {
    // Prepare
    const foreign = at(buildChain(eventsNumbered(1), OTHER_CHAIN_ID), 0);
    const chain = buildChain(eventsNumbered(3));
    const mixed = [foreign, ...chain];

    // Act
    const result = verifyChain(mixed);

    // Assess
    expect(result).toMatchObject({ ok: false, index: 0, problem: 'wrong-chain' });
  });
});

// ---------------------------------------------------------------------------------------------
// Verification: properties
// ---------------------------------------------------------------------------------------------

describe('verifyChain (properties)', () => {
  it('always accepts a chain built by chainEntry', () => {
    fc.assert(
      fc.property(chainArb(0), (chain) => {
        // Act
        const result = verifyChain(chain, { expectedHead: headOf(chain), chainId: CHAIN_ID });

        // Assess
        expect(result).toEqual({ ok: true, length: chain.length, headHash: headOf(chain).hash });
      }),
    );
  });

  it('finds any single modified field at the modified entry', () => {
    fc.assert(
      fc.property(chainWithIndexArb(1), fc.nat({ max: MUTATIONS.length - 1 }), ([chain, index], mutation) => {
        // Prepare
        const tampered = chain.map((entry, position) =>
          position === index ? at(MUTATIONS, mutation)(entry) : entry,
        );

        // Act
        const result = verifyChain(tampered);

        // Assess
        expect(breakOf(result)).toEqual({ index, problem: 'modified' });
      }),
    );
  });

  it('finds an entry replaced by a re-hashed forgery at the forgery (the last one needs the head)', () => {
    fc.assert(
      fc.property(chainWithIndexArb(1), ([chain, index]) => {
        // Prepare
        const previous = index === 0 ? undefined : at(chain, index - 1);
        const forged = chainEntry(previous, FORGED_EVENT, CHAIN_ID, CHAIN_ID);
        const replaced = chain.map((entry, position) => (position === index ? forged : entry));

        // Act
        const result = verifyChain(replaced, { expectedHead: headOf(chain) });

        // Assess
        expect(breakOf(result)).toEqual({ index, problem: 'modified' });
      }),
    );
  });

  it('finds a deleted entry where it was (a deleted last entry as a truncated tail)', () => {
    fc.assert(
      fc.property(chainWithIndexArb(1), ([chain, index]) => {
        // Prepare
        const shortened = chain.filter((_, position) => position !== index);
        const isLast = index === chain.length - 1;

        // Act
        const result = verifyChain(shortened, { expectedHead: headOf(chain) });

        // Assess
        expect(breakOf(result)).toEqual({ index, problem: isLast ? 'truncated' : 'missing' });
      }),
    );
  });

  it('finds a forged entry inserted anywhere at its position (at the end, beyond the head)', () => {
    fc.assert(
      fc.property(
        chainArb(1).chain((chain) => fc.tuple(fc.constant(chain), fc.nat({ max: chain.length }))),
        ([chain, index]) => {
          // Prepare
          const previous = index === 0 ? undefined : at(chain, index - 1);
          const forged = chainEntry(previous, FORGED_EVENT, CHAIN_ID, CHAIN_ID);
          const extended = [...chain.slice(0, index), forged, ...chain.slice(index)];

          // Act
          const result = verifyChain(extended, { expectedHead: headOf(chain) });

          // Assess
          expect(breakOf(result)).toEqual({ index, problem: 'inserted' });
        },
      ),
    );
  });

  it('finds a replayed copy of an entry at the copy', () => {
    fc.assert(
      fc.property(
        chainArb(1).chain((chain) =>
          fc.tuple(fc.constant(chain), fc.nat({ max: chain.length }), fc.nat({ max: chain.length - 1 })),
        ),
        ([chain, index, copied]) => {
          // Prepare
          const extended = [...chain.slice(0, index), at(chain, copied), ...chain.slice(index)];
          // A copy put right before its original reads the same as one put right after it.
          const expectedIndex = copied === index ? index + 1 : index;

          // Act
          const result = verifyChain(extended, { expectedHead: headOf(chain) });

          // Assess
          expect(breakOf(result)).toEqual({ index: expectedIndex, problem: 'inserted' });
        },
      ),
    );
  });

  it('finds an entry of another chain at its position', () => {
    fc.assert(
      fc.property(
        chainArb(1).chain((chain) => fc.tuple(fc.constant(chain), fc.nat({ max: chain.length }), eventArb)),
        ([chain, index, event]) => {
          // Prepare
          const foreign = chainEntry(index === 0 ? undefined : at(chain, index - 1), event, OTHER_CHAIN_ID);
          const mixed = [...chain.slice(0, index), foreign, ...chain.slice(index)];

          // Act
          const result = verifyChain(mixed, { chainId: CHAIN_ID });

          // Assess
          expect(breakOf(result)).toEqual({ index, problem: 'wrong-chain' });
        },
      ),
    );
  });

  it('finds two swapped entries at the first of them', () => {
    fc.assert(
      fc.property(
        chainArb(2).chain((chain) =>
          fc
            .uniqueArray(fc.nat({ max: chain.length - 1 }), { minLength: 2, maxLength: 2 })
            .map((pair) => [chain, Math.min(...pair), Math.max(...pair)] as const),
        ),
        ([chain, first, second]) => {
          // Prepare
          const swapped = chain.map((entry, position) =>
            position === first ? at(chain, second) : position === second ? at(chain, first) : entry,
          );

          // Act
          const result = verifyChain(swapped, { expectedHead: headOf(chain) });

          // Assess
          expect(breakOf(result)).toEqual({ index: first, problem: 'reordered' });
        },
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Pseudonyms and subject data
// ---------------------------------------------------------------------------------------------

describe('pseudonymise', () => {
  it('is HMAC-SHA-256 in hex (RFC 4231 test case 2)', () => {
    // Act
    const pseudonym = pseudonymise('Jefe', 'what do ya want for nothing?');

    // Assess
    expect(pseudonym).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('accepts a binary key', () => {
    // Act
    const pseudonym = pseudonymise(new TextEncoder().encode('Jefe'), 'what do ya want for nothing?');

    // Assess
    expect(pseudonym).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('is stable for the same key, differs across keys and never shows the subject id', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        (keyA, keyB, subjectId) => {
          fc.pre(keyA !== keyB);

          // Act
          const first = pseudonymise(keyA, subjectId);
          const again = pseudonymise(keyA, subjectId);
          const otherKey = pseudonymise(keyB, subjectId);

          // Assess
          expect(first).toBe(again);
          expect(first).not.toBe(otherKey);
          expect(first).toMatch(/^[0-9a-f]{64}$/);
        },
      ),
    );
  });

  it('gives different subjects different pseudonyms', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (subjectA, subjectB) => {
        fc.pre(subjectA !== subjectB);

        // Act / Assess
        expect(pseudonymise(PSEUDONYM_KEY, subjectA)).not.toBe(pseudonymise(PSEUDONYM_KEY, subjectB));
      }),
    );
  });

  it.each([
    ['an empty string key', ''],
    ['an empty binary key', new Uint8Array(0)],
  ])('refuses %s', (_name, key) => {
    // Act / Assess
    expect(() => pseudonymise(key, 'alice@example.com')).toThrow(
      expect.objectContaining({ name: 'ValidationError', field: 'key' }),
    );
  });
});

describe('assertNoSubjectData', () => {
  const SUBJECT = 'alice@example.com';

  it('accepts an event that names the subject by ids and codes only', () => {
    // Act / Assess
    expect(() => assertNoSubjectData(anEvent(), SUBJECT)).not.toThrow();
  });

  it.each([
    ['a detail value', anEvent({ detail: { note: `erase ${SUBJECT} now` } }), 'detail.note'],
    ['a detail key', anEvent({ detail: { [SUBJECT]: true } }), 'detail.[key]'],
    ['the idempotency key', anEvent({ idempotencyKey: `subject:${SUBJECT}` }), 'idempotencyKey'],
    ['a different case', anEvent({ target: 'Alice@Example.COM' }), 'target'],
  ])('throws when the subject id is in %s, naming the field but not the id', (_name, event, field) => {
    // Act
    const act = () => assertNoSubjectData(event, SUBJECT);

    // Assess
    expect(act).toThrow(expect.objectContaining({ name: 'ValidationError', field }));
    expect(act).toThrow(expect.objectContaining({ message: expect.not.stringContaining(SUBJECT) }));
  });

  it('does not mistake an id inside a timestamp or a hash for the subject', () => {
    // Prepare
    const event = anEvent({
      at: '2026-11-21T10:42:00.000Z',
      requestId: 'req_a42f0123',
      detail: { count: 420042 },
    });

    // Act / Assess
    expect(() => assertNoSubjectData(event, '420042')).not.toThrow();
    expect(() => assertNoSubjectData(anEvent({ target: 'bucket/420042/' }), '420042')).toThrow(
      ValidationError,
    );
  });

  it('does not look for ids too short to tell apart from rule refs and dates (1, 2028)', () => {
    // Prepare: the orchestrator's own codes contain them; refusing would stop these subjects' erasures.
    const event = anEvent({ ruleRef: 'ALE-1', detail: { reason: 'retention:ale-1', dueAt: '2028-01-31' } });

    // Act / Assess
    expect(() => assertNoSubjectData(event, '1')).not.toThrow();
    expect(() => assertNoSubjectData(event, '2028')).not.toThrow();
  });

  it('refuses an empty subject id', () => {
    // Act / Assess
    expect(() => assertNoSubjectData(anEvent(), '')).toThrow(ValidationError);
  });
});

describe('containsSubjectId / redactSubjectId', () => {
  it('redacts every occurrence, whatever its case', () => {
    // Act
    const redacted = redactSubjectId('NoSuchKey video/User-42/a.mp4 (user-42)', 'user-42');

    // Assess
    expect(redacted).toBe('NoSuchKey video/[subject]/a.mp4 ([subject])');
    expect(containsSubjectId(redacted, 'user-42')).toBe(false);
  });

  it('treats regular-expression characters in the id literally', () => {
    // Act / Assess
    expect(containsSubjectId('phone +31 (6) 1234', '+31 (6) 1234')).toBe(true);
    expect(containsSubjectId('phone 31 6 1234', '+31 (6) 1234')).toBe(false);
  });
});

describe('which subject ids the audit guard looks for', () => {
  it.each(['request', 'delete', 'closed-account', 'request.received', 'partially_failed'])(
    'not %s: it is made of the trail’s own words, so finding it proves nothing',
    (subjectId) => {
      expect(isDetectableSubjectId(subjectId)).toBe(false);
      expect(() =>
        assertNoSubjectData(
          {
            type: 'request.received',
            at: '2026-11-21T12:00:00.000Z',
            idempotencyKey: `request:${subjectId}`,
          },
          subjectId,
        ),
      ).not.toThrow();
    },
  );

  it.each(['customer-4711', 'alice@example.com', 'demo-subject-1', 'request-42'])(
    '%s: distinctive, so an event carrying it is refused',
    (subjectId) => {
      expect(isDetectableSubjectId(subjectId)).toBe(true);
      expect(() =>
        assertNoSubjectData(
          {
            type: 'hold.placed',
            at: '2026-11-21T12:00:00.000Z',
            idempotencyKey: 'k',
            detail: { reason: `x-${subjectId}` },
          },
          subjectId,
        ),
      ).toThrow(/detail.reason/);
    },
  );
});
