/**
 * Development, tests and the local runtime run on the Node.js of the `node` devDependency (npm puts
 * its binary first on the PATH of every script), and that must be the Lambda runtime's Node.js:
 * code that passes here then meets the same Node in AWS.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTION_RUNTIME } from '../../infra/constructs/orchestrator-function.js';

interface PackageJson {
  readonly engines: { readonly node: string };
  readonly devDependencies: Readonly<Record<string, string>>;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson;
const pinnedNode = pkg.devDependencies.node ?? '';
const lambdaMajor = /^nodejs(\d+)\.x$/.exec(FUNCTION_RUNTIME.name)?.[1];

describe('Node.js version', () => {
  it('the tests run on the Node.js that package.json pins, not on the machine’s', () => {
    expect(process.versions.node).toBe(pinnedNode);
  });

  it('the pinned Node.js has the major of the Lambda runtime, and engines asks for it', () => {
    expect(lambdaMajor).toBeDefined();
    expect(pinnedNode.split('.')[0]).toBe(lambdaMajor);
    expect(pkg.engines.node).toBe(`>=${lambdaMajor}`);
  });
});
