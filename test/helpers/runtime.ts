import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ErrorBody } from '../../functions/api/types.js';
import { demoIdentifiersOf } from '../../local/demo.js';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../local/runtime.js';
import { emulatorEndpoints, uniquePrefix } from './emulators.js';

/** What most API answers look like to a test: JSON whose fields the test asserts one by one. */
export type ApiBody = Record<string, unknown> & Partial<ErrorBody>;

/** A clock tests move by hand: events "happen" at it, and the API refuses events far past it. */
export class TestClock {
  constructor(private current: Date) {}
  readonly now = (): Date => new Date(this.current);
  set(instant: string): void {
    this.current = new Date(instant);
  }
}

export interface TestRuntime extends LocalRuntime {
  readonly clock: TestClock;
  /** Calls the API as the given role; returns status and parsed JSON body. */
  call<T = ApiBody>(
    method: string,
    path: string,
    options?: { body?: unknown; role?: 'service' | 'compliance' | 'none'; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T }>;
}

/** The local runtime on its own resource names, with no timers: tests sweep and drain explicitly. */
export const startTestRuntime = async (
  name: string,
  options: Partial<LocalRuntimeOptions> & { clockStart?: string } = {},
): Promise<TestRuntime> => {
  const prefix = uniquePrefix(name);
  const clock = new TestClock(new Date(options.clockStart ?? '2026-11-21T12:00:00.000Z'));
  const runtime = await startLocalRuntime({
    endpoints: emulatorEndpoints(),
    prefix,
    demoPrefix: `${prefix}-`,
    port: 0,
    sweepIntervalMs: false,
    consumeQueue: false,
    retryBaseSeconds: 0,
    clock: clock.now,
    // The test clock is not S3's: window runs (rolling windows) only where a test turns them on.
    windowRuns: false,
    ...options,
  });
  return {
    ...runtime,
    clock,
    call: async <T = ApiBody>(
      method: string,
      path: string,
      {
        body,
        role = 'service',
        headers = {},
      }: { body?: unknown; role?: 'service' | 'compliance' | 'none'; headers?: Record<string, string> } = {},
    ) => {
      const response = await fetch(`${runtime.apiUrl}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(role === 'none' ? {} : { authorization: `Bearer ${runtime.tokens[role]}` }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
  };
};

/** Independent reads of the demo stores: what is really left of a subject's data. */
export const remainingData = async (runtime: LocalRuntime, subjectId: string) => {
  const { clients, stores } = runtime;
  const count = async (bucket: string, prefix: string) =>
    (await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).KeyCount ?? 0;
  const customer = await clients.dynamodb.send(
    new GetItemCommand({
      TableName: stores.customersTable,
      Key: { subjectId: { S: subjectId } },
      ConsistentRead: true,
    }),
  );
  const alarms = await clients.documents.send(
    new QueryCommand({
      TableName: stores.alarmEventsTable,
      KeyConditionExpression: 'subjectId = :s',
      ExpressionAttributeValues: { ':s': subjectId },
      ConsistentRead: true,
    }),
  );
  return {
    customer: customer.Item,
    alarms: alarms.Items?.length ?? 0,
    videos: await count(stores.cloudVideoBucket, `video/${subjectId}/`),
    files: await count(stores.userFilesBucket, `files/${subjectId}/`),
    /** Video under each of the subject's camera serials (identifier `deviceId`). */
    deviceVideos: (
      await Promise.all(
        demoIdentifiersOf(subjectId).deviceId.map((serial) =>
          count(stores.cloudVideoBucket, `devices/${serial}/`),
        ),
      )
    ).reduce((total, each) => total + each, 0),
    /** The marketing list's record, keyed by the subject's e-mail (identifier `email`). */
    marketing: (
      await clients.dynamodb.send(
        new GetItemCommand({
          TableName: stores.marketingTable,
          Key: { email: { S: demoIdentifiersOf(subjectId).email } },
          ConsistentRead: true,
        }),
      )
    ).Item,
    webhookErasures: runtime.webhook.received.filter((erasure) => erasure.subjectId === subjectId),
  };
};
