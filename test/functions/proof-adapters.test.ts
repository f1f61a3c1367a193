/**
 * The AWS side of the trail's proof, over mocked clients (no emulator has asymmetric KMS keys or
 * Object Lock): KmsSigner signs with KMS Sign (the message's SHA-256 digest, ECDSA_SHA_256) and lists the current
 * and retired keys' public keys; S3AnchorStore writes each anchor once (If-None-Match, with the
 * checksum Object Lock requires) and reads them back in seq order. The local implementations
 * (local/key-pair-signer.ts, local/folder-anchor-store.ts) run in the service tests.
 */

import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { type Anchor, keyFingerprint, nextAnchorHeader, signatureValid } from '../../domain/audit/index.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import { KmsSigner } from '../../functions/adapters/kms-signer.js';
import { S3AnchorStore } from '../../functions/adapters/s3-anchor-store.js';

const kms = mockClient(KMSClient);
const s3 = mockClient(S3Client);

afterEach(() => {
  kms.reset();
  s3.reset();
});

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/current';
const RETIRED_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/retired';

const keyPair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKey,
    der: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

describe('KmsSigner', () => {
  it('signs the SHA-256 digest of the message (KMS takes at most 4,096 bytes RAW) with ECDSA_SHA_256 on the current key; the signature verifies against the message', async () => {
    // Prepare: a fake of KMS Sign as documented: RAW messages of at most 4,096 bytes; a DIGEST
    // message is the 32-byte hash, and the signature is the one of the message it hashes.
    const current = keyPair();
    const retired = keyPair();
    const signedMessages = new Map<string, Buffer>();
    kms.on(GetPublicKeyCommand, { KeyId: KEY_ARN }).resolves({ PublicKey: current.der });
    kms.on(GetPublicKeyCommand, { KeyId: RETIRED_ARN }).resolves({ PublicKey: retired.der });
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array; MessageType?: string }) => {
      const message = Buffer.from(input.Message);
      if (input.MessageType !== 'DIGEST') {
        if (message.length > 4096)
          throw Object.assign(new Error('Message too long'), { name: 'ValidationException' });
        return { Signature: new Uint8Array(sign('sha256', message, current.privateKey)) };
      }
      const original = signedMessages.get(message.toString('hex'));
      if (message.length !== 32 || original === undefined)
        throw new Error('not the digest of a known message');
      return { Signature: new Uint8Array(sign('sha256', original, current.privateKey)) };
    });
    const signer = new KmsSigner(new KMSClient({ region: 'eu-west-1' }), KEY_ARN, [RETIRED_ARN]);
    // A certificate's signing text: the whole certificate, well over 4,096 bytes.
    const text = JSON.stringify({
      entries: Array.from({ length: 80 }, (_, seq) => ({ seq, hash: 'f'.repeat(64) })),
    });
    expect(Buffer.byteLength(text)).toBeGreaterThan(4096);
    signedMessages.set(createHash('sha256').update(text, 'utf8').digest('hex'), Buffer.from(text, 'utf8'));

    // Act
    const signed = await signer.sign(text);
    const keys = await signer.publicKeys();

    // Assess
    const call = kms.commandCalls(SignCommand)[0]?.args[0].input;
    expect(call).toMatchObject({ KeyId: KEY_ARN, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(call?.Message ?? []).toString('hex')).toBe(
      createHash('sha256').update(text).digest('hex'),
    );
    expect(signed.keyId).toBe(keyFingerprint(current.pem));
    expect(signatureValid(text, signed.signature, current.pem)).toBe(true);
    expect(keys.map((key) => key.keyId)).toEqual([keyFingerprint(retired.pem), keyFingerprint(current.pem)]);
    expect(keys[0]?.publicKeyPem).toBe(retired.pem);
    // The public keys are read once per cold start.
    await signer.publicKeys();
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });

  it('a failed key read is tried again on the next call', async () => {
    // Prepare
    const current = keyPair();
    kms.on(GetPublicKeyCommand).rejectsOnce(new Error('throttled')).resolves({ PublicKey: current.der });
    const signer = new KmsSigner(new KMSClient({ region: 'eu-west-1' }), KEY_ARN);

    // Act + Assess
    await expect(signer.currentKeyId()).rejects.toThrow('throttled');
    await expect(signer.currentKeyId()).resolves.toBe(keyFingerprint(current.pem));
  });
});

const anAnchor = (seq: number): Anchor => {
  const next = nextAnchorHeader(undefined, [], '2026-11-21T12:00:00.000Z', 'k'.repeat(64));
  return { ...next.header, seq, hash: next.hash, signature: 'c2ln', heads: [] };
};

describe('S3AnchorStore', () => {
  it('puts each anchor once, never overwriting, with the checksum Object Lock requires', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({});
    const store = new S3AnchorStore(new S3Client({ region: 'eu-west-1' }), 'anchors-bucket');

    // Act
    await store.append(anAnchor(42));

    // Assess
    const input = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Bucket: 'anchors-bucket',
      Key: 'anchors/0000000042.json',
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
      ContentType: 'application/json',
    });
    expect(JSON.parse(String(input?.Body))).toEqual(anAnchor(42));
  });

  it('lists every page and reads the anchors back in seq order', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({
        Contents: [{ Key: 'anchors/0000000002.json' }],
        IsTruncated: true,
        NextContinuationToken: 't',
      })
      .on(ListObjectsV2Command, { ContinuationToken: 't' })
      .resolves({ Contents: [{ Key: 'anchors/0000000001.json' }], IsTruncated: false });
    for (const seq of [1, 2]) {
      s3.on(GetObjectCommand, { Key: `anchors/000000000${seq}.json` }).resolves({
        Body: { transformToString: async () => JSON.stringify(anAnchor(seq)) } as never,
      });
    }
    const store = new S3AnchorStore(new S3Client({ region: 'eu-west-1' }), 'anchors-bucket');

    // Act
    const anchors = await store.list();

    // Assess
    expect(anchors.map((anchor) => anchor.seq)).toEqual([1, 2]);
    expect(s3.commandCalls(ListObjectsV2Command)[0]?.args[0].input).toMatchObject({
      Bucket: 'anchors-bucket',
      Prefix: 'anchors/',
    });
  });

  it('latest reads one anchor: the last key listed, then only keys after it once warm', async () => {
    // Prepare
    s3.on(ListObjectsV2Command, { StartAfter: undefined, ContinuationToken: undefined })
      .resolves({
        Contents: [{ Key: 'anchors/0000000001.json' }],
        IsTruncated: true,
        NextContinuationToken: 't',
      })
      .on(ListObjectsV2Command, { ContinuationToken: 't' })
      .resolves({ Contents: [{ Key: 'anchors/0000000002.json' }], IsTruncated: false })
      .on(ListObjectsV2Command, { StartAfter: 'anchors/0000000002.json' })
      .resolves({ Contents: [{ Key: 'anchors/0000000003.json' }], IsTruncated: false });
    for (const seq of [2, 3]) {
      s3.on(GetObjectCommand, { Key: `anchors/000000000${seq}.json` }).resolves({
        Body: { transformToString: async () => JSON.stringify(anAnchor(seq)) } as never,
      });
    }
    const store = new S3AnchorStore(new S3Client({ region: 'eu-west-1' }), 'anchors-bucket');

    // Act
    const cold = await store.latest();
    const warm = await store.latest();

    // Assess
    expect(cold?.seq).toBe(2);
    expect(warm?.seq).toBe(3);
    expect(s3.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input.StartAfter)).toEqual([
      undefined,
      undefined,
      'anchors/0000000002.json',
    ]);
    expect(s3.commandCalls(GetObjectCommand).map((call) => call.args[0].input.Key)).toEqual([
      'anchors/0000000002.json',
      'anchors/0000000003.json',
    ]);
  });

  it('latest of an empty bucket is none', async () => {
    // Prepare
    s3.on(ListObjectsV2Command).resolves({ IsTruncated: false });
    const store = new S3AnchorStore(new S3Client({ region: 'eu-west-1' }), 'anchors-bucket');

    // Act + Assess
    expect(await store.latest()).toBeUndefined();
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('a second writer of the same seq fails instead of adding a version', async () => {
    // Prepare
    s3.on(PutObjectCommand).rejects(
      Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
        name: 'PreconditionFailed',
      }),
    );
    const store = new S3AnchorStore(new S3Client({ region: 'eu-west-1' }), 'anchors-bucket');

    // Act + Assess: a 409 for the caller, who may anchor again.
    await expect(store.append(anAnchor(1))).rejects.toBeInstanceOf(ConcurrentModificationError);
  });
});
