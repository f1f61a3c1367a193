import type {
  Connector,
  ConnectorInvocation,
  ConnectorOutcome,
  ExportedRecords,
  ExportInvocation,
  HttpWebhookTarget,
  PreviewLimits,
  PreviewResult,
  VerificationResult,
  WindowInvocation,
  WindowOutcome,
} from '../../domain/connectors/types.js';
import type { SubjectIdentifiers } from '../../domain/identifiers/types.js';
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
  /** The identifiers the target declares (`identifiers`), when the subject has values of them. */
  readonly identifiers?: SubjectIdentifiers;
  readonly callbackUrl?: string;
  /** The attempt's nonce: a callback must carry it back (`ConnectorInvocation.callbackNonce`). */
  readonly nonce?: string;
}

/** What the other service receives for a portability export (ALU-6): the same signed POST. */
export interface WebhookExportRequestBody {
  readonly exportId: string;
  readonly subjectId: string;
  readonly identifiers?: SubjectIdentifiers;
  readonly dataClasses: readonly string[];
  readonly action: 'export';
}

/**
 * What a service that declares `preview: true` receives for a dry run: the erasure's body without
 * `callbackUrl` and `nonce`, `action: 'preview'` and the action it would be asked for in
 * `erasureAction`. Change nothing; answer 200 with `{ "count": <records it would erase> }` (or
 * `{ "count": null }` when it cannot tell).
 */
export interface WebhookPreviewRequestBody
  extends Omit<WebhookRequestBody, 'action' | 'callbackUrl' | 'nonce'> {
  readonly action: 'preview';
  readonly erasureAction: ConnectorInvocation['action'];
}

/**
 * What the other service receives for a rolling-window run: one call per target and run, for
 * every subject. Erase the class's data older than `olderThan`, a subject listed in
 * `subjectCutoffs` at its own cut-off, and leave the `excludedSubjects` (legal holds) alone.
 */
export interface WebhookWindowRequestBody {
  readonly runId: string;
  readonly scope: 'window';
  readonly dataClass: string;
  readonly action: 'delete';
  readonly olderThan: string;
  readonly subjectCutoffs: Readonly<Record<string, string>>;
  readonly excludedSubjects: readonly string[];
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
  ...(invocation.identifiers === undefined ? {} : { identifiers: invocation.identifiers }),
  ...(callbackUrl === undefined ? {} : { callbackUrl }),
  ...(invocation.callbackNonce === undefined ? {} : { nonce: invocation.callbackNonce }),
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

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `{ records: [{...}], truncated?: boolean }` from an export answer, else the error `malformed` makes. */
const exportedRecords = (text: string, malformed: () => Error): ExportedRecords => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformed();
  }
  if (!isRecord(parsed)) throw malformed();
  const { records, truncated } = parsed;
  if (!Array.isArray(records) || !records.every(isRecord)) throw malformed();
  if (truncated !== undefined && typeof truncated !== 'boolean') throw malformed();
  return { records, truncated: truncated === true };
};

/**
 * Asks another service to erase a subject's data: a signed JSON POST to `target.url`.
 *
 * - 2xx (except 202): the service has done it; `affectedCount` is its `deletedCount`, if given.
 * - 202: accepted; the service answers later with a signed POST to `callbackUrl`, which the API
 *   checks with `verifySignature` and records (outcome `pending` until then). The answer carries
 *   the request's `nonce` back, so it settles the attempt that asked and no later one.
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

  /**
   * The signed POST of `body`; the answer's status, and its text when it is a 2xx other than 202.
   * Only such a body is read; the rest is never logged or stored, since the service may echo the
   * subject id.
   */
  const post = async (
    target: HttpWebhookTarget,
    body: string,
    idempotencyKey: string,
    /** Aborts the call earlier than `timeoutMs` (a dry run whose time is up). */
    stop?: AbortSignal,
  ): Promise<{ response: Response; text: string }> => {
    const { url, timeoutMs } = checkTarget(target);
    const secret = await resolveSecret(target);
    const sentAt = now();
    try {
      const response = await doFetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          [IDEMPOTENCY_KEY_HEADER]: idempotencyKey,
          [SIGNATURE_HEADER]: signPayload(secret, body, Math.floor(sentAt.getTime() / 1000)),
        },
        body,
        redirect: 'manual',
        signal:
          stop === undefined
            ? AbortSignal.timeout(timeoutMs)
            : AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]),
      });
      const text = response.ok && response.status !== 202 ? await response.text() : '';
      if (!response.ok || response.status === 202) await response.body?.cancel();
      return { response, text };
    } catch (error) {
      const timedOut =
        error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new ConnectorRetryableError(
        `Webhook target '${target.name}': ${timedOut ? `no answer within ${timeoutMs} ms` : 'network error'}`,
        { target: target.name, code: timedOut ? 'Timeout' : 'NetworkError', cause: error },
      );
    }
  };

  /**
   * An answer that must come at once (an export, a preview): 200 is read with `read`, another 2xx
   * (a 202 that promises a callback) is refused as permanent, errors map as for erasures.
   */
  const answeredAtOnce = <T>(
    target: HttpWebhookTarget,
    { response, text }: { response: Response; text: string },
    rule: string,
    read: (text: string) => T,
  ): T => {
    const status = response.status;
    if (status === 200) return read(text);
    if (status >= 200 && status < 300)
      throw permanent(target, `HTTP ${status}: ${rule}`, 'HttpStatus', status);
    throw failure(target, response);
  };

  /** The error for an answer that is not a success. */
  const failure = (target: HttpWebhookTarget, response: Response): Error => {
    const status = response.status;
    if (status === 408 || status === 429 || status >= 500) {
      const retryAfter = retryAfterSeconds(response.headers.get('retry-after'), now());
      return new ConnectorRetryableError(`Webhook target '${target.name}': HTTP ${status}`, {
        target: target.name,
        code: 'HttpStatus',
        statusCode: status,
        ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
      });
    }
    if (status >= 300 && status < 400) {
      return permanent(target, `HTTP ${status}: redirects are not followed`, 'Redirect', status);
    }
    if (status >= 400) return permanent(target, `HTTP ${status}`, 'HttpStatus', status);
    return new ConnectorRetryableError(`Webhook target '${target.name}': unexpected HTTP ${status}`, {
      target: target.name,
      code: 'HttpStatus',
      statusCode: status,
    });
  };

  return {
    kind: 'http-webhook',

    async execute(target: HttpWebhookTarget, invocation: ConnectorInvocation): Promise<ConnectorOutcome> {
      const callbackUrl =
        deps.callbackBaseUrl === undefined
          ? undefined
          : callbackUrlFor(deps.callbackBaseUrl, invocation.taskId);
      const body = JSON.stringify(webhookRequestBody(invocation, callbackUrl));
      const { response, text } = await post(target, body, invocation.idempotencyKey);
      const status = response.status;
      if (status === 202) return { status: 'pending', affectedCount: 0 };
      if (status >= 200 && status < 300) return { status: 'done', affectedCount: deletedCount(text) };
      throw failure(target, response);
    },

    /**
     * Asks the service for its copy of the subject's data: `action: 'export'`, answered at once
     * with 200 and `{ "records": [ {...}, ... ], "truncated"?: boolean }`. There is no callback
     * for exports, so 202 (or any other 2xx) is refused as a permanent error, like a malformed body.
     */
    async export(target: HttpWebhookTarget, invocation: ExportInvocation): Promise<ExportedRecords> {
      const request: WebhookExportRequestBody = {
        exportId: invocation.exportId,
        subjectId: invocation.subjectId,
        ...(invocation.identifiers === undefined ? {} : { identifiers: invocation.identifiers }),
        dataClasses: invocation.dataClasses,
        action: 'export',
      };
      const answer = await post(target, JSON.stringify(request), invocation.exportId);
      return answeredAtOnce(target, answer, 'an export must be answered with 200 and its records', (text) =>
        exportedRecords(text, () => permanent(target, 'malformed export answer', 'MalformedAnswer', 200)),
      );
    },

    /**
     * A dry run: only a target that declares `preview: true` is asked (signed, like an erasure,
     * with `action: 'preview'`, `WebhookPreviewRequestBody`); any other would be sent a body it
     * might take for an erasure, so its count is `unknown`. The answer must come at once (200,
     * `{ count }`); 202 or another 2xx is refused as a permanent error, errors map as for erasures.
     */
    async preview(
      target: HttpWebhookTarget,
      invocation: ConnectorInvocation,
      { signal }: PreviewLimits = {},
    ): Promise<PreviewResult> {
      checkTarget(target);
      if (target.preview !== true) return { status: 'unknown', reason: 'not-supported' };
      const { callbackNonce: _attemptNonce, ...erasure } = invocation;
      const request: WebhookPreviewRequestBody = {
        ...webhookRequestBody(erasure),
        action: 'preview',
        erasureAction: invocation.action,
      };
      let answer: { response: Response; text: string };
      try {
        answer = await post(target, JSON.stringify(request), invocation.idempotencyKey, signal);
      } catch (error) {
        // The dry run's time is up before the service answered: no count, and no error of the service's.
        if (signal?.aborted === true) return { status: 'unknown', reason: 'not-counted' };
        throw error;
      }
      return answeredAtOnce(
        target,
        answer,
        'a preview must be answered with 200 and its count',
        previewAnswer,
      );
    },

    async verify(target: HttpWebhookTarget): Promise<VerificationResult> {
      checkTarget(target);
      return { verified: true };
    },

    /**
     * One signed POST per run (`WebhookWindowRequestBody`), idempotent by `runId`. The service
     * answers 2xx at once with `{ deletedCount?, heldCount?, oldestRemainingAt? }` (counts it cannot
     * give are 0; a 202 is refused: a window run has no callback). Its signed 2xx is the proof.
     */
    async expire(target: HttpWebhookTarget, invocation: WindowInvocation): Promise<WindowOutcome> {
      const request: WebhookWindowRequestBody = {
        runId: invocation.runId,
        scope: 'window',
        dataClass: invocation.dataClass,
        action: 'delete',
        olderThan: invocation.cutoff,
        subjectCutoffs: invocation.subjectCutoffs,
        excludedSubjects: invocation.excludedSubjects,
      };
      const { response, text } = await post(target, JSON.stringify(request), invocation.runId);
      const status = response.status;
      if (status === 202) {
        throw permanent(target, 'HTTP 202: a window run must be answered at once', 'HttpStatus', status);
      }
      if (status < 200 || status >= 300) throw failure(target, response);
      return windowAnswer(text);
    },
  };
};

/** `{ count }` of a preview answer; anything but a whole number is a count the service did not give. */
const previewAnswer = (text: string): PreviewResult => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { status: 'unknown', reason: 'not-counted' };
  }
  const count = isRecord(parsed) ? parsed.count : undefined;
  return typeof count === 'number' && Number.isSafeInteger(count) && count >= 0
    ? { status: 'counted', count, unit: 'records' }
    : { status: 'unknown', reason: 'not-counted' };
};

/** The counts of a window run's answer; what is missing or malformed counts as 0 / unknown. */
const windowAnswer = (text: string): WindowOutcome => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { erased: 0, held: 0 };
  }
  if (!isRecord(parsed)) return { erased: 0, held: 0 };
  const count = (value: unknown) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
  const oldest = parsed.oldestRemainingAt;
  const oldestAt = typeof oldest === 'string' && !Number.isNaN(Date.parse(oldest)) ? oldest : undefined;
  return {
    erased: count(parsed.deletedCount),
    held: count(parsed.heldCount),
    ...(oldestAt === undefined ? {} : { oldestRemainingAt: new Date(oldestAt).toISOString() }),
  };
};
