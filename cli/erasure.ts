/**
 * `erasure verify-certificate <file> [--public-key <pem>]...`: checks a certificate of erasure
 * offline, without the service or AWS credentials. Exit 0 and a one-line summary when it is
 * valid; exit 1 and one line per problem otherwise (2 for a wrong command line).
 */
import { readFile } from 'node:fs/promises';
import { verifyCertificate } from '../domain/audit/certificate.js';

export interface CliIo {
  readonly readText: (path: string) => Promise<string>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const USAGE = 'usage: erasure verify-certificate <certificate.json> [--public-key <public-key.pem>]...';

const defaultIo: CliIo = {
  readText: (path) => readFile(path, 'utf8'),
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

export const main = async (args: readonly string[], io: CliIo = defaultIo): Promise<number> => {
  const [command, ...rest] = args;
  if (command !== 'verify-certificate') {
    io.err(USAGE);
    return 2;
  }
  const files: string[] = [];
  const keyFiles: string[] = [];
  for (let index = 0; index < rest.length; index++) {
    const arg = rest[index] as string;
    if (arg === '--public-key') {
      const value = rest[++index];
      if (value === undefined) {
        io.err(`--public-key needs a PEM file\n${USAGE}`);
        return 2;
      }
      keyFiles.push(value);
    } else files.push(arg);
  }
  if (files.length !== 1) {
    io.err(USAGE);
    return 2;
  }
  const file = files[0] as string;
  let input: unknown;
  let keys: string[];
  try {
    keys = await Promise.all(keyFiles.map((path) => io.readText(path)));
    input = JSON.parse(await io.readText(file));
  } catch (error) {
    io.err(`INVALID: ${file}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const result = verifyCertificate(input, keys.length === 0 ? {} : { publicKeysPem: keys });
  if (result.ok) {
    io.out(result.summary);
    return 0;
  }
  io.err(`INVALID: ${file}`);
  for (const problem of result.problems) io.err(`  - ${problem}`);
  return 1;
};
