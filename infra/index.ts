/** The construct library: deploy the orchestrator inside your own CDK app with your catalog and targets. */
export type {
  ConnectorTarget,
  DynamoDbItemsTarget,
  HttpWebhookTarget,
  S3PrefixTarget,
} from '../domain/connectors/types.js';
export type {
  DataClassPolicy,
  DeploymentConfig,
  PolicyCatalog,
  RetentionAction,
} from '../domain/policy/types.js';
export type {
  BucketReference,
  ConnectorTargetInput,
  DataClassPolicyInput,
  DynamoDbItemsTargetInput,
  ErasureOrchestratorConfig,
  HttpWebhookTargetInput,
  PolicyCatalogInput,
  S3PrefixTargetInput,
  TableReference,
} from './constructs/config-input.js';
export {
  type CheckedConfig,
  ConfigurationError,
  checkConfig,
  DeploymentConfigError,
  OrchestratorPropsError,
} from './constructs/config-validation.js';
export {
  ConnectorExportPolicy,
  type ConnectorExportPolicyProps,
  ConnectorTargetsPolicy,
  type ConnectorTargetsPolicyProps,
} from './constructs/connector-permissions.js';
export { FUNCTION_TABLE_ACCESS, type TableAccess } from './constructs/data-access.js';
export { ErasureApi, type ErasureApiProps } from './constructs/erasure-api.js';
export { ErasureOrchestrator, type ErasureOrchestratorProps } from './constructs/erasure-orchestrator.js';
export {
  METRICS,
  OrchestratorAlarms,
  type OrchestratorAlarmsProps,
} from './constructs/orchestrator-alarms.js';
export {
  OrchestratorData,
  type OrchestratorDataProps,
  type OrchestratorDataRefs,
} from './constructs/orchestrator-data.js';
export { OrchestratorFunction, type OrchestratorFunctionProps } from './constructs/orchestrator-function.js';
export {
  DEFAULTS,
  OrchestratorRuntime,
  type OrchestratorRuntimeOptions,
  type OrchestratorRuntimeProps,
} from './constructs/orchestrator-runtime.js';
export { TaskQueue, type TaskQueueProps } from './constructs/task-queue.js';
export { DataStack, type DataStackProps } from './stacks/data-stack.js';
export { addErasureStacks, type ErasureAppOptions, readConfigFile } from './stacks/erasure-app.js';
export { WorkerStack, type WorkerStackProps } from './stacks/worker-stack.js';
