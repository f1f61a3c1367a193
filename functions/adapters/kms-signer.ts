import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { keyFingerprint, type PublicKeyInfo, SIGNING_ALGORITHM } from '../../domain/audit/anchor.js';
import type { Signer } from '../../domain/ports/index.js';

const pemOf = (der: Uint8Array): string =>
  createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    .export({ type: 'spki', format: 'pem' })
    .toString();

/**
 * Signs with an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY): the private key never leaves KMS.
 * Rotation means a new key: the deployment names it as current and keeps the earlier ones in
 * `retiredKeyIds`, whose public keys still verify what they signed (they only need GetPublicKey).
 */
export class KmsSigner implements Signer {
  private keys: Promise<PublicKeyInfo[]> | undefined;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyArn: string,
    private readonly retiredKeyArns: readonly string[] = [],
  ) {}

  async currentKeyId(): Promise<string> {
    return ((await this.publicKeys()).at(-1) as PublicKeyInfo).keyId;
  }

  async sign(message: string): Promise<{ keyId: string; signature: string }> {
    const [keyId, { Signature }] = await Promise.all([
      this.currentKeyId(),
      this.kms.send(
        new SignCommand({
          KeyId: this.keyArn,
          // KMS signs at most 4,096 bytes RAW, and a certificate's signing text is longer. ECDSA_SHA_256
          // over the digest is the same signature as over the message, so verification is unchanged.
          Message: createHash('sha256').update(message, 'utf8').digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: SIGNING_ALGORITHM,
        }),
      ),
    ]);
    if (Signature === undefined) throw new Error('KMS returned no signature');
    return { keyId, signature: Buffer.from(Signature).toString('base64') };
  }

  /** Retired keys first, the current one last; read once per cold start. */
  publicKeys(): Promise<PublicKeyInfo[]> {
    this.keys ??= Promise.all(
      [...this.retiredKeyArns, this.keyArn].map(async (keyArn): Promise<PublicKeyInfo> => {
        const { PublicKey } = await this.kms.send(new GetPublicKeyCommand({ KeyId: keyArn }));
        if (PublicKey === undefined) throw new Error('KMS returned no public key');
        const publicKeyPem = pemOf(PublicKey);
        return { keyId: keyFingerprint(publicKeyPem), algorithm: SIGNING_ALGORITHM, publicKeyPem };
      }),
    ).catch((error: unknown) => {
      this.keys = undefined;
      throw error;
    });
    const keys: Promise<PublicKeyInfo[]> = this.keys;
    return keys.then((list) => list.map((key) => ({ ...key })));
  }
}
