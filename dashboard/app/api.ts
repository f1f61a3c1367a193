/**
 * The page's calls to the API, always same-origin: the local runtime serves the page next to the
 * API, and `erasure dashboard` serves it next to a forwarding proxy. The server puts a bearer
 * token in the page (the local compliance token, or the proxy's per-run session token, which the
 * proxy swaps for a SigV4 signature); the page never holds AWS credentials.
 */
import type { ErrorBody } from './contract.js';
import { CONFIG_ELEMENT_ID, type PageConfig } from './page-config.js';

const readConfig = (): PageConfig => {
  const element = document.getElementById(CONFIG_ELEMENT_ID);
  const parsed = JSON.parse(element?.textContent ?? '{}') as Partial<PageConfig>;
  return { token: parsed.token ?? '', apiLabel: parsed.apiLabel ?? 'this API' };
};

export const config: PageConfig = readConfig();

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export type Result<T> =
  | { readonly ok: true; readonly data: T }
  /** 404 of a route this API does not serve (or a thing that does not exist: `code` tells). */
  | { readonly ok: false; readonly status: number; readonly code: string; readonly message: string };

const urlOf = (path: string, query: Query = {}): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.append(key, String(value));
  }
  const search = params.toString();
  return search === '' ? path : `${path}?${search}`;
};

export const send = (
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; accept?: string; idempotencyKey?: string } = {},
): Promise<Response> =>
  fetch(urlOf(path, options.query), {
    method,
    headers: {
      accept: options.accept ?? 'application/json',
      authorization: `Bearer ${config.token}`,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });

const failureOf = async (response: Response): Promise<Result<never>> => {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<ErrorBody> & { message?: string };
    if (body.error !== undefined) {
      const field = body.error.field === undefined ? '' : ` (field ${body.error.field})`;
      return {
        ok: false,
        status: response.status,
        code: body.error.code,
        message: `${body.error.message}${field}`,
      };
    }
    if (typeof body.message === 'string')
      return { ok: false, status: response.status, code: 'gateway', message: body.message };
  } catch {
    // not JSON
  }
  return {
    ok: false,
    status: response.status,
    code: 'http_error',
    message: text.slice(0, 200) || response.statusText,
  };
};

/** One JSON call; a network failure is a result too (status 0), so every caller shows it the same way. */
export const call = async <T>(
  method: string,
  path: string,
  options: { query?: Query; body?: unknown; idempotencyKey?: string } = {},
): Promise<Result<T>> => {
  let response: Response;
  try {
    response = await send(method, path, options);
  } catch (error) {
    return {
      ok: false,
      status: 0,
      code: 'network',
      message: `cannot reach the API: ${(error as Error).message}`,
    };
  }
  if (!response.ok) return failureOf(response);
  const text = await response.text();
  return { ok: true, data: (text === '' ? undefined : JSON.parse(text)) as T };
};

/** `404 not_found: No route ...`: what a person reads when a call fails. */
export const describeFailure = (failure: Extract<Result<unknown>, { ok: false }>): string =>
  failure.status === 0 ? failure.message : `${failure.status} ${failure.code}: ${failure.message}`;

/**
 * Downloads a file the API answers (a CSV, a certificate): fetched with the token, handed to the
 * browser as a file. Resolves with a failure to show, or undefined when the file was saved.
 */
export const download = async (
  path: string,
  query: Query,
  accept: string,
  fileName: string,
): Promise<string | undefined> => {
  let response: Response;
  try {
    response = await send('GET', path, { query, accept });
  } catch (error) {
    return `cannot reach the API: ${(error as Error).message}`;
  }
  if (!response.ok)
    return describeFailure((await failureOf(response)) as Extract<Result<unknown>, { ok: false }>);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser has read the blob once the click's download started.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return undefined;
};
