/**
 * `npm start`: the whole pipeline on this machine. Starts DynamoDB Local and fauxqs, creates the
 * orchestrator's resources and the demo stores, serves the API, consumes the task queue, sweeps
 * every minute, and stops everything it started on Ctrl-C.
 */
import { startEmulators } from './emulators.js';
import { DEFAULT_TOKENS, startLocalRuntime } from './runtime.js';

const port = (name: string, fallback: number): number => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new Error(`${name} must be a port number, got '${value}'`);
  }
  return parsed;
};

const positiveSeconds = (name: string, fallback: number): number => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new Error(`${name} must be a whole number of seconds ≥ 1, got '${value}'`);
  return parsed;
};

const main = async (): Promise<void> => {
  const emulators = await startEmulators({
    dynamodbPort: port('DYNAMODB_PORT', 8000),
    awsPort: port('AWS_PORT', 4566),
  });
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>> | undefined;
  const shutdown = async (code: number) => {
    console.log('\nStopping…');
    await runtime?.stop().catch(() => undefined);
    await emulators.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    runtime = await startLocalRuntime({
      endpoints: emulators,
      port: port('PORT', 3000),
      webhookPort: port('DEMO_WEBHOOK_PORT', 3001),
      tokens: {
        service: process.env.ERASURE_SERVICE_TOKEN || DEFAULT_TOKENS.service,
        compliance: process.env.ERASURE_COMPLIANCE_TOKEN || DEFAULT_TOKENS.compliance,
      },
      sweepIntervalMs: positiveSeconds('SWEEP_INTERVAL_SECONDS', 60) * 1000,
    });
  } catch (error) {
    console.error('Could not start the local runtime:', error);
    await shutdown(1);
    return;
  }
  console.log(`
Erasure Orchestrator is running locally.

  API            ${runtime.apiUrl}
  DynamoDB Local ${emulators.dynamodbEndpoint}
  SQS + S3       ${emulators.awsEndpoint}
  Demo webhook   ${runtime.webhook.url}

  Tokens         service:    ${runtime.tokens.service}
                 compliance: ${runtime.tokens.compliance}

  Demo stores    table ${runtime.stores.customersTable}, table ${runtime.stores.alarmEventsTable},
                 bucket ${runtime.stores.cloudVideoBucket} (video/<subjectId>/), bucket ${runtime.stores.userFilesBucket} (files/<subjectId>/)
  Demo subjects  demo-subject-1, demo-subject-2, demo-subject-3

  Try: curl -s ${runtime.apiUrl}/healthz -H 'Authorization: Bearer ${runtime.tokens.service}'
  The README has the full walkthrough. Ctrl-C stops everything.
`);
};

void main();
