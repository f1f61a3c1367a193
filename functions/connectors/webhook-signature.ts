import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of webhook requests and of the callbacks that answer them:
 * `X-Erasure-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * Signing the timestamp with the body lets a receiver reject replays older than its tolerance.
 */
export const SIGNATURE_HEADER = 'X-Erasure-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmac = (secret: string, timestamp: number, body: string | Uint8Array): Buffer =>
  createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();

/** The `X-Erasure-Signature` header value for `body` at `nowSeconds` (unix seconds). */
export const signPayload = (secret: string, body: string | Uint8Array, nowSeconds: number): string => {
  const t = Math.floor(nowSeconds);
  return `t=${t},v1=${hmac(secret, t, body).toString('hex')}`;
};

/**
 * True when `header` carries a `v1` signature of `body` by `secret` whose timestamp is within
 * `toleranceSeconds` of `nowSeconds` (either way: clocks drift). Several `v1` entries are accepted
 * so that a sender can sign with an old and a new secret while rotating. Never throws: a missing
 * or malformed header is simply not valid. Compares in constant time.
 */
export const verifySignature = (
  secret: string,
  body: string | Uint8Array,
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds: number = DEFAULT_TOLERANCE_SECONDS,
): boolean => {
  if (header === undefined || secret === '') return false;
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) return false;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return false;
      timestamp = Number(value);
    } else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) {
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other schemes (v0, future v2) are ignored, as a receiver that does not know them should.
  }
  if (timestamp === undefined || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = hmac(secret, timestamp, body);
  // Check every candidate (no early exit), so timing does not tell which one matched.
  let valid = false;
  for (const signature of signatures) {
    if (timingSafeEqual(signature, expected)) valid = true;
  }
  return valid;
};
