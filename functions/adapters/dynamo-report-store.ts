import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import type { DueItem, ReportStore, RequestWithTasks } from '../../domain/ports/index.js';
import { type ErasureCountRow, monthAt, monthIndex, TALLY_SHARDS } from '../../domain/reports/erasures.js';
import { bucketMonths } from '../../domain/schedule/buckets.js';
import { queryAll } from './dynamo-helpers.js';
import { FAILED_SHARDS, OPEN_SHARDS, tallyPk } from './dynamo-request-store.js';
import { dueItemOf } from './dynamo-schedule-store.js';

const shardIds = (count: number): string[] =>
  Array.from({ length: count }, (_, shard) => String(shard).padStart(2, '0'));

/** Runs `work` over `inputs` with at most `limit` at a time, keeping the order of `inputs`. */
const mapLimited = async <In, Out>(
  inputs: readonly In[],
  limit: number,
  work: (input: In) => Promise<Out>,
): Promise<Out[]> => {
  const results: Out[] = new Array(inputs.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < inputs.length; index = next++) {
      results[index] = await work(inputs[index] as In);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return results;
};

/** Index queries in flight at once for one report (a year of due buckets is 13 x 16 partitions). */
const QUERY_CONCURRENCY = 16;

const withoutKeys = <T>(item: Record<string, unknown>): T => {
  const { pk: _pk, sk: _sk, openBucket: _open, reviewAt: _reviewAt, failedBucket: _failed, ...rest } = item;
  return rest as T;
};

const count = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? 0));

/**
 * The compliance reports' reads, each from an index or from counter items (never a scan): open
 * requests from `openByDeadline`, partially failed ones from `byFailure` (Requests table), the
 * erasure counters (`tally#<shard>` items of the Requests table), and due items from `byDueBucket`
 * (Schedules table).
 */
export class DynamoReportStore implements ReportStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tables: { readonly requests: string; readonly schedules: string },
    /** Shards of the due index (`DUE_BUCKET_SHARDS`). */
    private readonly dueBucketShards: number,
  ) {}

  /** Every shard of `openByDeadline`, each in deadline order, merged. */
  async openRequests(): Promise<ErasureRequest[]> {
    const read = (indexName: string, key: string, bucket: string) =>
      queryAll(this.documents, {
        TableName: this.tables.requests,
        IndexName: indexName,
        KeyConditionExpression: `${key} = :bucket`,
        ExpressionAttributeValues: { ':bucket': bucket },
      });
    const shards = await Promise.all([
      ...shardIds(OPEN_SHARDS).map((shard) => read('openByDeadline', 'openBucket', `open#${shard}`)),
      ...shardIds(FAILED_SHARDS).map((shard) => read('byFailure', 'failedBucket', `failed#${shard}`)),
    ]);
    return shards
      .flat()
      .map((item) => withoutKeys<ErasureRequest>(item))
      .sort((a, b) => (a.deadline < b.deadline ? -1 : a.deadline > b.deadline ? 1 : 0));
  }

  /** Every shard of `byFailure`, then each request's partition (its tasks). */
  async failedRequests(): Promise<RequestWithTasks[]> {
    const shards = await Promise.all(
      shardIds(FAILED_SHARDS).map((shard) =>
        queryAll(this.documents, {
          TableName: this.tables.requests,
          IndexName: 'byFailure',
          KeyConditionExpression: 'failedBucket = :bucket',
          ExpressionAttributeValues: { ':bucket': `failed#${shard}` },
          ProjectionExpression: 'requestId',
        }),
      ),
    );
    const requestIds = shards.flat().map((item) => String(item.requestId));
    const found = await mapLimited(
      requestIds,
      QUERY_CONCURRENCY,
      async (requestId): Promise<RequestWithTasks | undefined> => {
        const items = await queryAll(this.documents, {
          TableName: this.tables.requests,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `request#${requestId}` },
        });
        const request = items.find((item) => item.sk === '#request');
        return request === undefined
          ? undefined
          : {
              request: withoutKeys<ErasureRequest>(request),
              tasks: items
                .filter((item) => String(item.sk).startsWith('task#'))
                .map((item) => withoutKeys<ErasureTask>(item)),
            };
      },
    );
    return found.filter((entry): entry is RequestWithTasks => entry !== undefined);
  }

  /** One query per counter shard over the months' sort-key range. */
  async erasureCounts(from: string, to: string): Promise<ErasureCountRow[]> {
    // `<to>#` .. `<to>#\uffff` covers every class of the last month; the next month's key sorts after.
    const upper = `${monthAt(monthIndex(to, 'to'))}#\uffff`;
    const shards = await Promise.all(
      shardIds(TALLY_SHARDS).map((shard) =>
        queryAll(this.documents, {
          TableName: this.tables.requests,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': tallyPk(shard), ':from': `${from}#`, ':to': upper },
        }),
      ),
    );
    return shards.flat().map((item) => ({
      month: String(item.month),
      dataClass: String(item.dataClass),
      ruleRef: String(item.ruleRef),
      deletions: count(item.deletions),
      anonymisations: count(item.anonymisations),
      restrictions: count(item.restrictions),
      items: count(item.items),
    }));
  }

  /** Each month bucket from `from`'s to `to`'s, each shard, `dueKey` within [from, to]. */
  async dueBetween(from: string, to: string): Promise<DueItem[]> {
    const buckets = bucketMonths(from.slice(0, 7), to).flatMap((month) =>
      shardIds(this.dueBucketShards).map((shard) => `${month}#${shard}`),
    );
    const found = await mapLimited(buckets, QUERY_CONCURRENCY, (bucket) =>
      queryAll(this.documents, {
        TableName: this.tables.schedules,
        IndexName: 'byDueBucket',
        KeyConditionExpression: 'dueBucket = :bucket AND dueKey BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':bucket': bucket, ':from': from, ':to': `${to}#\uffff` },
      }),
    );
    return found.flat().map(dueItemOf);
  }
}
