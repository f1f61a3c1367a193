import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_LIMIT_BYTES } from './bundling.js';

/** One function's synthesized asset: its code (every file but source maps) and its source maps. */
export interface BundleSize {
  /** The function's construct path, e.g. `erasure-worker/Runtime/ApiHandler/Function/Resource`. */
  readonly function: string;
  /** The asset folder, relative to the cloud assembly. */
  readonly asset: string;
  readonly codeBytes: number;
  readonly mapBytes: number;
}

interface TemplateResource {
  readonly Type?: string;
  readonly Metadata?: Record<string, unknown>;
}

const filesIn = (folder: string): string[] =>
  readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesIn(join(folder, entry.name)) : [join(folder, entry.name)],
  );

/**
 * The bundle of every Lambda function in a cloud assembly (`cdk.out` after `npm run synth`, or a
 * test's `app.synth().directory`), found through the `aws:asset:path` metadata of each template.
 */
export const readSynthesizedBundles = (assemblyDir: string): BundleSize[] => {
  const bundles: BundleSize[] = [];
  for (const file of readdirSync(assemblyDir)
    .filter((name) => name.endsWith('.template.json'))
    .sort()) {
    const template = JSON.parse(readFileSync(join(assemblyDir, file), 'utf8')) as {
      readonly Resources?: Record<string, TemplateResource>;
    };
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      const asset = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || typeof asset !== 'string') continue;
      const folder = join(assemblyDir, asset);
      // A function whose asset is a zip file, or not bundled (cdk synth --exclusively), has no folder.
      if (!existsSync(folder) || !statSync(folder).isDirectory()) continue;
      let codeBytes = 0;
      let mapBytes = 0;
      for (const path of filesIn(folder)) {
        const { size } = statSync(path);
        if (path.endsWith('.map')) mapBytes += size;
        else codeBytes += size;
      }
      const cdkPath = resource.Metadata?.['aws:cdk:path'];
      bundles.push({
        function: typeof cdkPath === 'string' ? cdkPath : `${file}#${logicalId}`,
        asset,
        codeBytes,
        mapBytes,
      });
    }
  }
  return bundles;
};

/** The bundles above the limit. */
export const oversizedBundles = (bundles: readonly BundleSize[], limit = BUNDLE_LIMIT_BYTES): BundleSize[] =>
  bundles.filter((bundle) => bundle.codeBytes > limit);
