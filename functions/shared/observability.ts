import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** One logger for every function. Never log events whole, subject ids or personal data. */
export const logger = new Logger({ serviceName: 'erasure-orchestrator' });

export const metrics = new Metrics({ namespace: 'ErasureOrchestrator', serviceName: 'erasure-orchestrator' });

export const METRIC = {
  requestsOverdue: 'RequestsOverdue',
  requestsNearDeadline: 'RequestsNearDeadline',
  taskSucceeded: 'ConnectorTaskSucceeded',
  taskFailedAttempt: 'ConnectorTaskFailedAttempt',
  taskFailed: 'ConnectorTaskFailed',
} as const;

export interface MetricsSink {
  count(name: string, value: number): void;
  flush(): void;
}

export const powertoolsMetrics = (target: Metrics = metrics): MetricsSink => ({
  count: (name, value) => target.addMetric(name, MetricUnit.Count, value),
  flush: () => target.publishStoredMetrics(),
});
