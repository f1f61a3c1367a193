import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/catalog.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';

/**
 * What `cdk synth` deploys when no `-c config=<file>` is given: the built-in catalog (every data
 * class of retention-rules.md) with the example targets (`example-*` buckets and tables, a partner
 * webhook). A real deployment passes its own file: `-c config=infra/config/example.json` shows the format.
 */
export const EXAMPLE_DEPLOYMENT_CONFIG: DeploymentConfig = {
  catalog: BUILT_IN_CATALOG,
  targets: EXAMPLE_TARGETS,
};
