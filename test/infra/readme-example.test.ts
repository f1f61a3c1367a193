/**
 * The README's "Use it from your own CDK app" example is the file CI compiles and synthesizes
 * against the packed package (test/package/app.ts): this keeps the two from drifting apart.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README example', () => {
  it('is test/package/app.ts, which the consumer check builds', () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('### Use it from your own CDK app'));
    const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    // The file starts with two comment lines saying what it is; the rest is the example.
    const app = read('test/package/app.ts').split('\n').slice(2).join('\n');
    expect(block).toBeDefined();
    expect(block?.trim()).toBe(app.trim());
  });
});
