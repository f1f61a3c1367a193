/**
 * The `erasure` CLI against the local runtime on the emulators, commands run in-process through
 * `main` (and once as a child process through bin/erasure.js): submit → wait → show, holds, the
 * audit export, and an events import with bad rows that is interrupted and resumed without
 * recording any event twice.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS } from '../../cli/audit-export.js';
import { type CliIo, main } from '../../cli/erasure.js';
import type { ImportSummary } from '../../cli/events-import.js';
import type { ErasureRequestReceipt, HoldReceipt, RequestDetail } from '../../functions/api/types.js';
import { seedDemoSubject } from '../../local/demo.js';
import { auditEntriesOf, getErasureRequest } from '../helpers/api.js';
import { startTestRuntime, type TestRuntime } from '../helpers/runtime.js';

describe('the erasure CLI against the local runtime', () => {
  let rt: TestRuntime;
  let dir: string;

  beforeAll(async () => {
    rt = await startTestRuntime('cli', { demoSubjects: 0 });
    dir = await mkdtemp(join(tmpdir(), 'erasure-cli-'));
  });
  afterAll(async () => {
    await rt.stop();
  });

  /**
   * Runs one command line against the runtime. No token is given: each command picks its role's
   * development token, as against `npm start`. Waiting drains the task queue (the test's clock).
   */
  const erasure = async (args: string[], io: Partial<CliIo> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main([...args, '--api', rt.apiUrl], {
      readText: (path) => readFile(path, 'utf8'),
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: {},
      cwd: dir,
      sleep: async () => {
        await rt.drainQueue();
      },
      ...io,
    });
    return { code, out, err, json: <T>() => JSON.parse(out.join('\n')) as T };
  };

  it('requests submit → wait → show: the request is completed and every task verified', async () => {
    // Prepare
    const subjectId = 'cli-submit-subject';
    await seedDemoSubject(rt.clients, rt.stores, subjectId, rt.clock.now());

    // Act
    const submitted = await erasure([
      'requests',
      'submit',
      '--subject',
      subjectId,
      '--reason',
      'gdpr-art17-request',
      '--data-class',
      'cloud-video',
    ]);
    const { requestId } = submitted.json<ErasureRequestReceipt>();
    const waited = await erasure(['requests', 'wait', requestId, '--interval', '1', '--timeout', '60']);
    const shown = await erasure(['requests', 'show', requestId]);
    const again = await erasure([
      'requests',
      'submit',
      '--subject',
      subjectId,
      '--reason',
      'gdpr-art17-request',
      '--data-class',
      'cloud-video',
      '--idempotency-key',
      (submitted.err[0] ?? '').replace('Idempotency-Key: ', ''),
    ]);

    // Assess
    expect(submitted.code).toBe(0);
    expect(submitted.err[0]).toMatch(/^Idempotency-Key: [0-9a-f-]{36}$/);
    expect(waited.code).toBe(0);
    expect(waited.err.at(-1)).toBe('status: completed');
    expect(waited.json<RequestDetail>().status).toBe('completed');
    expect(shown.code).toBe(0);
    const detail = shown.json<RequestDetail>();
    expect(detail).toEqual(await getErasureRequest(rt, requestId));
    expect(detail.tasks.length).toBeGreaterThan(0);
    expect(detail.tasks.every((task) => task.status === 'verified')).toBe(true);
    // The printed key retries safely: the same request is answered.
    expect(again.json<ErasureRequestReceipt>().requestId).toBe(requestId);
  });

  it('requests show of an unknown request exits 1 with the API error; bin/erasure.js runs the same command as a child process', async () => {
    const unknown = await erasure(['requests', 'show', 'req_unknown']);
    const child = await promisify(execFile)(
      process.execPath,
      // The token explicitly: a developer's own `npm start` may have left .local/runtime.json here.
      [
        'bin/erasure.js',
        'requests',
        'show',
        'req_unknown',
        '--api',
        rt.apiUrl,
        '--token',
        rt.tokens.compliance,
      ],
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );

    expect(unknown.code).toBe(1);
    expect(unknown.err[0]).toMatch(/^erasure: 404 not_found: /);
    expect(child.code).toBe(1);
    expect(child.stderr).toMatch(/^erasure: 404 not_found: /);
  });

  it('holds place, list and release: the hold is audited placed and released', async () => {
    const subjectId = 'cli-hold-subject';

    const placed = await erasure([
      'holds',
      'place',
      '--subject',
      subjectId,
      '--reason',
      'litigation-2027-001',
      '--data-class',
      'cloud-video',
    ]);
    const { holdId } = placed.json<HoldReceipt>();
    const listed = await erasure(['holds', 'list']);
    const released = await erasure(['holds', 'release', holdId]);
    const unknown = await erasure(['holds', 'release', 'hold_unknown']);

    expect(placed.code).toBe(0);
    // GET /v1/reports/holds lists the active hold while it is placed.
    expect(listed.code).toBe(0);
    expect(listed.out.join('\n')).toContain(holdId);
    expect(released.code).toBe(0);
    expect(released.err).toEqual([`released ${holdId}`]);
    expect(unknown.code).toBe(1);
    expect((await auditEntriesOf(rt, subjectId)).map((entry) => entry.type)).toEqual([
      'hold.placed',
      'hold.released',
    ]);
  });

  it("audit export --csv writes a subject's whole chain, one row per entry, in the stable columns", async () => {
    const subjectId = 'cli-submit-subject';
    const file = join(dir, 'audit.csv');

    const exported = await erasure(['audit', 'export', '--csv', '--subject', subjectId, '--output', file]);

    expect(exported.code).toBe(0);
    const rows = parse(await readFile(file, 'utf8'), { columns: true }) as Record<string, string>[];
    const entries = await auditEntriesOf(rt, subjectId);
    expect(Object.keys(rows[0] ?? {})).toEqual([...AUDIT_CSV_COLUMNS]);
    expect(rows.map((row) => [Number(row.seq), row.type, row.hash])).toEqual(
      entries.map((entry) => [entry.seq, entry.type, entry.hash]),
    );
    expect(rows.some((row) => row.type === 'task.verified' && row.dataClass === 'cloud-video')).toBe(true);
  });

  it('events import: bad rows are reported by line and skipped, an interrupted import resumes, and no event is recorded twice', async () => {
    // Prepare: line 4 has an unknown type (refused before sending), line 6 repeats line 2 in
    // another spelling of the same instant, line 7 is refused by the server (occurredAt more than
    // 24 hours after its clock), line 10 repeats line 8.
    const file = join(dir, 'events.csv');
    await writeFile(
      file,
      [
        'subjectId,type,occurredAt',
        'cli-import-a,account.suspended,2026-11-01T00:00:00Z',
        'cli-import-b,account.suspended,2026-11-02T00:00:00Z',
        'cli-import-c,account.frozen,2026-11-03T00:00:00Z',
        'cli-import-c,contract.ended,2026-11-03T00:00:00Z',
        'cli-import-a,account.suspended,2026-11-01T00:00:00.000Z',
        'cli-import-d,account.suspended,2026-11-23T00:00:00Z',
        'cli-import-e,account.closed,2026-11-04T00:00:00Z',
        'cli-import-b,account.restored,2026-11-05T00:00:00Z',
        'cli-import-e,account.closed,2026-11-04T00:00:00Z',
        '',
      ].join('\n'),
    );
    const checkpoint = `${file}.checkpoint`;
    let posts = 0;
    const interrupt = new AbortController();
    const counting =
      (stopAfter?: number): typeof fetch =>
      async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).endsWith('/v1/lifecycle-events')) {
          posts++;
          // Ctrl-C once the third event has been answered.
          if (posts === stopAfter) interrupt.abort();
        }
        return response;
      };
    const importArgs = ['events', 'import', file, '--concurrency', '1', '--no-progress', '--json'];

    // Act 1: interrupted after three events.
    const first = await erasure(importArgs, { fetch: counting(3), signal: interrupt.signal });
    // A crash between the server's answer and the checkpoint's line: the last one is lost.
    const kept = (await readFile(checkpoint, 'utf8')).split('\n').filter((line) => line !== '');
    await writeFile(checkpoint, `${kept.slice(0, -1).join('\n')}\n`);
    posts = 0;
    // Act 2: the same command again runs to the end.
    const second = await erasure(importArgs, { fetch: counting() });
    const postsOfSecond = posts;
    posts = 0;
    // Act 3: and once more, with nothing left to import.
    const third = await erasure(importArgs, { fetch: counting() });

    // Assess
    const firstSummary = first.json<ImportSummary>();
    expect(first.code).toBe(130);
    expect(firstSummary).toMatchObject({
      imported: 3,
      alreadyImported: 0,
      repeated: 0,
      interruptedAtLine: 6,
    });
    expect(firstSummary.failed).toEqual([{ line: 4, reason: expect.stringContaining('type') }]);
    expect(first.err).toEqual([expect.stringMatching(/^line 4: type/)]);

    expect(second.code).toBe(1);
    const secondSummary = second.json<ImportSummary>();
    expect(secondSummary).toMatchObject({ imported: 3, alreadyImported: 3, repeated: 1 });
    expect(secondSummary.failed.map((failure) => [failure.line, failure.status])).toEqual([
      [4, undefined],
      [7, 400],
    ]);
    expect(secondSummary.failed[1]?.reason).toContain('occurredAt');
    // Lines 5 (lost from the checkpoint), 7, 8 and 9 were sent.
    expect(postsOfSecond).toBe(4);

    expect(third.code).toBe(1);
    // Every good row, repeats included, is now in the checkpoint.
    expect(third.json<ImportSummary>()).toMatchObject({ imported: 0, alreadyImported: 7, repeated: 0 });
    // Only the row the server refused is sent again.
    expect(posts).toBe(1);

    // Each event is in its subject's audit chain exactly once, line 5 included.
    const recorded = async (subjectId: string) =>
      (await auditEntriesOf(rt, subjectId))
        .filter((entry) => entry.type === 'lifecycle.recorded')
        .map((entry) => `${entry.detail?.eventType}@${entry.detail?.occurredAt}`);
    expect(await recorded('cli-import-a')).toEqual(['account.suspended@2026-11-01T00:00:00.000Z']);
    expect(await recorded('cli-import-b')).toEqual([
      'account.suspended@2026-11-02T00:00:00.000Z',
      'account.restored@2026-11-05T00:00:00.000Z',
    ]);
    expect(await recorded('cli-import-c')).toEqual(['contract.ended@2026-11-03T00:00:00.000Z']);
    expect(await recorded('cli-import-e')).toEqual(['account.closed@2026-11-04T00:00:00.000Z']);
    expect(await recorded('cli-import-d')).toEqual([]);
  });

  it('events import of NDJSON prints a readable summary and exits 0 when every row imports', async () => {
    const file = join(dir, 'events.ndjson');
    await writeFile(
      file,
      `${JSON.stringify({ subjectId: 'cli-ndjson-a', type: 'account.closed', occurredAt: '2026-11-10T00:00:00Z' })}\n\n${JSON.stringify({ subjectId: 'cli-ndjson-b', type: 'contract.ended', occurredAt: '2026-11-11T00:00:00Z' })}\n`,
    );

    const imported = await erasure(['events', 'import', file, '--no-progress']);

    expect(imported.code).toBe(0);
    expect(imported.out).toEqual([
      'imported 2, skipped 0 (already imported 0, repeated in the file 0), failed 0',
    ]);
  });
});
