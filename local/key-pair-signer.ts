/**
 * The local runtime's signer: an ECDSA P-256 key made with node:crypto on first start and kept in
 * a file under the local state (no KMS emulator exists). Same signature scheme as the KMS key in
 * AWS (ECDSA_SHA_256, DER), so anchors and certificates verify the same way. Honest, not secure:
 * whoever can read the folder can sign. Earlier keys stay listed so old anchors still verify.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyFingerprint, type PublicKeyInfo, SIGNING_ALGORITHM } from '../domain/audit/anchor.js';
import type { Signer } from '../domain/ports/index.js';

const publicPemOf = (privateKey: KeyObject): string =>
  createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();

export class KeyPairSigner implements Signer {
  private readonly keyId: string;
  private readonly keys: PublicKeyInfo[];

  /** `retired`: public keys (PEM) of earlier keys, oldest first. */
  constructor(
    private readonly privateKey: KeyObject,
    retired: readonly string[] = [],
  ) {
    const current = publicPemOf(privateKey);
    this.keyId = keyFingerprint(current);
    this.keys = [...retired, current].map((publicKeyPem) => ({
      keyId: keyFingerprint(publicKeyPem),
      algorithm: SIGNING_ALGORITHM,
      publicKeyPem,
    }));
  }

  static generate(retired: readonly string[] = []): KeyPairSigner {
    return new KeyPairSigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, retired);
  }

  /** A new signer with a new key that keeps this one's keys as retired. */
  rotated(): KeyPairSigner {
    return KeyPairSigner.generate(this.keys.map((key) => key.publicKeyPem));
  }

  async currentKeyId(): Promise<string> {
    return this.keyId;
  }

  async sign(message: string): Promise<{ keyId: string; signature: string }> {
    return {
      keyId: this.keyId,
      signature: sign('sha256', Buffer.from(message, 'utf8'), this.privateKey).toString('base64'),
    };
  }

  async publicKeys(): Promise<PublicKeyInfo[]> {
    return this.keys.map((key) => ({ ...key }));
  }
}

/**
 * The signer of a local state folder: `signing-keys/<n>.pem`, the newest one signs. The first key
 * is made on first start; `rotateLocalSigningKey` adds the next.
 */
export const localSigner = async (dir: string): Promise<KeyPairSigner> => {
  const keysDir = join(dir, 'signing-keys');
  await mkdir(keysDir, { recursive: true });
  let files = (await readdir(keysDir)).filter((name) => name.endsWith('.pem')).sort();
  if (files.length === 0) {
    await rotateLocalSigningKey(dir);
    files = (await readdir(keysDir)).filter((name) => name.endsWith('.pem')).sort();
  }
  const pems = await Promise.all(files.map((name) => readFile(join(keysDir, name), 'utf8')));
  const keys = pems.map((pem) => createPrivateKey(pem));
  const current = keys.at(-1) as KeyObject;
  return new KeyPairSigner(current, keys.slice(0, -1).map(publicPemOf));
};

/** Adds a new local signing key; earlier ones keep verifying what they signed. */
export const rotateLocalSigningKey = async (dir: string): Promise<void> => {
  const keysDir = join(dir, 'signing-keys');
  await mkdir(keysDir, { recursive: true });
  const count = (await readdir(keysDir)).filter((name) => name.endsWith('.pem')).length;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  await writeFile(
    join(keysDir, `${String(count + 1).padStart(4, '0')}.pem`),
    privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    { mode: 0o600, flag: 'wx' },
  );
};
