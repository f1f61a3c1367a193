import type { TestProject } from 'vitest/node';
import type { EmulatorEndpoints } from '../../local/aws-clients.js';
import { startEmulators } from '../../local/emulators.js';

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: EmulatorEndpoints;
  }
}

/** Starts DynamoDB Local and fauxqs once per run; test files reach them through inject('emulators'). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  const emulators = await startEmulators();
  const endpoints: EmulatorEndpoints = {
    dynamodbEndpoint: emulators.dynamodbEndpoint,
    awsEndpoint: emulators.awsEndpoint,
  };
  // EMULATORS_VERBOSE=1 shows where they listen and how long they took.
  if (process.env.EMULATORS_VERBOSE)
    console.info(`emulators ready in ${Date.now() - startedAt} ms`, endpoints);
  project.provide('emulators', endpoints);
  return async () => {
    const stoppingAt = Date.now();
    await emulators.stop();
    if (process.env.EMULATORS_VERBOSE) console.info(`emulators stopped in ${Date.now() - stoppingAt} ms`);
  };
}
