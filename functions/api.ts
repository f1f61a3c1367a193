import { routeHandlers } from './api/handlers.js';
import { httpFunction } from './api/http-handler.js';
import type { Authorisation } from './api/router.js';
import type { ServiceDeps } from './services/deps.js';
import { clientsFromEnvironment, composeApi, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';

export type ApiDeps = ServiceDeps & { readonly authorisation: Authorisation };

/**
 * HTTP API (payload v2) entry point: the routes of functions/shared/routes.ts served by `api`
 * (every route but the certificate, functions/render-certificate.ts). `makeStreamingHandler` is the
 * same for a server that can stream (the local runtime).
 */
export const { makeHandler, makeStreamingHandler } = httpFunction<ApiDeps>(routeHandlers);

/** In AWS, API Gateway has authorised the caller with IAM before the function runs. */
export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('api');
    const platform = { clients: clientsFromEnvironment(), secrets: await loadSecrets(env.SECRETS_ARN) };
    return { ...composeApi(env, platform), authorisation: { mode: 'iam' } as const };
  }),
);
