/**
 * The API's OpenAPI 3.1 document (`GET /openapi.json`), built from what the API itself runs on:
 * the route table (functions/shared/routes.ts) for paths and roles, the zod schemas that validate
 * requests (./schemas.ts, through zod's own `z.toJSONSchema`) for bodies and parameters, and the
 * one error table for error answers. `OPERATIONS` is keyed by RouteKey, so a route without its
 * description does not compile; test/functions/openapi.test.ts checks every example against the
 * schema it illustrates.
 */
import * as z from 'zod';
import { MAX_AUDIT_WINDOW_DAYS } from '../../domain/bounds.js';
import { INSTANT_RULE } from '../../domain/time.js';
import { IDENTIFIER_RULE, REASON_CODE_RULE, SUBJECT_ID_RULE } from '../../domain/vocabulary/index.js';
import type { ErasurePreview } from '../services/erasure-preview.js';
import { CallbackBody } from '../services/task-callbacks.js';
import { ROUTES, type RouteDefinition, routeKey } from '../shared/routes.js';
import { MAX_BODY_BYTES } from './router.js';
import {
  AnchorListParams,
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  AuditQueryParams,
  CertificateParams,
  DeadlineExtensionBody,
  ErasurePreviewBody,
  ErasureRequestBody,
  ErasuresReportParams,
  ExportBody,
  LegalHoldBody,
  LifecycleEventBody,
  PATH_PARAMETERS,
  RejectionBody,
  ReportParams,
  SuppressionCheckBody,
  SuppressionLiftBody,
  SweepBody,
  UpcomingReportParams,
  VerificationParams,
} from './schemas.js';

export const OPENAPI_VERSION = '3.1.0';

/** `METHOD /path` of each declared route, exactly (RouteKey crosses every method with every path). */
type DeclaredKey<Route = (typeof ROUTES)[number]> = Route extends {
  readonly method: infer Method extends string;
  readonly path: infer Path extends string;
}
  ? `${Method} ${Path}`
  : never;
type RouteKey = DeclaredKey;

/** Every 4xx and 5xx answer (`ErrorBody`, functions/shared/http-errors.ts). */
export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string().meta({ description: 'Stable, machine-readable: validation_failed, not_found, ...' }),
    message: z.string().meta({ description: 'For people; never contains subject ids or personal data.' }),
    field: z
      .string()
      .optional()
      .meta({ description: 'The input that broke its rule (400): a body path, a query or path parameter.' }),
  }),
});

type Media = 'json' | 'csv' | 'pdf' | 'none';

interface Answer {
  readonly description: string;
  readonly media?: Media;
  /** The JSON answer's shape, where the document spells it out (else any object). */
  readonly schema?: z.ZodType;
  readonly example?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Operation {
  readonly summary: string;
  readonly description?: string;
  readonly tag: 'Compliance' | 'Service' | 'Audit' | 'Operations';
  readonly body?: { readonly schema: z.ZodType; readonly example: unknown };
  readonly query?: { readonly schema: z.ZodObject; readonly example: Readonly<Record<string, string>> };
  readonly headers?: readonly {
    readonly name: string;
    readonly description: string;
    readonly example: string;
    /** @default true */
    readonly required?: boolean;
  }[];
  /** The successful answers, by status. */
  readonly ok: Readonly<Record<number, Answer>>;
  /** Conflicts (409) this route can answer, described. */
  readonly conflict?: string;
  /**
   * The route asks the deployment's identifier resolver (`identifierResolver`): 503 when it cannot
   * answer, 502 when it answered identifiers that cannot be used. @default false
   */
  readonly resolves?: boolean;
}

const REQUEST_ID = 'req_3f9c2a71';
const SUBJECT = 'customer-4711';
const HOLD_ID = 'hold_91be02';
const TASK_ID = 'task_5d1e9f';
const AT = '2026-11-30T09:00:00.000Z';
const HASH = '9e3f6a1c0b7d4e2f8a5c3b1d0e9f7a6c5b4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f';

export const PATH_EXAMPLES: Readonly<Record<keyof typeof PATH_PARAMETERS, string>> = {
  subjectId: SUBJECT,
  requestId: REQUEST_ID,
  holdId: HOLD_ID,
  taskId: TASK_ID,
};

const requestViewExample = {
  requestId: REQUEST_ID,
  origin: 'api',
  status: 'dispatched',
  dataClasses: ['closed-account'],
  reason: 'gdpr-art17-request',
  receivedAt: AT,
  deadline: '2026-12-30T09:00:00.000Z',
  dispatchedAt: AT,
};

const auditEntryExample = {
  type: 'request.completed',
  at: AT,
  idempotencyKey: `request:${REQUEST_ID}:completed`,
  requestId: REQUEST_ID,
  chainId: HASH,
  seq: 4,
  subjectPseudonym: HASH,
  prevHash: HASH,
  hash: HASH,
};

const PreviewOutcomeSchema = z.enum(['erase', 'blocked', 'withheld']);
const PreviewReasonSchema = z.enum(['legal-hold', 'unpaid-invoice']);

/** The dry-run answer (`ErasurePreview`, functions/services/erasure-preview.ts), for the document. */
export const ErasurePreviewSchema = z.object({
  dryRun: z.literal(true),
  previewId: z
    .string()
    .meta({ description: 'Names the `request.previewed` audit entry; no request has it.' }),
  generatedAt: z.string(),
  intake: z.enum(['dispatched', 'blocked', 'refused']).meta({
    description:
      'What intake would answer now; `refused`: every class is withheld (ALE-2, 409 for a real request).',
  }),
  dataClasses: z.array(
    z.object({
      dataClass: z.string(),
      action: z.enum(['delete', 'anonymise', 'restrict']),
      outcome: PreviewOutcomeSchema,
      reason: PreviewReasonSchema.optional(),
      blockedBy: z.array(z.string()).optional(),
      targets: z.array(z.string()),
    }),
  ),
  targets: z.array(
    z.object({
      target: z.string(),
      connector: z.string(),
      action: z.enum(['delete', 'anonymise', 'restrict']),
      dataClasses: z.array(z.string()),
      outcome: PreviewOutcomeSchema,
      reason: PreviewReasonSchema.optional(),
      blockedBy: z.array(z.string()).optional(),
      count: z.number().int().min(0).nullable().meta({
        description: 'What the erasure would delete, anonymise or restrict there now; null when unknown.',
      }),
      unit: z.string().optional().meta({ description: '`object-versions`, `items` or `records`.' }),
      partial: z.literal(true).optional().meta({
        description:
          'Counting stopped at the dry run’s time limit (15 s): there are at least `count`, and the totals are lower bounds.',
      }),
      unknown: z
        .object({ reason: z.enum(['not-supported', 'not-counted', 'error']), code: z.string().optional() })
        .optional(),
    }),
  ),
  withheld: z.array(z.object({ dataClass: z.string(), reason: z.literal('unpaid-invoice') })).optional(),
  unaddressed: z
    .array(z.object({ target: z.string(), identifier: z.string() }))
    .optional()
    .meta({
      description:
        'Targets keyed by an identifier the request has no value of (sent or resolved): the request would not erase them.',
    }),
  totals: z.object({
    erase: z.number().int().min(0),
    blocked: z.number().int().min(0),
    withheld: z.number().int().min(0),
    unknown: z.number().int().min(0).meta({ description: 'Tasks whose count is unknown.' }),
    partial: z
      .number()
      .int()
      .min(0)
      .meta({ description: 'Tasks counted only in part (`partial`): the sums are then lower bounds.' }),
  }),
}) satisfies z.ZodType<ErasurePreview>;

const erasurePreviewExample: ErasurePreview = {
  dryRun: true,
  previewId: 'prv_6b0d3f1e9a2c4d5e8f7a6b5c4d3e2f1a',
  generatedAt: AT,
  intake: 'blocked',
  dataClasses: [
    {
      dataClass: 'closed-account',
      action: 'delete',
      outcome: 'blocked',
      reason: 'legal-hold',
      blockedBy: [HOLD_ID],
      targets: ['customer-records', 'user-files', 'partner-services'],
    },
  ],
  targets: [
    {
      target: 'customer-records',
      connector: 'dynamodb-items',
      action: 'delete',
      dataClasses: ['closed-account'],
      outcome: 'blocked',
      reason: 'legal-hold',
      blockedBy: [HOLD_ID],
      count: 1,
      unit: 'items',
    },
    {
      target: 'user-files',
      connector: 's3-prefix',
      action: 'delete',
      dataClasses: ['closed-account'],
      outcome: 'erase',
      count: 12,
      unit: 'object-versions',
    },
    {
      target: 'partner-services',
      connector: 'http-webhook',
      action: 'delete',
      dataClasses: ['closed-account'],
      outcome: 'erase',
      count: null,
      unknown: { reason: 'not-supported' },
    },
  ],
  totals: { erase: 12, blocked: 1, withheld: 0, unknown: 1, partial: 0 },
};

export const OPERATIONS: Readonly<Record<RouteKey, Operation>> = {
  'GET /livez': {
    summary: 'Liveness: answers while the function runs; carries no data',
    tag: 'Operations',
    ok: { 200: { description: 'Alive', example: { status: 'ok' } } },
  },
  'GET /openapi.json': {
    summary: 'This document',
    description:
      'Public: it describes the API as the open-source code does, and reveals no deployment data (no account, ' +
      'no URL, no catalog).',
    tag: 'Operations',
    ok: { 200: { description: 'The OpenAPI 3.1 document' } },
  },
  'GET /healthz': {
    summary: 'Health, for callers with credentials',
    tag: 'Operations',
    ok: { 200: { description: 'Healthy', example: { status: 'ok' } } },
  },
  'POST /v1/lifecycle-events': {
    summary: 'Record a lifecycle event of a subject; answers the retention decisions it caused',
    tag: 'Service',
    body: {
      schema: LifecycleEventBody,
      example: { subjectId: SUBJECT, type: 'account.closed', occurredAt: '2026-11-29T17:30:00Z' },
    },
    ok: {
      202: {
        description: 'Recorded (a re-sent event gets the same answer)',
        example: {
          eventId: 'evt_7c1a',
          decisions: [{ change: 'scheduled', dataClass: 'closed-account', ruleRef: 'ALU-3', dueAt: AT }],
        },
      },
    },
    conflict: 'A concurrent change to the same subject (retry).',
  },
  'GET /v1/subjects/{subjectId}/schedule': {
    summary: "A subject's pending and blocked deletions",
    tag: 'Service',
    ok: {
      200: {
        description: 'The schedule',
        example: {
          subjectId: SUBJECT,
          pending: [
            {
              dataClass: 'closed-account',
              action: 'delete',
              status: 'pending',
              dueAt: AT,
              ruleRef: 'ALU-3',
              triggeredBy: { type: 'account.closed', occurredAt: AT },
            },
          ],
        },
      },
    },
  },
  'POST /v1/subjects/{subjectId}/export': {
    summary: "Export a subject's data (GDPR Art. 15/20) from every target of the classes asked for",
    tag: 'Service',
    body: { schema: ExportBody, example: { dataClasses: ['closed-account'] } },
    ok: { 200: { description: 'The records found, per target' } },
    resolves: true,
  },
  'POST /v1/erasure-requests': {
    summary: 'Submit an erasure request (GDPR Art. 17)',
    tag: 'Service',
    description:
      'With `"dryRun": true` nothing is stored, queued or erased: the answer (200) is what the request would do now, ' +
      'per data class and per task (the count each target holds for the subject, and whether it would be erased, ' +
      'withheld (ALE-2) or blocked by a legal hold (ALM-3)); one `request.previewed` audit entry records the counts.',
    headers: [
      {
        name: 'Idempotency-Key',
        description:
          'Required unless `dryRun` is true; 8 to 128 characters: the same key and body answer the same request. ' +
          'A dry run reserves no key; given, a retried dry run is audited once.',
        example: 'c1d5e8a2-3b4f-4c6d-9e0f-1a2b3c4d5e6f',
        // OpenAPI cannot make a header depend on the body: the description says when it is required.
        required: false,
      },
    ],
    body: {
      schema: ErasureRequestBody,
      example: { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
    },
    ok: {
      200: {
        description: 'Dry run (`dryRun: true`): what the request would do; nothing changed',
        schema: ErasurePreviewSchema,
        example: erasurePreviewExample,
      },
      202: {
        description: 'Accepted: tasks dispatched (or blocked by legal holds, listed)',
        example: { requestId: REQUEST_ID, status: 'dispatched', deadline: '2026-12-30T09:00:00.000Z' },
      },
    },
    conflict: 'The Idempotency-Key was used with another body.',
    resolves: true,
  },
  'POST /v1/erasure-previews': {
    summary: 'Preview an erasure request: what it would erase, withhold or block now; nothing changed',
    tag: 'Compliance',
    description:
      'The dry run of `POST /v1/erasure-requests` (`"dryRun": true`) on a route of its own, for the service and ' +
      'compliance roles: IAM allows routes, not bodies, so compliance can preview an erasure without being allowed ' +
      'to submit one. Same body without `dryRun`, same answer, same single `request.previewed` audit entry.',
    headers: [
      {
        name: 'Idempotency-Key',
        description:
          'Optional, 8 to 128 characters: a retried preview (same key, same body) is audited once.',
        example: 'c1d5e8a2-3b4f-4c6d-9e0f-1a2b3c4d5e6f',
        required: false,
      },
    ],
    body: {
      schema: ErasurePreviewBody,
      example: { subjectId: SUBJECT, dataClasses: ['closed-account'], reason: 'gdpr-art17-request' },
    },
    ok: {
      200: {
        description: 'What the request would do; nothing changed',
        schema: ErasurePreviewSchema,
        example: erasurePreviewExample,
      },
    },
  },
  'GET /v1/erasure-requests/{requestId}': {
    summary: 'A request with its tasks',
    tag: 'Compliance',
    ok: {
      200: {
        description: 'The request',
        example: {
          ...requestViewExample,
          tasks: [
            {
              taskId: TASK_ID,
              dataClass: 'closed-account',
              connector: 's3-prefix',
              target: 'customer-exports',
              action: 'delete',
              status: 'dispatched',
              attempts: 1,
              deletedCount: 0,
            },
          ],
        },
      },
    },
  },
  'POST /v1/erasure-requests/{requestId}/rejection': {
    summary: 'Refuse a request on a legal ground (GDPR Art. 17(3))',
    description:
      'A received or blocked request (its tasks, none of which ran, are cancelled), or what is left of a ' +
      'partially failed one (its failed tasks stay failed, as the record of what was not erased). Final: ' +
      'the subject is forgotten in the same write.',
    tag: 'Compliance',
    body: { schema: RejectionBody, example: { legalReason: 'gdpr-art17-3-b-legal-obligation' } },
    ok: { 200: { description: 'Rejected', example: { ...requestViewExample, status: 'rejected' } } },
    conflict: 'The request is past the point where it can be refused.',
  },
  'POST /v1/erasure-requests/{requestId}/deadline-extension': {
    summary: 'Extend the deadline by two months (GDPR Art. 12(3)), once',
    tag: 'Compliance',
    body: { schema: DeadlineExtensionBody, example: { reason: 'complexity-many-systems' } },
    ok: { 200: { description: 'Extended', example: requestViewExample } },
    conflict: 'Already extended, or the request is final.',
  },
  'POST /v1/erasure-requests/{requestId}/redrive': {
    summary: 'Re-run the failed tasks of a partially failed request',
    tag: 'Compliance',
    ok: { 202: { description: 'Re-driven', example: requestViewExample } },
    conflict: 'The request is not partially failed.',
  },
  'GET /v1/erasure-requests/{requestId}/certificate': {
    summary: 'The signed certificate of erasure, as JSON or as a PDF to file',
    description:
      'JSON by default: the signed document `erasure verify-certificate` checks offline. `format=pdf` (or ' +
      '`Accept: application/pdf`) answers the same facts as a PDF with how to verify them, the signed JSON ' +
      'attached inside as certificate.json.',
    tag: 'Compliance',
    query: { schema: CertificateParams, example: { format: 'pdf' } },
    ok: {
      200: {
        description: 'The certificate (JSON), or its PDF (`format=pdf`)',
        media: 'json',
      },
    },
    conflict:
      'The request is not completed with every task verified yet (`not_ready`: ask again later); it is final and will never have a certificate (`no_certificate`: rejected, cancelled, or it erased nothing); or its audit trail, or the anchor the certificate would rest on, does not verify (`trail_broken`).',
  },
  'POST /v1/legal-holds': {
    summary: 'Place a legal hold: nothing of the subject (or of the classes named) is erased while it lasts',
    tag: 'Compliance',
    headers: [
      {
        name: 'Idempotency-Key',
        description:
          'Optional, 8 to 128 characters: placing again with the same key and body (a retry, a double click) ' +
          'answers the hold that key placed, released or not, and places nothing. Without it every call places a hold.',
        example: 'c1d5e8a2-3b4f-4c6d-9e0f-1a2b3c4d5e6f',
        required: false,
      },
    ],
    body: {
      schema: LegalHoldBody,
      example: { subjectId: SUBJECT, reason: 'litigation-2026-114', dataClasses: ['closed-account'] },
    },
    ok: {
      201: {
        description: 'Placed (or, with a key used before, the hold it placed)',
        example: { holdId: HOLD_ID },
      },
    },
    conflict: 'The Idempotency-Key was used with another body.',
  },
  'DELETE /v1/legal-holds/{holdId}': {
    summary: 'Release a legal hold; blocked deletions run at the next sweep',
    tag: 'Compliance',
    ok: { 204: { description: 'Released', media: 'none' } },
  },
  'POST /v1/suppressions/check': {
    summary: 'Which of these identifiers belong to an erased subject (suppression after erasure)',
    description:
      'Looks up the keyed hashes of the subject id and identifiers given. A product service asks before it ' +
      're-collects a person (a backup restore, a partner feed) and refuses those named in `suppressed`.',
    tag: 'Service',
    body: {
      schema: SuppressionCheckBody,
      example: { identifiers: { email: 'ana@example.com', deviceId: ['CAM-0001'] } },
    },
    ok: { 200: { description: 'The names of the suppressed ones', example: { suppressed: ['email'] } } },
  },
  'POST /v1/suppressions/lift': {
    summary: 'Lift a suppression (a person came back with consent); audited with keyed hashes only',
    tag: 'Compliance',
    body: {
      schema: SuppressionLiftBody,
      example: { identifiers: { email: 'ana@example.com' }, reason: 'consent-given-again' },
    },
    ok: { 200: { description: 'The names that were listed and are lifted', example: { lifted: ['email'] } } },
  },
  'POST /v1/sweeps': {
    summary: 'Run the sweep of due deletions and notices now',
    tag: 'Service',
    body: { schema: SweepBody, example: {} },
    ok: { 200: { description: 'What the sweep dispatched, blocked and noticed' } },
  },
  'GET /v1/audit': {
    summary: 'Search the audit trail, as JSON pages or CSV',
    description:
      'Give a scope: `requestId`, `subjectId` (pseudonymised with the deployment key before the lookup), or ' +
      `both \`from\` and \`to\` (at most ${MAX_AUDIT_WINDOW_DAYS} days). \`dataClass\`, \`ruleRef\` and \`type\` narrow ` +
      `it. JSON answers pages of \`limit\` entries (default ${AUDIT_PAGE_DEFAULT}, at most ${AUDIT_PAGE_MAX}); ` +
      'pass `nextCursor` back as `cursor` with the same filters. A page may be short and still have a next one. ' +
      '`format=csv` (or `Accept: text/csv`) answers RFC 4180 CSV of the whole search (columns in the README); ' +
      'in AWS the answer stops after about 4 MiB and names where to continue in `x-next-cursor`.',
    tag: 'Audit',
    query: {
      schema: AuditQueryParams,
      example: { subjectId: SUBJECT, dataClass: 'closed-account', type: 'request.completed', limit: '50' },
    },
    ok: {
      200: {
        description: 'A page of entries (JSON), or the CSV',
        example: { entries: [auditEntryExample], nextCursor: 'eyJwIjp7fX0.c2lnbmF0dXJl' },
        headers: {
          'x-next-cursor': 'CSV only: the cursor of the rest, when the answer stopped at its size limit',
        },
      },
    },
  },
  'GET /v1/audit/verification': {
    summary:
      "Verify a subject's chain, or a named one (chain=window:<target>, chain=system), on its own and against its anchors",
    tag: 'Audit',
    query: { schema: VerificationParams, example: { subjectId: SUBJECT } },
    ok: { 200: { description: 'The verification' } },
  },
  'POST /v1/audit/anchors': {
    summary: 'Anchor the heads of every chain now (signed, written once to the anchor store)',
    tag: 'Audit',
    ok: {
      200: { description: 'No chain moved since the last anchor: none written' },
      201: { description: 'Anchor written' },
    },
    conflict: 'Another anchoring took the same sequence number (retry).',
  },
  'GET /v1/audit/anchors': {
    summary: 'The anchors of a window, and the check of the whole anchor chain',
    tag: 'Audit',
    query: {
      schema: AnchorListParams,
      example: { from: '2026-11-01T00:00:00Z', to: '2026-11-30T00:00:00Z' },
    },
    ok: { 200: { description: 'The anchors' } },
  },
  'GET /v1/audit/public-keys': {
    summary: 'Every key that signs or signed anchors and certificates (PEM)',
    tag: 'Audit',
    ok: { 200: { description: 'The keys' } },
  },
  'GET /v1/reports/deadlines': {
    summary: 'ALU-3: open requests against their 30-day deadline',
    description:
      'Open requests (received, blocked, dispatched) from the sparse `openByDeadline` index, by deadline: ' +
      '`daysToDeadline` (whole days, negative once overdue), `overdue`, `extended`, the holds that block ' +
      'them (`blockedBy`) and since when (`blockedSince`); a summary (`dueWithin7Days`: deadline within the next 7 days) and a count per bucket. ' +
      '`format=csv` (or `Accept: text/csv`): one row per request (columns in the README).',
    tag: 'Compliance',
    query: { schema: ReportParams, example: { format: 'json' } },
    ok: {
      200: {
        description: 'The report',
        example: {
          asOf: AT,
          summary: { open: 1, overdue: 0, dueWithin7Days: 0, extended: 0 },
          byDaysToDeadline: [
            { bucket: 'overdue', count: 0 },
            { bucket: '0-7', count: 0 },
            { bucket: '8-14', count: 0 },
            { bucket: '15-21', count: 0 },
            { bucket: '22-30', count: 1 },
            { bucket: '31+', count: 0 },
          ],
          requests: [
            {
              requestId: REQUEST_ID,
              status: 'dispatched',
              origin: 'api',
              dataClasses: ['closed-account'],
              receivedAt: AT,
              deadline: '2026-12-30T09:00:00.000Z',
              daysToDeadline: 30,
              overdue: false,
              extended: false,
            },
          ],
        },
      },
    },
  },
  'GET /v1/reports/holds': {
    summary: 'Active legal holds, the targets they protect and the requests and deletions they hold back',
    description:
      "From the list of active holds. `targets`: every target the hold's data classes live in (all " +
      'targets for a hold of every class, whose `dataClasses` is empty); `blockedRequests`: open requests ' +
      'whose `blockedBy` names the hold; `identifiers`: names (never values) of the identifiers whose values ' +
      "the hold names; `heldDeletions`: the subject's scheduled deletions the hold covers that fall due before " +
      'its `until` (`due`: due now, stopped by the hold). `format=csv`: one row per hold.',
    tag: 'Compliance',
    query: { schema: ReportParams, example: { format: 'json' } },
    ok: {
      200: {
        description: 'The report',
        example: {
          asOf: AT,
          holds: [
            {
              holdId: HOLD_ID,
              subjectId: SUBJECT,
              dataClasses: ['customer-profile'],
              reason: 'litigation-2026-001',
              placedAt: AT,
              targets: ['customer-records'],
              identifiers: ['email'],
              blockedRequests: [{ requestId: REQUEST_ID, status: 'blocked' }],
              heldDeletions: [
                { dataClass: 'customer-profile', ruleRef: 'ALE-1', action: 'delete', dueAt: AT, due: true },
              ],
            },
          ],
        },
      },
    },
  },
  'GET /v1/reports/failures': {
    summary: 'Partially failed requests with their failed tasks and error codes, ready to re-drive',
    description:
      'From the sparse `byFailure` index, by deadline. `format=csv`: one row per failed task. Re-drive with ' +
      '`POST /v1/erasure-requests/{requestId}/redrive` once the cause is fixed.',
    tag: 'Compliance',
    query: { schema: ReportParams, example: { format: 'csv' } },
    ok: {
      200: {
        description: 'The report',
        example: {
          asOf: AT,
          requests: [
            {
              requestId: REQUEST_ID,
              origin: 'api',
              dataClasses: ['closed-account'],
              receivedAt: AT,
              deadline: '2026-12-30T09:00:00.000Z',
              redriveCount: 0,
              failedTasks: [
                {
                  taskId: TASK_ID,
                  target: 'partner-crm',
                  dataClass: 'closed-account',
                  action: 'delete',
                  attempts: 5,
                  errorCode: 'retries-exhausted',
                  failedAt: AT,
                },
              ],
            },
          ],
        },
      },
    },
  },
  'GET /v1/reports/erasures': {
    summary: 'ALE-5: verified deletions, anonymisations and restrictions per month, data class and rule',
    description:
      'From counters kept in the commit of each verified task outcome and window run. `from`, `to`: ' +
      'inclusive months (`YYYY-MM`; default the 12 months up to now; at most 36). A scheduled deletion ' +
      'counts under its rule, an erasure request under ALU-3. `format=csv`: one row per month, class and rule.',
    tag: 'Compliance',
    query: { schema: ErasuresReportParams, example: { from: '2026-01', to: '2026-12' } },
    ok: {
      200: {
        description: 'The report',
        example: {
          from: '2026-01',
          to: '2026-12',
          rows: [
            {
              month: '2026-11',
              dataClass: 'suspended-account',
              ruleRef: 'ALL-3',
              deletions: 2,
              anonymisations: 0,
              restrictions: 0,
              items: 5,
            },
          ],
        },
      },
    },
  },
  'GET /v1/reports/upcoming': {
    summary: 'Erasures and advance notices due in the next days, per data class and rule',
    description:
      'From the `byDueBucket` index, from now to `days` days ahead (1 to 366, default 30). Rolling ' +
      'windows are not listed (they run per target, not per subject). `format=csv`: one row per class and rule.',
    tag: 'Compliance',
    query: { schema: UpcomingReportParams, example: { days: '30' } },
    ok: {
      200: {
        description: 'The report',
        example: {
          asOf: AT,
          until: '2026-12-30T09:00:00.000Z',
          rows: [{ dataClass: 'closed-account', ruleRef: 'ALL-1', deletions: 3, notices: 0, firstDueAt: AT }],
        },
      },
    },
  },
  'POST /v1/tasks/{taskId}/callback': {
    summary: "A partner system reports a webhook task's outcome (HMAC-signed, no IAM)",
    tag: 'Service',
    headers: [
      {
        name: 'X-Erasure-Signature',
        description: 't=<unix seconds>,v1=<hex HMAC-SHA-256 of "t.body"> with the target\'s signing secret',
        example: 't=1796029200,v1=5e2c...',
      },
    ],
    body: {
      schema: CallbackBody,
      example: { taskId: TASK_ID, nonce: 'n_4f1a', status: 'done', deletedCount: 3 },
    },
    ok: {
      200: {
        description: "The task's status after the callback",
        example: { taskId: TASK_ID, status: 'verified' },
      },
    },
    conflict: 'A stale callback (another attempt of the task).',
  },
};

/** What each property name means, from the one vocabulary (domain/vocabulary, domain/time). */
const FIELD_RULES: Readonly<Record<string, string>> = {
  subjectId: `A subject id: ${SUBJECT_ID_RULE}.`,
  requestId: `A request id: ${IDENTIFIER_RULE}.`,
  holdId: `A legal hold id: ${IDENTIFIER_RULE}.`,
  taskId: `A task id: ${IDENTIFIER_RULE}.`,
  from: `${INSTANT_RULE}; inclusive.`,
  to: `${INSTANT_RULE}; inclusive.`,
  occurredAt: `${INSTANT_RULE}; not before 2000, at most 24 hours ahead.`,
  until: `${INSTANT_RULE}; at most 100 years ahead.`,
  now: `${INSTANT_RULE}.`,
  reason: `${REASON_CODE_RULE}.`,
  legalReason: `${REASON_CODE_RULE}.`,
  cursor: 'The `nextCursor` of the previous page, unchanged, with the same filters.',
};

type JsonSchema = Record<string, unknown> & { properties?: Record<string, Record<string, unknown>> };

/** The input side of a zod schema (what callers send), with the vocabulary's rules as descriptions. */
const jsonSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _dialect, ...converted } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    // Refinements and transforms (ids, instants) show as their base type; FIELD_RULES describes them.
    unrepresentable: 'any',
  }) as JsonSchema;
  const properties = converted.properties;
  if (properties !== undefined) {
    for (const [name, property] of Object.entries(properties)) {
      const rule = FIELD_RULES[name];
      if (rule !== undefined && property.description === undefined) property.description = rule;
    }
  }
  return converted;
};

/** The output side of a zod schema that documents an answer. */
const answerSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _dialect, ...converted } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'output',
    unrepresentable: 'any',
  }) as JsonSchema;
  return converted;
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };

const errorExample = (code: string, message: string, field?: string) => ({
  error: { code, message, ...(field === undefined ? {} : { field }) },
});

const errorAnswer = (description: string, example: unknown) => ({
  description,
  content: { 'application/json': { schema: ERROR_REF, example } },
});

/** The error answers a route can give, from what it reads and who may call it. */
const errorsOf = (route: RouteDefinition, operation: Operation) => {
  const hasPath = route.path.includes('{');
  const errors: Record<string, unknown> = {};
  if (
    operation.body !== undefined ||
    operation.query !== undefined ||
    hasPath ||
    operation.headers !== undefined
  ) {
    errors['400'] = errorAnswer(
      'Invalid input: `field` names it',
      errorExample('validation_failed', 'subjectId must be printable ASCII without spaces', 'subjectId'),
    );
  }
  if (route.roles !== 'public') {
    errors['401'] = errorAnswer(
      route.roles === 'signed' ? 'Missing or bad signature' : 'Missing or unknown credentials',
      errorExample('unauthorized', 'Missing or unknown bearer token'),
    );
  }
  if (Array.isArray(route.roles)) {
    errors['403'] = errorAnswer(
      "The caller's role may not call this route",
      errorExample('forbidden', `The 'service' role may not call ${routeKey(route)}`),
    );
  }
  if (hasPath)
    errors['404'] = errorAnswer('Not found', errorExample('not_found', `No erasure request ${REQUEST_ID}`));
  if (operation.conflict !== undefined) {
    errors['409'] = errorAnswer(operation.conflict, errorExample('illegal_transition', operation.conflict));
  }
  if (operation.body !== undefined) {
    errors['413'] = errorAnswer(
      `Body over ${MAX_BODY_BYTES / 1024} KiB`,
      errorExample('payload_too_large', `The body is larger than ${MAX_BODY_BYTES / 1024} KiB`),
    );
  }
  // A signed callback is read from the bytes its signature covers, whatever their declared type.
  if (operation.body !== undefined && route.roles !== 'signed') {
    errors['415'] = errorAnswer(
      'A body not sent as `Content-Type: application/json` (or a `+json` type): `field` is `content-type`',
      errorExample(
        'unsupported_media_type',
        'The body must be sent as Content-Type: application/json',
        'content-type',
      ),
    );
  }
  if (operation.resolves === true) {
    errors['502'] = errorAnswer(
      'The identifier resolver answered an identifier that cannot be used (named; its value never is)',
      errorExample(
        'resolver_failed',
        "Identifier resolver 'identity-lookup' answered an unusable identifier: identifiers.deviceId[1] does not match the pattern declared for 'deviceId'",
      ),
    );
    errors['503'] = errorAnswer(
      'The identifier resolver could not answer; nothing was stored: try again',
      errorExample('resolver_unavailable', "Identifier resolver 'identity-lookup' is unavailable"),
    );
  }
  errors['500'] = errorAnswer(
    'Internal error: logged under the request id, answered without detail',
    errorExample('internal_error', 'Internal error (request id 8d3b...)'),
  );
  return errors;
};

const CONTENT_TYPES: Readonly<Record<Exclude<Media, 'none'>, string>> = {
  json: 'application/json',
  csv: 'text/csv',
  pdf: 'application/pdf',
};

/** The success answers; routes with CSV or PDF alternatives list those media types too. */
const answersOf = (key: RouteKey, operation: Operation) =>
  Object.fromEntries(
    Object.entries(operation.ok).map(([status, answer]) => {
      const media = answer.media ?? 'json';
      const alternatives: Media[] =
        key === 'GET /v1/audit' || key.startsWith('GET /v1/reports/')
          ? ['csv']
          : key === 'GET /v1/erasure-requests/{requestId}/certificate'
            ? ['pdf']
            : [];
      const content =
        media === 'none'
          ? undefined
          : Object.fromEntries(
              [media, ...alternatives].map((type) => [
                CONTENT_TYPES[type as Exclude<Media, 'none'>],
                type === 'json'
                  ? {
                      schema: answer.schema === undefined ? { type: 'object' } : answerSchema(answer.schema),
                      ...(answer.example === undefined ? {} : { example: answer.example }),
                    }
                  : {
                      schema: {
                        type: 'string',
                        ...(type === 'pdf' ? { contentMediaType: 'application/pdf' } : {}),
                      },
                    },
              ]),
            );
      return [
        status,
        {
          description: answer.description,
          ...(answer.headers === undefined
            ? {}
            : {
                headers: Object.fromEntries(
                  Object.entries(answer.headers).map(([name, description]) => [
                    name,
                    { description, schema: { type: 'string' } },
                  ]),
                ),
              }),
          ...(content === undefined ? {} : { content }),
        },
      ];
    }),
  );

const securityOf = (route: RouteDefinition) => {
  if (route.roles === 'public') return [];
  if (route.roles === 'signed') return [{ webhookSignature: [] }];
  return [{ awsSigV4: [] }, { bearerToken: [] }];
};

const operationOf = (route: RouteDefinition) => {
  const key = routeKey(route) as RouteKey;
  const operation = OPERATIONS[key];
  const pathNames = [...route.path.matchAll(/\{([^}]+)\}/g)].map(
    (match) => match[1] as keyof typeof PATH_PARAMETERS,
  );
  const querySchema = operation.query === undefined ? undefined : jsonSchema(operation.query.schema);
  const required = new Set((querySchema?.required as string[] | undefined) ?? []);
  const parameters = [
    ...pathNames.map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: jsonSchema(PATH_PARAMETERS[name]),
      description: FIELD_RULES[name],
      example: PATH_EXAMPLES[name],
    })),
    ...Object.entries(querySchema?.properties ?? {}).map(([name, schema]) => {
      const { description, ...rest } = schema;
      return {
        name,
        in: 'query',
        required: required.has(name),
        schema: rest,
        ...(description === undefined ? {} : { description }),
        ...(operation.query?.example[name] === undefined ? {} : { example: operation.query.example[name] }),
      };
    }),
    ...(operation.headers ?? []).map((header) => ({
      name: header.name,
      in: 'header',
      required: header.required ?? true,
      description: header.description,
      schema: { type: 'string' },
      example: header.example,
    })),
  ];
  const roles = Array.isArray(route.roles) ? route.roles : [];
  return {
    operationId: `${route.method.toLowerCase()}${route.path
      .split(/[/{}.-]+/)
      .filter((part) => part !== '')
      .map((part) => `${part[0]?.toUpperCase()}${part.slice(1)}`)
      .join('')}`,
    summary: operation.summary,
    description: [
      operation.description,
      route.roles === 'public'
        ? 'No credentials needed.'
        : route.roles === 'signed'
          ? 'Authenticated by its HMAC signature, not by IAM or a token.'
          : `Roles: ${roles.join(', ')}.`,
    ]
      .filter((part) => part !== undefined)
      .join('\n\n'),
    tags: [operation.tag],
    'x-roles': route.roles,
    security: securityOf(route),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(operation.body === undefined
      ? {}
      : {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchema(operation.body.schema),
                example: operation.body.example,
              },
            },
          },
        }),
    responses: { ...answersOf(key, operation), ...errorsOf(route, operation) },
  };
};

/** The OpenAPI 3.1 document of every route in ROUTES. */
export const openApiDocument = () => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES as readonly RouteDefinition[]) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operationOf(route) };
  }
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: 'Erasure Orchestrator API',
      version: '1.0.0',
      description:
        'GDPR erasure and retention enforcement with a tamper-evident audit trail. In AWS every route but the ' +
        'public and signed ones is authorised by IAM (SigV4; the service and compliance managed policies grant ' +
        'exactly the routes of their role, `x-roles`); the local runtime uses one bearer token per role.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'Service', description: 'Called by the systems that own the data (role service)' },
      { name: 'Compliance', description: 'Called by compliance staff (role compliance)' },
      { name: 'Audit', description: 'The audit trail, its anchors and keys (role compliance)' },
      { name: 'Operations', description: 'Liveness, health and this description' },
    ],
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBodySchema) },
      securitySchemes: {
        awsSigV4: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            'AWS Signature Version 4 (IAM), as API Gateway checks it: execute-api:Invoke on the route.',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The local runtime only: one token per role (printed by `npm start`).',
        },
        webhookSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Erasure-Signature',
          description: "HMAC-SHA-256 of the body with the target's signing secret.",
        },
      },
    },
  };
};
