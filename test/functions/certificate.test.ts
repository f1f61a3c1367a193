/**
 * Certificates of erasure, end to end on in-memory ports: erasure request → completed →
 * `GET /v1/erasure-requests/{id}/certificate` → offline verification (the exported function and
 * the CLI); one flipped byte or one forged field fails with the reason.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/erasure.js';
import { type Certificate, verifyCertificate } from '../../domain/audit/index.js';
import { KeyPairSigner } from '../../local/key-pair-signer.js';
import { bearer, callApi, SEEDED, seedApiState, seedCompletedRequest } from '../helpers/api-handler.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const compliance = bearer('compliance');

const completed = seedCompletedRequest;

const certificateOf = async (built: HandlerDeps, requestId: string = SEEDED.dispatchedRequestId) =>
  callApi(built, {
    method: 'GET',
    path: `/v1/erasure-requests/${requestId}/certificate`,
    headers: compliance,
  });

const pemsOf = async (built: HandlerDeps): Promise<string[]> =>
  (await built.signer.publicKeys()).map((key) => key.publicKeyPem);

/** Runs the CLI on a certificate text, with the given public keys pinned. */
const cli = async (text: string, keys: readonly string[] = []) => {
  const out: string[] = [];
  const err: string[] = [];
  const files: Record<string, string> = { 'cert.json': text };
  keys.forEach((key, index) => {
    files[`key${index}.pem`] = key;
  });
  const code = await main(
    ['verify-certificate', 'cert.json', ...keys.flatMap((_, index) => ['--public-key', `key${index}.pem`])],
    {
      readText: async (path) => {
        const found = files[path];
        if (found === undefined) throw new Error(`ENOENT: ${path}`);
        return found;
      },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
    },
  );
  return { code, out, err };
};

describe('certificates of erasure', () => {
  it('round trip: a completed request gets a signed certificate that verifies offline', async () => {
    // Prepare
    const built = await completed();

    // Act
    const answer = await certificateOf(built);

    // Assess
    expect(answer.status).toBe(200);
    const certificate = answer.body as unknown as Certificate;
    expect(certificate).toMatchObject({
      format: 'erasure-orchestrator.certificate.v1',
      requestId: SEEDED.dispatchedRequestId,
      subjectPseudonym: built.ports.chainIdFor(SEEDED.subjectId),
      tasks: [{ taskId: SEEDED.waitingTaskId, affectedCount: 1 }],
    });
    expect(answer.raw).not.toContain(SEEDED.subjectId);
    expect(built.anchors.anchors).toHaveLength(1);
    expect(verifyCertificate(certificate, { publicKeysPem: await pemsOf(built) })).toMatchObject({
      ok: true,
    });
    const run = await cli(answer.raw, await pemsOf(built));
    expect(run).toMatchObject({ code: 0, err: [] });
    expect(run.out).toHaveLength(1);
    expect(run.out[0]).toMatch(/^VALID: request req_partner1 erased/);
  });

  it('one flipped byte in an entry hash fails, naming the entry and the signature', async () => {
    // Prepare
    const built = await completed();
    const { raw } = await certificateOf(built);
    const certificate = JSON.parse(raw) as Certificate;
    const first = certificate.chain.entries[0]?.seq;
    // The first hash digit of the chain's first entry.
    const at = raw.indexOf('"hash":"', raw.indexOf('"entries":[')) + '"hash":"'.length;
    const flipped = `${raw.slice(0, at)}${raw[at] === '0' ? '1' : '0'}${raw.slice(at + 1)}`;

    // Act
    const run = await cli(flipped, await pemsOf(built));

    // Assess
    expect(run.code).toBe(1);
    expect(run.err.join('\n')).toContain(
      `entry hash mismatch: audit entry seq ${first} does not match its hash`,
    );
    expect(run.err.join('\n')).toContain('bad signature: the certificate was changed');
  });

  it('a forged field (more records erased than were) fails on the signature', async () => {
    // Prepare
    const built = await completed();
    const certificate = (await certificateOf(built)).body as unknown as Certificate;
    const forged = {
      ...certificate,
      tasks: certificate.tasks.map((task) => ({ ...task, affectedCount: 1000 })),
    };

    // Act
    const result = verifyCertificate(forged, { publicKeysPem: await pemsOf(built) });

    // Assess
    expect(result).toEqual({
      ok: false,
      problems: ['bad signature: the certificate was changed after it was signed, or not signed by its key'],
    });
  });

  it('a proof that does not reach the anchor root, and a key the auditor does not trust, are named', async () => {
    // Prepare
    const built = await completed();
    const certificate = (await certificateOf(built)).body as unknown as Certificate;
    const badProof = {
      ...certificate,
      anchor: { ...certificate.anchor, proof: [{ side: 'left', hash: 'a'.repeat(64) }] },
    };

    // Act
    const proof = verifyCertificate(badProof, { publicKeysPem: await pemsOf(built) });
    const unknown = await cli(JSON.stringify(certificate), [
      (await KeyPairSigner.generate().publicKeys())[0]?.publicKeyPem as string,
    ]);

    // Assess
    expect(proof).toMatchObject({ ok: false });
    expect(!proof.ok && proof.problems).toContain('proof does not reach the root of anchor 1');
    expect(unknown.code).toBe(1);
    expect(unknown.err.join('\n')).toContain('unknown key: the certificate is signed by');
    expect(unknown.err.join('\n')).toContain('unknown key: anchor 1 is signed by');
  });

  it('without pinned keys it uses the carried ones and says so; a wrong command line exits 2', async () => {
    // Prepare
    const built = await completed();
    const { raw } = await certificateOf(built);

    // Act
    const run = await cli(raw);
    const usage = await main(['verify'], {
      readText: async () => '',
      out: () => undefined,
      err: () => undefined,
    });

    // Assess
    expect(run.code).toBe(0);
    expect(run.out[0]).toContain('carried by the certificate');
    expect(usage).toBe(2);
  });

  it('a request not every task of which is verified gets 409 naming what is missing', async () => {
    // Prepare
    const built = handlerDeps();
    await seedApiState(built);

    // Act
    const waiting = await certificateOf(built);
    const failed = await certificateOf(built, SEEDED.failedRequestId);
    const missing = await certificateOf(built, 'req_unknown1');

    // Assess
    expect(waiting.status).toBe(409);
    expect(waiting.body).toMatchObject({ error: { code: 'not_ready' } });
    expect(waiting.body?.error?.message).toContain(SEEDED.waitingTaskId);
    expect(failed.status).toBe(409);
    expect(failed.body?.error?.message).toContain(SEEDED.failedTaskId);
    expect(missing.status).toBe(404);
    expect(built.anchors.anchors).toHaveLength(0);
  });

  it('a trail tampered with after it was anchored gets no certificate', async () => {
    // Prepare
    const built = await completed();
    await callApi(built, { method: 'POST', path: '/v1/audit/anchors', headers: compliance });
    const chainId = built.ports.chainIdFor(SEEDED.subjectId);
    built.ports.state.chains.set(chainId, (built.ports.state.chains.get(chainId) ?? []).slice(0, -1));

    // Act
    const answer = await certificateOf(built);

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body?.error?.message).toMatch(/does not verify: .*removed/);
  });
});
