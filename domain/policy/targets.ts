/**
 * Zod schemas of connector targets (where a data class's data lives) and what each kind can do.
 * Values are checked with the vocabulary's rules (domain/vocabulary).
 */
import * as z from 'zod';
import type { ConnectorTarget } from '../connectors/types.js';
import {
  distinctList,
  IDENTIFIER_NAME_PATTERN,
  matching,
  NameSchema,
  quote,
  SubjectTemplateSchema,
} from '../vocabulary/index.js';
import { attributeName, isRollingWindow, nonEmptyText } from './schema.js';
import type { DataClassPolicy, RetentionAction } from './types.js';

const S3_BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A table in this account and region by name, or any table by its ARN. */
const DYNAMODB_TABLE =
  /^(?:[A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255})$/;

/** What each kind of connector target can do to data (s3 objects can only be deleted). */
export const TARGET_ACTIONS: Readonly<Record<ConnectorTarget['kind'], readonly RetentionAction[]>> = {
  's3-prefix': ['delete'],
  'dynamodb-items': ['delete', 'anonymise', 'restrict'],
  'http-webhook': ['delete', 'anonymise', 'restrict'],
};

export const S3PrefixTargetSchema = z.strictObject({
  name: NameSchema,
  kind: z.literal('s3-prefix'),
  bucket: matching(S3_BUCKET_NAME, 'is not an S3 bucket name'),
  // The slash after the subject id keeps subject `12`'s prefix from also matching subject `123`.
  prefixTemplate: SubjectTemplateSchema,
});

export const DynamoDbItemsTargetSchema = z
  .strictObject({
    name: NameSchema,
    kind: z.literal('dynamodb-items'),
    table: matching(
      DYNAMODB_TABLE,
      'is neither a DynamoDB table name nor a table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)',
    ),
    subjectAttribute: attributeName,
    identifier: matching(IDENTIFIER_NAME_PATTERN, "is not an identifier name (e.g. 'email')").optional(),
    indexName: nonEmptyText.optional(),
    keyAttributes: distinctList(attributeName, 1).max(2),
    anonymiseAttributes: distinctList(attributeName, 1).optional(),
    timestampAttribute: attributeName.optional(),
    windowIndex: z
      .strictObject({
        indexName: nonEmptyText,
        partitionAttribute: attributeName,
        partitions: distinctList(nonEmptyText, 1).max(100).optional(),
      })
      .optional(),
  })
  .superRefine((target, ctx) => {
    if (target.windowIndex !== undefined && target.timestampAttribute === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['windowIndex'],
        message: "needs timestampAttribute: it is the index's sort key",
      });
    }
    if (target.indexName === undefined && !target.keyAttributes.includes(target.subjectAttribute)) {
      ctx.addIssue({
        code: 'custom',
        path: ['subjectAttribute'],
        message: `'${target.subjectAttribute}' must be one of the keyAttributes when no indexName is given`,
      });
    }
    target.anonymiseAttributes?.forEach((attribute, index) => {
      if (target.keyAttributes.includes(attribute)) {
        ctx.addIssue({
          code: 'custom',
          path: ['anonymiseAttributes', index],
          message: `'${attribute}' is a key attribute and cannot be overwritten`,
        });
      }
    });
  });

export const HttpWebhookTargetSchema = z.strictObject({
  name: NameSchema,
  kind: z.literal('http-webhook'),
  url: z.url({ protocol: /^https?$/, error: (issue) => `${quote(issue.input)} is not an http(s) URL` }),
  signingSecretName: nonEmptyText,
  timeoutMs: z.number().int().min(1).max(300_000).optional(),
  preview: z.boolean().optional(),
  identifiers: distinctList(
    matching(IDENTIFIER_NAME_PATTERN, "is not an identifier name (e.g. 'email')"),
    1,
  ).optional(),
});

/** `identifierResolver` (domain/identifiers/resolver.ts): a lookup table or a signed webhook. */
export const IdentifierResolverSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    name: NameSchema,
    kind: z.literal('dynamodb-lookup'),
    table: matching(
      DYNAMODB_TABLE,
      'is neither a DynamoDB table name nor a table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)',
    ),
    keyAttribute: attributeName,
    attributes: z
      .record(z.string(), attributeName)
      .refine((attributes) => Object.keys(attributes).length > 0, {
        error: 'must map at least one declared identifier to an attribute',
      }),
  }),
  z.strictObject({
    name: NameSchema,
    kind: z.literal('http-webhook'),
    url: z.url({ protocol: /^https?$/, error: (issue) => `${quote(issue.input)} is not an http(s) URL` }),
    signingSecretName: nonEmptyText,
    timeoutMs: z.number().int().min(1).max(60_000).optional(),
  }),
]);

export const ConnectorTargetSchema = z.discriminatedUnion('kind', [
  S3PrefixTargetSchema,
  DynamoDbItemsTargetSchema,
  HttpWebhookTargetSchema,
]);

/** Why `target` cannot carry out `policy` (an action it lacks, no way to erase by age), if it cannot. */
export function targetMismatch(policy: DataClassPolicy, target: ConnectorTarget): string | undefined {
  if (!TARGET_ACTIONS[target.kind].includes(policy.action)) {
    return `'${target.name}' is an ${target.kind} target, which can only ${TARGET_ACTIONS[target.kind].join(', ')}, not ${policy.action}`;
  }
  if (target.kind === 'dynamodb-items') {
    if (policy.action === 'anonymise' && target.anonymiseAttributes === undefined) {
      return `'${target.name}' cannot anonymise: the dynamodb-items target has no anonymiseAttributes`;
    }
    if (isRollingWindow(policy) && target.timestampAttribute === undefined) {
      return `'${target.name}' cannot erase by age for a rolling window: the dynamodb-items target has no timestampAttribute`;
    }
    if (isRollingWindow(policy) && target.windowIndex === undefined) {
      return `'${target.name}' cannot run a rolling window across subjects: the dynamodb-items target has no windowIndex (a GSI sorted by its timestampAttribute)`;
    }
  }
  return undefined;
}
