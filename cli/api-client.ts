/**
 * How the CLI reaches the API: the local runtime with a bearer token, or a deployed API with a
 * SigV4 signature (./sigv4.ts). Where the URL and token come from is resolved here once.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type AwsCredentials, regionOfApiUrl, signCall } from './sigv4.js';

export type CallerRole = 'service' | 'compliance';

/** The development tokens `npm start` uses when none is configured (local/runtime.ts DEFAULT_TOKENS). */
export const LOCAL_DEFAULT_TOKENS: Readonly<Record<CallerRole, string>> = {
  service: 'dev-service-token',
  compliance: 'dev-compliance-token',
};
export const LOCAL_DEFAULT_API_URL = 'http://127.0.0.1:3000';
/** Written by `npm start` (local/start.ts): the running runtime's URL and tokens. */
export const LOCAL_RUNTIME_FILE = join('.local', 'runtime.json');

export type Auth =
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'iam'; readonly region: string; readonly credentials?: AwsCredentials };

export interface ConnectionOptions {
  readonly api?: string;
  readonly token?: string;
  /** `token`, `iam`, or undefined to decide from the URL (an execute-api host means IAM). */
  readonly auth?: string;
  readonly region?: string;
}

export interface ConnectionContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Credentials for IAM signing; the default AWS credential chain when absent. */
  readonly credentials?: AwsCredentials;
}

/** A command line or configuration the CLI cannot use: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A non-2xx answer of the API, with its `{error: {code, message, field?}}` when it sent one. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
  /** `404 not_found: No route ... (field x)`: what the terminal shows. */
  describe(): string {
    return `${this.status} ${this.code}: ${this.message}${this.field === undefined ? '' : ` (field ${this.field})`}`;
  }
}

const readLocalRuntime = async (
  cwd: string,
): Promise<{ apiUrl?: string; tokens?: Partial<Record<CallerRole, string>> } | undefined> => {
  try {
    return JSON.parse(await readFile(join(cwd, LOCAL_RUNTIME_FILE), 'utf8'));
  } catch {
    return undefined;
  }
};

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;

/**
 * The API base URL and how to authenticate, for a command that needs `role`. First found wins:
 * flags, then ERASURE_API_URL / ERASURE_TOKEN, then ERASURE_SERVICE_TOKEN or
 * ERASURE_COMPLIANCE_TOKEN (the variables `npm start` reads), then `.local/runtime.json` written
 * by `npm start`, then the local defaults.
 */
export const resolveConnection = async (
  options: ConnectionOptions,
  role: CallerRole,
  context: ConnectionContext,
): Promise<{ baseUrl: URL; auth: Auth }> => {
  const { env } = context;
  const local = await readLocalRuntime(context.cwd);
  const raw =
    nonEmpty(options.api) ?? nonEmpty(env.ERASURE_API_URL) ?? local?.apiUrl ?? LOCAL_DEFAULT_API_URL;
  let baseUrl: URL;
  try {
    baseUrl = new URL(raw);
  } catch {
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, got '${raw}'`);
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:')
    throw new UsageError(`--api must be an http(s) URL, got '${raw}'`);
  const mode =
    nonEmpty(options.auth) ?? nonEmpty(env.ERASURE_AUTH) ?? (regionOfApiUrl(baseUrl) ? 'iam' : 'token');
  if (mode === 'iam') {
    const region =
      nonEmpty(options.region) ??
      regionOfApiUrl(baseUrl) ??
      nonEmpty(env.AWS_REGION) ??
      nonEmpty(env.AWS_DEFAULT_REGION);
    if (region === undefined)
      throw new UsageError('IAM signing needs a region: give --region (or AWS_REGION) for a custom domain');
    return {
      baseUrl,
      auth: {
        kind: 'iam',
        region,
        ...(context.credentials === undefined ? {} : { credentials: context.credentials }),
      },
    };
  }
  if (mode !== 'token') throw new UsageError(`--auth must be 'token' or 'iam', got '${mode}'`);
  const roleVariable = role === 'service' ? 'ERASURE_SERVICE_TOKEN' : 'ERASURE_COMPLIANCE_TOKEN';
  const token =
    nonEmpty(options.token) ??
    nonEmpty(env.ERASURE_TOKEN) ??
    nonEmpty(env[roleVariable]) ??
    nonEmpty(local?.tokens?.[role]) ??
    LOCAL_DEFAULT_TOKENS[role];
  return { baseUrl, auth: { kind: 'token', token } };
};

export type Query = Readonly<Record<string, string | number | undefined>>;

export interface CallOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

export class ApiClient {
  constructor(
    readonly baseUrl: URL,
    private readonly auth: Auth,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  url(path: string, query: Query = {}): URL {
    const url = new URL(this.baseUrl);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.append(key, String(value));
    }
    return url;
  }

  /** Sends one call (signed or with the bearer token) and returns the raw response. */
  async send(method: string, path: string, options: CallOptions = {}): Promise<Response> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    };
    let sent: Record<string, string>;
    if (this.auth.kind === 'token') {
      sent = { ...headers, authorization: `Bearer ${this.auth.token}` };
    } else {
      const signed = await signCall(
        { method, url, headers, ...(body === undefined ? {} : { body }) },
        {
          region: this.auth.region,
          ...(this.auth.credentials === undefined ? {} : { credentials: this.auth.credentials }),
        },
      );
      // fetch sets Host itself, to the value that was signed.
      const { host: _host, ...rest } = signed;
      sent = rest;
    }
    try {
      return await this.fetchImpl(url, {
        method,
        headers: sent,
        ...(body === undefined ? {} : { body }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
    } catch (error) {
      // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, ...).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(
        `cannot reach ${url.origin}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** Sends a call and returns its JSON body; a non-2xx answer is an ApiError. */
  async json<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (!response.ok) throw await apiErrorOf(response);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** The ApiError of a non-2xx response (its JSON error body if any, else the status text). */
export const apiErrorOf = async (response: Response): Promise<ApiError> => {
  const text = await response.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } };
    if (parsed.error?.code !== undefined)
      return new ApiError(response.status, parsed.error.code, parsed.error.message ?? '', parsed.error.field);
    // API Gateway's own refusals (IAM) are `{"message": "Forbidden"}`.
    const message = (parsed as { message?: string }).message;
    if (typeof message === 'string') return new ApiError(response.status, 'gateway', message);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, 'http_error', text.trim().slice(0, 200) || response.statusText);
};
