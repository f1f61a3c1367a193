import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Log } from '../services/deps.js';
import { logger, type MetricsSink, publishingMetrics } from '../shared/observability.js';
import {
  type Authorisation,
  dispatch,
  dispatchStreaming,
  type RouteHandler,
  type StreamedResult,
} from './router.js';

/** What every HTTP function needs besides its use cases' ports. */
export interface HttpDeps {
  readonly log: Log;
  readonly authorisation: Authorisation;
  /** Published at the end of every invocation (`publishingMetrics`). */
  readonly metrics?: Pick<MetricsSink, 'flush'>;
}

type RouteHandlers<Deps> = (deps: Deps) => Readonly<Record<string, RouteHandler>>;

const build = <Deps extends HttpDeps, Result>(
  provide: () => Promise<Deps>,
  handlersOf: RouteHandlers<Deps>,
  run: typeof dispatch | typeof dispatchStreaming,
) =>
  middy<APIGatewayProxyEventV2, Result, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const deps = await provide();
      const requestId = event.requestContext.requestId ?? context.awsRequestId;
      return publishingMetrics(
        deps,
        async () => (await run(event, handlersOf(deps), deps.authorisation, deps.log, requestId)) as Result,
      );
    });

/**
 * The Lambda handlers of a function that answers routes (functions/shared/routes.ts `servedBy`):
 * the same router, authorisation and error table for each, only the route handlers differ.
 */
export const httpFunction = <Deps extends HttpDeps>(handlersOf: RouteHandlers<Deps>) => ({
  /** HTTP API (payload v2) entry point. */
  makeHandler: (provide: () => Promise<Deps>) =>
    build<Deps, APIGatewayProxyStructuredResultV2>(provide, handlersOf, dispatch),
  /**
   * The same handler for a server that can stream (the local runtime): CSV comes as a stream of
   * pages instead of one buffered body. Lambda behind API Gateway cannot stream, so AWS uses the other.
   */
  makeStreamingHandler: (provide: () => Promise<Deps>) =>
    build<Deps, APIGatewayProxyStructuredResultV2 | StreamedResult>(provide, handlersOf, dispatchStreaming),
});
