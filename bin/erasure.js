#!/usr/bin/env node
// The `erasure` command (package.json `bin`). In a checkout it runs cli/erasure.ts through tsx, the
// project's loader; the published package has no sources, only the compiled dist/cli/erasure.js.
import { existsSync } from 'node:fs';

const source = new URL('../cli/erasure.ts', import.meta.url);
let cli;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import(source.href);
} else {
  cli = await import('../dist/cli/erasure.js');
}
// A reader that stops early (`| head`) closes the pipe: that ends the output, it is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await cli.main(process.argv.slice(2));
