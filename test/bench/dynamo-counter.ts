import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Requests and items of one operation on one table or index, e.g. `Query schedules/byDueBucket`. */
export interface OperationCount {
  requests: number;
  items: number;
  /** Summed wall time of the calls (client and emulator), milliseconds. */
  ms: number;
  /** Capacity units the emulator reported for the calls (read or write, by operation). */
  capacity: number;
}

/** What the counted DynamoDB client did since the last reset. */
export interface DynamoCounts {
  /** GetItem, Query, Scan, BatchGetItem, TransactGetItems. */
  readonly readRequests: number;
  /** Items those reads returned (for Query/Scan: ScannedCount, which is what DynamoDB reads and bills). */
  readonly itemsRead: number;
  /** Read capacity units the emulator reported (ReturnConsumedCapacity TOTAL); 0 if it reports none. */
  readonly readCapacityUnits: number;
  /** PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems. */
  readonly writeRequests: number;
  /** Write capacity units the emulator reported (transactional writes count double, as on AWS). */
  readonly writeCapacityUnits: number;
  /** Keyed `<Operation> <table>[/<index>]`. */
  readonly byOperation: ReadonlyMap<string, OperationCount>;
  /** Failed calls by error name (e.g. TransactionCanceledException: a lost optimistic-lock race). */
  readonly errors: ReadonlyMap<string, number>;
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

type Fields = Readonly<Record<string, unknown>>;
const fields = (value: unknown): Fields =>
  typeof value === 'object' && value !== null ? (value as Fields) : {};
const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const count = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

const capacityOf = (consumed: unknown): number =>
  Array.isArray(consumed)
    ? consumed.reduce<number>((sum, entry) => sum + (count(fields(entry).CapacityUnits) ?? 0), 0)
    : (count(fields(consumed).CapacityUnits) ?? 0);

const itemsOf = (operation: string, output: Fields): number => {
  switch (operation) {
    case 'GetItem':
      return output.Item === undefined ? 0 : 1;
    case 'Query':
    case 'Scan':
      return count(output.ScannedCount) ?? list(output.Items).length;
    case 'BatchGetItem':
      return Object.values(fields(output.Responses)).reduce<number>(
        (sum, items) => sum + list(items).length,
        0,
      );
    case 'TransactGetItems':
      return list(output.Responses).filter((response) => fields(response).Item !== undefined).length;
    default:
      return 0;
  }
};

/** The capacity of one table within a response (a transaction reports one entry per table). */
const capacityOfTable = (consumed: unknown, table: string, only: boolean): number => {
  if (only) return capacityOf(consumed);
  const entry = list(consumed).find((candidate) => text(fields(candidate).TableName) === table);
  return entry === undefined ? 0 : (count(fields(entry).CapacityUnits) ?? 0);
};

/** Tables (and indexes) a request addresses, for the per-operation breakdown. */
const tablesOf = (input: Fields): string[] => {
  const table = text(input.TableName);
  if (table !== undefined) {
    const index = text(input.IndexName);
    return [index === undefined ? table : `${table}/${index}`];
  }
  const requestItems = Object.keys(fields(input.RequestItems));
  if (requestItems.length > 0) return requestItems;
  const transactTables = list(input.TransactItems).flatMap((item) =>
    Object.values(fields(item)).flatMap((action) => {
      const name = text(fields(action).TableName);
      return name === undefined ? [] : [name];
    }),
  );
  return [...new Set(transactTables)];
};

/**
 * Counts the DynamoDB requests of a client, and of every DynamoDBDocumentClient made from it (they
 * share its middleware stack): one middleware in the `initialize` step, so SDK retries of one call
 * count once. Reads are sent with `ReturnConsumedCapacity: TOTAL` so capacity can be summed too.
 */
export class DynamoCounter {
  private readRequests = 0;
  private itemsRead = 0;
  private readCapacityUnits = 0;
  private writeRequests = 0;
  private writeCapacityUnits = 0;
  private byOperation = new Map<string, OperationCount>();
  private errors = new Map<string, number>();

  /** @param label maps a physical table name to the name shown in the breakdown. */
  constructor(private readonly label: (tableName: string) => string = (name) => name) {}

  attach(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const isRead = READS.has(operation);
        const isWrite = WRITES.has(operation);
        const input = fields(args.input);
        // Capacity is asked for on every read and write, so it can be summed (it changes no result).
        const sent =
          isRead || isWrite ? { ...args, input: { ...args.input, ReturnConsumedCapacity: 'TOTAL' } } : args;
        const start = performance.now();
        try {
          const result = await next(sent);
          const output = fields(result.output);
          const items = itemsOf(operation, output);
          const capacity = capacityOf(output.ConsumedCapacity);
          if (isRead) {
            this.readRequests++;
            this.itemsRead += items;
            this.readCapacityUnits += capacity;
          } else if (isWrite) {
            this.writeRequests++;
            this.writeCapacityUnits += capacity;
          }
          const tables = tablesOf(input);
          for (const table of tables) {
            const key = `${operation} ${this.label(table)}`;
            const current = this.byOperation.get(key) ?? { requests: 0, items: 0, ms: 0, capacity: 0 };
            current.requests++;
            current.items += items;
            current.ms += performance.now() - start;
            current.capacity += capacityOfTable(output.ConsumedCapacity, table, tables.length === 1);
            this.byOperation.set(key, current);
          }
          return result;
        } catch (error) {
          const name = error instanceof Error ? error.name : 'Unknown';
          this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
          throw error;
        }
      },
      { step: 'initialize', name: 'benchDynamoCounter', override: true },
    );
  }

  reset(): void {
    this.readRequests = 0;
    this.itemsRead = 0;
    this.readCapacityUnits = 0;
    this.writeRequests = 0;
    this.writeCapacityUnits = 0;
    this.byOperation = new Map();
    this.errors = new Map();
  }

  snapshot(): DynamoCounts {
    return {
      readRequests: this.readRequests,
      itemsRead: this.itemsRead,
      readCapacityUnits: this.readCapacityUnits,
      writeRequests: this.writeRequests,
      writeCapacityUnits: this.writeCapacityUnits,
      byOperation: new Map([...this.byOperation].map(([key, value]) => [key, { ...value }])),
      errors: new Map(this.errors),
    };
  }
}
