export * from './catalog.js';
export * from './config.js';
export {
  BLOCKER_KINDS,
  ConnectorTargetSchema,
  DataClassPolicySchema,
  DeploymentConfigSchema,
  DynamoDbItemsTargetSchema,
  HttpWebhookTargetSchema,
  isRollingWindow,
  PolicyCatalogSchema,
  parseCatalog,
  RETENTION_ACTIONS,
  S3PrefixTargetSchema,
  TARGET_ACTIONS,
  targetMismatch,
} from './schema.js';
export type * from './types.js';
