import { Construct } from 'constructs';
import type { ErasureOrchestratorConfig } from './config-input.js';
import { OrchestratorData } from './orchestrator-data.js';
import {
  OrchestratorRuntime,
  type OrchestratorRuntimeOptions,
  resolveOptions,
} from './orchestrator-runtime.js';

export interface ErasureOrchestratorProps extends OrchestratorRuntimeOptions {
  /**
   * Your policy catalog and the systems its target names point at: your buckets and tables (as
   * constructs of this app, tokens, names, or for tables ARNs) and webhook URLs (literal or tokens).
   * Validated at synth time (every invalid field is listed, with an example of a good value) and
   * deployed with the functions: changing it means a redeploy. The worker's and the exports' grants
   * are derived from it.
   */
  readonly config: ErasureOrchestratorConfig;
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
