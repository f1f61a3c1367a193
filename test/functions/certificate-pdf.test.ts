/**
 * The PDF certificate (`GET /v1/erasure-requests/{id}/certificate?format=pdf`): produced through
 * the API handler as API Gateway wants a binary body (base64, flagged), a real PDF carrying the
 * same facts as the signed JSON certificate and how to verify it, with that JSON attached.
 * Text is read back with poppler's `pdftotext`/`pdfdetach` when installed, else from the
 * content streams themselves.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Certificate, verifyCertificate } from '../../domain/audit/index.js';
import { renderCertificatePdf } from '../../functions/api/certificate-pdf.js';
import { bearer, callApi, SEEDED, seedApiState, seedCompletedRequest } from '../helpers/api-handler.js';
import { type HandlerDeps, handlerDeps } from '../helpers/handler-deps.js';

const has = (tool: string): boolean => {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

const completed = seedCompletedRequest;

const certificate = (
  built: HandlerDeps,
  query: Record<string, string>,
  headers: Record<string, string> = {},
) =>
  callApi(built, {
    method: 'GET',
    path: `/v1/erasure-requests/${SEEDED.dispatchedRequestId}/certificate`,
    query,
    headers: { ...bearer('compliance'), ...headers },
  });

/** The text a PDF shows: pdftotext's, or the hex strings of its (deflated) content streams. */
const textOf = (pdf: Buffer): string => {
  if (has('pdftotext')) {
    return execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf }).toString('utf8');
  }
  const texts: string[] = [];
  const raw = pdf.toString('latin1');
  for (const match of raw.matchAll(/stream\r?\n([\s\S]*?)endstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(match[1] as string, 'latin1')).toString('latin1');
    } catch {
      content = match[1] as string;
    }
    for (const hex of content.matchAll(/<([0-9A-Fa-f]+)> Tj/g)) {
      texts.push(Buffer.from(hex[1] as string, 'hex').toString('latin1'));
    }
  }
  return texts.join('\n');
};

describe('the PDF certificate of erasure', () => {
  it('is a PDF, base64-flagged for API Gateway, with the facts of the signed certificate and how to verify it', async () => {
    const built = await completed();
    const json = (await certificate(built, {})).body as unknown as Certificate;

    const answer = await certificate(built, { format: 'pdf' });

    expect(answer.status).toBe(200);
    expect(answer.headers?.['content-type']).toBe('application/pdf');
    expect(answer.headers?.['content-disposition']).toContain(
      `certificate-${SEEDED.dispatchedRequestId}.pdf`,
    );
    expect(answer.base64).toBe(true);
    const pdf = Buffer.from(answer.raw, 'base64');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = textOf(pdf).replace(/\s+/g, ' ');
    expect(text).toContain('Certificate of erasure');
    expect(text).toContain(json.requestId);
    expect(text).toContain(json.subjectPseudonym);
    for (const task of json.tasks) {
      expect(text).toContain(task.taskId);
      expect(text).toContain(task.target);
      expect(text).toContain(task.verifiedAt);
    }
    if (has('pdftotext')) {
      // A label and its value share a baseline, so text extraction reads the label first.
      const raw = execFileSync('pdftotext', ['-', '-'], { input: pdf }).toString('utf8');
      for (const task of json.tasks) {
        const value = raw.indexOf(task.taskId);
        expect(raw.lastIndexOf('Task id', value)).toBeGreaterThan(raw.lastIndexOf(task.target, value));
      }
    }
    for (const entry of json.requestEntries) expect(text).toContain(entry.hash);
    expect(text).toContain(json.chain.head.hash);
    expect(text).toContain(json.anchor.root);
    expect(text).toContain(json.anchor.hash);
    expect(text).toContain(json.keyId);
    expect(text).toContain('erasure verify-certificate certificate.json --public-key');
    expect(text).toContain('GET /v1/audit/public-keys');
    expect(text).not.toContain(SEEDED.subjectId);
  });

  it.runIf(has('pdfdetach'))('carries the signed JSON certificate, which verifies offline', async () => {
    const built = await completed();
    const answer = await certificate(built, { format: 'pdf' });
    const dir = mkdtempSync(join(tmpdir(), 'certificate-pdf-'));
    try {
      writeFileSync(join(dir, 'c.pdf'), Buffer.from(answer.raw, 'base64'));
      execFileSync('pdfdetach', ['-saveall', '-o', dir, join(dir, 'c.pdf')]);
      const attached = JSON.parse(readFileSync(join(dir, 'certificate.json'), 'utf8')) as Certificate;

      expect(attached.requestId).toBe(SEEDED.dispatchedRequestId);
      const keys = (await built.signer.publicKeys()).map((key) => key.publicKeyPem);
      expect(verifyCertificate(attached, { publicKeysPem: keys })).toMatchObject({ ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('claims "in full" only when every target was addressed; otherwise lists the unaddressed targets (names, no values)', async () => {
    // Prepare
    const unaddressed = [
      { target: 'marketing-list', identifier: 'email' },
      { target: 'device-video', identifier: 'deviceId' },
    ];
    const full = await completed();
    const partial = await seedCompletedRequest({ unaddressed });

    // Act
    const fullText = textOf(Buffer.from((await certificate(full, { format: 'pdf' })).raw, 'base64'));
    const pdf = Buffer.from((await certificate(partial, { format: 'pdf' })).raw, 'base64');
    const text = textOf(pdf).replace(/\s+/g, ' ');

    // Assess
    expect(fullText.replace(/\s+/g, ' ')).toContain('was carried out in full');
    expect(fullText).not.toContain('Not addressed');
    expect(text).not.toContain('in full');
    expect(text).toContain('2 target(s) were NOT addressed');
    expect(text).toContain('Not addressed (2): nothing erased in these targets');
    expect(text).toContain('marketing-list keyed by email: no value given');
    expect(text).toContain('device-video keyed by deviceId: no value given');
    expect(text).toContain('NOT AUTHENTICATED (exit 4)');
  });

  it('is chosen by Accept: application/pdf too; format=json wins', async () => {
    const built = await completed();

    const byAccept = await certificate(built, {}, { accept: 'application/pdf' });
    const json = await certificate(built, { format: 'json' }, { accept: 'application/pdf' });

    expect(byAccept.headers?.['content-type']).toBe('application/pdf');
    expect(json.headers?.['content-type']).toBe('application/json');
  });

  it('is refused like the JSON one for a request not completed (409), and a bad format is a 400', async () => {
    const built = handlerDeps();
    await seedApiState(built);

    const notReady = await certificate(built, { format: 'pdf' });
    const badFormat = await certificate(built, { format: 'docx' });

    expect(notReady.status).toBe(409);
    expect(notReady.headers?.['content-type']).toBe('application/json');
    expect(badFormat.status).toBe(400);
    expect(badFormat.body?.error).toMatchObject({ field: 'format' });
  });
});

describe('the PDF layout', () => {
  it.runIf(has('pdftotext'))(
    'never leaves a heading or a task title at the foot of a page without what follows it',
    async () => {
      const built = await completed();
      const json = (await certificate(built, {})).body as unknown as Certificate;
      const [task] = json.tasks;
      if (task === undefined) throw new Error('no task');
      // From 1 to 14 tasks: the page breaks fall in every place a block can start.
      for (let count = 1; count <= 14; count++) {
        const tasks = Array.from({ length: count }, (_, index) => ({
          ...task,
          taskId: `task_${String(index).padStart(4, '0')}`,
          target: `target-${index}`,
        }));
        const pdf = Buffer.from(await renderCertificatePdf({ ...json, tasks }));
        const pages = execFileSync('pdftotext', ['-layout', '-', '-'], { input: pdf })
          .toString('utf8')
          .split('\f');
        const pageOf = (needle: string) => pages.findIndex((page) => page.includes(needle));
        for (const [index, each] of tasks.entries()) {
          expect(pageOf(`${index + 1}. ${each.dataClass}`), `${count} tasks, task ${index + 1}`).toBe(
            pageOf(each.taskId),
          );
        }
        expect(pageOf('Tasks ('), `${count} tasks`).toBe(pageOf(`1. ${task.dataClass}`));
        expect(pageOf('How to verify'), `${count} tasks`).toBe(pageOf('erasure verify-certificate'));
      }
    },
  );
});
