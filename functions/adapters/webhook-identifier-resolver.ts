import { ResolverError } from '../../domain/errors.js';
import type { HttpWebhookResolver } from '../../domain/identifiers/resolver.js';
import type { IdentifierResolver } from '../../domain/ports/index.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, IDEMPOTENCY_KEY_HEADER } from '../connectors/http-webhook.js';
import { SIGNATURE_HEADER, signPayload } from '../connectors/webhook-signature.js';

/** What the resolving service receives. It contains the subject id: only ever send it over TLS. */
export interface WebhookResolveRequestBody {
  readonly action: 'resolve';
  readonly subjectId: string;
  /** The request (or dry run, or export) the identifiers are resolved for; also the Idempotency-Key. */
  readonly requestId: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface WebhookResolverDeps {
  /** Resolves `signingSecretName` to the secret's value. */
  readonly secretFor: (name: string) => Promise<string> | string;
  /** @default the global fetch */
  readonly fetch?: typeof fetch;
  /** Clock for the signature timestamp. @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * Asks a service for a subject's identifiers: a POST signed exactly as the http-webhook connector
 * signs (`X-Erasure-Signature` over the body, `Idempotency-Key`), so one receiver verifies both,
 * answered 200 with `{ "identifiers": { "email": "...", "deviceId": ["..."] } }` (`{}` when it knows
 * none). Redirects are not followed (the body holds the subject id). 408, 429, 5xx, timeouts and
 * network errors are retryable (`resolver_unavailable`); any other answer, or a body that is not
 * that object, is not (`resolver_failed`). Answers are never logged: they are personal data.
 */
export const webhookIdentifierResolver = (
  resolver: HttpWebhookResolver,
  deps: WebhookResolverDeps,
): IdentifierResolver => {
  const doFetch: typeof fetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = deps.now ?? (() => new Date());
  const failed = (why: string, retryable: boolean, cause?: unknown) =>
    new ResolverError(
      `Identifier resolver '${resolver.name}': ${why}`,
      resolver.name,
      retryable,
      cause === undefined ? undefined : { cause },
    );
  return {
    name: resolver.name,
    resolve: async ({ subjectId, requestId }) => {
      let secret: string;
      try {
        secret = await deps.secretFor(resolver.signingSecretName);
      } catch (error) {
        throw failed('signing secret unavailable', false, error);
      }
      const request: WebhookResolveRequestBody = { action: 'resolve', subjectId, requestId };
      const body = JSON.stringify(request);
      const timeoutMs = resolver.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
      let response: Response;
      try {
        response = await doFetch(resolver.url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            [IDEMPOTENCY_KEY_HEADER]: requestId,
            [SIGNATURE_HEADER]: signPayload(secret, body, Math.floor(now().getTime() / 1000)),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut =
          error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        throw failed(timedOut ? `no answer within ${timeoutMs} ms` : 'network error', true, error);
      }
      const status = response.status;
      if (status !== 200) {
        await response.body?.cancel();
        throw failed(`HTTP ${status}`, status === 408 || status === 429 || status >= 500);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(await response.text());
      } catch {
        throw failed('the answer is not JSON', false);
      }
      if (!isRecord(parsed) || !isRecord(parsed.identifiers)) {
        throw failed('the answer has no identifiers object', false);
      }
      return parsed.identifiers;
    },
  };
};
