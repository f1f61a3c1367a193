import { z } from 'zod';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const Env = z.object({
  SCHEDULES_TABLE: z.string().min(1),
  REQUESTS_TABLE: z.string().min(1),
  LEGAL_HOLDS_TABLE: z.string().min(1),
  AUDIT_TABLE: z.string().min(1),
  TASK_QUEUE_URL: z.string().url(),
  TASK_QUEUE_MAX_RECEIVES: z.coerce.number().int().min(1).default(5),
  DUE_BUCKET_SHARDS: z.coerce.number().int().min(1).max(100).default(16),
  /** The deployment config JSON. Baked into the bundle at synth time; set by the local runtime. */
  ERASURE_CONFIG: z.string().min(2),
  /** Secrets Manager secret with {pseudonymKey, webhookSecrets}. Required in AWS. */
  SECRETS_ARN: optionalText,
  /** Local runtime only: secrets given directly. Ignored when SECRETS_ARN is set. */
  ERASURE_PSEUDONYM_KEY: optionalText,
  ERASURE_WEBHOOK_SECRETS: optionalText,
  CALLBACK_BASE_URL: optionalText,
  /** `iam`: API Gateway already authorised the caller. `token`: local bearer tokens. */
  AUTH_MODE: z.enum(['iam', 'token']).default('iam'),
  ERASURE_SERVICE_TOKEN: optionalText,
  ERASURE_COMPLIANCE_TOKEN: optionalText,
});

export type Environment = z.infer<typeof Env>;

/** Parsed once per cold start; a missing variable fails loudly with its name. */
export const loadEnv = (source: NodeJS.ProcessEnv = process.env): Environment => {
  const parsed = Env.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment: ${problems.join('; ')}`);
  }
  return parsed.data;
};
