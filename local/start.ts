/**
 * `npm start`: the whole pipeline on this machine. Starts DynamoDB Local and fauxqs, creates the
 * orchestrator's resources and the demo stores, serves the API, consumes the task queue, sweeps
 * every minute, and stops everything it started on Ctrl-C. DynamoDB state is kept across restarts
 * under .local/ unless `npm start -- --fresh` (or ERASURE_FRESH=1) asks for a clean start.
 */
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { seedDemoActivity } from './demo-activity.js';
import { startEmulators } from './emulators.js';
import { DEFAULT_TOKENS, startLocalRuntime } from './runtime.js';

/** Everything `npm start` keeps (git-ignored); ERASURE_LOCAL_DIR moves it (a second runtime, tests). */
const LOCAL_DIR = process.env.ERASURE_LOCAL_DIR || '.local';
/** Where DynamoDB Local keeps its database between runs. */
const STATE_DIR = `${LOCAL_DIR}/dynamodb`;
/** The local signing key and the anchors (README "Proof"), kept and cleared with the database. */
const PROOF_DIR = `${LOCAL_DIR}/proof`;
/** The running runtime's URL and tokens, for the `erasure` CLI to find (cli/api-client.ts); removed on stop. */
const RUNTIME_FILE = `${LOCAL_DIR}/runtime.json`;

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

/** Resolves when `port` on 127.0.0.1 can be listened on; rejects with a one-line reason otherwise. */
const checkFree = (name: string, value: number): Promise<void> =>
  value === 0
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
        const probe = createServer();
        probe.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            new Error(
              error.code === 'EADDRINUSE'
                ? `Port ${value} (${name}) is in use by another program: stop it, or set ${name}=<another port>.`
                : `Port ${value} (${name}) cannot be used: ${error.code ?? error.message}`,
            ),
          ),
        );
        probe.listen(value, '127.0.0.1', () => probe.close(() => resolve()));
      });

const main = async (): Promise<void> => {
  const ports = {
    PORT: port('PORT', 3000),
    DEMO_WEBHOOK_PORT: port('DEMO_WEBHOOK_PORT', 3001),
    DYNAMODB_PORT: port('DYNAMODB_PORT', 8000),
    AWS_PORT: port('AWS_PORT', 4566),
  };
  // The API port first: it is the one a newcomer most likely has taken by another dev server.
  try {
    for (const [name, value] of Object.entries(ports)) await checkFree(name, value);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const fresh = process.argv.includes('--fresh') || ['1', 'true'].includes(process.env.ERASURE_FRESH ?? '');
  // Whether there was state to keep: a first start is new, not "kept".
  const hadState =
    !fresh &&
    (await stat(STATE_DIR).then(
      () => true,
      () => false,
    ));
  if (fresh) {
    await rm(STATE_DIR, { recursive: true, force: true });
    await rm(PROOF_DIR, { recursive: true, force: true });
  }
  const emulators = await startEmulators({
    dynamodbPort: ports.DYNAMODB_PORT,
    awsPort: ports.AWS_PORT,
    dbPath: STATE_DIR,
  });
  let runtime: Awaited<ReturnType<typeof startLocalRuntime>> | undefined;
  const shutdown = async (code: number) => {
    console.log('\nStopping…');
    await rm(RUNTIME_FILE, { force: true });
    await runtime?.stop().catch(() => undefined);
    await emulators.stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    runtime = await startLocalRuntime({
      endpoints: emulators,
      port: ports.PORT,
      webhookPort: ports.DEMO_WEBHOOK_PORT,
      proofDir: PROOF_DIR,
      // One line per API call: method, route template, status, time. Never a path or a body.
      onRequest: (call) => console.log(`${call.method} ${call.route} ${call.status} ${call.ms} ms`),
      tokens: {
        service: process.env.ERASURE_SERVICE_TOKEN || DEFAULT_TOKENS.service,
        compliance: process.env.ERASURE_COMPLIANCE_TOKEN || DEFAULT_TOKENS.compliance,
      },
      sweepIntervalMs: positiveSeconds('SWEEP_INTERVAL_SECONDS', 60) * 1000,
      // Requests look up the demo subjects' e-mail and camera serials in the identity table.
      resolveIdentifiers: true,
    });
  } catch (error) {
    console.error('Could not start the local runtime:', error);
    await shutdown(1);
    return;
  }
  // Something for each compliance report to show (once per state; README "Reports").
  await seedDemoActivity(runtime).catch((error: unknown) => {
    console.error('The demo activity for the reports could not be seeded:', error);
  });
  await mkdir(LOCAL_DIR, { recursive: true });
  await writeFile(
    RUNTIME_FILE,
    `${JSON.stringify({ apiUrl: runtime.apiUrl, tokens: runtime.tokens }, null, 2)}\n`,
    {
      mode: 0o600,
    },
  );
  console.log(`
Erasure Orchestrator is running locally.

  State          ${fresh ? 'fresh: started clean' : hadState ? 'kept from the last start' : 'new'} (DynamoDB in ${STATE_DIR}; start clean with npm start -- --fresh).
                 Queues and demo buckets live in memory; demo data is seeded again at each start.

  API            ${runtime.apiUrl}
  Dashboard      ${runtime.apiUrl}/dashboard   (compliance staff's page; signed in with the compliance token)
  DynamoDB Local ${emulators.dynamodbEndpoint}
  SQS + S3       ${emulators.awsEndpoint}
  Demo webhook   ${runtime.webhook.url}

  Tokens         service:    ${runtime.tokens.service}
                 compliance: ${runtime.tokens.compliance}

  Demo stores    table ${runtime.stores.customersTable}, table ${runtime.stores.alarmEventsTable},
                 bucket ${runtime.stores.cloudVideoBucket} (video/<subjectId>/, devices/<deviceId>/), bucket ${runtime.stores.userFilesBucket} (files/<subjectId>/),
                 table ${runtime.stores.marketingTable} (by email)
  Identifiers    resolved from table ${runtime.stores.identityTable} (email, deviceId by subject id)
  Demo subjects  demo-subject-1, demo-subject-2, demo-subject-3

  Try: curl -s ${runtime.apiUrl}/livez
       curl -s ${runtime.apiUrl}/healthz -H 'Authorization: Bearer ${runtime.tokens.service}'
       npx erasure requests show <requestId>   (the CLI finds this runtime through ${RUNTIME_FILE})
  The README has the full walkthrough. Ctrl-C stops everything.
`);
};

void main();
