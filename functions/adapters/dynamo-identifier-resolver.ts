import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { ResolverError } from '../../domain/errors.js';
import type { DynamoDbLookupResolver } from '../../domain/identifiers/resolver.js';
import type { IdentifierResolver } from '../../domain/ports/index.js';

const values = (value: unknown): unknown =>
  // The document client reads a string set (SS) as a Set; a list (L) is already an array.
  value instanceof Set ? [...value] : value;

/**
 * A lookup table with one item per subject, keyed by its subject id: GetItem of the mapped
 * attributes only (nothing else of the item is read), each returned under its identifier's name.
 * No item: the subject has no identifiers to resolve. A failed read is a retryable `ResolverError`
 * naming the resolver (the SDK's message, which may quote the key, is kept as its cause only).
 */
export const dynamoIdentifierResolver = (
  documents: DynamoDBDocumentClient,
  resolver: DynamoDbLookupResolver,
): IdentifierResolver => {
  const names = Object.entries(resolver.attributes);
  const placeholders = names.map((_, index) => `#a${index}`);
  return {
    name: resolver.name,
    resolve: async ({ subjectId }) => {
      let item: Record<string, unknown> | undefined;
      try {
        ({ Item: item } = await documents.send(
          new GetCommand({
            TableName: resolver.table,
            Key: { [resolver.keyAttribute]: subjectId },
            // An identity just written (a device registered a moment ago) must be seen.
            ConsistentRead: true,
            ProjectionExpression: placeholders.join(', '),
            ExpressionAttributeNames: Object.fromEntries(
              names.map(([, attribute], index) => [placeholders[index], attribute]),
            ),
          }),
        ));
      } catch (error) {
        throw new ResolverError(
          `Identifier resolver '${resolver.name}' could not read its lookup table (${error instanceof Error ? error.name : 'error'})`,
          resolver.name,
          true,
          { cause: error },
        );
      }
      if (item === undefined) return {};
      const found: Record<string, unknown> = {};
      for (const [name, attribute] of names) {
        if (item[attribute] !== undefined) found[name] = values(item[attribute]);
      }
      return found;
    },
  };
};
