import type { HttpWebhookTarget } from '../../domain/connectors/types.js';
import type { Notifier } from '../../domain/ports/index.js';
import { signPayload } from '../connectors/webhook-signature.js';

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Delivers notices to a notification service over the same signed webhook protocol the
 * http-webhook connector speaks (X-Erasure-Signature, Idempotency-Key), so one receiver can
 * verify both.
 */
export const webhookNotifier = (
  target: HttpWebhookTarget,
  secretFor: (name: string) => string,
  send: typeof fetch = (...args) => fetch(...args),
): Notifier => ({
  target: target.name,
  notify: async (notice) => {
    const body = JSON.stringify({ type: 'retention.notice', ...notice });
    const response = await send(target.url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': notice.noticeId,
        'x-erasure-signature': signPayload(secretFor(target.signingSecretName), body, Date.now() / 1000),
      },
      body,
      signal: AbortSignal.timeout(target.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`Notice target '${target.name}' answered HTTP ${response.status}`);
    }
  },
});
