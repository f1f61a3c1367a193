import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = resolve(import.meta.dirname, '../..');
const biome = join(repo, 'node_modules', '.bin', 'biome');
let sandbox: string;

// A copy of the project's lint configuration in a scratch folder, so probe files never land in
// the real domain/ (where a parallel typecheck or lint would see them).
beforeAll(() => {
  sandbox = mkdtempSync(join(tmpdir(), 'domain-purity-'));
  const config = JSON.parse(readFileSync(join(repo, 'biome.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(sandbox, 'biome.json'), JSON.stringify({ ...config, vcs: { enabled: false } }));
  cpSync(join(repo, 'lint'), join(sandbox, 'lint'), { recursive: true });
  mkdirSync(join(sandbox, 'domain'));
  mkdirSync(join(sandbox, 'functions'));
});

afterAll(() => {
  rmSync(sandbox, { recursive: true, force: true });
});

/** Lints `source` as the file `path` with the project's rules; returns whether it passed and the report. */
const lint = (path: string, source: string): { ok: boolean; report: string } => {
  writeFileSync(join(sandbox, path), source);
  try {
    return {
      ok: true,
      report: execFileSync(biome, ['lint', path], { cwd: sandbox, encoding: 'utf8', stdio: 'pipe' }),
    };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, report: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
};

// The domain stays pure by lint rule, not by convention: these prove the rule is in force.
describe('domain/ purity lint rule', () => {
  it.each([
    [
      'aws-sdk.ts',
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nexport const c = DynamoDBClient;\n",
    ],
    ['lambda.ts', "import type { Handler } from 'aws-lambda';\nexport type H = Handler;\n"],
    ['node-process.ts', "import env from 'node:process';\nexport const e = env;\n"],
    ['process-env.ts', 'export const table = process.env.TABLE;\n'],
    ['clock.ts', 'export const now = Date.now();\n'],
  ])('refuses domain/%s', (file, source) => {
    const { ok, report } = lint(`domain/${file}`, source);

    expect(ok).toBe(false);
    expect(report).toMatch(/domain\/ is pure/);
  });

  it('allows the same code outside domain/', () => {
    const { ok, report } = lint('functions/clock.ts', 'export const now = Date.now();\n');

    expect(report).not.toMatch(/domain\/ is pure/);
    expect(ok).toBe(true);
  });

  it('allows pure code in domain/', () => {
    const { ok } = lint(
      'domain/pure.ts',
      "import { createHash } from 'node:crypto';\n\nexport const h = createHash;\n",
    );

    expect(ok).toBe(true);
  });
});
