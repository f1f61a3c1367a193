import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

import { METRICS_NAMESPACE, SERVICE_NAME } from './metric-names.js';

export { METRIC } from './metric-names.js';

/** One logger for every function. Never log events whole, subject ids or personal data. */
export const logger = new Logger({ serviceName: SERVICE_NAME });

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

export interface MetricsSink {
  count(name: string, value: number): void;
  flush(): void;
}

export const powertoolsMetrics = (
  target: Pick<Metrics, 'addMetric' | 'hasStoredMetrics' | 'publishStoredMetrics'> = metrics,
): MetricsSink => ({
  count: (name, value) => target.addMetric(name, MetricUnit.Count, value),
  // Nothing counted: nothing to publish, and no "no metrics" warning in every invocation's log.
  flush: () => {
    if (target.hasStoredMetrics()) target.publishStoredMetrics();
  },
});

/**
 * Runs an invocation and publishes what it counted when it ends, however it ends: Powertools
 * buffers metrics until they are published, and a function that never publishes (as the API did)
 * never shows them to the alarms that read them.
 */
export const publishingMetrics = async <T>(
  deps: { readonly metrics?: Pick<MetricsSink, 'flush'> },
  invocation: () => Promise<T>,
): Promise<T> => {
  try {
    return await invocation();
  } finally {
    deps.metrics?.flush();
  }
};
