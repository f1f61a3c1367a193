/**
 * The identifier resolver of a deployment (`identifierResolver` in its config): where intake looks
 * up a subject's identifiers instead of (or besides) being sent them.
 */

/**
 * A DynamoDB table with one item per subject, keyed by the subject id (`keyAttribute`), whose
 * `attributes` hold its identifiers: `{ "email": "email", "deviceId": "devices" }` maps the declared
 * identifier `deviceId` to the item's `devices` attribute (a string, a string set or a list of
 * strings). A subject without an item has no identifiers to resolve.
 */
export interface DynamoDbLookupResolver {
  readonly name: string;
  readonly kind: 'dynamodb-lookup';
  /** A table name in this account and region, or a table ARN. */
  readonly table: string;
  readonly keyAttribute: string;
  /** Declared identifier → the item attribute holding its value(s). */
  readonly attributes: Readonly<Record<string, string>>;
}

/**
 * A service asked by a signed POST (signed like the http-webhook connector's requests):
 * `{ "action": "resolve", "subjectId", "requestId" }`, answered 200 with
 * `{ "identifiers": { "email": "...", "deviceId": ["...", "..."] } }`.
 */
export interface HttpWebhookResolver {
  readonly name: string;
  readonly kind: 'http-webhook';
  readonly url: string;
  readonly signingSecretName: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export type IdentifierResolverConfig = DynamoDbLookupResolver | HttpWebhookResolver;

/** The identifier names a resolver can return (a webhook may return any declared one). */
export const resolverIdentifiers = (resolver: IdentifierResolverConfig): readonly string[] | undefined =>
  resolver.kind === 'dynamodb-lookup' ? Object.keys(resolver.attributes) : undefined;
