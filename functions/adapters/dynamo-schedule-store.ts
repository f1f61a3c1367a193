import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { pseudonymise } from '../../domain/audit/index.js';
import type {
  Change,
  DueItem,
  RecordedEvent,
  ScheduleStore,
  StoredSchedule,
} from '../../domain/ports/index.js';
import { dueBucket, dueKey } from '../../domain/schedule/buckets.js';
import type { ScheduleDecision, ScheduleEntry, SubjectSchedule } from '../../domain/schedule/types.js';
import type { SweepRun } from '../../domain/schedule/watermark.js';
import type { SubjectWindow } from '../../domain/schedule/windows.js';

import { isConditionFailure, queryAll, type TransactItem } from './dynamo-helpers.js';

const META_SK = '#meta';
const classSk = (dataClass: string) => `class#${dataClass}`;
const noticeSk = (dataClass: string) => `notice#${dataClass}`;
const eventSk = (eventId: string) => `event#${eventId}`;
const SWEEP_KEY = { pk: '#sweep', sk: '#state' };
/** The last slot of each window run, one item per (data class, target). */
const windowRunKey = (dataClass: string, target: string) => ({
  pk: '#window-run',
  sk: `${dataClass}#${target}`,
});
/** Subjects whose rolling window differs from their policy's, one partition per data class. */
const windowPk = (dataClass: string) => `window#${dataClass}`;

export type ScheduleChange = Extract<
  Change,
  { kind: 'schedule.save' | 'schedule.claim' | 'schedule.replace' | 'notice.sent' | 'window.run' }
>;
export const SCHEDULE_CHANGE_KINDS: readonly ScheduleChange['kind'][] = [
  'schedule.save',
  'schedule.claim',
  'schedule.replace',
  'notice.sent',
  'window.run',
];

/** An item of the due index as the domain knows it: a notice or an entry. */
export const dueItemOf = (item: Record<string, unknown>): DueItem =>
  String(item.sk).startsWith('notice#')
    ? {
        kind: 'notice',
        subjectId: String(item.subjectId),
        dataClass: String(item.dataClass),
        noticeAt: String(item.noticeAt),
        dueAt: String(item.dueAt),
        ruleRef: String(item.ruleRef),
      }
    : { kind: 'entry', entry: item.entry as ScheduleEntry };

export class DynamoScheduleStore implements ScheduleStore {
  /** The table's key, which identifies an item this store writes (see `assertOneOperationPerItem`). */
  readonly keyAttributes: readonly string[] = ['pk', 'sk'];
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly shards: number,
    /** Keys the partition of a subject: the table never holds a raw id in a key. */
    private readonly pseudonymKey: string,
  ) {}

  private subjectPk(subjectId: string): string {
    return `subject#${pseudonymise(this.pseudonymKey, subjectId)}`;
  }

  async load(subjectId: string): Promise<StoredSchedule> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND sk < :eventPrefix',
      ExpressionAttributeValues: { ':pk': this.subjectPk(subjectId), ':eventPrefix': 'd' },
      ConsistentRead: true,
    });
    const meta = items.find((item) => item.sk === META_SK);
    const entries = items
      .filter((item) => String(item.sk).startsWith('class#'))
      // Only pending and blocked entries keep the raw id (the sweep needs it); the caller knows it.
      .map((item) => ({ ...(item.entry as ScheduleEntry), subjectId }));
    return {
      version: meta === undefined ? 0 : Number(meta.version),
      schedule: {
        subjectId,
        entries,
        ...(meta?.unpaidInvoiceSince === undefined
          ? {}
          : { unpaidInvoiceSince: String(meta.unpaidInvoiceSince) }),
        ...(meta?.lastInvoiceEvent === undefined
          ? {}
          : { lastInvoiceEvent: meta.lastInvoiceEvent as SubjectSchedule['lastInvoiceEvent'] }),
      },
    };
  }

  async recordedEvent(subjectId: string, eventId: string): Promise<RecordedEvent | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: this.subjectPk(subjectId), sk: eventSk(eventId) },
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : { eventId, decisions: Item.decisions as ScheduleDecision[] };
  }

  async lastWindowRun(dataClass: string, target: string): Promise<string | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: windowRunKey(dataClass, target),
        ConsistentRead: true,
      }),
    );
    return Item?.slot === undefined ? undefined : String(Item.slot);
  }

  async subjectWindows(dataClass: string): Promise<SubjectWindow[]> {
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': windowPk(dataClass) },
      ConsistentRead: true,
    });
    return items.map((item) => ({ subjectId: String(item.subjectId), window: String(item.window) }));
  }

  /**
   * The per-subject window item of an entry that changed from `before`: put while the entry is
   * windowed with a window of its own, deleted when it had one and no longer has.
   */
  private windowWrite(entry: ScheduleEntry, before: ScheduleEntry | undefined): TransactItem | undefined {
    const key = { pk: windowPk(entry.dataClass), sk: pseudonymise(this.pseudonymKey, entry.subjectId) };
    if (entry.status === 'windowed' && entry.subjectWindow !== undefined) {
      if (before?.status === 'windowed' && before.subjectWindow === entry.subjectWindow) return undefined;
      return {
        Put: {
          TableName: this.tableName,
          Item: { ...key, subjectId: entry.subjectId, window: entry.subjectWindow },
        },
      };
    }
    if (before?.subjectWindow === undefined) return undefined;
    return { Delete: { TableName: this.tableName, Key: key } };
  }

  /** Due deletions and notices in one bucket whose due time is at or before `now`. */
  async queryDue(bucket: string, now: string): Promise<DueItem[]> {
    const due: DueItem[] = [];
    const items = await queryAll(this.documents, {
      TableName: this.tableName,
      IndexName: 'byDueBucket',
      KeyConditionExpression: 'dueBucket = :bucket AND dueKey <= :upTo',
      ExpressionAttributeValues: { ':bucket': bucket, ':upTo': `${now}#\uffff` },
    });
    due.push(...items.map(dueItemOf));
    return due;
  }

  /** One key-only item at most: enough to know whether the coordinator sends the bucket to a shard. */
  async hasDue(bucket: string, now: string): Promise<boolean> {
    const { Items } = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: 'byDueBucket',
        KeyConditionExpression: 'dueBucket = :bucket AND dueKey <= :upTo',
        ExpressionAttributeValues: { ':bucket': bucket, ':upTo': `${now}#\uffff` },
        ProjectionExpression: 'dueKey',
        Limit: 1,
      }),
    );
    return (Items ?? []).length > 0;
  }

  /** The latest run, kept on the sweep's state item next to the watermark. */
  async sweepRun(): Promise<SweepRun | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: SWEEP_KEY, ConsistentRead: true }),
    );
    if (Item?.runId === undefined) return undefined;
    const pending = Item.pending instanceof Set ? [...(Item.pending as Set<string>)] : [];
    return {
      runId: String(Item.runId),
      now: String(Item.runNow),
      clockNow: String(Item.runClockNow),
      pending: pending.sort(),
    };
  }

  /** Replaces the run (never the watermark); an empty set cannot be stored, so no buckets: no `pending`. */
  async startSweepRun(run: SweepRun): Promise<void> {
    const values: Record<string, unknown> = {
      ':runId': run.runId,
      ':now': run.now,
      ':clockNow': run.clockNow,
    };
    if (run.pending.length > 0) values[':pending'] = new Set(run.pending);
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: SWEEP_KEY,
        UpdateExpression:
          run.pending.length > 0
            ? 'SET runId = :runId, runNow = :now, runClockNow = :clockNow, pending = :pending'
            : 'SET runId = :runId, runNow = :now, runClockNow = :clockNow REMOVE pending',
        ExpressionAttributeValues: values,
      }),
    );
  }

  /** Removes the bucket from its run's set; a shard of a run a newer one replaced changes nothing. */
  async acknowledgeShard(runId: string, bucket: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: SWEEP_KEY,
          UpdateExpression: 'DELETE pending :bucket',
          ConditionExpression: 'runId = :runId',
          ExpressionAttributeValues: { ':bucket': new Set([bucket]), ':runId': runId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** The conditional transaction items that write `change`. */
  itemsFor(change: ScheduleChange): TransactItem[] {
    switch (change.kind) {
      case 'schedule.save':
        return this.saveItems(change);
      case 'schedule.claim':
        return this.withWindow(this.claimItems(change.expected, change.next, change.at), change);
      case 'window.run':
        return [
          {
            Put: {
              TableName: this.tableName,
              Item: { ...windowRunKey(change.dataClass, change.target), slot: change.slot, at: change.at },
              ConditionExpression: 'attribute_not_exists(slot) OR slot < :slot',
              ExpressionAttributeValues: { ':slot': change.slot },
            },
          },
        ];
      case 'schedule.replace':
        return this.withWindow(
          [
            ...this.noticeEnded(change.next, change.at),
            {
              Put: {
                TableName: this.tableName,
                Item: this.entryItem(change.next, change.at, change.retryAt),
                // The sweep judges entries as the due index holds them, which can lag: the last
                // event pins the exact version judged.
                ConditionExpression:
                  '#entry.#status = :status AND #entry.dueAt = :dueAt AND #entry.lastEvent.eventId = :eventId',
                ExpressionAttributeNames: { '#entry': 'entry', '#status': 'status' },
                ExpressionAttributeValues: {
                  ':status': change.expected.status,
                  ':dueAt': change.expected.dueAt,
                  ':eventId': change.expected.lastEvent.eventId,
                },
              },
            },
          ],
          change,
        );
      case 'notice.sent':
        return [
          {
            Update: {
              TableName: this.tableName,
              Key: { pk: this.subjectPk(change.subjectId), sk: noticeSk(change.dataClass) },
              UpdateExpression:
                'SET sentAt = if_not_exists(sentAt, :sentAt) REMOVE dueBucket, dueKey, subjectId',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':sentAt': change.at },
            },
          },
        ];
    }
  }

  private withWindow(
    items: TransactItem[],
    change: { readonly expected: ScheduleEntry; readonly next: ScheduleEntry },
  ): TransactItem[] {
    const window = this.windowWrite(change.next, change.expected);
    return window === undefined ? items : [...items, window];
  }

  /**
   * The schedule that `decide` produced, the entries it changed and the event's answer, guarded by
   * the version read in `load`: a concurrent event for the same subject fails the commit and the
   * caller decides again on fresh state.
   */
  private saveItems(change: Extract<ScheduleChange, { kind: 'schedule.save' }>): TransactItem[] {
    const { previous, next, event, at: now } = change;
    const changed = next.entries.filter((entry) => {
      const before = previous.schedule.entries.find((candidate) => candidate.dataClass === entry.dataClass);
      return before === undefined || JSON.stringify(before) !== JSON.stringify(entry);
    });
    const pk = this.subjectPk(next.subjectId);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            pk,
            sk: META_SK,
            version: previous.version + 1,
            ...(next.unpaidInvoiceSince === undefined ? {} : { unpaidInvoiceSince: next.unpaidInvoiceSince }),
            ...(next.lastInvoiceEvent === undefined ? {} : { lastInvoiceEvent: next.lastInvoiceEvent }),
          },
          ConditionExpression: previous.version === 0 ? 'attribute_not_exists(pk)' : 'version = :version',
          ...(previous.version === 0 ? {} : { ExpressionAttributeValues: { ':version': previous.version } }),
        },
      },
      {
        Put: {
          TableName: this.tableName,
          Item: { pk, sk: eventSk(event.eventId), decisions: event.decisions, recordedAt: now },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    for (const entry of changed) {
      items.push({ Put: { TableName: this.tableName, Item: this.entryItem(entry, now) } });
      const before = previous.schedule.entries.find((candidate) => candidate.dataClass === entry.dataClass);
      // An entry that only records a newer event keeps its notice item as it is: rewriting it
      // would put a notice already sent back into the due index, and it would be sent again.
      const sameNotice =
        before !== undefined &&
        before.status === entry.status &&
        before.dueAt === entry.dueAt &&
        before.noticeAt === entry.noticeAt;
      const notice = sameNotice ? undefined : this.noticeWrite(entry, now);
      if (notice !== undefined) items.push(notice);
      const window = this.windowWrite(entry, before);
      if (window !== undefined) items.push(window);
    }
    return items;
  }

  /**
   * An entry that will not run again (dispatched, cancelled) ends its notice too: the notice item
   * leaves the due index and forgets the subject, sent or not (one whose delivery kept failing would
   * otherwise keep the id once the watermark passed it). Unconditional: `load` ignores notice items.
   */
  private noticeEnded(next: ScheduleEntry, now: string): TransactItem[] {
    if (next.status === 'pending' || next.status === 'blocked') return [];
    const notice = this.noticeWrite(next, now);
    return notice === undefined ? [] : [notice];
  }

  private claimItems(expected: ScheduleEntry, next: ScheduleEntry, now: string): TransactItem[] {
    return [
      ...this.noticeEnded(next, now),
      {
        Put: {
          TableName: this.tableName,
          Item: this.entryItem(next, now),
          ConditionExpression:
            '#entry.#status = :status AND #entry.dueAt = :dueAt AND #entry.lastEvent.eventId = :eventId',
          ExpressionAttributeNames: { '#entry': 'entry', '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': expected.status,
            ':dueAt': expected.dueAt,
            ':eventId': expected.lastEvent.eventId,
          },
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: { pk: this.subjectPk(expected.subjectId), sk: META_SK },
          UpdateExpression: 'ADD version :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ];
  }

  async sweepWatermark(): Promise<string | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: SWEEP_KEY, ConsistentRead: true }),
    );
    return Item?.watermark === undefined ? undefined : String(Item.watermark);
  }

  /** Only moves forward, so an older sweep finishing late cannot rewind it. */
  async advanceWatermark(month: string): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...SWEEP_KEY, watermark: month },
          ConditionExpression: 'attribute_not_exists(watermark) OR watermark < :month',
          ExpressionAttributeValues: { ':month': month },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * The stored form of an entry. Pending entries (and blocked ones with a retry time) carry the
   * due-index keys; an entry due in the past is indexed under `now` so it cannot hide behind the
   * sweep watermark.
   */
  private entryItem(entry: ScheduleEntry, now: string, retryAt?: string): Record<string, unknown> {
    // Data minimisation: only an entry that may still run keeps the subject id; a cancelled or
    // dispatched one is a tombstone for event ordering and needs no identity.
    const { subjectId: _subjectId, identifiers: _identifiers, ...anonymous } = entry;
    const keepsId = entry.status === 'pending' || entry.status === 'blocked';
    const base = {
      pk: this.subjectPk(entry.subjectId),
      sk: classSk(entry.dataClass),
      ...(keepsId ? { subjectId: entry.subjectId } : {}),
      dataClass: entry.dataClass,
      entry: keepsId ? entry : anonymous,
    };
    const indexAt =
      entry.status === 'pending' ? entry.dueAt : entry.status === 'blocked' ? retryAt : undefined;
    if (indexAt === undefined) return base;
    const at = indexAt < now ? now : indexAt;
    return {
      ...base,
      dueBucket: dueBucket(at, entry.subjectId, this.shards),
      dueKey: dueKey(at, entry.subjectId, entry.dataClass),
    };
  }

  /** Classes without advance notice never get a notice item. */
  private noticeWrite(entry: ScheduleEntry, now: string): TransactItem | undefined {
    if (entry.noticeAt === undefined) return undefined;
    const key = { pk: this.subjectPk(entry.subjectId), sk: noticeSk(entry.dataClass) };
    if (entry.status !== 'pending') {
      return {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'REMOVE dueBucket, dueKey, subjectId SET cancelledAt = :now',
          ExpressionAttributeValues: { ':now': now },
        },
      };
    }
    const at = entry.noticeAt < now ? now : entry.noticeAt;
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...key,
          subjectId: entry.subjectId,
          dataClass: entry.dataClass,
          noticeAt: entry.noticeAt,
          dueAt: entry.dueAt,
          ruleRef: entry.ruleRef,
          dueBucket: dueBucket(at, entry.subjectId, this.shards),
          dueKey: dueKey(at, entry.subjectId, entry.dataClass),
        },
      },
    };
  }
}
