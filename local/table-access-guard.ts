/**
 * Holds the local runtime's functions to their IAM grants on the orchestrator's tables: the access
 * functions/manifest.ts gives each (the grants infra/constructs/data-access.ts makes). The
 * emulators check no permissions, so without this a function that writes a table it may only
 * read works here and fails once deployed. The functions share one DynamoDB client here (tests
 * inject faults into it), so the guard knows the caller from the handler it runs in (`asFunction`);
 * calls from outside a handler (setup, seeding, tests), and tables that are not the orchestrator's
 * (the demo stores the connectors erase), are left alone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  FUNCTIONS,
  type FunctionKey,
  TABLE_ACCESS_ACTIONS,
  type TableAccess,
} from '../functions/manifest.js';
import type { TableKey } from '../infra/resources.js';

const running = new AsyncLocalStorage<FunctionKey>();

/** The function whose handler the current call runs in, if any (tests record calls by it). */
export const runningFunction = (): FunctionKey | undefined => running.getStore();

/** `handler` as the function `key` runs it: its DynamoDB calls are held to that function's grants. */
export const asFunction =
  <Args extends unknown[], Result>(key: FunctionKey, handler: (...args: Args) => Promise<Result>) =>
  (...args: Args): Promise<Result> =>
    running.run(key, () => handler(...args));

interface Operation {
  readonly TableName?: string;
}

/** The IAM action and table of each operation a command carries. */
const actionsOf = (command: string, input: Record<string, unknown>): [string, string][] => {
  const action = `dynamodb:${command.replace(/Command$/, '')}`;
  if (command === 'TransactWriteItemsCommand' || command === 'TransactGetItemsCommand') {
    // IAM authorises a transaction item by item, each as its own action.
    const items = (input.TransactItems ?? []) as Record<string, Operation>[];
    return items.flatMap((item) =>
      Object.entries(item).map(([kind, operation]): [string, string] => [
        `dynamodb:${kind === 'ConditionCheck' ? 'ConditionCheckItem' : `${kind}Item`}`,
        operation.TableName ?? '',
      ]),
    );
  }
  if (command === 'BatchWriteItemCommand' || command === 'BatchGetItemCommand') {
    return Object.keys((input.RequestItems ?? {}) as object).map((table): [string, string] => [
      action,
      table,
    ]);
  }
  return [[action, String(input.TableName ?? '')]];
};

/** What `key`'s role refuses of `action` on `table`, or undefined when it is allowed. */
const refusal = (key: FunctionKey, tableKey: TableKey, action: string): string | undefined => {
  const manifest = FUNCTIONS[key];
  const access = (manifest.tables as Partial<Record<TableKey, TableAccess>>)[tableKey];
  const scans: readonly TableKey[] = 'scans' in manifest ? manifest.scans : [];
  if (access !== undefined && TABLE_ACCESS_ACTIONS[access].includes(action)) return undefined;
  if (action === 'dynamodb:Scan' && scans.includes(tableKey)) return undefined;
  return `${key} is not authorized to perform: ${action} on table ${tableKey} (functions/manifest.ts gives it ${access ?? 'no access'})`;
};

/** Adds the guard to the client the functions share. */
export const guardTableAccess = (
  client: DynamoDBClient,
  tables: Readonly<Record<TableKey, string>>,
): void => {
  const keyOfTable = new Map(Object.entries(tables).map(([tableKey, name]) => [name, tableKey as TableKey]));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = running.getStore();
      if (key !== undefined) {
        for (const [action, table] of actionsOf(
          context.commandName ?? '',
          args.input as Record<string, unknown>,
        )) {
          const tableKey = keyOfTable.get(table);
          const refused = tableKey === undefined ? undefined : refusal(key, tableKey, action);
          if (refused !== undefined) {
            throw Object.assign(new Error(refused), {
              name: 'AccessDeniedException',
              $fault: 'client',
              $metadata: { httpStatusCode: 400 },
            });
          }
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'tableAccessGuard' },
  );
};
