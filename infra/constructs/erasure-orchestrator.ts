import { Construct } from 'constructs';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { OrchestratorData } from './orchestrator-data.js';
import {
  OrchestratorRuntime,
  type OrchestratorRuntimeOptions,
  resolveOptions,
} from './orchestrator-runtime.js';

export interface ErasureOrchestratorProps extends OrchestratorRuntimeOptions {
  /**
   * Your policy catalog and the systems its target names point at (your buckets, tables and
   * webhook URLs). Validated at synth time (an invalid field throws an error naming it) and compiled
   * into the function bundles: changing it means a redeploy. A DynamoDB target names a table in
   * this stack's account and region; the grants also take a table ARN (another account or region,
   * whose resource policy must allow the worker role) once the domain schema accepts one.
   */
  readonly config: DeploymentConfig;
}

/**
 * The whole orchestrator in one construct: tables, key and secret (`data`, retained on removal)
 * and queues, functions, schedule, API and alarms (`runtime`). The app's DataStack and WorkerStack
 * are the same two parts in two stacks.
 *
 * ```ts
 * const erasure = new ErasureOrchestrator(this, 'Erasure', {
 *   config: readConfigFile('erasure-config.json'), // your catalog, buckets, tables, webhooks
 *   alarmTopic: opsTopic,
 * });
 * erasure.runtime.api.invokePolicies.service.attachToRole(checkoutServiceRole);
 * ```
 */
export class ErasureOrchestrator extends Construct {
  public readonly data: OrchestratorData;
  public readonly runtime: OrchestratorRuntime;

  constructor(scope: Construct, id: string, props: ErasureOrchestratorProps) {
    super(scope, id);
    // Checked before anything is created, so an invalid prop leaves no half-built tree behind.
    resolveOptions(props);
    this.data = new OrchestratorData(this, 'Data', { resourcePrefix: props.resourcePrefix });
    this.runtime = new OrchestratorRuntime(this, 'Runtime', { ...props, data: this.data });
  }
}
