import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { routeHandlers } from './api/handlers.js';
import { dispatch } from './api/router.js';
import { lazyDefaultDeps, type RuntimeDeps } from './shared/dependencies.js';
import { logger } from './shared/observability.js';

/** HTTP API (payload v2) entry point: every route of functions/shared/routes.ts. */
export const makeHandler = (provide: () => Promise<RuntimeDeps>) =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const deps = await provide();
      const requestId = event.requestContext.requestId ?? context.awsRequestId;
      return dispatch(event, routeHandlers(deps), deps.authorisation, deps.log, requestId);
    });

export const handler = makeHandler(lazyDefaultDeps());
