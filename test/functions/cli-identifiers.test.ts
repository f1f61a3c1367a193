/**
 * The `erasure` CLI's identifier options against a fake API on 127.0.0.1: `--identifier name=value`
 * on requests and legal holds, and the suppression list's check (service role) and lift (compliance role).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { closedAfterEach, runCli } from '../helpers/cli.js';

const run = runCli;

const servers = closedAfterEach();

/** A fake API recording `METHOD path authorization body` and answering `answer`. */
const fakeApi = async (answer: unknown, status = 200) => {
  const calls: string[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    calls.push(
      `${request.method} ${request.url} ${request.headers.authorization} ${Buffer.concat(chunks).toString('utf8')}`,
    );
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { api: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls };
};

describe('identifiers on the command line', () => {
  it.each([
    [
      'requests submit',
      ['requests', 'submit', '--reason', 'gdpr-art17-request'],
      'POST /v1/erasure-requests Bearer dev-service-token {"subjectId":"customer-42","reason":"gdpr-art17-request",',
    ],
    [
      'holds place',
      ['holds', 'place', '--reason', 'litigation-hold'],
      'POST /v1/legal-holds Bearer dev-compliance-token {"subjectId":"customer-42","reason":"litigation-hold",',
    ],
  ])('%s sends --identifier values by name, a repeated name as a list', async (_name, command, sent) => {
    // Prepare
    const { api, calls } = await fakeApi({ requestId: 'req_1', holdId: 'hold_1', status: 'dispatched' }, 202);

    // Act
    const answered = await run([
      ...command,
      '--subject',
      'customer-42',
      '--identifier',
      'email=ana@example.com',
      '--identifier',
      'deviceId=CAM-00A1',
      '--identifier',
      'deviceId=CAM-00B2',
      '--idempotency-key',
      'cli-identifiers-0001',
      '--api',
      api,
    ]);

    // Assess
    expect(answered.code).toBe(0);
    expect(calls).toEqual([
      `${sent}"identifiers":{"email":"ana@example.com","deviceId":["CAM-00A1","CAM-00B2"]}}`,
    ]);
  });

  it('suppressions check asks with the service role and prints the suppressed names', async () => {
    // Prepare
    const { api, calls } = await fakeApi({ suppressed: ['email'] });

    // Act
    const checked = await run([
      'suppressions',
      'check',
      '--identifier',
      'email=ana@example.com',
      '--identifier',
      'deviceId=CAM-00A1',
      '--subject-id',
      'customer-42',
      '--api',
      api,
    ]);

    // Assess
    expect(checked.code).toBe(0);
    expect(calls).toEqual([
      'POST /v1/suppressions/check Bearer dev-service-token {"subjectId":"customer-42","identifiers":{"email":"ana@example.com","deviceId":"CAM-00A1"}}',
    ]);
    expect(JSON.parse(checked.out.join('\n'))).toEqual({ suppressed: ['email'] });
    expect(checked.err).toContain("suppressed (an erased subject's): email");
  });

  it('suppressions lift sends the reason with the compliance role', async () => {
    // Prepare
    const { api, calls } = await fakeApi({ lifted: ['email'] });

    // Act
    const lifted = await run([
      'suppressions',
      'lift',
      '--identifier',
      'email=ana@example.com',
      '--reason',
      'consent-renewed',
      '--api',
      api,
    ]);

    // Assess
    expect(lifted.code).toBe(0);
    expect(calls).toEqual([
      'POST /v1/suppressions/lift Bearer dev-compliance-token {"identifiers":{"email":"ana@example.com"},"reason":"consent-renewed"}',
    ]);
  });

  it('has --help with examples, and refuses a malformed --identifier or nothing to look up (exit 2, no call)', async () => {
    // Prepare
    const { api, calls } = await fakeApi({ suppressed: [] });

    // Act
    const helps = await Promise.all([
      run(['suppressions', 'check', '--help']),
      run(['suppressions', 'lift', '--help']),
    ]);
    const malformed = await run(['suppressions', 'check', '--identifier', 'email', '--api', api]);
    const empty = await run(['suppressions', 'check', '--api', api]);
    const noReason = await run(['suppressions', 'lift', '--identifier', 'email=a@b.co', '--api', api]);

    // Assess
    for (const help of helps) {
      expect(help.code).toBe(0);
      expect(help.out.join('\n')).toMatch(/Examples?:\n {2}\$ erasure suppressions /);
    }
    expect([malformed.code, empty.code, noReason.code]).toEqual([2, 2, 2]);
    expect(empty.err.join('\n')).toContain('--identifier or --subject-id');
    expect(calls).toEqual([]);
  });
});
