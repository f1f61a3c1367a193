import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { routeHandlers } from './api/handlers.js';
import { type Authorisation, dispatch, dispatchStreaming, type StreamedResult } from './api/router.js';
import type { ServiceDeps } from './services/deps.js';
import { clientsFromEnvironment, composeApi, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';
import { logger } from './shared/observability.js';

export type ApiDeps = ServiceDeps & { readonly authorisation: Authorisation };

const build = <Result>(provide: () => Promise<ApiDeps>, run: typeof dispatch | typeof dispatchStreaming) =>
  middy<APIGatewayProxyEventV2, Result, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const deps = await provide();
      const requestId = event.requestContext.requestId ?? context.awsRequestId;
      return (await run(event, routeHandlers(deps), deps.authorisation, deps.log, requestId)) as Result;
    });

/** HTTP API (payload v2) entry point: every route of functions/shared/routes.ts. */
export const makeHandler = (provide: () => Promise<ApiDeps>) =>
  build<APIGatewayProxyStructuredResultV2>(provide, dispatch);

/**
 * The same handler for a server that can stream (the local runtime): CSV comes as a stream of
 * pages instead of one buffered body. Lambda behind API Gateway cannot stream, so AWS uses the other.
 */
export const makeStreamingHandler = (provide: () => Promise<ApiDeps>) =>
  build<APIGatewayProxyStructuredResultV2 | StreamedResult>(provide, dispatchStreaming);

/** In AWS, API Gateway has authorised the caller with IAM before the function runs. */
export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('api');
    const platform = { clients: clientsFromEnvironment(), secrets: await loadSecrets(env.SECRETS_ARN) };
    return { ...composeApi(env, platform), authorisation: { mode: 'iam' } as const };
  }),
);
