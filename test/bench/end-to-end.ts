import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ConnectorInvocation } from '../../domain/connectors/types.js';
import type { ErasureRequestReceipt, RequestDetail } from '../../functions/api/types.js';
import { createConnectorRegistry } from '../../functions/connectors/registry.js';
import { DEMO_WEBHOOK_SECRET_NAME, demoDeploymentConfig, seedDemoSubject } from '../../local/demo.js';
import type { LocalRuntime } from '../../local/runtime.js';
import { CallCounter, type CallCounts, callsOf } from './call-counter.js';
import { size } from './config.js';
import type { BenchContext, SectionResult } from './context.js';
import { type CpuTime, startCpuMeter } from './cpu.js';
import type { DynamoCounts } from './dynamo-counter.js';
import { minimalErase, seedLargeSubject } from './minimal-script.js';
import { formatNumber, median, medianInterval, progress, type Row } from './stats.js';

const call = async <T>(runtime: LocalRuntime, method: string, path: string, body?: unknown, headers = {}) => {
  const response = await fetch(`${runtime.apiUrl}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${runtime.tokens.service}`,
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
};

const FINAL = new Set(['completed', 'partially_failed', 'rejected', 'cancelled']);
const TIMEOUT_MS = 600_000;

/** Sizes of the side-by-side run: the issue's sizes by default, tiny in a smoke run. */
const e2eSizes = () => ({
  objects: size('BENCH_E2E_S3_OBJECTS', 10_000, 200, 0),
  items: size('BENCH_E2E_DDB_ITEMS', 1000, 50, 0),
  // 15: on a shared machine, medians of 5 to 7 pairs ranged from 1.33× to 1.7× between runs of one version.
  pairs: size('BENCH_E2E_PAIRS', 15, 1),
  /** Pairs run first and not measured: the emulator's JIT has not compiled the deletes' paths yet. */
  warmUpPairs: size('BENCH_E2E_WARM_UP_PAIRS', 1, 0, 0),
  empty: size('BENCH_E2E_EMPTY', 5, 1),
});

/** Submits an erasure request through the API and drains the queue until the request is final. */
const eraseThroughApi = async (
  runtime: LocalRuntime,
  subjectId: string,
  dataClasses: readonly string[] | undefined,
  key: string,
): Promise<{
  receipt: ErasureRequestReceipt;
  view: RequestDetail;
  submittedMs: number;
  completedMs: number;
}> => {
  const start = performance.now();
  const receipt = await call<ErasureRequestReceipt>(
    runtime,
    'POST',
    '/v1/erasure-requests',
    { subjectId, reason: 'gdpr-art17-request', ...(dataClasses === undefined ? {} : { dataClasses }) },
    { 'idempotency-key': key },
  );
  const submittedMs = performance.now() - start;
  let view: RequestDetail | undefined;
  while (view === undefined || !FINAL.has(view.status)) {
    if (performance.now() - start > TIMEOUT_MS)
      throw new Error(`Request ${receipt.requestId} did not finish`);
    // drainQueue returns once the queue has nothing visible; the tasks it ran settled the request.
    const ran = await runtime.drainQueue();
    view = await call<RequestDetail>(runtime, 'GET', `/v1/erasure-requests/${receipt.requestId}`);
    if (ran === 0 && !FINAL.has(view.status)) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { receipt, view, submittedMs, completedMs: performance.now() - start };
};

/** What one side (orchestrator or script) called, split the way the report shows it. */
interface Calls {
  /** DynamoDB requests to the demo stores (the data being erased), by operation. */
  readonly dataDynamo: Map<string, number>;
  /** DynamoDB requests to the orchestrator's own tables (requests, audit, holds). */
  readonly stateReads: number;
  readonly stateWrites: number;
  /** Write capacity units of those writes (transactional writes count double). */
  readonly stateWriteUnits: number;
  readonly s3: CallCounts;
  readonly sqs: CallCounts;
}

const DATA_READS = ['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems'];

const callsFrom = (dynamo: DynamoCounts, s3: CallCounts, sqs: CallCounts): Calls => {
  const dataDynamo = new Map<string, number>();
  let dataWriteUnits = 0;
  for (const [key, count] of dynamo.byOperation) {
    const [operation = '', table = ''] = key.split(' ');
    if (table.startsWith('demo-')) {
      dataDynamo.set(operation, (dataDynamo.get(operation) ?? 0) + count.requests);
      if (!DATA_READS.includes(operation)) dataWriteUnits += count.capacity;
    }
  }
  // A transaction lists every table it writes in the breakdown: state calls are the totals minus
  // the (single-table) calls to the demo stores.
  const dataReads = [...dataDynamo].reduce((sum, [op, n]) => (DATA_READS.includes(op) ? sum + n : sum), 0);
  const dataWrites = [...dataDynamo].reduce((sum, [op, n]) => (DATA_READS.includes(op) ? sum : sum + n), 0);
  return {
    dataDynamo,
    stateReads: dynamo.readRequests - dataReads,
    stateWrites: dynamo.writeRequests - dataWrites,
    stateWriteUnits: dynamo.writeCapacityUnits - dataWriteUnits,
    s3,
    sqs,
  };
};

/** Rows of CPU time: this process (client and fauxqs), and DynamoDB Local when it was measured. */
const cpuRows = (what: string, samples: readonly CpuTime[]): Row[] => {
  const jvm = samples.flatMap((sample) => (sample.dynamodbMs === undefined ? [] : [sample.dynamodbMs]));
  return [
    {
      what: `${what}, CPU time of this process (client and fauxqs)`,
      samples: samples.map((s) => s.nodeMs),
      unit: 'ms CPU',
    },
    ...(jvm.length === samples.length && jvm.length > 0
      ? [{ what: `${what}, CPU time of DynamoDB Local`, samples: jvm, unit: 'ms CPU' }]
      : []),
  ];
};

/** Both processes' CPU time per sample; empty when DynamoDB Local's could not be read. */
const cpuTotals = (samples: readonly CpuTime[]): number[] =>
  samples.every((sample) => sample.dynamodbMs !== undefined)
    ? samples.map((sample) => sample.nodeMs + (sample.dynamodbMs ?? 0))
    : [];

const sumOf = (counts: ReadonlyMap<string, number>, ...operations: string[]) =>
  callsOf(counts, ...operations);

/** The median ratio's 95 % interval (order statistics of the pairs), or why there is none. */
const ratioInterval = (ratios: readonly number[]): string => {
  const interval = medianInterval(ratios);
  return interval === undefined
    ? 'too few pairs for a 95 % interval of the median: 6 or more'
    : `95 % interval of the median, from the pairs' order statistics (${formatNumber(interval.coverage * 100)} % coverage): ${formatNumber(interval.low)}×–${formatNumber(interval.high)}×`;
};

/**
 * 5. End to end. (a) Side by side, in alternating pairs: one subject's S3 objects, DynamoDB items and
 * customer record erased through the API (`child-data`: four tasks, request → completed) and by the
 * minimal script (test/bench/minimal-script.ts) against the same emulators, each on freshly seeded
 * data; both sides' calls counted. (b) The demo subject in all five targets, all delete classes,
 * one request at a time: latency and audit entries per request.
 */
export const benchEndToEnd = async ({
  runtime,
  counter,
  config,
  dynamodbPid,
}: BenchContext): Promise<SectionResult> => {
  const sizes = e2eSizes();
  const s3 = new CallCounter();
  const sqs = new CallCounter();
  s3.attach(runtime.clients.s3);
  sqs.attach(runtime.clients.sqs);
  const reset = () => {
    counter.reset();
    s3.reset();
    sqs.reset();
  };
  const snapshot = () => callsFrom(counter.snapshot(), s3.snapshot(), sqs.snapshot());

  // (a) orchestrator vs minimal script, alternating which goes first.
  const orchestratorMs: number[] = [];
  const scriptMs: number[] = [];
  const ratios: number[] = [];
  const orchestratorCpu: CpuTime[] = [];
  const scriptCpu: CpuTime[] = [];
  let orchestratorCalls: Calls | undefined;
  let scriptCalls: Calls | undefined;
  let largeEntries = 0;
  let largeTasks = 0;
  const runId = Date.now().toString(36);
  for (let pair = -sizes.warmUpPairs; pair < sizes.pairs; pair++) {
    const measured = pair >= 0;
    const pairLabel = measured ? String(pair) : `warm-up${-pair}`;
    const runOrchestrator = async (): Promise<number> => {
      const subjectId = `bench-large-o-${runId}-${pairLabel}`;
      await seedLargeSubject(runtime.clients, runtime.stores, subjectId, sizes);
      reset();
      const cpu = startCpuMeter(dynamodbPid);
      const { view, receipt, completedMs } = await eraseThroughApi(
        runtime,
        subjectId,
        ['child-data'],
        `bench-large-${runId}-${pairLabel}`,
      );
      const used = cpu();
      if (measured) {
        orchestratorCpu.push(used);
        orchestratorCalls = snapshot();
      }
      if (process.env.BENCH_E2E_DEBUG !== undefined) {
        progress(
          JSON.stringify(
            [...counter.snapshot().byOperation].map(([k, v]) => `${k} ${v.requests} ${Math.round(v.ms)}ms`),
          ),
        );
      }
      if (view.status !== 'completed') throw new Error(`Request ${receipt.requestId} ended ${view.status}`);
      const erased = view.tasks.reduce((sum, task) => sum + task.deletedCount, 0);
      if (erased !== sizes.objects + sizes.items + 1) {
        throw new Error(`The orchestrator erased ${erased} of ${sizes.objects + sizes.items + 1}`);
      }
      largeTasks = view.tasks.length;
      largeEntries = (await runtime.deps.audit.query({ requestId: receipt.requestId })).length;
      return completedMs;
    };
    const runScript = async (): Promise<number> => {
      const subjectId = `bench-large-s-${runId}-${pairLabel}`;
      await seedLargeSubject(runtime.clients, runtime.stores, subjectId, sizes);
      reset();
      const cpu = startCpuMeter(dynamodbPid);
      const start = performance.now();
      const erased = await minimalErase(runtime.clients, runtime.stores, subjectId);
      const ms = performance.now() - start;
      const used = cpu();
      if (measured) {
        scriptCpu.push(used);
        scriptCalls = snapshot();
      }
      if (erased !== sizes.objects + sizes.items + 1) {
        throw new Error(`The script erased ${erased} of ${sizes.objects + sizes.items + 1}`);
      }
      return ms;
    };
    let orchestrator: number;
    let script: number;
    if (pair % 2 === 0) {
      orchestrator = await runOrchestrator();
      script = await runScript();
    } else {
      script = await runScript();
      orchestrator = await runOrchestrator();
    }
    if (!measured) {
      progress(
        `e2e warm-up pair (not measured): orchestrator ${formatNumber(orchestrator)} ms, script ${formatNumber(script)} ms`,
      );
      continue;
    }
    orchestratorMs.push(orchestrator);
    scriptMs.push(script);
    ratios.push(orchestrator / script);
    progress(
      `e2e pair ${pair + 1}/${sizes.pairs}: orchestrator ${formatNumber(orchestrator)} ms, script ${formatNumber(script)} ms, ratio ${formatNumber(orchestrator / script)}`,
    );
  }

  // What verification alone reads: each target's verify once more, on the erased subject.
  const registry = createConnectorRegistry({
    s3: runtime.clients.s3,
    documents: runtime.clients.documents,
    secretFor: () => DEMO_WEBHOOK_SECRET_NAME,
  });
  const deployment = demoDeploymentConfig(runtime.stores, runtime.webhook.url);
  reset();
  for (const name of ['customer-records', 'user-files', 'cloud-video', 'alarm-events']) {
    const target = deployment.targets.find((candidate) => candidate.name === name);
    if (target === undefined) continue;
    const invocation: ConnectorInvocation = {
      taskId: 'bench-verify',
      requestId: 'bench-verify',
      subjectId: `bench-large-o-${runId}-0`,
      dataClass: 'child-data',
      action: 'delete',
      idempotencyKey: 'bench-verify',
    };
    const result = await registry.verify(target, invocation);
    if (!result.verified) throw new Error(`verify of ${name} found data left`);
  }
  const verification = snapshot();

  // (c) The orchestrator's own work: the same request for subjects with no data at all, where the
  // script has next to nothing to do; what is left is intake, leases, holds, verification, audit.
  const emptyMs: number[] = [];
  const emptyCpu: CpuTime[] = [];
  const emptyScriptMs: number[] = [];
  const emptyScriptCpu: CpuTime[] = [];
  let emptyCalls: Calls | undefined;
  for (let index = 0; index < sizes.empty; index++) {
    reset();
    const cpu = startCpuMeter(dynamodbPid);
    const { completedMs, view } = await eraseThroughApi(
      runtime,
      `bench-empty-o-${runId}-${index}`,
      ['child-data'],
      `bench-empty-${runId}-${index}`,
    );
    emptyCpu.push(cpu());
    emptyCalls = snapshot();
    if (view.status !== 'completed') throw new Error(`An empty erasure ended ${view.status}`);
    emptyMs.push(completedMs);
    const scriptMeter = startCpuMeter(dynamodbPid);
    const start = performance.now();
    await minimalErase(runtime.clients, runtime.stores, `bench-empty-s-${runId}-${index}`);
    emptyScriptMs.push(performance.now() - start);
    emptyScriptCpu.push(scriptMeter());
  }

  // (b) the demo subject, all delete classes, five targets.
  const submitted: number[] = [];
  const completed: number[] = [];
  const entriesPerRequest: number[] = [];
  let demoTasks = 0;
  for (let index = 0; index < config.e2eRequests; index++) {
    const subjectId = `bench-e2e-${runId}-${String(index).padStart(4, '0')}`;
    await seedDemoSubject(runtime.clients, runtime.stores, subjectId, new Date());
    runtime.webhook.records.set(subjectId, 2);
    const { receipt, view, submittedMs, completedMs } = await eraseThroughApi(
      runtime,
      subjectId,
      undefined,
      `bench-e2e-${runId}-${index}`,
    );
    submitted.push(submittedMs);
    completed.push(completedMs);
    const targets = new Set(view.tasks.map((task) => task.target));
    if (
      view.status !== 'completed' ||
      targets.size !== 5 ||
      view.tasks.some((t) => t.status !== 'verified')
    ) {
      throw new Error(`Request ${receipt.requestId} ended ${view.status} with ${JSON.stringify(view.tasks)}`);
    }
    demoTasks = view.tasks.length;
    entriesPerRequest.push((await runtime.deps.audit.query({ requestId: receipt.requestId })).length);
  }
  progress(`e2e: submit → completed median ${formatNumber(median(completed))} ms`);

  const label = `${formatNumber(sizes.objects)} S3 objects + ${formatNumber(sizes.items)} DynamoDB items + 1 record`;
  const rows: Row[] = [
    { what: `end to end, ${label}: orchestrator (POST → completed)`, samples: orchestratorMs, unit: 'ms' },
    { what: `end to end, ${label}: minimal script`, samples: scriptMs, unit: 'ms' },
    { what: 'end to end, orchestrator / minimal script (per pair)', samples: ratios, unit: '×' },
    ...cpuRows(`end to end, ${label}: orchestrator`, orchestratorCpu),
    ...cpuRows(`end to end, ${label}: minimal script`, scriptCpu),
    ...(cpuTotals(orchestratorCpu).length === 0 || cpuTotals(scriptCpu).length === 0
      ? []
      : [
          {
            what: 'end to end, CPU time orchestrator / minimal script, both processes (per pair)',
            samples: cpuTotals(orchestratorCpu).map((total, i) => total / (cpuTotals(scriptCpu)[i] ?? total)),
            unit: '×',
          },
        ]),
    {
      what: 'erasure of a subject with no data (4 tasks): orchestrator (POST → completed)',
      samples: emptyMs,
      unit: 'ms',
    },
    ...cpuRows('erasure of a subject with no data: orchestrator', emptyCpu),
    { what: 'erasure of a subject with no data: minimal script', samples: emptyScriptMs, unit: 'ms' },
    ...cpuRows('erasure of a subject with no data: minimal script', emptyScriptCpu),
    {
      what: `audit entries per request, ${largeTasks} tasks (bound 2 × tasks + 3 = ${2 * largeTasks + 3})`,
      samples: [largeEntries],
      unit: 'entries',
    },
    { what: 'erasure request, submit (POST → 202, tasks queued)', samples: submitted, unit: 'ms' },
    {
      what: `erasure request, 5 targets (${demoTasks} tasks), submit → completed (drainQueue)`,
      samples: completed,
      unit: 'ms',
    },
    {
      what: `audit entries per request, ${demoTasks} tasks (bound 2 × tasks + 3 = ${2 * demoTasks + 3})`,
      samples: entriesPerRequest,
      unit: 'entries',
    },
  ];
  const o = orchestratorCalls;
  const s = scriptCalls;
  const details: string[] = [];
  if (o !== undefined && s !== undefined) {
    const row = (what: string, orchestrator: number, script: number | string, note = '') =>
      `| ${what} | ${orchestrator} | ${script} | ${note} |`;
    const s3List = (c: Calls) => sumOf(c.s3, 'ListObjectsV2', 'ListObjectVersions');
    const ddbRead = (c: Calls) => sumOf(c.dataDynamo, 'Query', 'GetItem', 'BatchGetItem');
    const ddbWrite = (c: Calls) => sumOf(c.dataDynamo, 'BatchWriteItem', 'DeleteItem', 'UpdateItem');
    details.push(
      `### End to end, side by side: calls of one erasure (${label}, last pair)`,
      '',
      `Ratio orchestrator / script, median of ${ratios.length} alternating pairs: **${formatNumber(median(ratios))}×** (${ratioInterval(ratios)}; pairs: ${ratios.map((ratio) => `${formatNumber(ratio)}×`).join(', ')}).`,
      '',
      `Each pair seeds two subjects alike (not timed): ${label}. The orchestrator's time runs from \`POST /v1/erasure-requests\` (\`child-data\`: customer-records, user-files, cloud-video, alarm-events, four tasks) through \`drainQueue()\` (the Lambda task handler, a batch at a time) to the \`GET\` that reads \`completed\`; the script's is \`minimalErase\` (test/bench/minimal-script.ts: ListObjectsV2 + DeleteObjects per page, Query + BatchWriteItem of 25, the four stores at once). Pairs alternate which side goes first; ${sizes.warmUpPairs === 0 ? 'no pair runs before them' : `${sizes.warmUpPairs} pair(s) run before them and are not measured (\`BENCH_E2E_WARM_UP_PAIRS\`): the first erasure of a run is the emulator's coldest, as its JIT has not yet compiled the deletes' paths`}. Calls are counted by middleware on the shared SDK clients; verification reads are measured by running each target's \`verify\` once more on its own. Sizes: \`BENCH_E2E_S3_OBJECTS\`, \`BENCH_E2E_DDB_ITEMS\`, \`BENCH_E2E_PAIRS\`.`,
      '',
      '| calls | orchestrator | minimal script | note |',
      '| --- | ---: | ---: | --- |',
      row('S3 DeleteObjects', sumOf(o.s3, 'DeleteObjects'), sumOf(s.s3, 'DeleteObjects')),
      row(
        'S3 listing reads (ListObjectsV2, ListObjectVersions)',
        s3List(o),
        s3List(s),
        `of the orchestrator's, verification: ${s3List(verification)}`,
      ),
      row('DynamoDB data writes (BatchWriteItem, DeleteItem)', ddbWrite(o), ddbWrite(s)),
      row(
        'DynamoDB data reads (Query, GetItem)',
        ddbRead(o),
        ddbRead(s),
        `of the orchestrator's, verification: ${ddbRead(verification)}`,
      ),
      row('DynamoDB state reads (requests, audit, holds tables)', o.stateReads, '–'),
      row(
        'DynamoDB state writes (requests, audit tables)',
        o.stateWrites,
        '–',
        `${formatNumber(o.stateWrites / Math.max(1, largeTasks))} per task, request included`,
      ),
      row(
        'DynamoDB state write capacity (WCU, requests and audit tables)',
        o.stateWriteUnits,
        '–',
        `${formatNumber(o.stateWriteUnits / Math.max(1, largeTasks))} per task, request included`,
      ),
      row(
        'SQS calls (SendMessageBatch, ReceiveMessage, DeleteMessageBatch)',
        callsOf(o.sqs),
        '–',
        [...o.sqs].map(([operation, count]) => `${operation} ${count}`).join(', '),
      ),
    );
  }
  if (emptyCalls !== undefined) {
    const e = emptyCalls;
    const dataRequests = [...e.dataDynamo.values()].reduce((sum, n) => sum + n, 0);
    const requests = e.stateReads + e.stateWrites + dataRequests + callsOf(e.s3) + callsOf(e.sqs);
    const jvm = emptyCpu.flatMap((sample) => (sample.dynamodbMs === undefined ? [] : [sample.dynamodbMs]));
    // Both processes' CPU over wall time: 2 on this 2-core machine means every core was busy.
    const busy = (cpu: readonly CpuTime[], ms: readonly number[]) =>
      formatNumber(median(cpuTotals(cpu).map((total, i) => total / (ms[i] ?? Number.NaN))));
    details.push(
      '',
      `With no data to erase, the orchestrator's erasure is its own work alone: ${formatNumber(median(emptyMs))} ms, ${formatNumber(median(emptyCpu.map((c) => c.nodeMs)))} ms of CPU in this process${jvm.length === 0 ? '' : ` and ${formatNumber(median(jvm))} ms in DynamoDB Local`}, for ${requests} requests (DynamoDB state ${e.stateReads} reads and ${e.stateWrites} writes, DynamoDB data ${dataRequests}, S3 ${callsOf(e.s3)}, SQS ${callsOf(e.sqs)}; verification included), where the script sends 4.${
        cpuTotals(orchestratorCpu).length === 0
          ? ''
          : ` During the large erasure both processes together used ${busy(orchestratorCpu, orchestratorMs)} cores on average for the orchestrator and ${busy(scriptCpu, scriptMs)} for the script (of ${os.cpus().length}): the client and both emulators share the machine's cores, so this fixed work also slows the data calls that run beside it, not only the two ends of the timeline.`
      }`,
    );
  }
  return { rows, details };
};
