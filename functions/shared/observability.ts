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

export const powertoolsMetrics = (target: Metrics = metrics): MetricsSink => ({
  count: (name, value) => target.addMetric(name, MetricUnit.Count, value),
  flush: () => target.publishStoredMetrics(),
});
