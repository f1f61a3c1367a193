export * from './addressing.js';
export * from './catalog.js';
export * from './config.js';
export * from './examples.js';
export * from './lookup.js';
export * from './resolution.js';
export {
  BLOCKER_KINDS,
  DataClassPolicySchema,
  isRollingWindow,
  PolicyCatalogSchema,
  parseCatalog,
  RETENTION_ACTIONS,
} from './schema.js';
export {
  ConnectorTargetSchema,
  DynamoDbItemsTargetSchema,
  HttpWebhookTargetSchema,
  S3PrefixTargetSchema,
  TARGET_ACTIONS,
  targetMismatch,
} from './targets.js';
export type * from './types.js';
