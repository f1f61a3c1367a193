import { App } from 'aws-cdk-lib';
import { addErasureStacks } from './stacks/erasure-app.js';

// Context: -c prefix=<name> -c config=<deployment.json> -c alarmTopicArn=<arn> (infra/stacks/erasure-app.ts).
const app = new App();
addErasureStacks(app);
app.synth();
