import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signPayload, verifySignature } from '../functions/connectors/webhook-signature.js';

/** One erasure the demo partner service received. */
export interface ReceivedErasure {
  readonly taskId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly action: string;
  readonly idempotencyKey: string | undefined;
  /** Where and with which nonce to answer, when the orchestrator asked for a callback. */
  readonly callbackUrl?: string;
  readonly nonce?: string;
}

/** A signed callback the demo service sent: as it went over the wire, so it can be replayed. */
export interface SentCallback {
  readonly url: string;
  readonly body: string;
  readonly signature: string;
  /** The orchestrator's answer status. */
  readonly status: number;
}

/** What the demo service reports in a callback. */
export type CallbackAnswer =
  | { readonly status: 'done'; readonly deletedCount?: number }
  | { readonly status: 'failed'; readonly error?: string };

/**
 * `sync` answers 200 with a count; `async` answers 202 and calls back a moment later; `silent`
 * answers 202 and never calls back (a partner that lost the work).
 */
export type DemoWebhookMode = 'sync' | 'async' | 'silent';

export interface DemoWebhookOptions {
  readonly port?: number;
  readonly secret: string;
  readonly mode?: DemoWebhookMode;
  /** Answer every request with this status (to show retries and the dead-letter queue). */
  readonly failWith?: number;
  readonly callbackDelayMs?: number;
}

/** An advance notice (IMOU-3) the demo service was asked to pass on to the subject. */
export interface ReceivedNotice {
  readonly noticeId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly deletionDueAt: string;
}

/** What a window run sends (functions/connectors/http-webhook.ts `WebhookWindowRequestBody`). */
export interface WindowRunCall {
  readonly runId: string;
  readonly dataClass: string;
  readonly olderThan: string;
  readonly excludedSubjects: readonly string[];
}

/** A dry-run preview the demo service answered (`WebhookPreviewRequestBody`): counted, nothing erased. */
export interface ReceivedPreview {
  readonly taskId: string;
  readonly subjectId: string;
  readonly dataClass: string;
  readonly erasureAction: string;
}

export interface DemoWebhook {
  readonly url: string;
  readonly received: ReceivedErasure[];
  /** Dry-run previews asked of the service; `received` holds erasures only. */
  readonly previews: ReceivedPreview[];
  /** Rolling-window runs asked of the service (one per data class and run). */
  readonly windowRuns: WindowRunCall[];
  readonly notices: ReceivedNotice[];
  /** Records the demo service holds per subject (what an erasure removes). */
  readonly records: Map<string, number>;
  /**
   * Subjects whose erasure the service refuses (422, a permanent failure): the demo's partially
   * failed request, in the failures report.
   */
  readonly refusing: Set<string>;
  setFailure(status: number | undefined): void;
  setMode(mode: DemoWebhookMode): void;
  /**
   * Answers the latest request for `taskId` the way a partner does after a 202: a signed POST to
   * its `callbackUrl` that carries its `nonce` back. Returns what was sent, to replay it.
   */
  callBack(taskId: string, answer: CallbackAnswer): Promise<SentCallback>;
  stop(): Promise<void>;
}

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * A stand-in for another company service that holds personal data: it checks the orchestrator's
 * signature, erases its records of the subject, and answers at once or through a signed callback.
 */
export const startDemoWebhook = async (options: DemoWebhookOptions): Promise<DemoWebhook> => {
  const received: ReceivedErasure[] = [];
  const previews: ReceivedPreview[] = [];
  const windowRuns: WindowRunCall[] = [];
  const notices: ReceivedNotice[] = [];
  const records = new Map<string, number>();
  const refusing = new Set<string>();
  let failWith = options.failWith;
  let mode = options.mode ?? 'sync';
  const server: Server = createServer((request, response) => {
    void (async () => {
      // The demo's one control: fixing the cause of a refusal (README, re-drive), unsigned as an
      // operator would do it on the partner's side; the server listens on loopback only.
      const lifting = /^\/demo\/refusing\/([^/]+)$/.exec(request.url ?? '');
      if (request.method === 'DELETE' && lifting !== null) {
        await readBody(request);
        let subjectId: string;
        try {
          subjectId = decodeURIComponent(lifting[1] ?? '');
        } catch {
          response.writeHead(400).end();
          return;
        }
        response.writeHead(refusing.delete(subjectId) ? 204 : 404).end();
        return;
      }
      const body = await readBody(request);
      const nowSeconds = Math.floor(Date.now() / 1000);
      const signature = request.headers['x-erasure-signature'];
      if (typeof signature !== 'string' || !verifySignature(options.secret, body, signature, nowSeconds)) {
        response.writeHead(401).end();
        return;
      }
      if (failWith !== undefined) {
        response.writeHead(failWith, { 'content-type': 'application/json' }).end('{"error":"demo failure"}');
        return;
      }
      const message = JSON.parse(body) as { type?: string; action?: string };
      if (message.type === 'retention.notice') {
        // A real notification service would push or e-mail the subject here.
        const notice = message as ReceivedNotice;
        if (!notices.some((known) => known.noticeId === notice.noticeId)) notices.push(notice);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"delivered":true}');
        return;
      }
      if (message.action === 'export') {
        // Portability (ALU-6): a copy of what the service holds, and nothing is deleted.
        const { subjectId } = message as { subjectId: string };
        const recordCount = records.get(subjectId) ?? 0;
        const answer = { records: [{ subjectId, source: 'partner-services', recordCount }] };
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        return;
      }
      if (message.action === 'preview') {
        // A dry run: how many records an erasure would remove; nothing is removed.
        const preview = message as ReceivedPreview;
        previews.push({
          taskId: preview.taskId,
          subjectId: preview.subjectId,
          dataClass: preview.dataClass,
          erasureAction: preview.erasureAction,
        });
        const count = records.get(preview.subjectId) ?? 0;
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count }));
        return;
      }
      if ((message as { scope?: string }).scope === 'window') {
        // A rolling-window run (one call per run, every subject): the demo service keeps no dated data.
        windowRuns.push(JSON.parse(body) as WindowRunCall);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{"deletedCount":0}');
        return;
      }
      const erasure = message as ReceivedErasure & { callbackUrl?: string };
      if (refusing.has(erasure.subjectId)) {
        response
          .writeHead(422, { 'content-type': 'application/json' })
          .end('{"error":"the partner keeps this customer\'s contract records"}');
        return;
      }
      const idempotencyKey = request.headers['idempotency-key'];
      received.push({
        taskId: erasure.taskId,
        subjectId: erasure.subjectId,
        dataClass: erasure.dataClass,
        action: erasure.action,
        idempotencyKey: typeof idempotencyKey === 'string' ? idempotencyKey : undefined,
        ...(erasure.callbackUrl === undefined ? {} : { callbackUrl: erasure.callbackUrl }),
        ...(erasure.nonce === undefined ? {} : { nonce: erasure.nonce }),
      });
      const deletedCount = records.get(erasure.subjectId) ?? 0;
      records.delete(erasure.subjectId);
      if (mode === 'sync' || erasure.callbackUrl === undefined) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ deletedCount }));
        return;
      }
      response.writeHead(202).end();
      if (mode === 'silent') return;
      const asked = received.at(-1);
      setTimeout(() => {
        if (asked !== undefined) sendCallback(asked, { status: 'done', deletedCount }).catch(() => undefined);
      }, options.callbackDelayMs ?? 200);
    })().catch(() => {
      response.writeHead(500).end();
    });
  });
  /** The signed answer to one request; it echoes the request's nonce, as the orchestrator requires. */
  const sendCallback = async (erasure: ReceivedErasure, answer: CallbackAnswer): Promise<SentCallback> => {
    if (erasure.callbackUrl === undefined) throw new Error(`task ${erasure.taskId} asked for no callback`);
    const body = JSON.stringify({ taskId: erasure.taskId, nonce: erasure.nonce, ...answer });
    const signature = signPayload(options.secret, body, Math.floor(Date.now() / 1000));
    const answered = await fetch(erasure.callbackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-erasure-signature': signature },
      body,
    });
    await answered.body?.cancel();
    return { url: erasure.callbackUrl, body, signature, status: answered.status };
  };
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/erasures`,
    received,
    previews,
    windowRuns,
    notices,
    records,
    refusing,
    setFailure: (status) => {
      failWith = status;
    },
    setMode: (next) => {
      mode = next;
    },
    callBack: (taskId, answer) => {
      const asked = received.filter((erasure) => erasure.taskId === taskId).at(-1);
      if (asked === undefined) return Promise.reject(new Error(`task ${taskId} was never asked`));
      return sendCallback(asked, answer);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
