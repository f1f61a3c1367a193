import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../../functions/shared/metric-names.js';
import { POWERTOOLS_ENVIRONMENT } from './orchestrator-function.js';

/** Metric names the functions publish (Powertools EMF, dimension service=erasure-orchestrator). */
export const METRICS = METRIC;

export interface OrchestratorAlarmsProps {
  readonly deadLetterQueue: sqs.IQueue;
  readonly sweepFunction: lambda.IFunction;
  /** Due buckets whose shard kept failing. */
  readonly sweepShardDeadLetterQueue: sqs.IQueue;
  readonly sweepShardFunction: lambda.IFunction;
  /** How often the sweep runs: the period of the metrics it publishes. */
  readonly sweepRate: Duration;
  /** Fraction of failed connector attempts that raises the error-rate alarm. */
  readonly connectorErrorRateThreshold: number;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * What an operator must hear about: tasks that gave up (DLQ, failed tasks), requests past or near their 30-day
 * deadline (GDPR Art. 12(3)), connectors failing, and a sweep that fails or stops reporting.
 */
export class OrchestratorAlarms extends Construct {
  public readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  public readonly requestsOverdue: cloudwatch.Alarm;
  public readonly requestsNearDeadline: cloudwatch.Alarm;
  public readonly connectorErrorRate: cloudwatch.Alarm;
  public readonly tasksFailed: cloudwatch.Alarm;
  public readonly sweepErrors: cloudwatch.Alarm;
  public readonly sweepNotReporting: cloudwatch.Alarm;
  public readonly sweepShardDeadLetterQueueNotEmpty: cloudwatch.Alarm;
  public readonly sweepShardErrors: cloudwatch.Alarm;
  public readonly deletionTooLate: cloudwatch.Alarm;
  public readonly commitsGaveUp: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OrchestratorAlarmsProps) {
    super(scope, id);
    const metric = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({
        namespace: POWERTOOLS_ENVIRONMENT.POWERTOOLS_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: POWERTOOLS_ENVIRONMENT.POWERTOOLS_SERVICE_NAME },
        statistic,
        period,
      });
    const sweepPeriod = props.sweepRate;

    this.deadLetterQueueNotEmpty = new cloudwatch.Alarm(this, 'DeadLetterQueueNotEmpty', {
      alarmDescription:
        'Connector tasks exhausted their retries and are marked failed. Fix the cause, re-drive the requests (POST /v1/erasure-requests/{requestId}/redrive), then purge the dead-letter queue.',
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Gauges: every sweep publishes the current counts, so the maximum over one sweep period is the state.
    this.requestsOverdue = new cloudwatch.Alarm(this, 'RequestsOverdue', {
      alarmDescription: 'Erasure requests are past their response deadline.',
      metric: metric(METRICS.requestsOverdue, 'Maximum', sweepPeriod),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.requestsNearDeadline = new cloudwatch.Alarm(this, 'RequestsNearDeadline', {
      alarmDescription: 'Erasure requests are close to their response deadline and still open.',
      metric: metric(METRICS.requestsNearDeadline, 'Maximum', sweepPeriod),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const period = Duration.minutes(5);
    this.connectorErrorRate = new cloudwatch.Alarm(this, 'ConnectorErrorRate', {
      alarmDescription: `More than ${props.connectorErrorRateThreshold * 100}% of connector attempts failed for 15 minutes.`,
      metric: new cloudwatch.MathExpression({
        // A period with attempts of only one kind has no datapoint for the other: FILL makes it 0.
        // With no attempts at all the rate is 0, not a division by zero.
        expression:
          'IF((FILL(ok, 0) + FILL(failed, 0)) > 0, FILL(failed, 0) / (FILL(ok, 0) + FILL(failed, 0)), 0)',
        usingMetrics: {
          ok: metric(METRICS.taskSucceeded, 'Sum', period),
          failed: metric(METRICS.taskFailedAttempt, 'Sum', period),
        },
        label: 'Connector failed-attempt rate',
        period,
      }),
      threshold: props.connectorErrorRateThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Not every failed task reaches the DLQ: a permanent error is acknowledged at once, and a task
    // whose callback never came fails at the sweep's re-send. Each leaves a partially_failed request.
    this.tasksFailed = new cloudwatch.Alarm(this, 'TasksFailed', {
      alarmDescription:
        'Connector tasks were marked failed (a permanent error, their attempts spent, or a callback that never came); their requests are partially_failed. Fix the cause, then re-drive the requests (POST /v1/erasure-requests/{requestId}/redrive).',
      metric: metric(METRICS.taskFailed, 'Sum', period),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.sweepErrors = new cloudwatch.Alarm(this, 'SweepErrors', {
      alarmDescription:
        'The due-deletion sweep failed; due deletions and deadline metrics are not being processed.',
      metric: props.sweepFunction.metricErrors({ statistic: 'Sum', period: sweepPeriod }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // Silence is not "no overdue requests": two sweep periods without a published count mean the
    // sweep is not running (schedule disabled, throttled, crashing before it publishes).
    this.sweepNotReporting = new cloudwatch.Alarm(this, 'SweepNotReporting', {
      alarmDescription: `The sweep has not published ${METRICS.requestsOverdue} for two sweep periods.`,
      metric: metric(METRICS.requestsOverdue, 'SampleCount', sweepPeriod),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    this.sweepShardDeadLetterQueueNotEmpty = new cloudwatch.Alarm(this, 'SweepShardDeadLetterQueueNotEmpty', {
      alarmDescription:
        'A due bucket kept failing in its sweep shard: its deletions wait and the watermark does not move. Each sweep sends the bucket again; fix the cause (the shard function logs name the failing item class), then purge the dead-letter queue.',
      metric: props.sweepShardDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.sweepShardErrors = new cloudwatch.Alarm(this, 'SweepShardErrors', {
      alarmDescription:
        'A sweep shard invocation failed; its due bucket is retried by SQS and by the next sweep.',
      metric: props.sweepShardFunction.metricErrors({ statistic: 'Sum', period: sweepPeriod }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.deletionTooLate = new cloudwatch.Alarm(this, 'DeletionTooLate', {
      alarmDescription:
        'A cancelling event (a restore) that happened before a deletion was due arrived after the deletion had run: data the subject should have kept was erased. The lifecycle answer and the audit entry deletion.too_late name the classes and targets.',
      metric: metric(METRICS.deletionTooLate, 'Sum', period),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.commitsGaveUp = new cloudwatch.Alarm(this, 'CommitsGaveUp', {
      alarmDescription:
        'A state change and its audit entry gave up after their last attempt: each was cancelled, by races on one audit chain (many Lambdas writing one subject at once), transaction conflicts or throttling. Nothing was written; its caller retries (an API client gets a 500, a task message is received again). CommitRetried shows how often commits are cancelled.',
      metric: metric(METRICS.commitGaveUp, 'Sum', period),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.alarmTopic !== undefined) {
      const action = new actions.SnsAction(props.alarmTopic);
      for (const alarm of this.all) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }

  public get all(): readonly cloudwatch.Alarm[] {
    return [
      this.deadLetterQueueNotEmpty,
      this.requestsOverdue,
      this.requestsNearDeadline,
      this.connectorErrorRate,
      this.tasksFailed,
      this.sweepErrors,
      this.sweepNotReporting,
      this.sweepShardDeadLetterQueueNotEmpty,
      this.sweepShardErrors,
      this.deletionTooLate,
      this.commitsGaveUp,
    ];
  }
}
