import { App } from 'aws-cdk-lib';
import { ConfigurationError } from './constructs/config-validation.js';
import { addErasureStacks } from './stacks/erasure-app.js';

// Context: -c prefix=<name> -c config=<deployment.json> -c alarmTopicArn=<arn> (infra/stacks/erasure-app.ts).
try {
  const app = new App();
  addErasureStacks(app);
  app.synth();
} catch (error) {
  // A mistake in the config or the context: the list of problems, without a stack trace.
  if (!(error instanceof ConfigurationError)) throw error;
  console.error(error.message);
  process.exit(1);
}
