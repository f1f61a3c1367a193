/**
 * `npm run check:bundles` (after `npm run synth`; .ci/run runs it): lists every function bundle in
 * cdk.out and fails if one is above BUNDLE_LIMIT_BYTES or if there is none to check.
 */
import { resolve } from 'node:path';
import { oversizedBundles, readSynthesizedBundles } from './bundle-sizes.js';
import { BUNDLE_LIMIT_BYTES } from './bundling.js';

const assembly = resolve(process.argv[2] ?? 'cdk.out');
const bundles = readSynthesizedBundles(assembly);
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
for (const bundle of bundles) {
  const verdict = bundle.codeBytes > BUNDLE_LIMIT_BYTES ? 'TOO LARGE' : 'ok';
  process.stdout.write(
    `${verdict.padEnd(9)} ${kb(bundle.codeBytes).padStart(10)} code + ${kb(bundle.mapBytes).padStart(10)} source map  ${bundle.function}\n`,
  );
}
const oversized = oversizedBundles(bundles);
if (bundles.length === 0) {
  process.stderr.write(`No function bundles in ${assembly}: run \`npm run synth\` first.\n`);
  process.exitCode = 1;
} else if (oversized.length > 0) {
  process.stderr.write(
    `${oversized.length} of ${bundles.length} function bundles exceed ${kb(BUNDLE_LIMIT_BYTES)}: see which packages weigh most with \`npm run bench\` (section "Bundles").\n`,
  );
  process.exitCode = 1;
} else {
  process.stdout.write(`${bundles.length} function bundles, each at most ${kb(BUNDLE_LIMIT_BYTES)}.\n`);
}
