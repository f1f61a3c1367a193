import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  type BatchWriteWriteRequest,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  Connector,
  ConnectorInvocation,
  ConnectorOutcome,
  DynamoDbItemsTarget,
  ExportedRecords,
  ExportInvocation,
  PreviewLimits,
  PreviewResult,
  VerificationResult,
  WindowInvocation,
  WindowOutcome,
} from '../../domain/connectors/types.js';
import { addressedValue } from '../../domain/connectors/types.js';
import type { RetentionAction } from '../../domain/policy/types.js';
import { cutoffFor, listingCutoff } from '../../domain/schedule/windows.js';
import {
  awsErrorName,
  ConnectorPermanentError,
  ConnectorRetryableError,
  classifyAwsError,
  parseOlderThan,
} from './errors.js';
import { type ListingStop, listingStop, stopsBeforeNextPage } from './listing-stop.js';

/** What `anonymise` writes over each of `anonymiseAttributes`. */
export const ANONYMISED_MARKER = '[erased]';
/** Set by `restrict` (ALU-4/ALU-5): readers must not use an item that has `restricted = true`. */
export const RESTRICTED_ATTRIBUTE = 'restricted';
/** When the item was first restricted (kept on repeated runs). */
export const RESTRICTED_AT_ATTRIBUTE = 'restrictedAt';
/**
 * BatchWriteItem calls a `delete` keeps in flight. A 1 MB Query page of small items is about 40
 * batches of 25; sending most of them at once lets the table work on them together instead of
 * in rounds (against DynamoDB Local, 25 finished the bench's erasure sooner than 8 in two
 * side-by-side runs, by 4 to 6 %). A throttled write comes back in UnprocessedItems and is sent
 * again with backoff, so the limit does not have to stay under a partition's write capacity.
 */
export const DEFAULT_DELETE_CONCURRENCY = 25;

/** DynamoDB limits: BatchWriteItem 25 requests, BatchGetItem 100 keys. */
export const BATCH_WRITE_LIMIT = 25;
export const BATCH_GET_LIMIT = 100;
/** Items one export copies from one table before it reports `truncated`. */
export const DEFAULT_EXPORT_MAX_ITEMS = 10_000;
/** Calls per batch (first try included) before left-over unprocessed items fail the run. */
export const DEFAULT_MAX_ATTEMPTS = 8;
const BASE_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 2000;

export interface DynamoDbItemsConnectorDeps {
  readonly documents: DynamoDBDocumentClient;
  /** @default setTimeout-based sleep; tests pass a fake so backoff costs no time. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Clock for `restrictedAt`. @default () => new Date() */
  readonly now?: () => Date;
  /** Jitter source in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** @default DEFAULT_MAX_ATTEMPTS (8) */
  readonly maxAttempts?: number;
  /** UpdateItem calls in flight at once, for `anonymise` and `restrict`. @default 8 */
  readonly updateConcurrency?: number;
  /** BatchWriteItem calls in flight at once, for `delete`. @default DEFAULT_DELETE_CONCURRENCY */
  readonly deleteConcurrency?: number;
  /** @default DEFAULT_EXPORT_MAX_ITEMS */
  readonly exportMaxItems?: number;
}

type Item = Record<string, unknown>;

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `#a0, #a1` placeholders for attribute names (any name may be a reserved word). */
const placeholders = (prefix: string, attributes: readonly string[]) => {
  const names: Record<string, string> = {};
  const refs = attributes.map((attribute, i) => {
    const ref = `#${prefix}${i}`;
    names[ref] = attribute;
    return ref;
  });
  return { refs, names };
};

const unique = (values: readonly (string | undefined)[]): string[] => [
  ...new Set(values.filter((v): v is string => v !== undefined)),
];

const forEachLimit = async <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) => {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
};

/** A value as JSON can carry it: the document client returns Sets and Uint8Arrays, which JSON loses. */
const jsonValue = (value: unknown): unknown => {
  if (value instanceof Set) return [...value].map(jsonValue);
  if (value instanceof Uint8Array)
    return { encoding: 'base64', content: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, jsonValue(inner)]));
  }
  return value;
};

const jsonSafe = (item: Item): Item =>
  Object.fromEntries(Object.entries(item).map(([key, value]) => [key, jsonValue(value)]));

/** Rejects configurations that would erase the wrong items or cannot honour the invocation. */
const validate = (
  target: DynamoDbItemsTarget,
  action: RetentionAction | 'export',
  olderThan: Date | undefined,
): void => {
  const fail = (why: string) => {
    throw new ConnectorPermanentError(`Target '${target.name}' (dynamodb-items): ${why}`, {
      target: target.name,
      code: 'InvalidTarget',
    });
  };
  const keys = target.keyAttributes;
  if (keys.length < 1 || keys.length > 2 || keys.some((k) => k === '')) {
    fail('keyAttributes must name the table partition key and, if any, its sort key');
  }
  if (target.subjectAttribute === '') fail('subjectAttribute is empty');
  // Without a GSI the subject attribute is what the table is queried by: it must be its key.
  if (target.indexName === undefined && !keys.includes(target.subjectAttribute)) {
    fail('subjectAttribute must be a table key attribute unless indexName is set');
  }
  // Rolling windows must not erase newer data: without a timestamp we cannot tell old from new.
  if (olderThan !== undefined && target.timestampAttribute === undefined) {
    fail('olderThan was given but the target has no timestampAttribute');
  }
  if (action === 'anonymise') {
    const attributes = target.anonymiseAttributes ?? [];
    if (attributes.length === 0) fail('anonymise needs anonymiseAttributes');
    if (attributes.some((a) => keys.includes(a))) fail('anonymiseAttributes cannot include key attributes');
  }
};

/** The partitions of the time-ordered index a window run queries. */
export const DEFAULT_WINDOW_PARTITIONS: readonly string[] = ['all'];
/** Items a verification page reads (the oldest remaining item and what is left past a cut-off). */
const VERIFY_PAGE = 25;

/** Rejects a window run on a target without its time-ordered index. */
const validateWindow = (
  target: DynamoDbItemsTarget,
): { indexName: string; partitionAttribute: string; partitions: readonly string[]; timestamp: string } => {
  validate(target, 'delete', undefined);
  const index = target.windowIndex;
  if (index === undefined || target.timestampAttribute === undefined) {
    throw new ConnectorPermanentError(
      `Target '${target.name}' (dynamodb-items): a window run needs windowIndex and timestampAttribute`,
      { target: target.name, code: 'InvalidTarget' },
    );
  }
  return {
    indexName: index.indexName,
    partitionAttribute: index.partitionAttribute,
    partitions: index.partitions ?? DEFAULT_WINDOW_PARTITIONS,
    timestamp: target.timestampAttribute,
  };
};

/**
 * Deletes, anonymises or restricts the items of one subject in one table. Items are found by
 * querying `subjectAttribute` on the table (consistent read) or on `indexName`; items found
 * through a GSI are read again from the table (consistent BatchGetItem) before anything is done to
 * them, because a GSI lags: it may still list an item whose subject attribute has changed.
 *
 * With `olderThan`, only items whose `timestampAttribute` (ISO 8601) is before it are touched;
 * items without a parsable timestamp cannot be shown to be older and are left alone.
 */
export const createDynamoDbItemsConnector = (
  deps: DynamoDbItemsConnectorDeps,
): Connector<DynamoDbItemsTarget> => {
  const { documents } = deps;
  const sleep = deps.sleep ?? defaultSleep;
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const maxAttempts = Math.max(1, deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const updateConcurrency = Math.max(1, deps.updateConcurrency ?? 8);
  const deleteConcurrency = Math.max(1, deps.deleteConcurrency ?? DEFAULT_DELETE_CONCURRENCY);
  const exportMaxItems = Math.max(1, deps.exportMaxItems ?? DEFAULT_EXPORT_MAX_ITEMS);

  /** Exponential backoff with full jitter: spreads retries of concurrent workers apart. */
  const backoff = (attempt: number) =>
    sleep(Math.floor(random() * Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (attempt - 1))));

  /** Calls `call` until it leaves nothing unprocessed, at most `maxAttempts` times. */
  const untilProcessed = async <T>(
    target: DynamoDbItemsTarget,
    operation: string,
    initial: T[],
    call: (pending: T[]) => Promise<T[]>,
  ): Promise<void> => {
    let pending = initial;
    for (let attempt = 1; pending.length > 0; attempt++) {
      pending = await call(pending);
      if (pending.length === 0) return;
      if (attempt >= maxAttempts) {
        throw new ConnectorRetryableError(
          `${operation} for target '${target.name}': ${pending.length} item(s) still unprocessed after ${maxAttempts} attempts`,
          { target: target.name, code: 'UnprocessedItems' },
        );
      }
      await backoff(attempt);
    }
  };

  const keyOf = (target: DynamoDbItemsTarget, item: Item): Item => {
    const key: Item = {};
    for (const attribute of target.keyAttributes) {
      const value = item[attribute];
      if (value === undefined) {
        throw new ConnectorPermanentError(
          `Target '${target.name}': a found item lacks key attribute '${attribute}' (check keyAttributes)`,
          { target: target.name, code: 'InvalidTarget' },
        );
      }
      key[attribute] = value;
    }
    return key;
  };

  /** Consistent reads of `keys` from the table, projecting `attributes` (all of them when 'all'). */
  const batchGet = async (
    target: DynamoDbItemsTarget,
    keys: Item[],
    attributes: readonly string[] | 'all',
  ) => {
    const projection =
      attributes === 'all'
        ? {}
        : (({ refs, names }) => ({
            ProjectionExpression: refs.join(', '),
            ExpressionAttributeNames: names,
          }))(placeholders('p', attributes));
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      await untilProcessed(
        target,
        'DynamoDB BatchGetItem',
        keys.slice(i, i + BATCH_GET_LIMIT),
        async (pending) => {
          let result: BatchGetCommandOutput;
          try {
            result = await documents.send(
              new BatchGetCommand({
                RequestItems: {
                  [target.table]: {
                    Keys: pending,
                    ...projection,
                    ConsistentRead: true,
                  },
                },
              }),
            );
          } catch (error) {
            throw classifyAwsError(error, 'DynamoDB BatchGetItem', target.name);
          }
          found.push(...(result.Responses?.[target.table] ?? []));
          return result.UnprocessedKeys?.[target.table]?.Keys ?? [];
        },
      );
    }
    return found;
  };

  /**
   * Pages of the subject's items (read from the table itself), each projected to the key
   * attributes, the subject and timestamp attributes, and `extra` (every attribute when 'all');
   * filtered by `olderThan`.
   */
  async function* findItems(
    target: DynamoDbItemsTarget,
    invocation: Pick<ConnectorInvocation, 'subjectId' | 'address'>,
    olderThan: Date | undefined,
    extra: readonly string[] | 'all',
    /** A dry run's: once aborted, no further page is read, and `cut` says one was left. */
    stop?: ListingStop,
  ): AsyncGenerator<Item[]> {
    const wanted: readonly string[] | 'all' =
      extra === 'all'
        ? 'all'
        : unique([...target.keyAttributes, target.subjectAttribute, target.timestampAttribute, ...extra]);
    const viaIndex = target.indexName !== undefined;
    // Through a GSI only the table keys are needed: the values come from the table afterwards.
    const projected = viaIndex ? unique([...target.keyAttributes]) : wanted;
    const { refs, names } = projected === 'all' ? { refs: [], names: {} } : placeholders('p', projected);
    // The subject id, or the one identifier value (an e-mail) this unit of work finds items by.
    const value = addressedValue(invocation);
    const keep = (item: Item): boolean => {
      if (item[target.subjectAttribute] !== value) return false;
      if (olderThan === undefined || target.timestampAttribute === undefined) return true;
      const at = item[target.timestampAttribute];
      return typeof at === 'string' && Date.parse(at) < olderThan.getTime();
    };
    let startKey: Record<string, unknown> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await documents.send(
          new QueryCommand({
            TableName: target.table,
            IndexName: target.indexName,
            KeyConditionExpression: '#subject = :subject',
            ProjectionExpression: refs.length === 0 ? undefined : refs.join(', '),
            ExpressionAttributeNames: { ...names, '#subject': target.subjectAttribute },
            ExpressionAttributeValues: { ':subject': value },
            // GSIs do not support consistent reads; their results are re-read below.
            ConsistentRead: viaIndex ? undefined : true,
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, 'DynamoDB Query', target.name);
      }
      const items = page.Items ?? [];
      const current = viaIndex
        ? await batchGet(
            target,
            items.map((item) => keyOf(target, item)),
            wanted,
          )
        : items;
      yield current.filter(keep);
      startKey = page.LastEvaluatedKey;
      if (startKey !== undefined && stopsBeforeNextPage(stop)) return;
    } while (startKey !== undefined);
  }

  const deleteKeys = async (target: DynamoDbItemsTarget, keys: Item[]): Promise<void> => {
    await untilProcessed<BatchWriteWriteRequest>(
      target,
      'DynamoDB BatchWriteItem',
      keys.map((Key) => ({ DeleteRequest: { Key } })),
      async (pending) => {
        let result: BatchWriteCommandOutput;
        try {
          result = await documents.send(new BatchWriteCommand({ RequestItems: { [target.table]: pending } }));
        } catch (error) {
          throw classifyAwsError(error, 'DynamoDB BatchWriteItem', target.name);
        }
        return result.UnprocessedItems?.[target.table] ?? [];
      },
    );
  };

  /**
   * UpdateItem on an existing item; false when the item is gone. The condition matters:
   * UpdateItem on a missing key would create a new item holding the subject's key values.
   */
  const update = async (
    target: DynamoDbItemsTarget,
    item: Item,
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<boolean> => {
    const partitionKey = target.keyAttributes[0] ?? target.subjectAttribute;
    try {
      await documents.send(
        new UpdateCommand({
          TableName: target.table,
          Key: keyOf(target, item),
          UpdateExpression: expression,
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: { ...names, '#pk': partitionKey },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (awsErrorName(error) === 'ConditionalCheckFailedException') return false;
      throw classifyAwsError(error, 'DynamoDB UpdateItem', target.name);
    }
  };

  const updateAll = async (
    target: DynamoDbItemsTarget,
    items: readonly Item[],
    expression: string,
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<number> => {
    let updated = 0;
    await forEachLimit(items, updateConcurrency, async (item) => {
      if (await update(target, item, expression, names, values)) updated++;
    });
    return updated;
  };

  const extraFor = (target: DynamoDbItemsTarget, action: RetentionAction): readonly string[] =>
    action === 'anonymise'
      ? (target.anonymiseAttributes ?? [])
      : action === 'restrict'
        ? [RESTRICTED_ATTRIBUTE]
        : [];

  /** Items of the subject in the table itself, counted by DynamoDB (no item is returned). */
  const countByTableKey = async (
    target: DynamoDbItemsTarget,
    subjectId: string,
    stop: ListingStop | undefined,
  ): Promise<number> => {
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      let page: QueryCommandOutput;
      try {
        page = await documents.send(
          new QueryCommand({
            TableName: target.table,
            KeyConditionExpression: '#subject = :subject',
            ExpressionAttributeNames: { '#subject': target.subjectAttribute },
            ExpressionAttributeValues: { ':subject': subjectId },
            Select: 'COUNT',
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw classifyAwsError(error, 'DynamoDB Query', target.name);
      }
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
      if (startKey !== undefined && stopsBeforeNextPage(stop)) break;
    } while (startKey !== undefined);
    return count;
  };

  return {
    kind: 'dynamodb-items',

    /**
     * A dry run: the items `execute` would delete, anonymise or restrict (each item it finds is
     * one it writes). Keyed by the subject, DynamoDB counts them (`Select: COUNT`, consistent);
     * through a GSI, or with `olderThan`, they are found exactly as `execute` finds them (GSI hits
     * re-read from the table, timestamps parsed), reading only their keys.
     */
    async preview(
      target: DynamoDbItemsTarget,
      invocation: ConnectorInvocation,
      { signal }: PreviewLimits = {},
    ): Promise<PreviewResult> {
      const olderThan = parseOlderThan(invocation.olderThan, target.name);
      validate(target, invocation.action, olderThan);
      // Once the dry run's time is up no further page is read: the count is then a lower bound.
      const stop = listingStop(signal);
      let count = 0;
      if (target.indexName === undefined && olderThan === undefined) {
        count = await countByTableKey(target, addressedValue(invocation), stop);
      } else {
        for await (const items of findItems(target, invocation, olderThan, [], stop)) count += items.length;
      }
      return { status: 'counted', count, unit: 'items', ...(stop?.cut === true ? { partial: true } : {}) };
    },

    /** Every attribute of every item of the subject, read like `verify` reads (GSI hits re-read). */
    async export(target: DynamoDbItemsTarget, invocation: ExportInvocation): Promise<ExportedRecords> {
      validate(target, 'export', undefined);
      const records: Item[] = [];
      for await (const items of findItems(target, invocation, undefined, 'all')) {
        for (const item of items) {
          if (records.length >= exportMaxItems) return { records, truncated: true };
          records.push(jsonSafe(item));
        }
      }
      return { records, truncated: false };
    },

    async execute(target: DynamoDbItemsTarget, invocation: ConnectorInvocation): Promise<ConnectorOutcome> {
      const olderThan = parseOlderThan(invocation.olderThan, target.name);
      validate(target, invocation.action, olderThan);
      let affected = 0;

      if (invocation.action === 'delete') {
        let buffer: Item[] = [];
        // Full batches of a page go out at once (`deleteConcurrency` in flight); a partial one
        // waits for the next page, so every call but the last carries 25 keys.
        const flush = async (all: boolean) => {
          const batches: Item[][] = [];
          while (buffer.length >= BATCH_WRITE_LIMIT || (all && buffer.length > 0)) {
            batches.push(buffer.slice(0, BATCH_WRITE_LIMIT));
            buffer = buffer.slice(BATCH_WRITE_LIMIT);
          }
          await forEachLimit(batches, deleteConcurrency, async (batch) => {
            await deleteKeys(target, batch);
            affected += batch.length;
          });
        };
        for await (const items of findItems(target, invocation, olderThan, [])) {
          buffer.push(...items.map((item) => keyOf(target, item)));
          await flush(false);
        }
        await flush(true);
        return { status: 'done', affectedCount: affected };
      }

      let expression: string;
      let names: Record<string, string>;
      let values: Record<string, unknown>;
      if (invocation.action === 'anonymise') {
        const attributes = placeholders('a', target.anonymiseAttributes ?? []);
        expression = `SET ${attributes.refs.map((ref) => `${ref} = :marker`).join(', ')}`;
        names = attributes.names;
        values = { ':marker': ANONYMISED_MARKER };
      } else {
        // if_not_exists keeps the first restriction time when the task runs again.
        expression = 'SET #restricted = :true, #restrictedAt = if_not_exists(#restrictedAt, :now)';
        names = { '#restricted': RESTRICTED_ATTRIBUTE, '#restrictedAt': RESTRICTED_AT_ATTRIBUTE };
        values = { ':true': true, ':now': now().toISOString() };
      }
      for await (const items of findItems(target, invocation, olderThan, [])) {
        affected += await updateAll(target, items, expression, names, values);
      }
      return { status: 'done', affectedCount: affected };
    },

    /**
     * A rolling-window run across every subject: each partition of the time-ordered GSI is queried
     * for `timestamp < latest cut-off` (so the reads grow with what expired), each item checked
     * against its subject's cut-off and holds, and the rest deleted in BatchWriteItem calls of 25.
     * The verification read after it walks each partition from its oldest item: it gives the
     * oldest item left and counts what is past its cut-off yet not held, each re-read from the
     * table (consistent) because a GSI may still list items just deleted.
     */
    async expire(target: DynamoDbItemsTarget, invocation: WindowInvocation): Promise<WindowOutcome> {
      const index = validateWindow(target);
      const upTo = listingCutoff(invocation);
      const excluded = new Set(invocation.excludedSubjects);
      const projection = placeholders(
        'p',
        unique([...target.keyAttributes, target.subjectAttribute, index.timestamp]),
      );
      const names = { ...projection.names, '#part': index.partitionAttribute, '#ts': index.timestamp };
      /** 'erase', 'held' or 'keep' for an item of the index. */
      const verdict = (item: Item): 'erase' | 'held' | 'keep' => {
        const at = item[index.timestamp];
        const subject = item[target.subjectAttribute];
        if (typeof at !== 'string' || typeof subject !== 'string') return 'keep';
        if (at >= cutoffFor(invocation, subject)) return 'keep';
        return excluded.has(subject) ? 'held' : 'erase';
      };
      const query = async (
        partition: string,
        startKey: Item | undefined,
        bounded: boolean,
        limit?: number,
      ) => {
        try {
          return await documents.send(
            new QueryCommand({
              TableName: target.table,
              IndexName: index.indexName,
              KeyConditionExpression: bounded ? '#part = :part AND #ts < :upTo' : '#part = :part',
              ProjectionExpression: projection.refs.join(', '),
              ExpressionAttributeNames: bounded
                ? names
                : { ...projection.names, '#part': index.partitionAttribute },
              ExpressionAttributeValues: bounded
                ? { ':part': partition, ':upTo': upTo }
                : { ':part': partition },
              ScanIndexForward: true,
              ExclusiveStartKey: startKey,
              ...(limit === undefined ? {} : { Limit: limit }),
            }),
          );
        } catch (error) {
          throw classifyAwsError(error, 'DynamoDB Query', target.name);
        }
      };

      let erased = 0;
      let held = 0;
      for (const partition of index.partitions) {
        let buffer: Item[] = [];
        let startKey: Item | undefined;
        do {
          const page = await query(partition, startKey, true);
          for (const item of page.Items ?? []) {
            const decided = verdict(item);
            if (decided === 'held') held++;
            if (decided === 'erase') buffer.push(keyOf(target, item));
          }
          while (buffer.length >= BATCH_WRITE_LIMIT) {
            await deleteKeys(target, buffer.slice(0, BATCH_WRITE_LIMIT));
            erased += BATCH_WRITE_LIMIT;
            buffer = buffer.slice(BATCH_WRITE_LIMIT);
          }
          startKey = page.LastEvaluatedKey;
        } while (startKey !== undefined);
        if (buffer.length > 0) {
          await deleteKeys(target, buffer);
          erased += buffer.length;
        }
      }

      // Verification: from the oldest item of each partition up to the first one past every cut-off.
      let remainingExpired = 0;
      let oldest: string | undefined;
      for (const partition of index.partitions) {
        let startKey: Item | undefined;
        let oldestHere: string | undefined;
        let pastCutoff = false;
        do {
          const page = await query(partition, startKey, false, VERIFY_PAGE);
          const items = page.Items ?? [];
          const expired = items.filter((item) => verdict(item) === 'erase');
          const wanted = oldestHere === undefined ? items : expired;
          const present =
            wanted.length === 0
              ? []
              : await batchGet(
                  target,
                  wanted.map((item) => keyOf(target, item)),
                  unique([...target.keyAttributes, target.subjectAttribute, index.timestamp]),
                );
          const timestamps = present
            .map((item) => item[index.timestamp])
            .filter((at): at is string => typeof at === 'string')
            .sort();
          if (oldestHere === undefined && timestamps[0] !== undefined) oldestHere = timestamps[0];
          remainingExpired += present.filter((item) => verdict(item) === 'erase').length;
          const last = items.at(-1)?.[index.timestamp];
          pastCutoff = typeof last === 'string' && last >= upTo;
          startKey = page.LastEvaluatedKey;
        } while (startKey !== undefined && (oldestHere === undefined || !pastCutoff));
        if (oldestHere !== undefined && (oldest === undefined || oldestHere < oldest)) oldest = oldestHere;
      }
      return {
        erased,
        held,
        remainingExpired,
        ...(oldest === undefined ? {} : { oldestRemainingAt: oldest }),
      };
    },

    async verify(target: DynamoDbItemsTarget, invocation: ConnectorInvocation): Promise<VerificationResult> {
      const olderThan = parseOlderThan(invocation.olderThan, target.name);
      validate(target, invocation.action, olderThan);
      const anonymised = (item: Item) =>
        (target.anonymiseAttributes ?? []).every((attribute) => item[attribute] === ANONYMISED_MARKER);
      const done: (item: Item) => boolean =
        invocation.action === 'delete'
          ? () => false
          : invocation.action === 'anonymise'
            ? anonymised
            : (item) => item[RESTRICTED_ATTRIBUTE] === true;
      let remaining = 0;
      for await (const items of findItems(
        target,
        invocation,
        olderThan,
        extraFor(target, invocation.action),
      )) {
        remaining += items.filter((item) => !done(item)).length;
      }
      if (remaining === 0) return { verified: true };
      const state = { delete: 'still present', anonymise: 'not anonymised', restrict: 'not restricted' };
      return {
        verified: false,
        remaining,
        detail: `${remaining} item(s) ${state[invocation.action]} in the table of target '${target.name}'`,
      };
    },
  };
};
