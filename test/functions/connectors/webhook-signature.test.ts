import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from '../../../functions/connectors/webhook-signature.js';

const SECRET = 'whsec-test';
const BODY = '{"taskId":"t-1","status":"deleted","deletedCount":3}';
const NOW = 1_750_000_000;

describe('signPayload', () => {
  it('is t=<seconds>,v1=<hex HMAC-SHA256(secret, "t.body")>', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');

    expect(signPayload(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('floors fractional seconds', () => {
    expect(signPayload(SECRET, BODY, NOW + 0.9)).toBe(signPayload(SECRET, BODY, NOW));
  });
});

describe('verifySignature', () => {
  it('accepts its own signature, for string and byte bodies', () => {
    const header = signPayload(SECRET, BODY, NOW);

    expect(verifySignature(SECRET, BODY, header, NOW)).toBe(true);
    expect(verifySignature(SECRET, Buffer.from(BODY), header, NOW)).toBe(true);
  });

  it('rejects a changed body, another secret, a missing header', () => {
    const header = signPayload(SECRET, BODY, NOW);

    expect(verifySignature(SECRET, BODY.replace('3', '4'), header, NOW)).toBe(false);
    expect(verifySignature('other', BODY, header, NOW)).toBe(false);
    expect(verifySignature(SECRET, BODY, undefined, NOW)).toBe(false);
    expect(verifySignature('', BODY, header, NOW)).toBe(false);
  });

  it('rejects a timestamp outside the tolerance (replay), either way; default 300 s', () => {
    const header = signPayload(SECRET, BODY, NOW);

    expect(verifySignature(SECRET, BODY, header, NOW + 300)).toBe(true);
    expect(verifySignature(SECRET, BODY, header, NOW + 301)).toBe(false);
    expect(verifySignature(SECRET, BODY, header, NOW - 301)).toBe(false);
    expect(verifySignature(SECRET, BODY, header, NOW + 1000, 1000)).toBe(true);
  });

  it('rejects a signature whose timestamp was changed', () => {
    const header = signPayload(SECRET, BODY, NOW).replace(`t=${NOW}`, `t=${NOW + 1}`);

    expect(verifySignature(SECRET, BODY, header, NOW)).toBe(false);
  });

  it('accepts any matching v1 (secret rotation) and ignores unknown schemes', () => {
    const oldV1 = signPayload('old-secret', BODY, NOW).split(',')[1];
    const newV1 = signPayload(SECRET, BODY, NOW).split(',')[1];

    expect(verifySignature(SECRET, BODY, `t=${NOW},${oldV1},${newV1}`, NOW)).toBe(true);
    expect(verifySignature(SECRET, BODY, `t=${NOW},v0=abc,${newV1}`, NOW)).toBe(true);
    expect(verifySignature(SECRET, BODY, `t=${NOW},${oldV1}`, NOW)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no timestamp', 'v1=00'],
    ['no signature', `t=${NOW}`],
    ['two timestamps', `t=${NOW},t=${NOW},v1=${'0'.repeat(64)}`],
    ['non-numeric timestamp', `t=now,v1=${'0'.repeat(64)}`],
    ['short signature', `t=${NOW},v1=abcd`],
    ['garbage', 'Bearer xyz'],
  ])('rejects a malformed header (%s) without throwing', (_why, header) => {
    expect(verifySignature(SECRET, BODY, header, NOW)).toBe(false);
  });

  it('property: sign then verify holds for any secret and body; any other body fails', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.string(),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (secret, body, other, t) => {
          const header = signPayload(secret, body, t);
          expect(verifySignature(secret, body, header, t)).toBe(true);
          if (other !== body) expect(verifySignature(secret, other, header, t)).toBe(false);
        },
      ),
    );
  });
});
