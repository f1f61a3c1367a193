/**
 * The `erasure` CLI without the emulators: SigV4 signing (AWS's published vector, and a signed
 * call checked by a fake API that signs it again), how the connection is chosen, audit export
 * paging (client-side CSV from JSON pages, the server's CSV passed through), reports an API does
 * not serve yet, and the import's row handling. test/integration/cli.test.ts runs the commands
 * against the local runtime.
 */

import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { LOCAL_DEFAULT_TOKENS, resolveConnection } from '../../cli/api-client.js';
import { AUDIT_CSV_COLUMNS } from '../../cli/audit-export.js';
import { checkCsvHeader, csvRecordToBody, readRows } from '../../cli/events-import.js';
import { NodeSha256, regionOfApiUrl, signCall } from '../../cli/sigv4.js';
import { BUILT_IN_CATALOG } from '../../domain/policy/catalog.js';
import { DEFAULT_TOKENS } from '../../local/runtime.js';
import { closedAfterEach, runCli } from '../helpers/cli.js';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};

const run = runCli;

const servers = closedAfterEach();

/** A fake API on 127.0.0.1 answering each call with `answer`. */
const fakeApi = async (
  answer: (
    request: IncomingMessage,
    body: string,
  ) => { status: number; body: string; headers?: Record<string, string> },
) => {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { status, body, headers } = answer(request, Buffer.concat(chunks).toString('utf8'));
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

describe('SigV4', () => {
  it("signs AWS's published get-vanilla example to its published signature", async () => {
    // Prepare: the aws-sig-v4-test-suite's get-vanilla request.
    const call = { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {} };

    // Act
    const headers = await signCall(call, {
      region: 'us-east-1',
      service: 'service',
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
      signingDate: new Date('2015-08-30T12:36:00Z'),
    });

    // Assess
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it('a command with --auth iam sends an execute-api signature that the receiving side, re-signing what arrived on the wire, computes to the same value', async () => {
    // Prepare: a fake API that keeps what arrived: method, path and query, headers, body.
    let arrived: { method: string; url: URL; headers: Record<string, string>; body: string } | undefined;
    const api = await fakeApi((request, body) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
      arrived = {
        method: request.method ?? '',
        url: new URL(request.url ?? '/', `http://${request.headers.host}`),
        headers,
        body,
      };
      return { status: 201, body: JSON.stringify({ holdId: 'hold_1' }) };
    });
    /** SigV4 again over the headers the signature names, at the time it carries. */
    const resign = async (request: NonNullable<typeof arrived>) => {
      const signedNames =
        /SignedHeaders=([^,]+)/.exec(request.headers.authorization ?? '')?.[1]?.split(';') ?? [];
      const amzDate = request.headers['x-amz-date'] ?? '';
      const signingDate = new Date(
        amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
      );
      const signer = new SignatureV4({
        service: 'execute-api',
        region: 'eu-west-1',
        credentials,
        applyChecksum: false,
        sha256: NodeSha256,
      });
      const signed = await signer.sign(
        {
          method: request.method,
          protocol: 'http:',
          hostname: request.url.hostname,
          port: Number(request.url.port),
          path: request.url.pathname,
          query: Object.fromEntries(request.url.searchParams),
          headers: Object.fromEntries(signedNames.map((name) => [name, request.headers[name] ?? ''])),
          body: request.body,
        },
        { signingDate },
      );
      return signed.headers.authorization;
    };

    // Act
    const result = await run(
      [
        'holds',
        'place',
        '--subject',
        'subject-1',
        '--reason',
        'litigation-hold',
        '--api',
        api,
        '--auth',
        'iam',
        '--region',
        'eu-west-1',
      ],
      { credentials },
    );

    // Assess
    expect(result.code).toBe(0);
    expect(JSON.parse(result.out.join('\n'))).toEqual({ holdId: 'hold_1' });
    const request = arrived as NonNullable<typeof arrived>;
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=(?=[a-z0-9;-]*\bcontent-type\b)(?=[a-z0-9;-]*\bhost\b)(?=[a-z0-9;-]*\bx-amz-date\b)[a-z0-9;-]*x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(request.headers['x-amz-security-token']).toBe(credentials.sessionToken);
    expect(await resign(request)).toBe(request.headers.authorization);
    // The same request with one byte of the body changed does not verify.
    expect(await resign({ ...request, body: request.body.replace('subject-1', 'subject-2') })).not.toBe(
      request.headers.authorization,
    );
  });

  it('an execute-api URL means IAM in its own region; any other URL means a bearer token', async () => {
    const context = { env: {}, cwd: tmpdir() };
    const deployed = await resolveConnection(
      { api: 'https://a1b2c3.execute-api.eu-central-1.amazonaws.com' },
      'compliance',
      context,
    );
    const local = await resolveConnection({}, 'service', context);
    const fromEnv = await resolveConnection({}, 'compliance', {
      ...context,
      env: { ERASURE_API_URL: 'http://127.0.0.1:4000', ERASURE_COMPLIANCE_TOKEN: 'staff-token' },
    });

    expect(regionOfApiUrl(new URL('https://x.execute-api.us-west-2.amazonaws.com'))).toBe('us-west-2');
    expect(deployed.auth).toEqual({ kind: 'iam', region: 'eu-central-1' });
    expect(local).toEqual({
      baseUrl: new URL('http://127.0.0.1:3000'),
      auth: { kind: 'token', token: 'dev-service-token' },
    });
    expect(fromEnv.baseUrl.toString()).toBe('http://127.0.0.1:4000/');
    expect(fromEnv.auth).toEqual({ kind: 'token', token: 'staff-token' });
    // The CLI's defaults are the runtime's.
    expect(LOCAL_DEFAULT_TOKENS).toEqual(DEFAULT_TOKENS);
  });

  it('reads the URL and tokens npm start wrote to .local/runtime.json', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'erasure-cli-'));
    await mkdir(join(cwd, '.local'));
    await writeFile(
      join(cwd, '.local', 'runtime.json'),
      JSON.stringify({
        apiUrl: 'http://127.0.0.1:3999',
        tokens: { service: 's-token', compliance: 'c-token' },
      }),
    );

    const resolved = await resolveConnection({}, 'compliance', { env: {}, cwd });

    expect(resolved).toEqual({
      baseUrl: new URL('http://127.0.0.1:3999'),
      auth: { kind: 'token', token: 'c-token' },
    });
  });
});

describe('audit export', () => {
  const entry = (seq: number, extra: Record<string, unknown> = {}) => ({
    chainId: 'abc',
    seq,
    at: `2026-11-0${seq}T00:00:00.000Z`,
    type: 'task.verified',
    idempotencyKey: `k${seq}`,
    prevHash: 'p',
    hash: `h${seq}`,
    detail: { count: seq, note: 'a,"b"' },
    ...extra,
  });

  it('ends quietly (exit 0, nothing on stderr) when the reader stops early, as `| head` does', async () => {
    const api = await fakeApi(() => ({
      status: 200,
      body: JSON.stringify({ entries: [entry(1), entry(2)] }),
    }));
    // A pipe whose reader has gone: every write fails with EPIPE.
    const closedPipe = new Writable({
      write: (_chunk, _encoding, callback) =>
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })),
    });

    const result = await run(['audit', 'export', '--ndjson', '--subject', 's-1', '--api', api], {
      stdout: closedPipe,
    });

    expect(result.code).toBe(0);
    expect(result.err.filter((line) => line.includes('EPIPE'))).toEqual([]);
  });

  it('pages a JSON API through its cursor and writes RFC 4180 CSV with the stable columns, filtering what the API did not', async () => {
    const queries: URLSearchParams[] = [];
    const api = await fakeApi((request) => {
      const query = new URL(request.url ?? '/', 'http://x').searchParams;
      queries.push(query);
      const page =
        query.get('cursor') === null
          ? { entries: [entry(1), entry(2, { type: 'request.received' })], nextCursor: 'page-2' }
          : { entries: [entry(3)] };
      return { status: 200, body: JSON.stringify(page) };
    });
    const dir = await mkdtemp(join(tmpdir(), 'erasure-cli-'));
    const file = join(dir, 'audit.csv');

    const result = await run([
      'audit',
      'export',
      '--csv',
      '--subject',
      's-1',
      '--type',
      'task.verified',
      '--output',
      file,
      '--api',
      api,
    ]);

    expect(result.code).toBe(0);
    const text = await readFile(file, 'utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(lines.slice(1, -1)).toEqual([
      '2026-11-01T00:00:00.000Z,task.verified,abc,1,,,,,,,"{""count"":1,""note"":""a,\\""b\\""""}",k1,p,h1',
      '2026-11-03T00:00:00.000Z,task.verified,abc,3,,,,,,,"{""count"":3,""note"":""a,\\""b\\""""}",k3,p,h3',
    ]);
    expect(
      queries.map((query) => [
        query.get('subjectId'),
        query.get('type'),
        query.get('cursor'),
        query.get('format'),
      ]),
    ).toEqual([
      ['s-1', 'task.verified', null, 'csv'],
      ['s-1', 'task.verified', 'page-2', null],
    ]);
    expect(result.err.at(-1)).toBe('2 entries, 2 page(s), CSV written by the client');
  });

  it("streams the server's own CSV when it answers text/csv, following its cursor without repeating the header", async () => {
    const api = await fakeApi(
      (request): { status: number; body: string; headers: Record<string, string> } => {
        const query = new URL(request.url ?? '/', 'http://x').searchParams;
        expect(query.get('format')).toBe('csv');
        return query.get('cursor') === null
          ? {
              status: 200,
              body: 'seq,hash\r\n1,h1\r\n',
              headers: { 'content-type': 'text/csv', 'x-next-cursor': 'c2' },
            }
          : { status: 200, body: 'seq,hash\r\n2,h2\r\n', headers: { 'content-type': 'text/csv' } };
      },
    );
    const dir = await mkdtemp(join(tmpdir(), 'erasure-cli-'));
    const file = join(dir, 'audit.csv');

    const result = await run(['audit', 'export', '--request', 'req_1', '--output', file, '--api', api]);

    expect(result.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe('seq,hash\r\n1,h1\r\n2,h2\r\n');
    expect(result.err.at(-1)).toBe('2 page(s), CSV written by the server');
  });

  it('--csv-source server refuses an API that answers JSON, naming the way out', async () => {
    const api = await fakeApi(() => ({ status: 200, body: JSON.stringify({ entries: [] }) }));

    const result = await run(
      ['audit', 'export', '--subject', 's-1', '--csv-source', 'server', '--api', api],
      {
        stdout: new PassThrough(),
      },
    );

    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain('--csv-source client');
  });
});

describe('reports', () => {
  it('a report an older API does not serve (404) is a clear error, not a stack trace', async () => {
    const api = await fakeApi(() => ({
      status: 404,
      body: JSON.stringify({ error: { code: 'not_found', message: 'No route' } }),
    }));

    const deadlines = await run(['reports', 'deadlines', '--api', api]);
    const holds = await run(['holds', 'list', '--api', api]);

    expect(deadlines.code).toBe(1);
    expect(deadlines.err).toEqual([
      'erasure: 404 report_not_available: this API does not serve GET /v1/reports/deadlines: it is older than the reports routes; upgrade it',
    ]);
    expect(holds.err[0]).toContain('GET /v1/reports/holds');
  });

  it('a report the API serves is printed as its JSON, with its query', async () => {
    let asked = '';
    const api = await fakeApi((request) => {
      asked = request.url ?? '';
      return { status: 200, body: JSON.stringify({ months: [] }) };
    });

    const result = await run(['reports', 'erasures', '--from', '2026-01', '--to', '2026-06', '--api', api]);

    expect(result.code).toBe(0);
    expect(asked).toBe('/v1/reports/erasures?from=2026-01&to=2026-06');
    expect(JSON.parse(result.out.join('\n'))).toEqual({ months: [] });
  });

  it('an option the report does not take is a usage error naming the reports that do, and nothing is asked', async () => {
    let calls = 0;
    const api = await fakeApi(() => {
      calls += 1;
      return { status: 200, body: JSON.stringify({ upcoming: [] }) };
    });

    const days = await run(['reports', 'deadlines', '--days', '7', '--api', api]);
    const months = await run(['reports', 'upcoming', '--from', '2026-01', '--api', api]);
    const fine = await run(['reports', 'upcoming', '--days', '7', '--api', api]);

    expect(days.code).toBe(2);
    expect(days.err.join('\n')).toContain('--days is an option of the upcoming report, not of deadlines');
    expect(months.code).toBe(2);
    expect(months.err.join('\n')).toContain('--from is an option of the erasures report, not of upcoming');
    expect(fine.code).toBe(0);
    expect(calls).toBe(1);
  });
});

describe('holds place', () => {
  it('sends an Idempotency-Key, printed so that a retry can reuse it, or the one given', async () => {
    const keys: (string | undefined)[] = [];
    const api = await fakeApi((request) => {
      keys.push(request.headers['idempotency-key'] as string | undefined);
      return { status: 201, body: JSON.stringify({ holdId: 'hold_1' }) };
    });

    const place = ['holds', 'place', '--subject', 's-1', '--reason', 'litigation-hold', '--api', api];

    const made = await run(place);
    const given = await run([...place, '--idempotency-key', 'hold-retry-0001']);

    expect(made.code).toBe(0);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.err).toContain(`Idempotency-Key: ${keys[0]}`);
    expect(given.code).toBe(0);
    expect(keys[1]).toBe('hold-retry-0001');
  });

  it("says so when the key's hold was released since: no hold is in place", async () => {
    const api = await fakeApi(() => ({
      status: 201,
      body: JSON.stringify({ holdId: 'hold_1', releasedAt: '2026-11-30T10:00:00.000Z' }),
    }));

    const placed = await run([
      'holds',
      'place',
      '--subject',
      's-1',
      '--reason',
      'litigation-hold',
      '--idempotency-key',
      'hold-retry-0002',
      '--api',
      api,
    ]);

    expect(placed.code).toBe(0);
    expect(placed.err.join('\n')).toContain('released at 2026-11-30T10:00:00.000Z: no hold is in place');
  });
});

describe('command line', () => {
  it('every command has --help with examples, and a wrong command line exits 2', async () => {
    const commands = [
      ['requests', 'submit'],
      ['requests', 'show'],
      ['requests', 'wait'],
      ['holds', 'place'],
      ['holds', 'release'],
      ['holds', 'list'],
      ['audit', 'export'],
      ['reports'],
      ['events', 'import'],
      ['verify-certificate'],
      ['dashboard'],
    ];
    const known = new Set(BUILT_IN_CATALOG.dataClasses.map((policy) => policy.dataClass));
    for (const command of [[], ...commands]) {
      const help = await run([...command, '--help']);
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.out.join('\n'), command.join(' ')).toMatch(/Examples?:\n {2}\$ erasure /);
      // An example that names a data class names one the built-in catalog has.
      const examples = help.out
        .join('\n')
        .split('\n')
        .filter((line) => line.trimStart().startsWith('$ erasure'));
      for (const [, dataClass] of examples.join('\n').matchAll(/--data-class(?:es)? (\S+)/g)) {
        for (const name of (dataClass ?? '').split(','))
          expect(known, `${command.join(' ')}: ${name}`).toContain(name);
      }
    }
    expect((await run(['requests', 'submit', '--subject', 'x'])).code).toBe(2);
    expect((await run(['events', 'import', 'rows.txt'])).code).toBe(2);
    // An audit export without a scope is refused before any call (the API would answer 400).
    expect((await run(['audit', 'export', '--type', 'task.verified'])).code).toBe(2);
    expect((await run(['audit', 'export', '--from', '2026-11-01T00:00:00Z'])).code).toBe(2);
    expect((await run(['dashboard', '--port', 'not-a-port'])).code).toBe(2);
  });
});

describe('requests', () => {
  it('reject, extend and redrive send the compliance calls with their reason fields', async () => {
    const calls: string[] = [];
    const api = await fakeApi((request, body) => {
      calls.push(`${request.method} ${request.url} ${request.headers.authorization} ${body}`);
      return { status: 200, body: JSON.stringify({ requestId: 'req_1', status: 'rejected' }) };
    });

    const codes = [
      (await run(['requests', 'reject', 'req_1', '--legal-reason', 'gdpr-art17-3b', '--api', api])).code,
      (await run(['requests', 'extend', 'req_1', '--reason', 'complex-request', '--api', api])).code,
      (await run(['requests', 'redrive', 'req_1', '--api', api])).code,
    ];

    expect(codes).toEqual([0, 0, 0]);
    expect(calls).toEqual([
      'POST /v1/erasure-requests/req_1/rejection Bearer dev-compliance-token {"legalReason":"gdpr-art17-3b"}',
      'POST /v1/erasure-requests/req_1/deadline-extension Bearer dev-compliance-token {"reason":"complex-request"}',
      'POST /v1/erasure-requests/req_1/redrive Bearer dev-compliance-token {}',
    ]);
  });
});

describe('events import rows', () => {
  it('reads CSV attributes from a JSON column or attributes.<name> columns, and refuses unknown columns', async () => {
    expect(
      csvRecordToBody({
        subjectId: 's',
        type: 'plan.expired',
        occurredAt: 't',
        'attributes.plan': 'video',
        attributes: '{"tier":"gold"}',
      }),
    ).toEqual({
      subjectId: 's',
      type: 'plan.expired',
      occurredAt: 't',
      attributes: { plan: 'video', tier: 'gold' },
    });
    expect(csvRecordToBody({ subjectId: 's', type: 't', occurredAt: 'o', 'attributes.x': '' })).toEqual({
      subjectId: 's',
      type: 't',
      occurredAt: 'o',
    });
    // The same attribute in the JSON column and in its own: refused, not decided by column order.
    expect(() =>
      csvRecordToBody({
        subjectId: 's',
        type: 'contract.ended',
        occurredAt: 't',
        attributes: '{"jurisdiction":"SE"}',
        'attributes.jurisdiction': 'PL',
      }),
    ).toThrow('attributes.jurisdiction is given twice (in the attributes column and its own): give it once');
    expect(checkCsvHeader(['subjectId', 'type', 'occurredAt', 'attributes.plan'])).toBeUndefined();
    expect(checkCsvHeader(['subjectId', 'type', 'occuredAt'])).toContain('unknown column(s) occuredAt');
  });

  it('stops at a header that names a column twice, and refuses a row with more cells than the header, keeping the rest', async () => {
    // Prepare: a second jurisdiction column would overwrite the first (PL lost: P24M, not P12M);
    // an extra cell is usually an unquoted comma that shifted the row.
    const dir = await mkdtemp(join(tmpdir(), 'erasure-cli-'));
    await writeFile(
      join(dir, 'twice.csv'),
      'subjectId,type,occurredAt,attributes.jurisdiction,attributes.jurisdiction\ns1,contract.ended,2026-01-01T00:00:00Z,PL,\n',
    );
    await writeFile(
      join(dir, 'shifted.csv'),
      'subjectId,type,occurredAt,attributes.jurisdiction\ns1,contract.ended,2026-01-01T00:00:00Z,SE,PL\ns2,contract.ended,2026-01-01T00:00:00Z,SE\ns3,contract.ended,2026-01-01T00:00:00Z\ns4,contract.ended,2026-01-01T00:00:00Z,SE,\n',
    );
    const rows = async (file: string) => {
      const read = [];
      for await (const row of readRows(join(dir, file), 'csv')) read.push(row);
      return read;
    };

    // Act / Assess
    await expect(rows('twice.csv')).rejects.toThrow(
      'line 1: the header names attributes.jurisdiction twice: each column once',
    );
    const shifted = await rows('shifted.csv');
    expect(shifted.map((row) => [row.line, row.problem])).toEqual([
      [2, 'has 5 cells where the header has 4 (an unquoted comma?): nothing of it imported'],
      [3, undefined],
      [4, undefined],
      // A trailing comma: the extra cell is empty, nothing is lost.
      [5, undefined],
    ]);
  });

  it('numbers rows by the line they are on, in CSV (quoted newlines included) and NDJSON (blank lines skipped)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'erasure-cli-'));
    await writeFile(
      join(dir, 'a.csv'),
      'subjectId,type,occurredAt,attributes\ns1,account.closed,2026-01-01T00:00:00Z,\n\ns2,account.closed,2026-01-01T00:00:00Z,"{""a"":\n""b""}"\ns3,account.closed,2026-01-01T00:00:00Z,{bad\n',
    );
    await writeFile(join(dir, 'a.ndjson'), '{"subjectId":"s1"}\n\nnot json\n{"subjectId":"s3"}\n');
    const lines = async (file: string, format: 'csv' | 'ndjson') => {
      const rows = [];
      for await (const row of readRows(join(dir, file), format))
        rows.push([row.line, row.problem === undefined]);
      return rows;
    };

    expect(await lines('a.csv', 'csv')).toEqual([
      [2, true],
      [5, true],
      [6, false],
    ]);
    expect(await lines('a.ndjson', 'ndjson')).toEqual([
      [1, true],
      [3, false],
      [4, true],
    ]);
  });
});
