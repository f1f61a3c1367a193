import { App, Duration, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/manifest.js';
import { type BundleSize, readSynthesizedBundles } from '../../infra/bundle-sizes.js';
import { BUNDLE_LIMIT_BYTES } from '../../infra/bundling.js';
import { EXAMPLE_DEPLOYMENT_CONFIG } from '../../infra/config/example.js';
import { OrchestratorFunction } from '../../infra/constructs/orchestrator-function.js';

/**
 * Every function of functions/manifest.ts bundled by the construct that deploys it (local esbuild,
 * the example config compiled in), in a stack of its own: the bundles are those `npm run synth`
 * writes to cdk.out, without the rest of the app.
 */
let bundles: BundleSize[];

beforeAll(() => {
  // The CLI sets these; without them the templates name neither their asset folders nor their constructs.
  const app = new App({
    context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true },
  });
  const stack = new Stack(app, 'bundles');
  for (const [key, manifest] of Object.entries(FUNCTIONS)) {
    new OrchestratorFunction(stack, key, {
      entry: manifest.entry,
      description: key,
      timeout: Duration.seconds(30),
      environment: {},
      config: EXAMPLE_DEPLOYMENT_CONFIG,
      logRetention: logs.RetentionDays.ONE_MONTH,
      tracing: false,
    });
  }
  bundles = readSynthesizedBundles(app.synth().directory);
});

describe('function bundles', () => {
  it('bundles every function of the manifest, with its source map apart', () => {
    expect(bundles.map((bundle) => bundle.function.split('/')[1]).sort()).toEqual(
      Object.keys(FUNCTIONS).sort(),
    );
    for (const bundle of bundles) expect(bundle.mapBytes, bundle.function).toBeGreaterThan(0);
  });

  it(`keeps every bundle at most ${BUNDLE_LIMIT_BYTES / 1_000_000} MB (tree-shaken, no unused dependencies)`, () => {
    const sizes = Object.fromEntries(bundles.map((bundle) => [bundle.function, bundle.codeBytes]));
    for (const [name, bytes] of Object.entries(sizes)) {
      expect(
        bytes,
        `${name}: ${bytes} bytes; see the "Bundles" section of npm run bench`,
      ).toBeLessThanOrEqual(BUNDLE_LIMIT_BYTES);
    }
  });
});
