/**
 * Certificates of erasure, end to end on in-memory ports: erasure request → completed →
 * `GET /v1/erasure-requests/{id}/certificate` → offline verification (the exported function and
 * the CLI); one flipped byte or one forged field fails with the reason.
 */
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/erasure.js';
import {
  type AuditEntry,
  anchorHeaderOf,
  type Certificate,
  certificateSigningText,
  chainEntry,
  hashAnchorHeader,
  rootFromProof,
  verifyCertificate,
} from '../../domain/audit/index.js';
import { anchorAuditTrail } from '../../functions/services/anchors.js';
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

/** An erasure request of `subjectId` that a hold on the subject keeps `blocked`; its id. */
const blockedRequest = async (built: HandlerDeps, subjectId: string): Promise<string> => {
  await callApi(built, {
    method: 'POST',
    path: '/v1/legal-holds',
    headers: compliance,
    body: { subjectId, reason: 'litigation-2026-050' },
  });
  const submitted = await callApi(built, {
    method: 'POST',
    path: '/v1/erasure-requests',
    headers: { ...bearer('service'), 'Idempotency-Key': `refused-${subjectId}` },
    body: { subjectId, reason: 'gdpr-art17-request' },
  });
  expect(submitted.body).toMatchObject({ status: 'blocked' });
  return (submitted.body as { requestId: string }).requestId;
};

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
      verdict: 'invalid',
      problems: [
        'bad signature: the certificate was changed after it was signed, or not signed by its key',
        `task ${SEEDED.waitingTaskId}: affectedCount is 1000 in the certificate but 1 in its task.verified entry (seq 3)`,
      ],
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

  it('without pinned keys it is never VALID: consistent but not authenticated, exit 4; a wrong command line exits 2', async () => {
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
    expect(run.code).toBe(4);
    expect(run.out).toHaveLength(1);
    expect(run.out[0]).toMatch(/^CONSISTENT, NOT AUTHENTICATED: request req_partner1 erased/);
    expect(run.out[0]).toContain('pass --public-key');
    expect(run.out[0]).not.toMatch(/^VALID/);
    expect(usage).toBe(2);
  });

  it('a certificate or key file that cannot be read, or a key file with no usable key, exits 2 (nothing checked), not INVALID; a file that is not JSON is INVALID', async () => {
    // Prepare
    const built = await completed();
    const [key] = await pemsOf(built);
    const run = async (args: string[], files: Record<string, string>) => {
      const err: string[] = [];
      const code = await main(args, {
        readText: async (path) => {
          const found = files[path];
          if (found === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
          return found;
        },
        out: () => undefined,
        err: (line) => err.push(line),
      });
      return { code, err };
    };

    // Act
    const noCertificate = await run(['verify-certificate', 'missing.json', '--public-key', 'key.pem'], {
      'key.pem': String(key),
    });
    const noKey = await run(['verify-certificate', 'cert.json', '--public-key', 'missing.pem'], {
      'cert.json': '{}',
    });
    const notJson = await run(['verify-certificate', 'cert.json'], { 'cert.json': 'not json' });
    // What the README's key-fetch pipeline leaves when the call fails, and a file that is no key:
    // the certificate is not judged, so a genuine one is not called INVALID for a bad key file.
    const emptyKey = await run(['verify-certificate', 'cert.json', '--public-key', 'keys.pem'], {
      'cert.json': '{}',
      'keys.pem': '',
    });
    const notAKey = await run(['verify-certificate', 'cert.json', '--public-key', 'keys.pem'], {
      'cert.json': '{}',
      'keys.pem': '-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n',
    });

    // Assess
    expect(noCertificate).toEqual({
      code: 2,
      err: [expect.stringMatching(/^cannot read: ENOENT.*missing\.json/)],
    });
    expect(noKey).toEqual({ code: 2, err: [expect.stringMatching(/^cannot read: ENOENT.*missing\.pem/)] });
    expect(notJson.code).toBe(1);
    expect(notJson.err).toEqual([expect.stringMatching(/^INVALID: cert\.json: not JSON/)]);
    expect(emptyKey).toEqual({
      code: 2,
      err: ['cannot use keys.pem: it holds no PEM public key (-----BEGIN PUBLIC KEY-----); is it empty?'],
    });
    expect(notAKey).toEqual({
      code: 2,
      err: [expect.stringMatching(/^cannot use keys\.pem: its key 1 is not a public key \(/)],
    });
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
    // Partially failed can still be re-driven: not final, so `not_ready` too.
    expect(failed.body).toMatchObject({ error: { code: 'not_ready' } });
    expect(failed.body?.error?.message).toContain(SEEDED.failedTaskId);
    expect(missing.status).toBe(404);
    expect(built.anchors.anchors).toHaveLength(0);
  });

  it('a rejected request: its tasks are cancelled with it, and its certificate is a 409 no_certificate that says it was rejected', async () => {
    // Prepare: a request a hold keeps blocked, then refused (IMOU-6).
    const built = handlerDeps();
    const requestId = await blockedRequest(built, 'subject-refused-1');

    // Act
    const rejected = await callApi(built, {
      method: 'POST',
      path: `/v1/erasure-requests/${requestId}/rejection`,
      headers: compliance,
      body: { legalReason: 'art17-3e-legal-claims' },
    });
    const view = await callApi(built, {
      method: 'GET',
      path: `/v1/erasure-requests/${requestId}`,
      headers: compliance,
    });
    const certificate = await certificateOf(built, requestId);

    // Assess
    expect(rejected.status).toBe(200);
    const tasks = (view.body as { tasks: { status: string }[] }).tasks;
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.every((task) => task.status === 'cancelled')).toBe(true);
    expect(certificate.status).toBe(409);
    // Final: a client must not wait for it as for `not_ready`.
    expect(certificate.body?.error?.code).toBe('no_certificate');
    expect(certificate.body?.error?.message).toBe(
      `Request ${requestId} was rejected (IMOU-6): nothing was erased, so there is no certificate of erasure`,
    );
  });

  it('a rejection that dies after its first commit is finished by a retry: tasks cancelled, subject forgotten, audited once', async () => {
    // Prepare: a blocked request, as above.
    const built = handlerDeps();
    const requestId = await blockedRequest(built, 'subject-refused-2');
    const reject = (legalReason = 'art17-3e-legal-claims') =>
      callApi(built, {
        method: 'POST',
        path: `/v1/erasure-requests/${requestId}/rejection`,
        headers: compliance,
        body: { legalReason },
      });
    const commit = built.deps.uow.commit.bind(built.deps.uow);
    vi.spyOn(built.deps.uow, 'commit').mockImplementationOnce(async (changes, audit) => {
      await commit(changes, audit);
      throw new Error('the function died after its first commit');
    });

    // Act
    const died = await reject();
    const retried = await reject();
    const otherReason = await reject('art17-3b-legal-obligation');

    // Assess
    expect(died.status).toBe(500);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'rejected' });
    expect(otherReason.status).toBe(409);
    expect(otherReason.body?.error?.message).toBe(
      "A request cannot go from 'rejected' to 'rejected': it was rejected already, with legal reason 'art17-3e-legal-claims' at 2026-11-21T12:00:00.000Z, and a rejection is final.",
    );
    const stored = built.ports.state.requests.get(requestId);
    expect(stored?.subjectId).toMatch(/^pseudonym:/);
    const tasks = [...built.ports.state.tasks.values()].filter((task) => task.requestId === requestId);
    expect(tasks.length).toBeGreaterThan(0);
    expect(
      tasks.every((task) => task.status === 'cancelled' && task.subjectId.startsWith('pseudonym:')),
    ).toBe(true);
    const rejections = built.ports.allEntries().filter((entry) => entry.type === 'request.rejected');
    expect(rejections).toHaveLength(1);
    expect(rejections[0]?.detail).toMatchObject({ cancelledTasks: tasks.length });
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
    expect(answer.body?.error?.code).toBe('trail_broken');
    expect(answer.body?.error?.message).toMatch(/does not verify: .*removed/);
  });

  it('an anchor altered after it was written gets no certificate resting on it (the verifier would call it INVALID)', async () => {
    // Prepare: one digit of the covering anchor's time changed, as an edit of the local anchor file would.
    const built = await completed();
    await callApi(built, { method: 'POST', path: '/v1/audit/anchors', headers: compliance });
    const [anchor] = built.anchors.anchors;
    if (anchor === undefined) throw new Error('no anchor');
    built.anchors.anchors[0] = {
      ...anchor,
      at: anchor.at.replace(/\d(?=Z$|\.\d+Z$)/, (digit) => String((Number(digit) + 1) % 10)),
    };

    // Act
    const answer = await certificateOf(built);

    // Assess
    expect(answer.status).toBe(409);
    expect(answer.body?.error?.code).toBe('trail_broken');
    expect(answer.body?.error?.message).toContain(`Anchor ${anchor.seq} does not match its hash`);
  });
});

/** A certificate re-signed by a key of the forger's own, carried in its `keys` as the genuine one is. */
const resignedBy = async (forger: KeyPairSigner, body: Omit<Certificate, 'signature' | 'keys' | 'keyId'>) => {
  const [key] = await forger.publicKeys();
  if (key === undefined) throw new Error('the forger has no key');
  const unsigned = { ...body, keys: [key], keyId: key.keyId };
  const { signature } = await forger.sign(certificateSigningText(unsigned));
  return { ...unsigned, signature } as Certificate;
};

describe('certificates that cannot mislead an auditor', () => {
  it("facts changed and re-signed with a key of the forger's own are INVALID, with or without --public-key", async () => {
    // Prepare: the walkthrough's forgery: own key added to `keys`, keyId pointed at it, facts changed.
    const built = await completed();
    const certificate = (await certificateOf(built)).body as unknown as Certificate;
    const forger = KeyPairSigner.generate();
    const [forgerKey] = await forger.publicKeys();
    const [task] = certificate.tasks;
    if (task === undefined || forgerKey === undefined) throw new Error('no task or key');
    const unsigned = {
      ...certificate,
      keys: [...certificate.keys, forgerKey],
      keyId: forgerKey.keyId,
      completedAt: '2026-11-21T11:00:00.000Z',
      reasonCode: 'gdpr-art17-objection',
      dataClasses: ['closed-account', 'customer-profile'],
      tasks: [{ ...task, affectedCount: 999, target: 'customer-records' }],
    };
    const forged = {
      ...unsigned,
      signature: (await forger.sign(certificateSigningText(unsigned))).signature,
    };

    // Act
    const unpinned = await cli(JSON.stringify(forged));
    const pinned = await cli(JSON.stringify(forged), await pemsOf(built));

    // Assess
    expect(unpinned.code).toBe(1);
    expect(unpinned.out).toEqual([]);
    const problems = unpinned.err.join('\n');
    expect(problems).toContain('INVALID: cert.json');
    for (const fact of [
      'completedAt is "2026-11-21T11:00:00.000Z" in the certificate but',
      'reasonCode is "gdpr-art17-objection" in the certificate but "gdpr-art17-request" in its request.received entry',
      'dataClasses is "closed-account,customer-profile" in the certificate but "closed-account"',
      `task ${task.taskId}: affectedCount is 999 in the certificate but 1 in its task.verified entry`,
      `task ${task.taskId}: target is "customer-records" in the certificate but "partner-services"`,
    ]) {
      expect(problems).toContain(fact);
    }
    expect(pinned.code).toBe(1);
    expect(pinned.err.join('\n')).toContain('unknown key: the certificate is signed by');
  });

  it('a forgery consistent with itself (chain, anchor and certificate all re-made) is at best NOT AUTHENTICATED without --public-key, INVALID with it', async () => {
    // Prepare: the forger rewrites the task's entry, re-hashes the chain, re-makes the anchor over
    // it and signs anchor and certificate with a key of their own.
    const built = await completed();
    const certificate = (await certificateOf(built)).body as unknown as Certificate;
    const forger = KeyPairSigner.generate();
    const forgerKeyId = await forger.currentKeyId();
    const { chainId } = certificate.chain;
    const first = certificate.chain.entries[0] as AuditEntry;
    let previous = { seq: first.seq - 1, hash: first.prevHash };
    const entries = certificate.chain.entries.map((original) => {
      const { hash: _h, seq: _s, prevHash: _p, chainId: _c, subjectPseudonym: _sp, ...event } = original;
      const rewritten = chainEntry(
        previous,
        event.type === 'task.verified'
          ? { ...event, detail: { ...event.detail, affectedCount: 999 } }
          : event,
        chainId,
        original.subjectPseudonym,
      );
      previous = { seq: rewritten.seq, hash: rewritten.hash };
      return rewritten;
    });
    const leaf = { chainId, seq: previous.seq, hash: previous.hash };
    const header = {
      ...anchorHeaderOf(certificate.anchor),
      root: rootFromProof(leaf, certificate.anchor.proof),
      keyId: forgerKeyId,
    };
    const anchorHash = hashAnchorHeader(header);
    const { signature: _signature, keys: _keys, keyId: _keyId, ...rest } = certificate;
    const forged = await resignedBy(forger, {
      ...rest,
      tasks: certificate.tasks.map((task) => ({ ...task, affectedCount: 999 })),
      requestEntries: entries
        .filter((entry) => entry.requestId === certificate.requestId)
        .map((entry) => ({ seq: entry.seq, type: entry.type, hash: entry.hash })),
      chain: { chainId, head: { seq: leaf.seq, hash: leaf.hash }, entries },
      anchor: {
        ...certificate.anchor,
        ...header,
        hash: anchorHash,
        signature: (await forger.sign(anchorHash)).signature,
        leaf,
      },
    });

    // Act
    const unpinned = await cli(JSON.stringify(forged));
    const pinned = await cli(JSON.stringify(forged), await pemsOf(built));

    // Assess: nothing inside a certificate can tell this forgery from the genuine one; only the
    // pinned key can, so without it the verdict is never VALID and the exit code is not 0.
    expect(verifyCertificate(forged)).toMatchObject({ ok: false, verdict: 'unauthenticated' });
    expect(unpinned.code).toBe(4);
    expect(unpinned.out[0]).toMatch(/^CONSISTENT, NOT AUTHENTICATED: .*999 record\(s\)/);
    expect(unpinned.out[0]).toContain(forgerKeyId);
    expect(pinned.code).toBe(1);
    expect(pinned.err.join('\n')).toContain(
      `unknown key: anchor ${certificate.anchor.seq} is signed by ${forgerKeyId}`,
    );
  });

  it("one --public-key file may hold every published key (a stranger's among them changes nothing)", async () => {
    // Prepare: the keys as `jq -r '.keys[].publicKeyPem'` writes them, one after the other.
    const built = await completed();
    const { raw } = await certificateOf(built);
    const stranger = (await KeyPairSigner.generate().publicKeys())[0]?.publicKeyPem as string;
    const keysFile = [stranger, ...(await pemsOf(built))].map((pem) => pem.trim()).join('\n');

    // Act
    const run = await cli(raw, [keysFile]);

    // Assess
    expect(run).toMatchObject({ code: 0, err: [] });
    expect(run.out[0]).toMatch(/^VALID: request req_partner1 erased .* both pinned$/);
  });

  it('a task of the request left out of the certificate, or listed twice, is named', async () => {
    // Prepare
    const built = await completed();
    const certificate = (await certificateOf(built)).body as unknown as Certificate;
    const { signature: _signature, ...body } = certificate;
    const sign = async (changed: Omit<Certificate, 'signature'>) => ({
      ...changed,
      signature: (await built.signer.sign(certificateSigningText(changed))).signature,
    });
    const [task] = certificate.tasks;
    if (task === undefined) throw new Error('no task');

    // Act
    const none = verifyCertificate(await sign({ ...body, tasks: [] }), {
      publicKeysPem: await pemsOf(built),
    });
    const twice = verifyCertificate(await sign({ ...body, tasks: [task, task] }), {
      publicKeysPem: await pemsOf(built),
    });

    // Assess
    expect(!none.ok && none.problems).toEqual(
      expect.arrayContaining([
        `task ${task.taskId} (task.verified entry seq ${
          certificate.chain.entries.find((entry) => entry.type === 'task.verified')?.seq
        }) is missing from the certificate`,
      ]),
    );
    expect(!twice.ok && twice.problems).toEqual(
      expect.arrayContaining([`task ${task.taskId} is listed twice`]),
    );
  });

  it('unaddressed targets are listed (names, identifier name, no values), signed, and checked against request.received', async () => {
    // Prepare
    const unaddressed = [
      { target: 'marketing-list', identifier: 'email' },
      { target: 'device-video', identifier: 'deviceId' },
    ];
    const built = await seedCompletedRequest({ unaddressed });

    // Act
    const answer = await certificateOf(built);
    const certificate = answer.body as unknown as Certificate;
    const { signature: _signature, ...body } = certificate;
    const withoutThem = { ...body, unaddressed: [] };
    const stripped = {
      ...withoutThem,
      signature: (await built.signer.sign(certificateSigningText(withoutThem))).signature,
    };

    // Assess
    expect(answer.status).toBe(200);
    expect(certificate.unaddressed).toEqual(unaddressed);
    const run = await cli(answer.raw, await pemsOf(built));
    expect(run.code).toBe(0);
    expect(run.out[0]).toContain(
      'except 2 target(s) it could not address: marketing-list (no email), device-video (no deviceId)',
    );
    // Left out, even under the genuine key, the received entry still names them.
    expect(verifyCertificate(stripped, { publicKeysPem: await pemsOf(built) })).toMatchObject({
      ok: false,
      problems: [
        expect.stringMatching(
          /^unaddressed targets is "" in the certificate but "device-video,marketing-list" in its request.received entry/,
        ),
      ],
    });
  });

  it('a request with every target addressed says so: unaddressed is an empty list', async () => {
    const built = await completed();
    const certificate = (await certificateOf(built)).body as unknown as Certificate;
    expect(certificate.unaddressed).toEqual([]);
  });

  it('the certificate anchors without clearing marks (its role may not UpdateItem the audit table); the sweep clears them', async () => {
    // Prepare: markAnchored refused, as AWS refuses an UpdateItem to a role with read access.
    const built = await completed();
    const refused: string[] = [];
    const readOnly: HandlerDeps = {
      ...built,
      deps: {
        ...built.deps,
        audit: {
          ...built.deps.audit,
          markAnchored: async () => {
            refused.push('markAnchored');
            throw new Error('AccessDeniedException: not authorized to perform dynamodb:UpdateItem');
          },
        },
      },
    };

    // Act
    const answer = await certificateOf(readOnly);
    const marked = await built.deps.audit.unanchoredHeads();
    const swept = await anchorAuditTrail(built.deps);

    // Assess
    expect(answer.status).toBe(200);
    expect(refused).toEqual([]);
    expect(built.anchors.anchors).toHaveLength(1);
    const chainId = built.ports.chainIdFor(SEEDED.subjectId);
    expect(marked.map((head) => head.chainId)).toContain(chainId);
    // The sweep's run drops what the latest anchor already holds and clears the marks.
    expect(swept).toEqual({ anchoredChains: 0 });
    expect(built.anchors.anchors).toHaveLength(1);
    expect(await built.deps.audit.unanchoredHeads()).toEqual([]);
  });
});
