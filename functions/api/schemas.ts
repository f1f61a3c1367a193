/**
 * What the API accepts, built from the domain's vocabulary (domain/vocabulary): subject ids,
 * reason codes and instants follow the one rule the domain checks too. Instants come out in the
 * canonical UTC form. The answers are typed in `./types.ts`.
 */
import * as z from 'zod';
import { MAX_CURSOR_LENGTH } from '../../domain/audit/cursor.js';
import { ValidationError } from '../../domain/errors.js';
import { LIFECYCLE_EVENT_TYPES } from '../../domain/events.js';
import {
  MAX_IDENTIFIER_VALUE_LENGTH,
  MAX_VALUES_PER_IDENTIFIER,
} from '../../domain/identifiers/identifiers.js';
import {
  IDENTIFIER_MAX_LENGTH,
  IdentifierSchema,
  InstantSchema,
  MAX_ECHOED_NAME,
  parseWith,
  ReasonCodeSchema,
  RULE_REF_PATTERN,
  SubjectIdSchema,
} from '../../domain/vocabulary/index.js';

const DataClasses = z.array(z.string().min(1).max(64)).min(1).max(50);

/**
 * A subject's identifiers, `{"email": "...", "deviceId": ["...", "..."]}`: the shape here; the names
 * and patterns the deployment declares are checked next (`validateIdentifiers`), naming the field
 * (`identifiers.deviceId[1]`) and never repeating a value.
 */
export const IdentifiersInput = z
  .record(
    z.string().min(1).max(40),
    z.union([
      z.string().min(1).max(MAX_IDENTIFIER_VALUE_LENGTH),
      z.array(z.string().min(1).max(MAX_IDENTIFIER_VALUE_LENGTH)).min(1).max(MAX_VALUES_PER_IDENTIFIER),
    ]),
  )
  .optional();

/**
 * Request bodies are strict: a field the API does not know (`data_classes`, `untill`) is a 400 naming
 * it, never silently dropped, so a typo cannot widen an erasure or make a hold permanent.
 */
export const LifecycleEventBody = z.strictObject({
  subjectId: SubjectIdSchema,
  type: z.enum(LIFECYCLE_EVENT_TYPES, { message: `must be one of ${LIFECYCLE_EVENT_TYPES.join(', ')}` }),
  occurredAt: InstantSchema,
  attributes: z.record(z.string().min(1).max(64), z.string().max(256)).optional(),
  identifiers: IdentifiersInput,
});

export const ErasureRequestBody = z.strictObject({
  subjectId: SubjectIdSchema,
  dataClasses: DataClasses.optional(),
  reason: ReasonCodeSchema,
  /** Answer what the request would do (200), changing nothing. */
  dryRun: z.boolean().optional(),
  identifiers: IdentifiersInput,
});

/**
 * `POST /v1/erasure-previews`: an erasure request's body without `dryRun` (the route is the dry run).
 * Its own route so the compliance role may preview without being allowed to submit (IAM grants per route).
 */
export const ErasurePreviewBody = ErasureRequestBody.omit({ dryRun: true });

export const LegalHoldBody = z.strictObject({
  subjectId: SubjectIdSchema,
  dataClasses: DataClasses.optional(),
  reason: ReasonCodeSchema,
  until: InstantSchema.optional(),
  identifiers: IdentifiersInput,
});

export const RejectionBody = z.strictObject({ legalReason: ReasonCodeSchema });

export const DeadlineExtensionBody = z.strictObject({ reason: ReasonCodeSchema });

/** The rule of each path parameter of ROUTES (functions/shared/routes.ts), by its name. */
export const PATH_PARAMETERS = {
  subjectId: SubjectIdSchema,
  requestId: IdentifierSchema,
  holdId: IdentifierSchema,
  taskId: IdentifierSchema,
} as const;

export type PathParameter = keyof typeof PATH_PARAMETERS;

export const ExportBody = z.strictObject({
  dataClasses: DataClasses.optional(),
  identifiers: IdentifiersInput,
});

/** `POST /v1/suppressions/check`: the subject id and/or identifiers to look up. */
export const SuppressionCheckBody = z.strictObject({
  subjectId: SubjectIdSchema.optional(),
  identifiers: IdentifiersInput,
});

/** `POST /v1/suppressions/lift`: what to lift, and why (a code: it is audited). */
export const SuppressionLiftBody = z.strictObject({
  subjectId: SubjectIdSchema.optional(),
  identifiers: IdentifiersInput,
  reason: ReasonCodeSchema,
});

export const SweepBody = z.strictObject({ now: InstantSchema.optional() });

/** Entries per `GET /v1/audit` page unless `limit` says otherwise, and the most it may say. */
export const AUDIT_PAGE_DEFAULT = 100;
export const AUDIT_PAGE_MAX = 1000;

export const AuditQueryParams = z.object({
  subjectId: SubjectIdSchema.optional(),
  /** A lookup, not a new id: any string up to an id's length (an unknown id finds nothing). */
  requestId: z.string().min(1).max(IDENTIFIER_MAX_LENGTH).optional(),
  from: InstantSchema.optional(),
  to: InstantSchema.optional(),
  dataClass: z.string().min(1).max(64).optional(),
  ruleRef: z.string().regex(RULE_REF_PATTERN, "is not a rule id (e.g. 'ALU-3')").optional(),
  /** The trail's event types evolve, so only their shape is checked (an unknown type finds nothing). */
  type: z
    .string()
    .max(64)
    .regex(/^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/, "is not an event type (e.g. 'request.completed')")
    .optional(),
  cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional(),
  limit: z
    .string()
    .regex(/^[1-9]\d{0,3}$/, `must be a whole number from 1 to ${AUDIT_PAGE_MAX}`)
    .refine((value) => Number(value) <= AUDIT_PAGE_MAX, `must be at most ${AUDIT_PAGE_MAX}`)
    .optional(),
  format: z.enum(['json', 'csv'], { message: 'must be json or csv' }).optional(),
});

/** Every report: JSON by default, `format=csv` (or Accept: text/csv) for CSV. */
export const ReportParams = z.object({
  format: z.enum(['json', 'csv'], { message: 'must be json or csv' }).optional(),
});

const Month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'is not a month (YYYY-MM)');

/** Inclusive months; their order and span (at most 36) are checked by domain/reports. */
export const ErasuresReportParams = ReportParams.extend({ from: Month.optional(), to: Month.optional() });

export const UpcomingReportParams = ReportParams.extend({
  days: z
    .string()
    .regex(/^[1-9]\d{0,2}$/, 'must be a whole number from 1 to 366')
    .refine((value) => Number(value) <= 366, 'must be at most 366')
    .optional(),
});

export const CertificateParams = z.object({
  format: z.enum(['json', 'pdf'], { message: 'must be json or pdf' }).optional(),
});

/** Chains of no subject, by their ids: the system chain and each target's window-run chain. */
const NamedChain = z
  .string()
  .max(IDENTIFIER_MAX_LENGTH)
  .regex(/^(system|window:[a-z0-9]+(-[a-z0-9]+)*)$/, "is not a named chain ('system' or 'window:<target>')");

/** A subject's chain (`subjectId`), a named one (`chain`), or without either the system chain. */
export const VerificationParams = z.object({
  subjectId: SubjectIdSchema.optional(),
  chain: NamedChain.optional(),
});

export const AnchorListParams = z.object({ from: InstantSchema.optional(), to: InstantSchema.optional() });

/** Parses a JSON body; the first problem becomes a 400 naming its field (`body` for the whole). */
export const parseBody = <Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> =>
  parseWith(schema, input, { root: 'body' });

/** A path parameter checked with its rule; a missing or broken one is a 400 naming it. */
export const parsePathParameter = (name: PathParameter, value: string | undefined): string =>
  parseWith(PATH_PARAMETERS[name], value, { root: name });

/**
 * The body of a route that takes none: `{}` (or an empty body, parsed as `{}`) is none; a field is a
 * 400 naming it, so that `{"force": true}` is not read as an option that was honoured.
 */
export const parseNoBody = (input: unknown): void => {
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    const [first] = Object.keys(input);
    if (first === undefined) return;
    const field = first === '' ? 'body' : first.slice(0, MAX_ECHOED_NAME);
    throw new ValidationError(`'${field}' is not a known field: this route takes no body`, field);
  }
  throw new ValidationError('This route takes no body (an empty one or {} is none)', 'body');
};

/**
 * Parses query parameters; the first problem becomes a 400 naming its field. A parameter the route
 * does not know is one: a misspelt filter (`subjectID=`) would otherwise be ignored, and an
 * auditor would read an unfiltered answer as the filtered one.
 */
export const parseQuery = <Schema extends z.ZodObject>(
  schema: Schema,
  input: Readonly<Record<string, string | undefined>>,
): z.output<Schema> => {
  const known = Object.keys(schema.shape);
  const unknown = Object.keys(input).find((name) => !known.includes(name));
  if (unknown !== undefined) {
    const field = unknown.slice(0, MAX_ECHOED_NAME);
    const allowed = known.length === 0 ? 'none' : known.join(', ');
    throw new ValidationError(`Query parameter '${field}' is not known here (known: ${allowed})`, field);
  }
  return parseWith(schema, input, { root: 'query' });
};
