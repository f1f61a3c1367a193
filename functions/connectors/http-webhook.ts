import type {
  Connector,
  ConnectorInvocation,
  ConnectorOutcome,
  HttpWebhookTarget,
  VerificationResult,
} from '../../domain/connectors/types.js';
import { ConnectorPermanentError, ConnectorRetryableError, isConnectorError } from './errors.js';
import { SIGNATURE_HEADER, signPayload } from './webhook-signature.js';

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export interface HttpWebhookConnectorDeps {
  /** @default the global fetch, looked up at call time */
  readonly fetch?: typeof fetch;
  /** Resolves `target.signingSecretName` to the secret's value (Secrets Manager, env, ...). */
  readonly secretFor: (name: string) => Promise<string> | string;
  /** Public base URL of the API; when set, requests carry `callbackUrl` for async answers. */
  readonly callbackBaseUrl?: string;
  /** Clock for the signature timestamp. @default () => new Date() */
  readonly now?: () => Date;
}

/** What the other service receives. It contains the subject id: only ever send it over TLS. */
export interface WebhookRequestBody {
  readonly taskId: string;
  readonly requestId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly action: ConnectorInvocation['action'];
  readonly olderThan?: string;
  readonly callbackUrl?: string;
}

/** `${callbackBaseUrl}/v1/tasks/${taskId}/callback`, the route where the API takes signed answers. */
export const callbackUrlFor = (callbackBaseUrl: string, taskId: string): string =>
  `${callbackBaseUrl.replace(/\/+$/, '')}/v1/tasks/${encodeURIComponent(taskId)}/callback`;

export const webhookRequestBody = (
  invocation: ConnectorInvocation,
  callbackUrl?: string,
): WebhookRequestBody => ({
  taskId: invocation.taskId,
  requestId: invocation.requestId,
  subjectId: invocation.subjectId,
  dataClass: invocation.dataClass,
  action: invocation.action,
  ...(invocation.olderThan === undefined ? {} : { olderThan: invocation.olderThan }),
  ...(callbackUrl === undefined ? {} : { callbackUrl }),
});

/** `Retry-After` as seconds from now: either delta-seconds or an HTTP date. */
const retryAfterSeconds = (header: string | null, now: Date): number | undefined => {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now.getTime()) / 1000));
};

/** `deletedCount` from a JSON answer, else 0: the count is informative, the 2xx is the proof. */
const deletedCount = (text: string): number => {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'deletedCount' in parsed) {
      const count = parsed.deletedCount;
      if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 0) return count;
    }
  } catch {
    // Not JSON (or empty, as with 204): nothing to count.
  }
  return 0;
};

/**
 * Asks another service to erase a subject's data: a signed JSON POST to `target.url`.
 *
 * - 2xx (except 202): the service has done it; `affectedCount` is its `deletedCount`, if given.
 * - 202: accepted; the service answers later with a signed POST to `callbackUrl`, which the API
 *   checks with `verifySignature` and records (outcome `pending` until then).
 * - 408, 429, 5xx, timeouts, network errors: retryable. Other 4xx and 3xx: permanent.
 *
 * Retries are safe because the `Idempotency-Key` header is the invocation's key, which stays the
 * same across every retry of the task: the service must treat a repeated key as the same request.
 * Redirects are not followed: the signed body, which holds the subject id, goes to the configured
 * URL only.
 *
 * `verify` cannot read the other system, so it returns `verified: true`: the proof of erasure is
 * the service's own signed answer (its 2xx to our signed request, or its signed callback), which
 * the worker and the API write to the audit trail. A service that can be read back independently
 * deserves its own connector.
 */
export const createHttpWebhookConnector = (deps: HttpWebhookConnectorDeps): Connector<HttpWebhookTarget> => {
  const doFetch: typeof fetch = deps.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const now = deps.now ?? (() => new Date());

  const permanent = (target: HttpWebhookTarget, why: string, code: string, statusCode?: number) =>
    new ConnectorPermanentError(`Webhook target '${target.name}': ${why}`, {
      target: target.name,
      code,
      ...(statusCode === undefined ? {} : { statusCode }),
    });

  const resolveSecret = async (target: HttpWebhookTarget): Promise<string> => {
    let secret: string;
    try {
      secret = await deps.secretFor(target.signingSecretName);
    } catch (error) {
      if (isConnectorError(error)) throw error;
      throw new ConnectorRetryableError(`Webhook target '${target.name}': signing secret unavailable`, {
        target: target.name,
        code: 'SecretUnavailable',
        cause: error,
      });
    }
    if (typeof secret !== 'string' || secret === '') {
      throw permanent(target, 'signing secret is empty', 'InvalidTarget');
    }
    return secret;
  };

  const checkTarget = (target: HttpWebhookTarget): { url: URL; timeoutMs: number } => {
    let url: URL;
    try {
      url = new URL(target.url);
    } catch {
      throw permanent(target, 'url is not a valid URL', 'InvalidTarget');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw permanent(target, 'url must be http(s)', 'InvalidTarget');
    }
    const timeoutMs = target.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw permanent(target, 'timeoutMs must be a positive number', 'InvalidTarget');
    }
    return { url, timeoutMs };
  };

  return {
    kind: 'http-webhook',

    async execute(target: HttpWebhookTarget, invocation: ConnectorInvocation): Promise<ConnectorOutcome> {
      const { url, timeoutMs } = checkTarget(target);
      const secret = await resolveSecret(target);
      const callbackUrl =
        deps.callbackBaseUrl === undefined
          ? undefined
          : callbackUrlFor(deps.callbackBaseUrl, invocation.taskId);
      const body = JSON.stringify(webhookRequestBody(invocation, callbackUrl));
      const sentAt = now();

      let response: Response;
      let text: string;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            [IDEMPOTENCY_KEY_HEADER]: invocation.idempotencyKey,
            [SIGNATURE_HEADER]: signPayload(secret, body, Math.floor(sentAt.getTime() / 1000)),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        // Only a 2xx body is read (for deletedCount); the rest is never logged or stored, since
        // the service may echo the subject id.
        text = response.ok && response.status !== 202 ? await response.text() : '';
        if (!response.ok || response.status === 202) await response.body?.cancel();
      } catch (error) {
        const timedOut =
          error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        throw new ConnectorRetryableError(
          `Webhook target '${target.name}': ${timedOut ? `no answer within ${timeoutMs} ms` : 'network error'}`,
          { target: target.name, code: timedOut ? 'Timeout' : 'NetworkError', cause: error },
        );
      }

      const status = response.status;
      if (status === 202) return { status: 'pending', affectedCount: 0 };
      if (status >= 200 && status < 300) return { status: 'done', affectedCount: deletedCount(text) };
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfter = retryAfterSeconds(response.headers.get('retry-after'), now());
        throw new ConnectorRetryableError(`Webhook target '${target.name}': HTTP ${status}`, {
          target: target.name,
          code: 'HttpStatus',
          statusCode: status,
          ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
        });
      }
      if (status >= 300 && status < 400) {
        throw permanent(target, `HTTP ${status}: redirects are not followed`, 'Redirect', status);
      }
      if (status >= 400) throw permanent(target, `HTTP ${status}`, 'HttpStatus', status);
      throw new ConnectorRetryableError(`Webhook target '${target.name}': unexpected HTTP ${status}`, {
        target: target.name,
        code: 'HttpStatus',
        statusCode: status,
      });
    },

    async verify(target: HttpWebhookTarget): Promise<VerificationResult> {
      checkTarget(target);
      return { verified: true };
    },
  };
};
