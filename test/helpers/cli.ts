/** Running the `erasure` command in-process, and the fake APIs its tests start. */
import { tmpdir } from 'node:os';
import { afterEach } from 'vitest';
import { type CliIo, main } from '../../cli/erasure.js';

/** Runs a command line in-process; stdout lines and stderr lines are collected. */
export const runCli = async (args: string[], io: Partial<CliIo> = {}) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    readText: async () => '',
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env: {},
    cwd: tmpdir(),
    ...io,
  });
  return { code, out, err };
};

/** Servers a test file starts; each is closed after its test. */
export const closedAfterEach = (): { close(): void }[] => {
  const servers: { close(): void }[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });
  return servers;
};
