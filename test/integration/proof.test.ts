/**
 * The tamper matrix on the emulators: a subject's erasure runs end to end through the local
 * runtime, the trail is anchored, then someone with write access to the audit table (DynamoDB
 * Local) or to the anchors (the local anchors folder) changes it. Each change is detected and
 * named by `GET /v1/audit/verification` or `GET /v1/audit/anchors`; a forged certificate field is
 * named by the offline verifier.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Certificate, chainEntry, pseudonymise, verifyCertificate } from '../../domain/audit/index.js';
import type { AuditEntry } from '../../domain/audit/types.js';
import type { ErasureRequestReceipt } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

let runtime: TestRuntime;
const PSEUDONYM_KEY = 'proof-test-pseudonym-key-0123456789';

beforeAll(async () => {
  runtime = await startTestRuntime('proof', { demoSubjects: 0, pseudonymKey: PSEUDONYM_KEY });
  runtime.clock.set('2027-06-10T00:00:00.000Z');
});

afterAll(async () => {
  await runtime?.stop();
});

const auditTable = () => runtime.resources.tables.audit;

/** A subject erased (one task, verified) and its trail anchored; returns its chain id and request. */
const erasedAndAnchored = async (subjectId: string) => {
  await seedDemoSubject(runtime.clients, runtime.stores, subjectId, runtime.clock.now());
  const submitted = await runtime.call<ErasureRequestReceipt>('POST', '/v1/erasure-requests', {
    body: { subjectId, reason: 'gdpr-art17-request', dataClasses: ['cloud-video'] },
    headers: { 'Idempotency-Key': `proof-${subjectId}` },
  });
  expect(submitted.status).toBe(202);
  await runtime.drainQueue();
  const anchored = await runtime.call('POST', '/v1/audit/anchors', { role: 'compliance' });
  expect(anchored.status).toBe(201);
  const chainId = pseudonymise(PSEUDONYM_KEY, subjectId);
  const { Items } = await runtime.clients.documents.send(
    new QueryCommand({
      TableName: auditTable(),
      KeyConditionExpression: 'chainId = :c AND seq > :zero',
      ExpressionAttributeValues: { ':c': chainId, ':zero': 0 },
    }),
  );
  const entries = (Items ?? []).map(({ day: _day, ...entry }) => entry as AuditEntry);
  expect(entries.length).toBeGreaterThanOrEqual(4);
  return { chainId, entries, requestId: submitted.body.requestId };
};

const verification = async (subjectId: string) => {
  const answer = await runtime.call<{ verification: Record<string, unknown> }>(
    'GET',
    `/v1/audit/verification?subjectId=${subjectId}`,
    { role: 'compliance' },
  );
  expect(answer.status).toBe(200);
  return answer.body.verification;
};

const putEntry = (entry: AuditEntry) =>
  runtime.clients.documents.send(
    new PutCommand({ TableName: auditTable(), Item: { ...entry, day: entry.at.slice(0, 10) } }),
  );
const deleteItem = (chainId: string, seq: number) =>
  runtime.clients.documents.send(new DeleteCommand({ TableName: auditTable(), Key: { chainId, seq } }));
const moveHead = (chainId: string, head: { seq: number; hash: string }) =>
  runtime.clients.documents.send(
    new UpdateCommand({
      TableName: auditTable(),
      Key: { chainId, seq: 0 },
      UpdateExpression: 'SET headSeq = :s, headHash = :h',
      ExpressionAttributeValues: { ':s': head.seq, ':h': head.hash },
    }),
  );

describe('tamper matrix: the audit table', () => {
  it('an untouched trail verifies against its anchor', async () => {
    await erasedAndAnchored('proof-intact-1');
    expect(await verification('proof-intact-1')).toMatchObject({ ok: true, unanchored: 0, anchor: {} });
  });

  it('a modified entry is named: modified, at its seq', async () => {
    const { entries } = await erasedAndAnchored('proof-modify-1');
    await putEntry({ ...(entries[1] as AuditEntry), type: 'request.rejected' });
    expect(await verification('proof-modify-1')).toMatchObject({ ok: false, problem: 'modified', seq: 2 });
  });

  it('a deleted entry is named: missing, from its seq', async () => {
    const { chainId, entries } = await erasedAndAnchored('proof-delete-1');
    await deleteItem(chainId, 3);
    expect(await verification('proof-delete-1')).toMatchObject({ ok: false, problem: 'missing' });
    expect(entries.length).toBeGreaterThan(3);
  });

  it('an inserted entry after the head is named: inserted', async () => {
    const { chainId, entries } = await erasedAndAnchored('proof-insert-1');
    const last = entries.at(-1) as AuditEntry;
    await putEntry(
      chainEntry(
        { seq: last.seq, hash: last.hash },
        { type: 'request.rejected', at: last.at, idempotencyKey: 'forged' },
        chainId,
        chainId,
      ),
    );
    expect(await verification('proof-insert-1')).toMatchObject({ ok: false, problem: 'inserted' });
  });

  it('two entries swapped are named at the first of them', async () => {
    const { entries } = await erasedAndAnchored('proof-reorder-1');
    const [second, third] = [entries[1] as AuditEntry, entries[2] as AuditEntry];
    await putEntry({ ...third, seq: 2 });
    await putEntry({ ...second, seq: 3 });
    expect(await verification('proof-reorder-1')).toMatchObject({ ok: false, seq: 2 });
  });

  it('the tail removed and the head moved back: truncated, from the removed seq (the anchor remembers)', async () => {
    const { chainId, entries } = await erasedAndAnchored('proof-truncate-1');
    const last = entries.at(-1) as AuditEntry;
    const before = entries.at(-2) as AuditEntry;
    await deleteItem(chainId, last.seq);
    await moveHead(chainId, { seq: before.seq, hash: before.hash });
    expect(await verification('proof-truncate-1')).toMatchObject({
      ok: false,
      problem: 'truncated',
      seq: last.seq,
    });
  });

  it('a chain rewritten and re-hashed, head included: rewritten', async () => {
    const { chainId, entries } = await erasedAndAnchored('proof-rewrite-1');
    let previous = { seq: 1, hash: (entries[0] as AuditEntry).hash };
    for (const original of entries.slice(1)) {
      const { hash: _h, seq: _s, prevHash: _p, chainId: _c, subjectPseudonym: _sp, ...event } = original;
      const forged = chainEntry(
        previous,
        { ...event, detail: { ...event.detail, forged: true } },
        chainId,
        chainId,
      );
      await putEntry(forged);
      previous = { seq: forged.seq, hash: forged.hash };
    }
    await moveHead(chainId, previous);
    expect(await verification('proof-rewrite-1')).toMatchObject({ ok: false, problem: 'rewritten' });
  });

  it('a chain deleted whole is chain_missing; a subject that never had one is 404 no_chain', async () => {
    const { chainId, entries } = await erasedAndAnchored('proof-wipe-1');
    for (const entry of entries) await deleteItem(chainId, entry.seq);
    await deleteItem(chainId, 0);
    expect(await verification('proof-wipe-1')).toMatchObject({ ok: false, problem: 'chain_missing', seq: 1 });
    const never = await runtime.call('GET', '/v1/audit/verification?subjectId=proof-never-1', {
      role: 'compliance',
    });
    expect(never.status).toBe(404);
    expect(never.body).toMatchObject({ error: { code: 'no_chain' } });
  });
});

describe('tamper matrix: certificates and anchors', () => {
  it('a certificate verifies offline; a forged field is named', async () => {
    const { requestId } = await erasedAndAnchored('proof-certificate-1');
    const answer = await runtime.call<Certificate>('GET', `/v1/erasure-requests/${requestId}/certificate`, {
      role: 'compliance',
    });
    expect(answer.status).toBe(200);
    const keys = await runtime.call<{ keys: { publicKeyPem: string }[] }>('GET', '/v1/audit/public-keys', {
      role: 'compliance',
    });
    const pems = keys.body.keys.map((key) => key.publicKeyPem);
    expect(verifyCertificate(answer.body, { publicKeysPem: pems })).toMatchObject({ ok: true });
    const forged = { ...answer.body, completedAt: '2027-01-01T00:00:00.000Z' };
    expect(verifyCertificate(forged, { publicKeysPem: pems })).toMatchObject({
      ok: false,
      verdict: 'invalid',
      problems: [
        expect.stringMatching(/^bad signature/),
        expect.stringMatching(
          /^completedAt is "2027-01-01T00:00:00.000Z" in the certificate but .* request.completed entry/,
        ),
      ],
    });
  });

  it('an altered anchor and a deleted anchor are named by seq', async () => {
    await erasedAndAnchored('proof-anchors-1');
    const dir = join(runtime.proofDir, 'anchors');
    const files = (await readdir(dir)).sort();
    expect(files.length).toBeGreaterThanOrEqual(2);
    const first = join(dir, files[0] as string);
    const original = await readFile(first, 'utf8');
    const list = async () =>
      (await runtime.call<{ verification: unknown }>('GET', '/v1/audit/anchors', { role: 'compliance' })).body
        .verification;

    await writeFile(first, original.replace(/"at": "[^"]+"/, '"at": "2020-01-01T00:00:00.000Z"'));
    expect(await list()).toMatchObject({ ok: false, seq: 1, problem: 'modified' });

    await rm(first);
    expect(await list()).toMatchObject({ ok: false, seq: 1, problem: 'missing' });
    await writeFile(first, original);
    expect(await list()).toMatchObject({ ok: true });
  });
});
