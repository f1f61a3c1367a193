import type * as z from 'zod';
import {
  requireAuditScope,
  requireEventTime,
  requireHoldEnd,
  requireSweepTime,
} from '../../domain/bounds.js';
import { holdingBack } from '../../domain/erasure/request.js';
import type { ErasureRequest, ErasureTask } from '../../domain/erasure/types.js';
import { ValidationError } from '../../domain/errors.js';
import { requireAttributeNames } from '../../domain/events.js';
import { hasIdentifiers } from '../../domain/identifiers/identifiers.js';
import { validateAddressableSubject, validateIdentifiers } from '../../domain/vocabulary/index.js';
import { anchorAuditTrail, listAnchors, publicKeys, verifyAuditTrail } from '../services/anchors.js';
import { type AuditSearch, auditCsv, auditCursorPosition, searchAudit } from '../services/audit-search.js';
import type { ServiceDeps } from '../services/deps.js';
import { previewErasureRequest } from '../services/erasure-preview.js';
import {
  describeErasureRequest,
  type ErasureRequestInput,
  extendErasureDeadline,
  redriveErasureRequest,
  rejectErasureRequest,
  submitErasureRequest,
} from '../services/erasure-requests.js';
import { exportSubjectData } from '../services/exports.js';
import { placeLegalHold, releaseLegalHold } from '../services/legal-holds.js';
import { recordLifecycleEvent } from '../services/lifecycle-events.js';
import { checkSuppressions, liftSuppressions } from '../services/suppressions.js';
import { sweepDueDeletions } from '../services/sweep.js';
import { handleTaskCallback } from '../services/task-callbacks.js';
import { openApiDocument } from './openapi.js';
import { reportHandlers } from './report-handlers.js';
import { pathParam, wants } from './request-params.js';
import type { ApiResponse, RouteHandler } from './router.js';
import {
  AnchorListParams,
  AUDIT_PAGE_DEFAULT,
  AuditQueryParams,
  DeadlineExtensionBody,
  ErasurePreviewBody,
  ErasureRequestBody,
  ExportBody,
  LegalHoldBody,
  LifecycleEventBody,
  parseBody,
  parseQuery,
  RejectionBody,
  SuppressionCheckBody,
  SuppressionLiftBody,
  SweepBody,
  VerificationParams,
} from './schemas.js';
import type {
  AnchorList,
  AnchorReceipt,
  AuditList,
  HealthAnswer,
  HoldReceipt,
  PublicKeyList,
  RequestDetail,
  RequestView,
  ScheduleView,
  SuppressionCheckAnswer,
  SuppressionLiftAnswer,
  TaskView,
  VerificationAnswer,
} from './types.js';

const taskView = (task: ErasureTask, blockedBy?: readonly string[]): TaskView => ({
  taskId: task.taskId,
  dataClass: task.dataClass,
  connector: task.connector,
  target: task.target,
  action: task.action,
  status: task.status,
  attempts: task.attempts,
  deletedCount: task.affectedCount,
  ...(task.olderThan === undefined ? {} : { olderThan: task.olderThan }),
  ...(task.verifiedAt === undefined ? {} : { verifiedAt: task.verifiedAt }),
  ...(task.error === undefined ? {} : { error: task.error }),
  ...(blockedBy === undefined ? {} : { blockedBy }),
});

const requestView = (request: ErasureRequest): RequestView => ({
  requestId: request.requestId,
  origin: request.origin,
  status: request.status,
  dataClasses: request.dataClasses,
  reason: request.reason,
  receivedAt: request.receivedAt,
  deadline: request.deadline,
  ...(request.deadlineExtension === undefined ? {} : { deadlineExtension: request.deadlineExtension }),
  ...(request.rejection === undefined ? {} : { rejection: request.rejection }),
  ...(request.cancellation === undefined ? {} : { cancellation: request.cancellation }),
  // Shown once the request runs, the stored field would read as a hold still in force.
  ...(holdingBack(request).length === 0 ? {} : { blockedBy: holdingBack(request) }),
  ...(request.withheld === undefined ? {} : { withheld: request.withheld }),
  ...(request.unaddressed === undefined ? {} : { unaddressed: request.unaddressed }),
  ...(request.dispatchedAt === undefined ? {} : { dispatchedAt: request.dispatchedAt }),
  ...(request.completedAt === undefined ? {} : { completedAt: request.completedAt }),
});

const requestDetail = (
  request: ErasureRequest,
  tasks: readonly ErasureTask[],
  blockedBy: ReadonlyMap<string, readonly string[]>,
): RequestDetail => ({
  ...requestView(request),
  tasks: tasks.map((task) => taskView(task, blockedBy.get(task.taskId))),
});

/** An Idempotency-Key header a route takes but does not require (a legal hold's): 8 to 128 characters if given. */
const optionalIdempotencyKeyOf = (key: string | undefined): string | undefined => {
  if (key !== undefined && (key.length < 8 || key.length > 128)) {
    throw new ValidationError('The Idempotency-Key header must be 8 to 128 characters', 'Idempotency-Key');
  }
  return key;
};

/** The Idempotency-Key header of an erasure request: required, 8 to 128 characters. */
const idempotencyKeyOf = (key: string | undefined): string => {
  const checked = optionalIdempotencyKeyOf(key);
  if (checked === undefined) {
    throw new ValidationError(
      'The Idempotency-Key header is required (8 to 128 characters)',
      'Idempotency-Key',
    );
  }
  return checked;
};

/** An erasure request's body (or a preview's) as the services take it, its subject and identifiers checked. */
const erasureInputOf = (
  deps: ServiceDeps,
  body: z.output<typeof ErasurePreviewBody>,
): ErasureRequestInput => {
  validateAddressableSubject(deps.config, body.subjectId);
  const identifiers = validateIdentifiers(deps.config, body.identifiers);
  return {
    subjectId: body.subjectId,
    reason: body.reason,
    ...(body.dataClasses === undefined ? {} : { dataClasses: body.dataClasses }),
    ...(hasIdentifiers(identifiers) ? { identifiers } : {}),
  };
};

/**
 * The dry run, for `dryRun: true` and for `POST /v1/erasure-previews` alike. It reserves nothing:
 * the key is optional and only keeps a retry from being audited twice.
 */
const previewAnswer = async (
  deps: ServiceDeps,
  input: ErasureRequestInput,
  key: string | undefined,
): Promise<ApiResponse> => ({
  statusCode: 200,
  body: await previewErasureRequest(deps, input, key === undefined ? undefined : idempotencyKeyOf(key)),
});

/** Built once per process: it depends on nothing but the code. */
let openApiCache: ReturnType<typeof openApiDocument> | undefined;
const openApi = () => {
  openApiCache ??= openApiDocument();
  return openApiCache;
};

/**
 * The routes `servedBy: 'api'` (functions/shared/routes.ts); the certificate's are in
 * certificate-handlers.ts, with its own function.
 */
export const routeHandlers = (deps: ServiceDeps): Record<string, RouteHandler> => ({
  'GET /livez': async () => ({ statusCode: 200, body: { status: 'ok' } satisfies HealthAnswer }),
  'GET /openapi.json': async () => ({ statusCode: 200, body: openApi() }),
  'GET /healthz': async () => ({ statusCode: 200, body: { status: 'ok' } satisfies HealthAnswer }),

  'POST /v1/lifecycle-events': async (request) => {
    const body = parseBody(LifecycleEventBody, request.json());
    requireAttributeNames(body.attributes ?? {}, deps.config.catalog);
    const { occurredAt } = body;
    requireEventTime(occurredAt, deps.clock().toISOString());
    validateAddressableSubject(deps.config, body.subjectId);
    const identifiers = validateIdentifiers(deps.config, body.identifiers);
    const result = await recordLifecycleEvent(deps, {
      subjectId: body.subjectId,
      type: body.type,
      occurredAt,
      attributes: body.attributes ?? {},
      ...(hasIdentifiers(identifiers) ? { identifiers } : {}),
    });
    return { statusCode: 202, body: result };
  },

  'GET /v1/subjects/{subjectId}/schedule': async (request) => {
    const subjectId = pathParam(request, 'subjectId');
    const { schedule } = await deps.schedules.load(subjectId);
    const pending = schedule.entries
      // Windowed: a rolling window applies to the subject (enforced by the target's window runs).
      .filter(
        (entry) => entry.status === 'pending' || entry.status === 'blocked' || entry.status === 'windowed',
      )
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt))
      .map((entry) => ({
        dataClass: entry.dataClass,
        action: entry.action,
        status: entry.status,
        dueAt: entry.dueAt,
        ruleRef: entry.ruleRef,
        ...(entry.noticeAt === undefined ? {} : { noticeAt: entry.noticeAt }),
        triggeredBy: { type: entry.trigger.type, occurredAt: entry.trigger.occurredAt },
      }));
    return {
      statusCode: 200,
      body: {
        subjectId,
        pending,
        ...(schedule.unpaidInvoiceSince === undefined
          ? {}
          : { unpaidInvoiceSince: schedule.unpaidInvoiceSince }),
      } satisfies ScheduleView,
    };
  },

  'POST /v1/subjects/{subjectId}/export': async (request) => {
    const subjectId = validateAddressableSubject(deps.config, pathParam(request, 'subjectId'));
    const body = parseBody(ExportBody, request.json());
    const identifiers = validateIdentifiers(deps.config, body.identifiers);
    const exported = await exportSubjectData(deps, {
      subjectId,
      ...(hasIdentifiers(identifiers) ? { identifiers } : {}),
      ...(body.dataClasses === undefined ? {} : { dataClasses: body.dataClasses }),
    });
    return { statusCode: 200, body: exported };
  },

  'POST /v1/erasure-requests': async (request) => {
    const key = request.headers['idempotency-key'];
    const body = parseBody(ErasureRequestBody, request.json());
    const input = erasureInputOf(deps, body);
    if (body.dryRun === true) return previewAnswer(deps, input, key);
    const receipt = await submitErasureRequest(deps, input, idempotencyKeyOf(key));
    return { statusCode: 202, body: receipt };
  },

  // The dry run for callers who may not submit (compliance): the same path as `dryRun: true` above.
  'POST /v1/erasure-previews': (request) =>
    previewAnswer(
      deps,
      erasureInputOf(deps, parseBody(ErasurePreviewBody, request.json())),
      request.headers['idempotency-key'],
    ),

  'GET /v1/erasure-requests/{requestId}': async (request) => {
    const found = await describeErasureRequest(deps, pathParam(request, 'requestId'));
    return { statusCode: 200, body: requestDetail(found.request, found.tasks, found.blockedBy) };
  },

  'POST /v1/erasure-requests/{requestId}/rejection': async (request) => {
    const body = parseBody(RejectionBody, request.json());
    const rejected = await rejectErasureRequest(deps, pathParam(request, 'requestId'), body.legalReason);
    return { statusCode: 200, body: requestView(rejected) };
  },

  'POST /v1/erasure-requests/{requestId}/deadline-extension': async (request) => {
    const body = parseBody(DeadlineExtensionBody, request.json());
    const extended = await extendErasureDeadline(deps, pathParam(request, 'requestId'), body.reason);
    return { statusCode: 200, body: requestView(extended) };
  },

  'POST /v1/erasure-requests/{requestId}/redrive': async (request) => {
    const redriven = await redriveErasureRequest(deps, pathParam(request, 'requestId'));
    return { statusCode: 202, body: requestView(redriven) };
  },

  'POST /v1/legal-holds': async (request) => {
    const body = parseBody(LegalHoldBody, request.json());
    if (body.until !== undefined) requireHoldEnd(body.until, deps.clock().toISOString());
    validateAddressableSubject(deps.config, body.subjectId);
    const identifiers = validateIdentifiers(deps.config, body.identifiers);
    const key = optionalIdempotencyKeyOf(request.headers['idempotency-key']);
    const hold = await placeLegalHold(
      deps,
      {
        subjectId: body.subjectId,
        reason: body.reason,
        ...(hasIdentifiers(identifiers) ? { identifiers } : {}),
        ...(body.dataClasses === undefined ? {} : { dataClasses: body.dataClasses }),
        ...(body.until === undefined ? {} : { until: body.until }),
      },
      key,
    );
    return {
      statusCode: 201,
      body: {
        holdId: hold.holdId,
        ...(hold.releasedAt === undefined ? {} : { releasedAt: hold.releasedAt }),
      } satisfies HoldReceipt,
    };
  },

  'DELETE /v1/legal-holds/{holdId}': async (request) => {
    await releaseLegalHold(deps, pathParam(request, 'holdId'));
    return { statusCode: 204 };
  },

  'POST /v1/suppressions/check': async (request) => {
    const body = parseBody(SuppressionCheckBody, request.json());
    const identifiers = validateIdentifiers(deps.config, body.identifiers);
    const suppressed = await checkSuppressions(deps, {
      ...(body.subjectId === undefined ? {} : { subjectId: body.subjectId }),
      identifiers,
    });
    return { statusCode: 200, body: { suppressed } satisfies SuppressionCheckAnswer };
  },

  'POST /v1/suppressions/lift': async (request) => {
    const body = parseBody(SuppressionLiftBody, request.json());
    const identifiers = validateIdentifiers(deps.config, body.identifiers);
    const lifted = await liftSuppressions(deps, {
      ...(body.subjectId === undefined ? {} : { subjectId: body.subjectId }),
      identifiers,
      reason: body.reason,
    });
    return { statusCode: 200, body: { lifted } satisfies SuppressionLiftAnswer };
  },

  'POST /v1/sweeps': async (request) => {
    const body = parseBody(SweepBody, request.json());
    const now = body.now ?? deps.clock().toISOString();
    // A sweep "for next year" would run next year's deletions now: only the local demo may.
    requireSweepTime(now, deps.clock().toISOString(), deps.settings.sweepsMayRunAhead === true);
    return { statusCode: 200, body: await sweepDueDeletions(deps, now) };
  },

  'GET /v1/audit': async (request) => {
    const query = parseQuery(AuditQueryParams, request.query);
    requireAuditScope(query, deps.clock().toISOString());
    const search: AuditSearch = {
      ...(query.subjectId === undefined ? {} : { subjectId: query.subjectId }),
      ...(query.requestId === undefined ? {} : { requestId: query.requestId }),
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
      ...(query.dataClass === undefined ? {} : { dataClass: query.dataClass }),
      ...(query.ruleRef === undefined ? {} : { ruleRef: query.ruleRef }),
      ...(query.type === undefined ? {} : { type: query.type }),
    };
    // Checked now, not when the first page is read: a bad cursor is a 400, never a cut-off stream.
    const after = auditCursorPosition(deps, search, query.cursor);
    if (wants(request, query.format, 'csv', 'text/csv')) {
      return {
        statusCode: 200,
        content: {
          contentType: 'text/csv; charset=utf-8; header=present',
          headers: { 'content-disposition': 'attachment; filename="audit.csv"' },
          produce: (budget) => auditCsv(deps, search, after, budget),
        },
      };
    }
    const page = await searchAudit(deps, search, {
      limit: query.limit === undefined ? AUDIT_PAGE_DEFAULT : Number(query.limit),
      ...(after === undefined ? {} : { after }),
    });
    return { statusCode: 200, body: page satisfies AuditList };
  },

  'GET /v1/audit/verification': async (request) => {
    const query = parseQuery(VerificationParams, request.query);
    if (query.subjectId !== undefined && query.chain !== undefined) {
      throw new ValidationError('Give subjectId or chain, not both', 'chain');
    }
    const scope = query.chain === undefined ? { subjectId: query.subjectId } : { chainId: query.chain };
    return {
      statusCode: 200,
      body: (await verifyAuditTrail(deps, scope)) satisfies VerificationAnswer,
    };
  },

  'POST /v1/audit/anchors': async () => {
    const result = await anchorAuditTrail(deps);
    return { statusCode: result.anchor === undefined ? 200 : 201, body: result satisfies AnchorReceipt };
  },

  'GET /v1/audit/anchors': async (request) => {
    const query = parseQuery(AnchorListParams, request.query);
    const listed = await listAnchors(deps, {
      ...(query.from === undefined ? {} : { from: query.from }),
      ...(query.to === undefined ? {} : { to: query.to }),
    });
    return { statusCode: 200, body: listed satisfies AnchorList };
  },

  'GET /v1/audit/public-keys': async () => ({
    statusCode: 200,
    body: { keys: await publicKeys(deps) } satisfies PublicKeyList,
  }),

  ...reportHandlers(deps),

  'POST /v1/tasks/{taskId}/callback': async (request) => {
    // The task id is checked by the callback, after its signature: unsigned callbacks learn nothing.
    const result = await handleTaskCallback(
      deps,
      request.params.taskId ?? '',
      request.rawBody,
      request.headers['x-erasure-signature'],
    );
    return { statusCode: 200, body: result };
  },
});
