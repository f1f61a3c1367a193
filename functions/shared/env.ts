import * as z from 'zod';
import {
  FUNCTIONS,
  type FunctionKey,
  type FunctionManifest,
  type FunctionSetting,
  PROOF_ENV,
  SWEEP_SHARD_QUEUE_ENV,
  TABLE_ENV,
  TASK_QUEUE_ENV,
  type TableName,
} from '../manifest.js';
import { resolveConfigRefs } from './config-refs.js';

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const SETTINGS = {
  TASK_QUEUE_MAX_RECEIVES: z.coerce.number().int().min(1).default(5),
  DUE_BUCKET_SHARDS: z.coerce.number().int().min(1).max(100).default(16),
  /** Public base URL of the API, told to webhook targets for their callbacks. */
  CALLBACK_BASE_URL: optionalText,
} as const satisfies Record<FunctionSetting, z.ZodType>;

/** A function's environment schema: the config, its tables, its queue, its settings. */
const schemaFor = (key: FunctionKey) => {
  const manifest = FUNCTIONS[key];
  const shape: Record<string, z.ZodType> = {
    /** The deployment config JSON, compiled into the bundle at synth time. */
    ERASURE_CONFIG: z.string().min(2),
  };
  if ((manifest as FunctionManifest).queue !== 'none') shape[TASK_QUEUE_ENV] = z.string().url();
  for (const table of Object.keys(manifest.tables) as TableName[])
    shape[TABLE_ENV[table]] = z.string().min(1);
  for (const setting of manifest.settings) shape[setting] = SETTINGS[setting];
  // Optional: without it the coordinator sweeps its buckets itself (one process, the same code).
  if ((manifest as FunctionManifest).sweepShardQueue === 'send') shape[SWEEP_SHARD_QUEUE_ENV] = optionalText;
  if (manifest.proof === 'anchor') {
    // Optional here so the local runtime can bring its own signer and store; a deployment sets both.
    shape[PROOF_ENV.anchorsBucket] = optionalText;
    shape[PROOF_ENV.signingKey] = optionalText;
    shape[PROOF_ENV.retiredSigningKeys] = optionalText;
  }
  return z.object(shape);
};

type Tables<K extends FunctionKey> = {
  readonly [T in keyof (typeof FUNCTIONS)[K]['tables'] & TableName as (typeof TABLE_ENV)[T]]: string;
};
type Settings<K extends FunctionKey> = {
  readonly [S in (typeof FUNCTIONS)[K]['settings'][number]]: z.output<(typeof SETTINGS)[S]>;
};

type Proof<K extends FunctionKey> = (typeof FUNCTIONS)[K]['proof'] extends 'anchor'
  ? { readonly [V in (typeof PROOF_ENV)[keyof typeof PROOF_ENV]]?: string | undefined }
  : unknown;

type TaskQueue<K extends FunctionKey> = (typeof FUNCTIONS)[K]['queue'] extends 'none'
  ? unknown
  : { readonly TASK_QUEUE_URL: string };

/** What function `K` reads from its environment, typed from the manifest. */
export type FunctionEnvironment<K extends FunctionKey> = Tables<K> &
  Settings<K> &
  Proof<K> &
  TaskQueue<K> & {
    readonly ERASURE_CONFIG: string;
    readonly SWEEP_SHARD_QUEUE_URL?: string | undefined;
  };

/**
 * Parses function `key`'s environment; a missing or bad variable fails loudly with its name. The
 * local runtime uses this with the variables it made; a deployed function uses `loadEnv`.
 */
export const parseEnvironment = <K extends FunctionKey>(
  key: K,
  source: NodeJS.ProcessEnv,
): FunctionEnvironment<K> => parse(schemaFor(key), key, source) as FunctionEnvironment<K>;

/**
 * A deployed function's environment, parsed once per cold start: its own variables and
 * SECRETS_ARN, the Secrets Manager secret with {pseudonymKey, webhookSecrets}.
 */
export const loadEnv = <K extends FunctionKey>(
  key: K,
  source: NodeJS.ProcessEnv = process.env,
): FunctionEnvironment<K> & { readonly SECRETS_ARN: string } =>
  parse(schemaFor(key).extend({ SECRETS_ARN: z.string().min(1) }), key, source) as FunctionEnvironment<K> & {
    readonly SECRETS_ARN: string;
  };

const parse = (schema: z.ZodType, key: FunctionKey, source: NodeJS.ProcessEnv): unknown => {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment of the ${key} function: ${problems.join('; ')}`);
  }
  const data = parsed.data as { ERASURE_CONFIG: string };
  // Values known only at deploy time (functions/shared/config-refs.ts) into the config text.
  return { ...data, ERASURE_CONFIG: resolveConfigRefs(data.ERASURE_CONFIG, source) };
};

/** The variables function `key` reads (for infra and tests). */
export const environmentVariablesOf = (key: FunctionKey): string[] =>
  Object.keys(schemaFor(key).extend({ SECRETS_ARN: z.string() }).shape);
