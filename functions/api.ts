import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { routeHandlers } from './api/handlers.js';
import { type Authorisation, dispatch } from './api/router.js';
import type { ServiceDeps } from './services/deps.js';
import { clientsFromEnvironment, composeApi, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';
import { logger } from './shared/observability.js';

export type ApiDeps = ServiceDeps & { readonly authorisation: Authorisation };

/** HTTP API (payload v2) entry point: every route of functions/shared/routes.ts. */
export const makeHandler = (provide: () => Promise<ApiDeps>) =>
  middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler(async (event, context) => {
      const deps = await provide();
      const requestId = event.requestContext.requestId ?? context.awsRequestId;
      return dispatch(event, routeHandlers(deps), deps.authorisation, deps.log, requestId);
    });

/** In AWS, API Gateway has authorised the caller with IAM before the function runs. */
export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('api');
    const platform = { clients: clientsFromEnvironment(), secrets: await loadSecrets(env.SECRETS_ARN) };
    return { ...composeApi(env, platform), authorisation: { mode: 'iam' } as const };
  }),
);
