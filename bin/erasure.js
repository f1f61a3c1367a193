#!/usr/bin/env node
// The `erasure` command (package.json `bin`): runs cli/erasure.ts through tsx, the project's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/erasure.ts');
process.exitCode = await main(process.argv.slice(2));
