import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectorInvocation, HttpWebhookTarget } from '../../../domain/connectors/types.js';
import { ConnectorPermanentError } from '../../../functions/connectors/errors.js';
import { type ConnectorPlugin, createConnectorRegistry } from '../../../functions/connectors/registry.js';

const ddbMock = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  ddbMock.reset();
});

const invocation: ConnectorInvocation = {
  taskId: 'task-1',
  requestId: 'req-1',
  subjectId: 'subj-1',
  dataClass: 'c',
  action: 'delete',
  idempotencyKey: 'k',
};

interface MailchimpTarget {
  readonly name: string;
  readonly kind: 'mailchimp';
  readonly listId: string;
}

const registry = (connectors: readonly ConnectorPlugin[] = []) =>
  createConnectorRegistry({
    s3: new S3Client({ region: 'us-east-1' }),
    documents: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
    secretFor: () => 'secret',
    fetch: async () => new Response(JSON.stringify({ deletedCount: 2 }), { status: 200 }),
    connectors,
  });

describe('createConnectorRegistry', () => {
  it('has the three built-in kinds', () => {
    expect(registry().kinds()).toEqual(['s3-prefix', 'dynamodb-items', 'http-webhook']);
  });

  it('dispatches execute and verify on target.kind', async () => {
    ddbMock.on(QueryCommand).resolves({ Items: [] });
    const r = registry();
    const webhook: HttpWebhookTarget = {
      name: 'crm',
      kind: 'http-webhook',
      url: 'https://crm.example.com/erase',
      signingSecretName: 's',
    };

    await expect(r.execute(webhook, invocation)).resolves.toEqual({ status: 'done', affectedCount: 2 });
    await expect(
      r.verify(
        {
          name: 'orders',
          kind: 'dynamodb-items',
          table: 'Orders',
          subjectAttribute: 'pk',
          keyAttributes: ['pk'],
        },
        invocation,
      ),
    ).resolves.toEqual({ verified: true });
    expect(r.connectorFor(webhook).kind).toBe('http-webhook');
  });

  it('takes connectors for kinds of your own', async () => {
    const seen: MailchimpTarget[] = [];
    const mailchimp: ConnectorPlugin<MailchimpTarget> = {
      kind: 'mailchimp',
      execute: async (target) => {
        seen.push(target);
        return { status: 'done', affectedCount: 1 };
      },
      verify: async () => ({ verified: true }),
    };
    const r = registry([mailchimp]);
    const target: MailchimpTarget = { name: 'newsletter', kind: 'mailchimp', listId: 'l-1' };

    await expect(r.execute(target, invocation)).resolves.toEqual({ status: 'done', affectedCount: 1 });
    expect(seen).toEqual([target]);
  });

  it('register() adds a kind later; replacing a kind is refused', () => {
    const r = registry();
    const custom: ConnectorPlugin = {
      kind: 'custom',
      execute: async () => ({ status: 'done', affectedCount: 0 }),
      verify: async () => ({ verified: true }),
    };

    r.register(custom);

    expect(r.kinds()).toContain('custom');
    expect(() => r.register(custom)).toThrow(/already registered/);
    expect(() => r.register({ ...custom, kind: 's3-prefix' })).toThrow(/already registered/);
  });

  it('an unknown kind is a permanent error naming the target, not the subject', () => {
    const error = (() => {
      try {
        registry().connectorFor({ name: 'legacy', kind: 'ftp' });
      } catch (e) {
        return e;
      }
    })();

    expect(error).toBeInstanceOf(ConnectorPermanentError);
    expect((error as Error).message).toContain("'legacy'");
  });
});
