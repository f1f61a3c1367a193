/**
 * The demo partner service (local/demo-webhook.ts): its refusal of a subject, which makes the
 * demo's partially failed request, can be lifted over HTTP, so that a newcomer can fix the cause and
 * watch a re-drive succeed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { signPayload } from '../../functions/connectors/webhook-signature.js';
import { startDemoWebhook } from '../../local/demo-webhook.js';

const SECRET = 'demo-webhook-test-secret';
const webhook = await startDemoWebhook({ secret: SECRET, port: 0 });

afterAll(async () => {
  await webhook.stop();
});

const erase = async (subjectId: string): Promise<number> => {
  const body = JSON.stringify({
    taskId: 'task_1',
    requestId: 'req_1',
    subjectId,
    dataClass: 'customer-profile',
    action: 'delete',
    nonce: 'n-1',
  });
  const response = await fetch(webhook.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-erasure-signature': signPayload(SECRET, body, Date.now() / 1000),
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
};

describe('the demo partner service', () => {
  it('refuses a subject until DELETE /demo/refusing/{subjectId} lifts it (the cause fixed)', async () => {
    webhook.refusing.add('demo-refused-1');

    const refused = await erase('demo-refused-1');
    const lifted = await fetch(new URL('/demo/refusing/demo-refused-1', webhook.url), { method: 'DELETE' });
    const again = await erase('demo-refused-1');
    const unknown = await fetch(new URL('/demo/refusing/nobody', webhook.url), { method: 'DELETE' });

    expect(refused).toBe(422);
    expect(lifted.status).toBe(204);
    expect(again).toBe(200);
    expect(webhook.refusing.has('demo-refused-1')).toBe(false);
    expect(unknown.status).toBe(404);
  });
});
