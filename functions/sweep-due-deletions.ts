import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import type { SweepDeps } from './services/deps.js';
import { type SweepReport, sweepDueDeletions } from './services/sweep.js';
import { clientsFromEnvironment, composeSweep, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';
import { logger, publishingMetrics } from './shared/observability.js';

/** EventBridge schedule entry point. "Now" is the scheduled event's time, so a late run sweeps the slot it was for. */
export const makeHandler = (provide: () => Promise<SweepDeps>) =>
  middy<ScheduledEvent, SweepReport, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event) => {
      const deps = await provide();
      const now = Number.isNaN(Date.parse(event.time))
        ? deps.clock().toISOString()
        : new Date(event.time).toISOString();
      return publishingMetrics(deps, () => sweepDueDeletions(deps, now));
    });

export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('sweep');
    return composeSweep(env, {
      clients: clientsFromEnvironment(),
      secrets: await loadSecrets(env.SECRETS_ARN),
    });
  }),
);
