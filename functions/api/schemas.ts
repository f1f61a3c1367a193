import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { LIFECYCLE_EVENT_TYPES } from '../../domain/events.js';

/** Subject ids are opaque to us; bounded so they fit in keys and cannot smuggle control characters. */
const SubjectId = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** Reasons are codes, not prose: they go into the audit trail, which must hold no personal data. */
const ReasonCode = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._:-]{0,79}$/,
    'must be a reason code such as gdpr-art17-request (lowercase, no spaces)',
  );

const Instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });

const DataClasses = z.array(z.string().min(1).max(64)).min(1).max(50);

export const LifecycleEventBody = z.object({
  subjectId: SubjectId,
  type: z.enum(LIFECYCLE_EVENT_TYPES, { message: `must be one of ${LIFECYCLE_EVENT_TYPES.join(', ')}` }),
  occurredAt: Instant,
  attributes: z.record(z.string().min(1).max(64), z.string().max(256)).optional(),
});

export const ErasureRequestBody = z.object({
  subjectId: SubjectId,
  dataClasses: DataClasses.optional(),
  reason: ReasonCode,
});

export const LegalHoldBody = z.object({
  subjectId: SubjectId,
  dataClasses: DataClasses.optional(),
  reason: ReasonCode,
  until: Instant.optional(),
});

export const RejectionBody = z.object({ legalReason: ReasonCode });

export const DeadlineExtensionBody = z.object({ reason: ReasonCode });

export const SubjectParams = z.object({ subjectId: SubjectId });

export const ExportBody = z.object({ dataClasses: DataClasses.optional() });

export const SweepBody = z.object({ now: Instant.optional() });

export const AuditQueryParams = z.object({
  subjectId: SubjectId.optional(),
  requestId: z.string().min(1).max(128).optional(),
  from: Instant.optional(),
  to: Instant.optional(),
});

export const VerificationParams = z.object({ subjectId: SubjectId.optional() });

/** Parses with a schema; the first problem becomes a 400 naming its field. */
export const parseWith = <T>(schema: z.ZodType<T>, input: unknown, where: 'body' | 'query'): T => {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field =
    issue === undefined || issue.path.length === 0
      ? where
      : issue.path.reduce<string>(
          (path, part) =>
            typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${String(part)}` : String(part),
          '',
        );
  const message = issue === undefined ? `Invalid ${where}` : `${field}: ${issue.message}`;
  throw new ValidationError(message, field);
};
