/**
 * Names the functions publish metrics under and the alarms read them by (infra/constructs/
 * orchestrator-alarms.ts): one definition, so a renamed metric cannot silence an alarm.
 */
export const SERVICE_NAME = 'erasure-orchestrator';
export const METRICS_NAMESPACE = 'ErasureOrchestrator';

export const METRIC = {
  requestsOverdue: 'RequestsOverdue',
  requestsNearDeadline: 'RequestsNearDeadline',
  taskSucceeded: 'ConnectorTaskSucceeded',
  taskFailedAttempt: 'ConnectorTaskFailedAttempt',
  taskFailed: 'ConnectorTaskFailed',
  /** A cancelling event arrived after the deletion it cancels had (partly) run: data was lost. */
  deletionTooLate: 'DeletionTooLate',
  /**
   * A commit's transaction was cancelled and is tried again: a race lost on a chain head (another
   * Lambda wrote first), a transaction conflict or throttling. Not a replay finding its entry there.
   */
  commitRetried: 'CommitRetried',
  /** A commit gave up after MAX_COMMIT_ATTEMPTS cancelled attempts: its use case failed and is retried by its caller. */
  commitGaveUp: 'CommitGaveUp',
} as const;
