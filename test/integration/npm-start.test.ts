/**
 * `npm start` as a process manager runs it: a SIGTERM sent to npm alone (a terminal's Ctrl-C
 * reaches the whole process group instead) still stops the runtime and both emulators. npm hands
 * the signal to its script's shell, so the script must `exec` its command for the signal to go on.
 * Its state goes to a folder of its own (ERASURE_LOCAL_DIR), on ports of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });

/** The processes of a process group, read from /proc (field 5 of stat is the group id). */
const groupMembers = (pgid: number): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const fields = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        // fields[0] is the state, fields[2] the group; a zombie has exited already.
        return Number(fields[2]) === pgid && fields[0] !== 'Z' ? [Number(name)] : [];
      } catch {
        return []; // gone while we read
      }
    });

const until = async (done: () => boolean, ms: number, what: string): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

let child: ChildProcess | undefined;
let localDir: string | undefined;

afterAll(async () => {
  // Whatever the test left running goes, the whole group.
  if (child?.pid !== undefined && groupMembers(child.pid).length > 0) process.kill(-child.pid, 'SIGKILL');
  if (localDir !== undefined) await rm(localDir, { recursive: true, force: true });
});

describe.skipIf(!existsSync('/proc'))('npm start under a process manager', () => {
  it('stops the runtime and both emulators when only npm gets SIGTERM', async () => {
    // Prepare: npm start as the leader of a process group of its own, on free ports.
    localDir = await mkdtemp(join(tmpdir(), 'erasure-npm-start-'));
    const [api, webhook, dynamodb, aws] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    let output = '';
    child = spawn('npm', ['start'], {
      cwd: PROJECT_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ERASURE_LOCAL_DIR: localDir,
        PORT: String(api),
        DEMO_WEBHOOK_PORT: String(webhook),
        DYNAMODB_PORT: String(dynamodb),
        AWS_PORT: String(aws),
        SWEEP_INTERVAL_SECONDS: '3600',
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const pgid = child.pid ?? 0;
    await until(() => output.includes('is running locally'), 100_000, `npm start to be ready:\n${output}`);
    const started = groupMembers(pgid);
    expect(started.length).toBeGreaterThanOrEqual(3); // npm, the runtime's node, the DynamoDB Local JVM
    expect((await fetch(`http://127.0.0.1:${api}/livez`)).status).toBe(200);

    // Act: the signal a process manager sends, to npm alone.
    process.kill(pgid, 'SIGTERM');

    // Assess: every process of the group exits, the API is closed, the runtime file removed.
    await until(() => groupMembers(pgid).length === 0, 30_000, `the group to exit:\n${output}`);
    await expect(fetch(`http://127.0.0.1:${api}/livez`)).rejects.toThrow();
    expect(existsSync(join(localDir, 'runtime.json'))).toBe(false);
  }, 150_000);
});
