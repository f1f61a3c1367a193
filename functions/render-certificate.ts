import { certificateRouteHandlers } from './api/certificate-handlers.js';
import { type HttpDeps, httpFunction } from './api/http-handler.js';
import type { CertificateDeps } from './services/certificates.js';
import { clientsFromEnvironment, composeCertificates, lazily, loadSecrets } from './shared/dependencies.js';
import { loadEnv } from './shared/env.js';

export type CertificateFunctionDeps = CertificateDeps & HttpDeps;

/**
 * `GET /v1/erasure-requests/{requestId}/certificate` (JSON or PDF), in a function of its own: the
 * PDF renderer stays out of the API's bundle. Same router and authorisation as functions/api.ts.
 */
export const { makeHandler, makeStreamingHandler } =
  httpFunction<CertificateFunctionDeps>(certificateRouteHandlers);

/** In AWS, API Gateway has authorised the caller with IAM before the function runs. */
export const handler = makeHandler(
  lazily(async () => {
    const env = loadEnv('certificate');
    const platform = { clients: clientsFromEnvironment(), secrets: await loadSecrets(env.SECRETS_ARN) };
    return { ...composeCertificates(env, platform), authorisation: { mode: 'iam' } as const };
  }),
);
