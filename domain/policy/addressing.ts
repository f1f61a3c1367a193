/**
 * Whether every system of a deployment can address one subject's data. A subject id is accepted
 * at intake (lifecycle events, erasure requests, legal holds, exports) only if every configured
 * target can: a deletion that is certain to fail later must be refused now, while the caller is
 * still there to hear it.
 */
import type { ConnectorTarget } from '../connectors/types.js';
import { ValidationError } from '../errors.js';
import {
  parseIdentifiers,
  SUBJECT_ID_IDENTIFIER,
  type SubjectIdentifiers,
  targetIdentifier,
} from '../identifiers/identifiers.js';
import { fillSubjectTemplate, subjectSegmentProblem } from '../vocabulary/subject-template.js';
import type { DeploymentConfig } from './types.js';

/** S3 object keys (and so prefixes) are at most 1,024 bytes of UTF-8. */
export const S3_KEY_MAX_BYTES = 1024;
/** DynamoDB key values: a partition key at most 2,048 bytes, a sort key at most 1,024. */
export const DYNAMODB_PARTITION_KEY_MAX_BYTES = 2048;
export const DYNAMODB_SORT_KEY_MAX_BYTES = 1024;

const utf8Bytes = (text: string): number => new TextEncoder().encode(text).length;

/** Why `target` cannot address `subjectId`'s data (a predicate about the subject id), or undefined. */
const targetProblem = (target: ConnectorTarget, subjectId: string): string | undefined => {
  switch (target.kind) {
    case 's3-prefix': {
      // The subject id fills one path segment of the prefix and must not reach outside it.
      const segment = subjectSegmentProblem(subjectId);
      if (segment !== undefined) return segment;
      return utf8Bytes(fillSubjectTemplate(target.prefixTemplate, subjectId)) > S3_KEY_MAX_BYTES
        ? `is too long for the prefix template (S3 keys are at most ${S3_KEY_MAX_BYTES} bytes)`
        : undefined;
    }
    case 'dynamodb-items': {
      // Items are queried by the subject attribute: a table or GSI key, the sort key at worst.
      const limit =
        target.indexName === undefined && target.keyAttributes.indexOf(target.subjectAttribute) > 0
          ? DYNAMODB_SORT_KEY_MAX_BYTES
          : DYNAMODB_PARTITION_KEY_MAX_BYTES;
      return utf8Bytes(subjectId) > limit
        ? `is longer than a DynamoDB key value may be (${limit} bytes)`
        : undefined;
    }
    case 'http-webhook':
      // The subject id travels as a JSON string in the signed body: any subject id can.
      return undefined;
  }
};

/**
 * Why some target of `config` cannot address the data of `subjectId`, naming the first such target
 * (`target 'user-files' (s3-prefix) cannot address it: it must not ...`), or undefined when every
 * target can. Never repeats the subject id: it is personal data.
 */
export function subjectAddressProblem(
  config: DeploymentConfig,
  subjectId: string,
  identifier = SUBJECT_ID_IDENTIFIER,
): string | undefined {
  for (const target of config.targets) {
    // A target keyed by another identifier never sees this value; a webhook gets the subject id.
    const addressedBy = targetIdentifier(target) ?? SUBJECT_ID_IDENTIFIER;
    if (addressedBy !== identifier) continue;
    const problem = targetProblem(target, subjectId);
    if (problem !== undefined) {
      return `target '${target.name}' (${target.kind}) cannot address it: it ${problem}`;
    }
  }
  return undefined;
}

/** Returns `subjectId` if every target of `config` can address it, else a ValidationError naming `field`. */
export function validateAddressableSubject(
  config: DeploymentConfig,
  subjectId: string,
  field = 'subjectId',
): string {
  const problem = subjectAddressProblem(config, subjectId);
  if (problem !== undefined) throw new ValidationError(`${field}: ${problem}`, field);
  return subjectId;
}

/**
 * `input` checked against the declared identifiers (`parseIdentifiers`), and every value against
 * the targets that find data by it (`identifiers.deviceId[1]: target 'device-video' (s3-prefix)
 * cannot address it: ...`), so a value no target could use is refused at intake.
 */
export function validateIdentifiers(
  config: DeploymentConfig,
  input: unknown,
  field = 'identifiers',
): SubjectIdentifiers {
  const identifiers = parseIdentifiers(config.identifiers ?? {}, input, field);
  for (const [name, values] of Object.entries(identifiers)) {
    values.forEach((value, index) => {
      const problem = subjectAddressProblem(config, value, name);
      const at =
        values.length === 1 && typeof (input as Record<string, unknown>)[name] === 'string'
          ? `${field}.${name}`
          : `${field}.${name}[${index}]`;
      if (problem !== undefined) throw new ValidationError(`${at}: ${problem}`, at);
    });
  }
  return identifiers;
}
