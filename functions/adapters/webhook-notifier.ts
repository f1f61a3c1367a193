import type { HttpWebhookTarget } from '../../domain/connectors/types.js';
import { signPayload } from '../connectors/webhook-signature.js';

/** An advance notice (IMOU-3): the subject is to be told that a deletion is coming. */
export interface RetentionNotice {
  /** Stable per notice, so a retried delivery is recognised by the receiver. */
  readonly noticeId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly ruleRef: string;
  readonly noticeAt: string;
  readonly deletionDueAt: string;
}

export interface Notifier {
  /** Resolves once the receiver acknowledged the notice (2xx); throws otherwise. */
  notify(notice: RetentionNotice): Promise<void>;
  /** The target notices go to, for the audit trail. */
  readonly target: string;
}

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
