import * as cdk from 'aws-cdk-lib';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { ErasureOrchestratorConfig } from '../constructs/config-input.js';
import type { OrchestratorDataRefs } from '../constructs/orchestrator-data.js';
import { OrchestratorRuntime, type OrchestratorRuntimeOptions } from '../constructs/orchestrator-runtime.js';

export interface WorkerStackProps extends StackProps, OrchestratorRuntimeOptions {
  readonly config: ErasureOrchestratorConfig;
  /** Tables, key and secret of the DataStack. */
  readonly data: OrchestratorDataRefs;
  /**
   * ARN of an existing SNS topic for the alarms (when `alarmTopic` is not given).
   * @default - alarms without actions
   */
  readonly alarmTopicArn?: string;
}

/** The stateless stack: queues, functions, sweep schedule, API and alarms. Safe to destroy and redeploy. */
export class WorkerStack extends Stack {
  public readonly runtime: OrchestratorRuntime;

  constructor(scope: Construct, id: string, props: WorkerStackProps) {
    super(scope, id, props);
    // Strong (CloudFormation exports): the DataStack cannot drop a table, the key or the secret
    // while this stack still uses it. Replacing one then takes two deploys, which suits resources
    // that hold evidence.
    // Older aws-cdk-lib versions have no CrossStackReferences (their references are always strong):
    // read from the namespace, so that a missing export is not a load error.
    (cdk as Partial<typeof cdk>).CrossStackReferences?.of(this).consume(cdk.ReferenceStrength.STRONG);
    const alarmTopic =
      props.alarmTopic ??
      (props.alarmTopicArn === undefined
        ? undefined
        : sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn));
    this.runtime = new OrchestratorRuntime(this, 'Runtime', { ...props, alarmTopic });

    const { api, taskQueue } = this.runtime;
    new CfnOutput(this, 'ApiUrl', { value: api.url });
    new CfnOutput(this, 'ServiceInvokePolicyArn', {
      value: api.invokePolicies.service.managedPolicyArn,
      description: "Attach to a product service's role to let it call the 'service' routes",
    });
    new CfnOutput(this, 'ComplianceInvokePolicyArn', {
      value: api.invokePolicies.compliance.managedPolicyArn,
      description: "Attach to the compliance team's role to let it call the 'compliance' routes",
    });
    new CfnOutput(this, 'TaskDeadLetterQueueUrl', { value: taskQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'SweepShardDeadLetterQueueUrl', {
      value: this.runtime.sweepShardQueue.deadLetterQueue.queueUrl,
    });
  }
}
