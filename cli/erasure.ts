/**
 * The `erasure` command (package.json `bin`): compliance staff's and operators' daily work against
 * the local runtime (`npm start`, bearer tokens) or a deployed API (SigV4 with the caller's AWS
 * credentials). `main` runs one command line and resolves with its exit code: 0 done, 1 failed
 * (an API refusal, an invalid certificate, a row that did not import), 2 wrong command line, 3 a
 * wait that timed out, 4 a certificate consistent but checked without a pinned key, 130 interrupted. `erasure <command> --help` shows each command's options
 * and examples.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { MultiBar, Presets } from 'cli-progress';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { verifyCertificate } from '../domain/audit/certificate.js';
import { ValidationError } from '../domain/errors.js';
import {
  ApiClient,
  ApiError,
  apiErrorOf,
  type CallerRole,
  type ConnectionOptions,
  resolveConnection,
  UsageError,
} from './api-client.js';
import { type CsvSource, exportAudit, passThroughCsv } from './audit-export.js';
import { DEFAULT_DASHBOARD_PORT, startDashboardProxy } from './dashboard.js';
import {
  countRows,
  formatOfFile,
  type ImportFormat,
  type ImportSummary,
  importEvents,
  type RowFailure,
} from './events-import.js';
import type { AwsCredentials } from './sigv4.js';

export interface CliIo {
  readonly readText: (path: string) => Promise<string>;
  /** One line of the command's result (stdout). */
  readonly out: (line: string) => void;
  /** One line for the person at the terminal: notes, problems (stderr). */
  readonly err: (line: string) => void;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where `.local/runtime.json` is looked for. @default process.cwd() */
  readonly cwd?: string;
  readonly fetch?: typeof fetch;
  /** Where streamed results (CSV) go without `--output`. @default process.stdout */
  readonly stdout?: Writable;
  /** Where the progress bar is drawn; none when absent. */
  readonly progress?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted on Ctrl-C: an import stops sending, settles what is in flight and saves its checkpoint. */
  readonly signal?: AbortSignal;
  /** IAM signing credentials. @default the default AWS credential chain */
  readonly credentials?: AwsCredentials;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The terminal's io: progress on stderr, and Ctrl-C aborts the running command (an import then
 * stops sending, settles what is in flight and keeps its checkpoint); a second Ctrl-C exits.
 */
const processIo = (): CliIo => {
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  return {
    readText: (path) => readFile(path, 'utf8'),
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    progress: process.stderr,
    signal: interrupt.signal,
  };
};

/** The `/v1/reports/*` routes of the compliance workspace, with the query each takes. */
export const REPORTS = {
  deadlines: 'open requests against their 30-day deadline: overdue, due within 7 days, extended',
  holds: 'active legal holds and what each blocks',
  failures: 'partially failed requests with their failing tasks and error codes, ready to re-drive',
  erasures: 'deletions, anonymisations and restrictions per month, data class and rule ref (--from, --to)',
  upcoming: 'deletions and notices due in the next --days days, per data class',
} as const;
export type ReportName = keyof typeof REPORTS;

/** The query options each report takes; the API refuses any other with a 400. */
const REPORT_OPTIONS = { from: 'erasures', to: 'erasures', days: 'upcoming' } as const satisfies Record<
  string,
  ReportName
>;

const FINAL_STATUSES = new Set(['completed', 'rejected', 'cancelled', 'partially_failed']);

/** `unauthenticated`: verify-certificate found the certificate consistent but was given no key to trust. */
const EXIT = { ok: 0, failed: 1, usage: 2, timeout: 3, unauthenticated: 4, interrupted: 130 } as const;

/**
 * The PEM public keys of a --public-key file (GET /v1/audit/public-keys gives several, retired ones
 * included). A file with none, or with one that does not parse, is a usage error: an empty file
 * left by a failed key fetch must not make a genuine certificate INVALID.
 */
const publicKeysIn = (path: string, text: string): string[] => {
  const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  if (pems.length === 0)
    throw new UsageError(
      `cannot use ${path}: it holds no PEM public key (-----BEGIN PUBLIC KEY-----); is it empty?`,
    );
  pems.forEach((pem, index) => {
    try {
      createPublicKey(pem);
    } catch (error) {
      throw new UsageError(
        `cannot use ${path}: its key ${index + 1} is not a public key (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  });
  return pems;
};

const positiveInteger = (name: string) => (value: string) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1)
    throw new InvalidArgumentError(`${name} must be a whole number ≥ 1`);
  return parsed;
};
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `--identifier name=value` (repeatable): the values by name, a name given twice holding both. */
const collectIdentifier = (value: string, previous: Record<string, string[]> = {}) => {
  const at = value.indexOf('=');
  if (at < 1 || at === value.length - 1) {
    throw new InvalidArgumentError('--identifier takes name=value, e.g. email=ana@example.com');
  }
  const name = value.slice(0, at);
  return { ...previous, [name]: [...(previous[name] ?? []), value.slice(at + 1)] };
};

/** The body's `identifiers`: one value as a string, several as a list (what the API takes). */
const identifiersBody = (identifiers: Record<string, string[]> | undefined) =>
  identifiers === undefined
    ? {}
    : {
        identifiers: Object.fromEntries(
          Object.entries(identifiers).map(([name, values]) => [
            name,
            values.length === 1 ? values[0] : values,
          ]),
        ),
      };

const printJson = (io: CliIo, value: unknown) => io.out(JSON.stringify(value, null, 2));

/** Closes a file opened for `--output` (not stdout) once everything is written. */
const outputFor = (io: CliIo, path: string | undefined): { stream: Writable; close(): Promise<void> } => {
  if (path === undefined) return { stream: io.stdout ?? process.stdout, close: async () => undefined };
  const stream = createWriteStream(path);
  return {
    stream,
    close: async () => {
      stream.end();
      await finished(stream);
    },
  };
};

const failureLine = (failure: RowFailure) => `line ${failure.line}: ${failure.reason}`;

const summaryLines = (summary: ImportSummary): string[] => {
  const lines = [
    `imported ${summary.imported}, skipped ${summary.alreadyImported + summary.repeated} (already imported ${summary.alreadyImported}, repeated in the file ${summary.repeated}), failed ${summary.failed.length}`,
  ];
  if (summary.failed.length > 0) {
    // Each failed line with its reason, so the summary alone says what to fix (the first 50).
    const shown = summary.failed.slice(0, 50);
    lines.push(...shown.map(failureLine));
    if (summary.failed.length > shown.length)
      lines.push(`… and ${summary.failed.length - shown.length} more failed lines (--json lists them all)`);
  }
  if (summary.suppressed !== undefined) {
    // Imported, but the person was erased: the product service should not re-collect them.
    lines.push(`${summary.suppressed.length} imported line(s) name a suppressed (erased) subject:`);
    lines.push(
      ...summary.suppressed.slice(0, 50).map((row) => `line ${row.line}: suppressed ${row.names.join(', ')}`),
    );
  }
  if (summary.interruptedAtLine !== undefined)
    lines.push(
      `interrupted before line ${summary.interruptedAtLine}: run the same command again to resume (checkpoint ${summary.checkpointPath})`,
    );
  return lines;
};

const EXAMPLES = {
  root: `
Connection (every command but verify-certificate):
  --api, ERASURE_API_URL     default: the URL in .local/runtime.json (written by npm start), else http://127.0.0.1:3000
  --token, ERASURE_TOKEN     local bearer token; else ERASURE_SERVICE_TOKEN / ERASURE_COMPLIANCE_TOKEN by the
                             command's role, else .local/runtime.json, else the development tokens
  --auth iam                 SigV4 with the default AWS credential chain (automatic for *.execute-api.*.amazonaws.com)

Examples:
  $ erasure requests submit --subject customer-42 --reason gdpr-art17-request
  $ erasure requests wait req_0123 --timeout 600
  $ erasure holds place --subject customer-42 --reason litigation-hold --data-class customer-profile
  $ erasure audit export --csv --subject customer-42 --output audit.csv
  $ erasure events import events.csv
  $ erasure --api https://abc123.execute-api.eu-west-1.amazonaws.com requests show req_0123
  $ erasure dashboard --api https://abc123.execute-api.eu-west-1.amazonaws.com`,
  submit: `
Examples:
  $ erasure requests submit --subject customer-42 --reason gdpr-art17-request
  $ erasure requests submit --subject customer-42 --reason gdpr-art17-request --data-class cloud-video \\
      --idempotency-key 7d1c5e9a-retry-safe
  $ erasure requests submit --subject customer-42 --reason gdpr-art17-request --dry-run
The Idempotency-Key makes a retry safe: send the same key again and the same request is answered.
Without --idempotency-key one is made up and printed on stderr, so a retry can reuse it.
--dry-run prints what each target holds for the subject and whether it would be erased, withheld
(ALE-2) or blocked by a legal hold (ALM-3); nothing is stored, queued or erased.
  $ erasure requests submit --subject customer-42 --reason gdpr-art17-request \\
      --identifier email=ana@example.com --identifier deviceId=CAM-00A1 --identifier deviceId=CAM-00B2
--identifier sends a declared identifier (repeat a name for several values); a deployment with an
identifier resolver also looks the subject's identifiers up, and merges them with these.`,
  show: `
Example:
  $ erasure requests show req_0123`,
  wait: `
Exit codes: 0 completed; 1 rejected, cancelled or partially_failed; 3 still open when --timeout ran out.
Example:
  $ erasure requests wait req_0123 --timeout 900 --interval 5`,
  reject: `
Example:
  $ erasure requests reject req_0123 --legal-reason gdpr-art17-3b-legal-obligation`,
  extend: `
Example:
  $ erasure requests extend req_0123 --reason complex-request`,
  redrive: `
Example:
  $ erasure requests redrive req_0123`,
  place: `
Examples:
  $ erasure holds place --subject customer-42 --reason litigation-hold
  $ erasure holds place --subject customer-42 --reason tax-audit --data-class billing-traffic --until 2027-12-31T00:00:00Z
  $ erasure holds place --subject customer-42 --reason litigation-hold --identifier email=ana@example.com --identifier deviceId=CAM-00A1
--identifier names a value of the subject's (repeat a name for several): data keyed by it is then
protected from any subject's request that carries it, not only from the subject's own.
Prints {"holdId": ...}: keep it to release the hold. Without --idempotency-key one is made up and
printed on stderr; placing again with it answers the same hold and places no second one.`,
  release: `
Example:
  $ erasure holds release hold_0123`,
  list: `
Reads GET /v1/reports/holds: each active hold, the targets it protects and the open requests it
blocks.
Example:
  $ erasure holds list --csv > holds.csv`,
  audit: `
Columns (client-side CSV): chainId, seq, at, type, requestId, taskId, dataClass, ruleRef, target,
subjectPseudonym, idempotencyKey, detail (JSON), prevHash, hash. RFC 4180 (CRLF, quoted as needed).
--csv-source auto asks the API for format=csv and streams its CSV when it answers text/csv; an API
that answers JSON is paged through its cursor and written as CSV here.
A query needs --subject, --request, or both --from and --to (at most the API's window).
Examples:
  $ erasure audit export --csv --subject customer-42 > customer-42.csv
  $ erasure audit export --from 2026-10-01T00:00:00Z --to 2026-10-31T00:00:00Z --type task.verified --output october.csv`,
  reports: `
Reports: ${Object.entries(REPORTS)
    .map(([name, what]) => `\n  ${name.padEnd(10)} ${what}`)
    .join('')}
Each is GET /v1/reports/<name> (columns of the CSV in the README, "Reports"). An older API that
does not serve the reports answers 404: the command says so (report_not_available).
Examples:
  $ erasure reports deadlines
  $ erasure reports erasures --from 2026-01 --to 2026-06 --csv > erasures.csv
  $ erasure reports upcoming --days 30`,
  import: `
Input: one lifecycle event per row, the body of POST /v1/lifecycle-events.
  CSV     header subjectId,type,occurredAt[,attributes][,attributes.<name>...]; attributes is a JSON
          object, or one attributes.<name> column per attribute (empty cells are left out)
  NDJSON  one JSON object per line: {"subjectId": ..., "type": ..., "occurredAt": ..., "attributes": {...}}
Each row is checked with the API's own schema first; a bad row is reported with its line number and
the import goes on. Rows the server accepted are recorded in the checkpoint (default <file>.checkpoint):
running the command again skips them, and a row sent twice is still one event (the server derives
its id from its content). Exit code 1 when any row failed, 130 when interrupted (Ctrl-C).
Examples:
  $ erasure events import events.csv
  $ erasure events import events.ndjson --concurrency 16 --checkpoint .local/events.checkpoint`,
  verify: `
Checks a certificate of erasure offline, without the service or AWS credentials: every audit entry
and link, the certificate's facts against the request's anchored entries, the inclusion proof, the
anchor's and the certificate's signatures. Take the key from the deployment (GET /v1/audit/public-keys,
or its published key), never from the certificate.
Exit codes:
  0  VALID: consistent, and the anchor and the certificate are signed by a --public-key given
  1  INVALID: each problem is named on stderr
  2  wrong command line, or a file that cannot be read (nothing was checked)
  4  CONSISTENT, NOT AUTHENTICATED: no --public-key given; the keys the certificate carries prove
     nothing (anyone can make a key and sign a certificate with it)
Example:
  $ erasure verify-certificate certificate.json --public-key orchestrator-key.pem`,
  check: `
Answers which of the identifiers (and the subject id) belong to an erased subject: a product service
should not collect them again. Prints {"suppressed": [names]}; exit code 0 either way.
Examples:
  $ erasure suppressions check --identifier email=ana@example.com --identifier deviceId=CAM-00A1
  $ erasure suppressions check --subject-id customer-42 --identifier email=ana@example.com`,
  lift: `
Takes the identifiers (and the subject id) off the suppression list, audited with the reason, when
the person came back with consent. Prints {"lifted": [names]}.
Example:
  $ erasure suppressions lift --identifier email=ana@example.com --reason consent-renewed`,
  dashboard: `
Serves the compliance dashboard on http://127.0.0.1:<port>/dashboard and forwards the page's
/v1/* calls to the API: signed with SigV4 by your default AWS credentials for a deployed API
(the compliance managed policy), or with the local runtime's compliance token. Only this
machine can open it; the page holds a per-run session, never your credentials. Ctrl-C stops it.
Examples:
  $ erasure dashboard --api https://a1b2c3.execute-api.eu-west-1.amazonaws.com
  $ AWS_PROFILE=compliance erasure dashboard --api https://a1b2c3.execute-api.eu-west-1.amazonaws.com --port 8080
  $ erasure dashboard --api https://erasure.example.com/prod --auth iam --region eu-west-1
  $ erasure dashboard          (the local runtime of .local/runtime.json; it also serves /dashboard itself)`,
};

export const main = async (args: readonly string[], io: CliIo = processIo()): Promise<number> => {
  let exitCode: number = EXIT.ok;
  const env = io.env ?? process.env;

  const program = new Command('erasure')
    .description(
      'Erasure Orchestrator from the command line: requests, holds, audit, reports, event imports, dashboard.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
    })
    .showHelpAfterError('(add --help for usage)')
    .option('--api <url>', 'API base URL (env ERASURE_API_URL)')
    .option('--token <token>', 'bearer token of the local runtime (env ERASURE_TOKEN)')
    .addOption(
      new Option('--auth <mode>', 'how to authenticate (env ERASURE_AUTH)').choices(['token', 'iam']),
    )
    .option('--region <region>', 'AWS region for --auth iam when the URL does not name one')
    .addHelpText('after', EXAMPLES.root);

  const clientFor = async (command: Command, role: CallerRole): Promise<ApiClient> => {
    const options = command.optsWithGlobals<ConnectionOptions>();
    const { baseUrl, auth } = await resolveConnection(options, role, {
      env,
      cwd: io.cwd ?? process.cwd(),
      ...(io.credentials === undefined ? {} : { credentials: io.credentials }),
    });
    return new ApiClient(baseUrl, auth, io.fetch ?? fetch);
  };

  // --- requests -------------------------------------------------------------------------------
  const requests = program
    .command('requests')
    .description('erasure requests: submit, show, wait, reject, extend, redrive');

  requests
    .command('submit')
    .description('submit an erasure request (POST /v1/erasure-requests, service role)')
    .requiredOption('--subject <subjectId>', "the data subject's id")
    .requiredOption('--reason <code>', 'reason code, e.g. gdpr-art17-request')
    .option('--data-class <class>', 'limit to this data class (repeatable)', collect)
    .option(
      '--identifier <name=value>',
      'a declared identifier of the subject (repeatable)',
      collectIdentifier,
    )
    .option('--idempotency-key <key>', 'reuse a key to retry safely (8 to 128 characters)')
    .option('--dry-run', 'show what the request would erase, withhold or leave blocked; change nothing')
    .addHelpText('after', EXAMPLES.submit)
    .action(
      async (
        options: {
          subject: string;
          reason: string;
          dataClass?: string[];
          identifier?: Record<string, string[]>;
          idempotencyKey?: string;
          dryRun?: boolean;
        },
        command: Command,
      ) => {
        const client = await clientFor(command, 'service');
        if (options.dryRun === true) {
          // A dry run reserves no key: none is made up, and a given one only de-duplicates its audit entry.
          // The preview route, not `dryRun` on the request route: compliance staff may call it too.
          const preview = await client.json<{ totals: Record<string, number>; intake: string }>(
            'POST',
            '/v1/erasure-previews',
            {
              body: {
                subjectId: options.subject,
                reason: options.reason,
                ...(options.dataClass === undefined ? {} : { dataClasses: options.dataClass }),
                ...identifiersBody(options.identifier),
              },
              headers:
                options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey },
            },
          );
          const { totals } = preview;
          const partial = totals.partial ?? 0;
          io.err(
            `dry run, nothing changed: intake would be ${preview.intake}; would erase ${totals.erase}, ` +
              `blocked ${totals.blocked}, withheld ${totals.withheld}, ${totals.unknown} task(s) without a count` +
              (partial === 0
                ? ''
                : `, ${partial} task(s) counted only in part (time limit): the figures are lower bounds`),
          );
          printJson(io, preview);
          return;
        }
        const key = options.idempotencyKey ?? randomUUID();
        if (options.idempotencyKey === undefined) io.err(`Idempotency-Key: ${key}`);
        const receipt = await client.json('POST', '/v1/erasure-requests', {
          body: {
            subjectId: options.subject,
            reason: options.reason,
            ...(options.dataClass === undefined ? {} : { dataClasses: options.dataClass }),
            ...identifiersBody(options.identifier),
          },
          headers: { 'idempotency-key': key },
        });
        printJson(io, receipt);
      },
    );

  requests
    .command('show')
    .description('a request with its tasks (GET /v1/erasure-requests/{requestId})')
    .argument('<requestId>')
    .addHelpText('after', EXAMPLES.show)
    .action(async (requestId: string, _options: unknown, command: Command) => {
      const client = await clientFor(command, 'compliance');
      printJson(io, await client.json('GET', `/v1/erasure-requests/${encodeURIComponent(requestId)}`));
    });

  requests
    .command('wait')
    .description('wait until a request is completed, rejected, cancelled or partially failed')
    .argument('<requestId>')
    .option('--timeout <seconds>', 'give up after this many seconds', positiveInteger('--timeout'), 600)
    .option('--interval <seconds>', 'ask every this many seconds', positiveInteger('--interval'), 2)
    .addHelpText('after', EXAMPLES.wait)
    .action(async (requestId: string, options: { timeout: number; interval: number }, command: Command) => {
      const client = await clientFor(command, 'compliance');
      const sleep = io.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
      const deadline = Date.now() + options.timeout * 1000;
      let last: string | undefined;
      for (;;) {
        const request = await client.json<{ status: string }>(
          'GET',
          `/v1/erasure-requests/${encodeURIComponent(requestId)}`,
        );
        if (request.status !== last) io.err(`status: ${request.status}`);
        last = request.status;
        if (FINAL_STATUSES.has(request.status)) {
          printJson(io, request);
          exitCode = request.status === 'completed' ? EXIT.ok : EXIT.failed;
          return;
        }
        if (Date.now() >= deadline || io.signal?.aborted) {
          printJson(io, request);
          io.err(`still ${request.status} after ${options.timeout} s`);
          exitCode = io.signal?.aborted ? EXIT.interrupted : EXIT.timeout;
          return;
        }
        await sleep(options.interval * 1000);
      }
    });

  const requestAction = (
    name: string,
    description: string,
    path: string,
    bodyOption: { flag: string; field: string; help: string } | undefined,
    help: string,
  ) => {
    const command = requests
      .command(name)
      .description(description)
      .argument('<requestId>')
      .addHelpText('after', help);
    if (bodyOption !== undefined) command.requiredOption(bodyOption.flag, bodyOption.help);
    command.action(async (requestId: string, options: Record<string, string>, self: Command) => {
      const client = await clientFor(self, 'compliance');
      printJson(
        io,
        await client.json('POST', `/v1/erasure-requests/${encodeURIComponent(requestId)}/${path}`, {
          // Each option's name is its body field's (--legal-reason → legalReason).
          body: bodyOption === undefined ? {} : { [bodyOption.field]: options[bodyOption.field] },
        }),
      );
    });
  };
  requestAction(
    'reject',
    'refuse a request, or what is left of a partially failed one, for a stated legal reason (compliance role)',
    'rejection',
    { flag: '--legal-reason <code>', field: 'legalReason', help: 'legal reason code' },
    EXAMPLES.reject,
  );
  requestAction(
    'extend',
    'extend the 30-day deadline once (compliance role)',
    'deadline-extension',
    { flag: '--reason <code>', field: 'reason', help: 'reason code' },
    EXAMPLES.extend,
  );
  requestAction(
    'redrive',
    're-drive a partially failed request (compliance role)',
    'redrive',
    undefined,
    EXAMPLES.redrive,
  );

  // --- suppressions ---------------------------------------------------------------------------
  const suppressions = program
    .command('suppressions')
    .description("the suppression list of erased subjects' identifiers: check, lift");

  const suppressionQuery = (options: { identifier?: Record<string, string[]>; subjectId?: string }) => {
    if (options.identifier === undefined && options.subjectId === undefined) {
      throw new UsageError('give at least one --identifier or --subject-id');
    }
    return {
      ...(options.subjectId === undefined ? {} : { subjectId: options.subjectId }),
      ...identifiersBody(options.identifier),
    };
  };

  suppressions
    .command('check')
    .description('which identifiers belong to an erased subject (POST /v1/suppressions/check, service role)')
    .option('--identifier <name=value>', 'a declared identifier to look up (repeatable)', collectIdentifier)
    .option('--subject-id <subjectId>', 'a subject id to look up')
    .addHelpText('after', EXAMPLES.check)
    .action(
      async (options: { identifier?: Record<string, string[]>; subjectId?: string }, command: Command) => {
        const body = suppressionQuery(options);
        const client = await clientFor(command, 'service');
        const answer = await client.json<{ suppressed: string[] }>('POST', '/v1/suppressions/check', {
          body,
        });
        io.err(
          answer.suppressed.length === 0
            ? 'none is suppressed'
            : `suppressed (an erased subject's): ${answer.suppressed.join(', ')}`,
        );
        printJson(io, answer);
      },
    );

  suppressions
    .command('lift')
    .description('lift suppressions, audited with a reason (POST /v1/suppressions/lift, compliance role)')
    .option('--identifier <name=value>', 'a declared identifier to lift (repeatable)', collectIdentifier)
    .option('--subject-id <subjectId>', 'a subject id to lift')
    .requiredOption('--reason <code>', 'reason code, e.g. consent-renewed')
    .addHelpText('after', EXAMPLES.lift)
    .action(
      async (
        options: { identifier?: Record<string, string[]>; subjectId?: string; reason: string },
        command: Command,
      ) => {
        const body = { ...suppressionQuery(options), reason: options.reason };
        const client = await clientFor(command, 'compliance');
        printJson(io, await client.json('POST', '/v1/suppressions/lift', { body }));
      },
    );

  // --- holds ----------------------------------------------------------------------------------
  const holds = program.command('holds').description('legal holds: place, release, list (compliance role)');

  holds
    .command('place')
    .description('place a legal hold (POST /v1/legal-holds)')
    .requiredOption('--subject <subjectId>', "the data subject's id")
    .requiredOption('--reason <code>', 'reason code, e.g. litigation-hold')
    .option('--data-class <class>', 'hold only this data class (repeatable); none holds everything', collect)
    .option('--until <instant>', 'ISO 8601 end of the hold; none for a hold without an end')
    .option(
      '--identifier <name=value>',
      "a declared identifier of the subject (repeatable): protected from any subject's request",
      collectIdentifier,
    )
    .option('--idempotency-key <key>', 'reuse a key to retry safely (8 to 128 characters)')
    .addHelpText('after', EXAMPLES.place)
    .action(
      async (
        options: {
          subject: string;
          reason: string;
          dataClass?: string[];
          until?: string;
          identifier?: Record<string, string[]>;
          idempotencyKey?: string;
        },
        command: Command,
      ) => {
        const client = await clientFor(command, 'compliance');
        // A retry with the printed key answers the same hold instead of placing a second one.
        const key = options.idempotencyKey ?? randomUUID();
        if (options.idempotencyKey === undefined) io.err(`Idempotency-Key: ${key}`);
        const placed = await client.json('POST', '/v1/legal-holds', {
          body: {
            subjectId: options.subject,
            reason: options.reason,
            ...(options.dataClass === undefined ? {} : { dataClasses: options.dataClass }),
            ...(options.until === undefined ? {} : { until: options.until }),
            ...identifiersBody(options.identifier),
          },
          headers: { 'idempotency-key': key },
        });
        printJson(io, placed);
        const releasedAt = (placed as { releasedAt?: unknown } | undefined)?.releasedAt;
        if (typeof releasedAt === 'string') {
          io.err(
            `This key's hold was released at ${releasedAt}: no hold is in place. Place a new one without --idempotency-key.`,
          );
        }
      },
    );

  holds
    .command('release')
    .description('release a legal hold (DELETE /v1/legal-holds/{holdId})')
    .argument('<holdId>')
    .addHelpText('after', EXAMPLES.release)
    .action(async (holdId: string, _options: unknown, command: Command) => {
      const client = await clientFor(command, 'compliance');
      await client.json('DELETE', `/v1/legal-holds/${encodeURIComponent(holdId)}`);
      io.err(`released ${holdId}`);
    });

  // --- reports --------------------------------------------------------------------------------
  const runReport = async (
    command: Command,
    name: ReportName,
    query: Record<string, string | number | undefined>,
    options: { csv?: boolean; output?: string },
  ) => {
    const client = await clientFor(command, 'compliance');
    const response = await client.send('GET', `/v1/reports/${name}`, {
      query: { ...query, ...(options.csv ? { format: 'csv' } : {}) },
      headers: { accept: options.csv ? 'text/csv' : 'application/json' },
    });
    if (response.status === 404) {
      await response.arrayBuffer();
      throw new ApiError(
        404,
        'report_not_available',
        `this API does not serve GET /v1/reports/${name}: it is older than the reports routes; upgrade it`,
      );
    }
    if (!response.ok) throw await apiErrorOf(response);
    if (options.csv) {
      const output = outputFor(io, options.output);
      try {
        await passThroughCsv(response, output.stream, false);
      } finally {
        await output.close();
      }
    } else printJson(io, await response.json());
  };

  holds
    .command('list')
    .description('active legal holds and what each blocks (GET /v1/reports/holds)')
    .option('--csv', 'CSV instead of JSON')
    .option('--output <file>', 'write the CSV to a file')
    .addHelpText('after', EXAMPLES.list)
    .action(async (options: { csv?: boolean; output?: string }, command: Command) => {
      await runReport(command, 'holds', {}, options);
    });

  program
    .command('reports')
    .description('compliance reports (GET /v1/reports/<name>)')
    .addArgument(new Argument('<name>', 'which report').choices(Object.keys(REPORTS)))
    .option('--from <YYYY-MM>', 'first month (erasures)')
    .option('--to <YYYY-MM>', 'last month (erasures)')
    .option('--days <days>', 'how far ahead (upcoming)', positiveInteger('--days'))
    .option('--csv', 'CSV instead of JSON')
    .option('--output <file>', 'write the CSV to a file')
    .addHelpText('after', EXAMPLES.reports)
    .action(
      async (
        name: ReportName,
        options: { from?: string; to?: string; days?: number; csv?: boolean; output?: string },
        command: Command,
      ) => {
        const query = { from: options.from, to: options.to, days: options.days };
        for (const [option, report] of Object.entries(REPORT_OPTIONS)) {
          if (query[option as keyof typeof query] !== undefined && report !== name)
            throw new UsageError(`--${option} is an option of the ${report} report, not of ${name}`);
        }
        await runReport(command, name, query, options);
      },
    );

  // --- audit ----------------------------------------------------------------------------------
  program
    .command('audit')
    .description('the audit trail (compliance role)')
    .command('export')
    .description('export audit entries as CSV (GET /v1/audit, every page)')
    .option('--csv', 'CSV (the default)')
    .option('--ndjson', 'one JSON entry per line instead of CSV')
    .option('--subject <subjectId>', "a subject's chain")
    .option('--request <requestId>', "a request's entries")
    .option('--data-class <class>', 'only entries of this data class')
    .option('--rule-ref <ref>', 'only entries under this rule ref')
    .option('--type <eventType>', 'only entries of this event type, e.g. task.verified')
    .option('--from <instant>', 'ISO 8601 start of the time range')
    .option('--to <instant>', 'ISO 8601 end of the time range')
    .addOption(
      new Option('--csv-source <source>', 'who writes the CSV')
        .choices(['auto', 'server', 'client'])
        .default('auto'),
    )
    .option('--output <file>', 'write to a file instead of stdout')
    .addHelpText('after', EXAMPLES.audit)
    .action(
      async (
        options: {
          csv?: boolean;
          ndjson?: boolean;
          subject?: string;
          request?: string;
          dataClass?: string;
          ruleRef?: string;
          type?: string;
          from?: string;
          to?: string;
          csvSource: CsvSource;
          output?: string;
        },
        command: Command,
      ) => {
        if (options.csv && options.ndjson) throw new UsageError('give --csv or --ndjson, not both');
        // The API's own rule (one index partition per search), said before any call is made.
        if (
          options.subject === undefined &&
          options.request === undefined &&
          (options.from === undefined || options.to === undefined)
        ) {
          throw new UsageError('give --subject, --request, or both --from and --to');
        }
        const client = await clientFor(command, 'compliance');
        const output = outputFor(io, options.output);
        try {
          const result = await exportAudit(client, {
            filters: {
              subjectId: options.subject,
              requestId: options.request,
              dataClass: options.dataClass,
              ruleRef: options.ruleRef,
              type: options.type,
              from: options.from,
              to: options.to,
            },
            format: options.ndjson ? 'ndjson' : 'csv',
            csvSource: options.csvSource,
            output: output.stream,
          });
          io.err(
            `${result.entries === undefined ? '' : `${result.entries} entries, `}${result.pages} page(s)${result.csvFrom === 'none' ? '' : `, CSV written by the ${result.csvFrom}`}`,
          );
        } finally {
          await output.close();
        }
      },
    );

  // --- events import --------------------------------------------------------------------------
  program
    .command('events')
    .description('lifecycle events (service role)')
    .command('import')
    .description('import lifecycle events from a CSV or NDJSON file, resumably')
    .argument('<file>', 'file.csv or file.ndjson (.jsonl)')
    .addOption(new Option('--format <format>', 'when the file name does not tell').choices(['csv', 'ndjson']))
    .option('--concurrency <n>', 'requests in flight at once', positiveInteger('--concurrency'), 8)
    .option('--checkpoint <file>', 'where accepted rows are recorded (default <file>.checkpoint)')
    .option('--restart', 'ignore an existing checkpoint and send every row again')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', EXAMPLES.import)
    .action(
      async (
        file: string,
        options: {
          format?: ImportFormat;
          concurrency: number;
          checkpoint?: string;
          restart?: boolean;
          progress: boolean;
          json?: boolean;
        },
        command: Command,
      ) => {
        const format = options.format ?? formatOfFile(file);
        if (format === undefined)
          throw new UsageError(
            `cannot tell the format of ${file} from its name: give --format csv or --format ndjson`,
          );
        const client = await clientFor(command, 'service');
        const barStream = options.progress ? io.progress : undefined;
        const bars =
          barStream === undefined
            ? undefined
            : new MultiBar(
                {
                  stream: barStream,
                  format:
                    ' {bar} {percentage}% | {value}/{total} rows | {rate} rows/s | failed {failed} | ETA {eta_formatted}',
                  hideCursor: true,
                  noTTYOutput: true,
                  notTTYSchedule: 5000,
                },
                Presets.shades_classic,
              );
        const bar = bars?.create(barStream === undefined ? 0 : await countRows(file, format), 0, {
          rate: '0',
          failed: 0,
        });
        const started = Date.now();
        const report = (failure: RowFailure) => {
          if (bars === undefined) io.err(failureLine(failure));
          else bars.log(`${failureLine(failure)}\n`);
        };
        let summary: ImportSummary;
        try {
          summary = await importEvents(client, {
            file,
            format,
            checkpointPath: options.checkpoint ?? `${file}.checkpoint`,
            restart: options.restart === true,
            concurrency: options.concurrency,
            ...(io.signal === undefined ? {} : { signal: io.signal }),
            ...(io.sleep === undefined ? {} : { sleep: io.sleep }),
            onProblem: report,
            onProgress: (progress) => {
              const seconds = Math.max((Date.now() - started) / 1000, 0.001);
              bar?.update(progress.done, {
                rate: (progress.done / seconds).toFixed(1),
                failed: progress.failed,
              });
            },
          });
        } finally {
          bars?.stop();
        }
        if (options.json) printJson(io, summary);
        else for (const line of summaryLines(summary)) io.out(line);
        exitCode =
          summary.interruptedAtLine !== undefined
            ? EXIT.interrupted
            : summary.failed.length > 0
              ? EXIT.failed
              : EXIT.ok;
      },
    );

  // --- dashboard ------------------------------------------------------------------------------
  program
    .command('dashboard')
    .description('serve the compliance dashboard on localhost, forwarding its calls to the API (signed)')
    .option(
      '--port <port>',
      'port on 127.0.0.1 (0 picks a free one)',
      (value: string) => {
        const parsed = Number(value);
        if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535)
          throw new InvalidArgumentError('--port must be a port number (0 to 65535)');
        return parsed;
      },
      DEFAULT_DASHBOARD_PORT,
    )
    .addHelpText('after', EXAMPLES.dashboard)
    .action(async (options: { port: number }, command: Command) => {
      const connection = command.optsWithGlobals<ConnectionOptions>();
      const { baseUrl, auth } = await resolveConnection(connection, 'compliance', {
        env,
        cwd: io.cwd ?? process.cwd(),
        ...(io.credentials === undefined ? {} : { credentials: io.credentials }),
      });
      let proxy: Awaited<ReturnType<typeof startDashboardProxy>>;
      try {
        proxy = await startDashboardProxy({
          baseUrl,
          auth,
          port: options.port,
          ...(io.fetch === undefined ? {} : { fetch: io.fetch }),
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
          throw new UsageError(`port ${options.port} is in use: give --port <another>`);
        throw error;
      }
      io.out(`Dashboard: ${proxy.url}`);
      io.err(
        `forwarding /v1/* to ${baseUrl.origin} (${auth.kind === 'iam' ? `SigV4, region ${auth.region}` : 'bearer token'}); Ctrl-C stops`,
      );
      // Serves until interrupted.
      await new Promise<void>((resolve) => {
        if (io.signal?.aborted) resolve();
        io.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      await proxy.close();
    });

  // --- verify-certificate ---------------------------------------------------------------------
  program
    .command('verify-certificate')
    .description('check a certificate of erasure offline')
    .argument('<certificate.json>')
    .option(
      '--public-key <pem>',
      'trusted public key file, one or more PEM keys (repeatable); without it the result is at best "not authenticated" (exit 4)',
      collect,
    )
    .addHelpText('after', EXAMPLES.verify)
    .action(async (file: string, options: { publicKey?: string[] }) => {
      let text: string;
      const keys: string[] = [];
      try {
        for (const path of options.publicKey ?? []) keys.push(...publicKeysIn(path, await io.readText(path)));
        text = await io.readText(file);
      } catch (error) {
        // Nothing was checked: no verdict on the certificate, which an auditor could take for one.
        io.err(
          error instanceof UsageError
            ? error.message
            : `cannot read: ${error instanceof Error ? error.message : String(error)}`,
        );
        exitCode = EXIT.usage;
        return;
      }
      let input: unknown;
      try {
        input = JSON.parse(text);
      } catch (error) {
        io.err(`INVALID: ${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
        exitCode = EXIT.failed;
        return;
      }
      const result = verifyCertificate(input, keys.length === 0 ? {} : { publicKeysPem: keys });
      if (result.ok) {
        io.out(result.summary);
        return;
      }
      if (result.verdict === 'unauthenticated') {
        io.out(result.summary);
        exitCode = EXIT.unauthenticated;
        return;
      }
      io.err(`INVALID: ${file}`);
      for (const problem of result.problems) io.err(`  - ${problem}`);
      exitCode = EXIT.failed;
    });

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (
      error instanceof UsageError ||
      (error instanceof ValidationError &&
        error.field !== undefined &&
        ['header', 'checkpoint'].includes(error.field))
    ) {
      io.err(`erasure: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof ApiError) {
      io.err(`erasure: ${error.describe()}`);
      return EXIT.failed;
    }
    // The reader stopped early (`| head`): the output ends there, which is not a failure.
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') return EXIT.ok;
    io.err(`erasure: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.failed;
  }
};
