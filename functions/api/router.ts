import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { MAX_ECHOED_NAME } from '../../domain/vocabulary/index.js';
import type { Log } from '../services/deps.js';
import {
  ForbiddenError,
  mapError,
  PayloadTooLargeError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../shared/http-errors.js';
import { ROUTES, type Role, type RouteDefinition } from '../shared/routes.js';
import { parseNoBody, parseQuery } from './schemas.js';

const NO_QUERY = z.object({});

/** The parsed JSON body; an empty one is `{}`, a malformed one a 400 naming `body`. */
const jsonOf = (rawBody: string): unknown => {
  if (rawBody.trim() === '') return {};
  try {
    return JSON.parse(rawBody) as unknown;
  } catch {
    throw new ValidationError('Body is not valid JSON', 'body');
  }
};

/** `application/json`, or a JSON-based type (`application/merge-patch+json`), any parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.!#$&^_-]+\+)?json$/;

/**
 * A body must say it is JSON: one sent as `text/plain` or a form (what a browser sends across
 * origins without asking first, and what `curl -d` sends by default) is refused rather than read
 * as JSON anyway. An empty body needs no type.
 */
const requireJsonBody = (rawBody: string, contentType: string | undefined): void => {
  if (rawBody.trim() === '') return;
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_MEDIA_TYPE.test(mediaType)) {
    throw new UnsupportedMediaTypeError(
      mediaType === ''
        ? 'A body needs Content-Type: application/json'
        : 'The body must be sent as Content-Type: application/json',
    );
  }
};

export type Authorisation =
  /** API Gateway's IAM authoriser already allowed the caller on this route. */
  | { readonly mode: 'iam' }
  /** Local runtime: bearer tokens, one per role. */
  | { readonly mode: 'token'; readonly tokens: ReadonlyMap<string, Role> };

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: string;
  /**
   * Parsed JSON body; a malformed body is a 400 naming `body`, one not sent as JSON
   * (`Content-Type`) a 415 naming `content-type`.
   */
  json(): unknown;
}

export interface ApiResponse {
  readonly statusCode: number;
  /** A JSON answer. */
  readonly body?: unknown;
  /** An answer that is not JSON (CSV, PDF); `body` is then absent. */
  readonly content?: ApiContent;
}

/**
 * A non-JSON answer: bytes made whole (a PDF), or text made piece by piece (CSV, page by page).
 * `produce` is given a byte budget when the answer is buffered (Lambda behind API Gateway, whose
 * responses are at most 6 MB): it may stop early and return the cursor where the rest starts,
 * answered in `x-next-cursor`. Streamed (the local runtime), it gets no budget and goes to the end.
 */
export type ApiContent = {
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
} & (
  | { readonly bytes: Uint8Array }
  | { readonly produce: (budgetBytes: number | undefined) => AsyncGenerator<string, string | undefined> }
);

/** A streamed answer: its headers, and the text to write after them. */
export interface StreamedResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly stream: AsyncIterable<string>;
}

/** What a buffered text answer may hold (API Gateway's 6 MB limit, with room for headers). */
export const MAX_BUFFERED_TEXT_BYTES = 4 * 1024 * 1024;

export type RouteHandler = (request: ApiRequest) => Promise<ApiResponse>;

/** The largest body the API reads (decoded, in bytes); a larger one is a 413 before anything else. */
export const MAX_BODY_BYTES = 256 * 1024;

/** `Bearer <token>`: the scheme is case-insensitive (RFC 9110), the token is not. */
const BEARER = /^bearer[ \t]+(\S+)[ \t]*$/i;

const decodeSegment = (value: string, name: string, keepIfInvalid: boolean): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    if (keepIfInvalid) return value;
    throw new ValidationError(`${name} is not valid percent-encoding`, name);
  }
};

const matchPath = (template: string, path: string): Record<string, string> | undefined => {
  const expected = template.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of expected.entries()) {
    const value = actual[index] ?? '';
    if (part.startsWith('{') && part.endsWith('}')) {
      if (value === '') return undefined;
      // Kept encoded here; decoded once the route is chosen (a bad encoding is the caller's 400).
      params[part.slice(1, -1)] = value;
    } else if (part !== value) {
      return undefined;
    }
  }
  return params;
};

const lowerCaseKeys = (headers: Record<string, string | undefined> | undefined) =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([key, value]) => [key.toLowerCase(), value]));

const authorise = (
  route: RouteDefinition,
  auth: Authorisation,
  headers: Record<string, string | undefined>,
) => {
  if (auth.mode === 'iam' || route.roles === 'signed' || route.roles === 'public') return;
  const token = BEARER.exec(headers.authorization ?? '')?.[1];
  const role = token === undefined ? undefined : auth.tokens.get(token);
  if (role === undefined) throw new UnauthorizedError('Missing or unknown bearer token');
  if (!route.roles.includes(role))
    throw new ForbiddenError(`The '${role}' role may not call ${route.method} ${route.path}`);
};

/**
 * The query parameters, each given once. API Gateway (payload 2.0) joins the values of a repeated
 * parameter with commas, which a filter would read as one value and find nothing by: a repeated
 * name is a 400 naming it instead, the same locally and in AWS.
 */
const queryOf = (event: APIGatewayProxyEventV2): Record<string, string | undefined> => {
  const seen = new Set<string>();
  for (const [name] of new URLSearchParams(event.rawQueryString ?? '')) {
    if (seen.has(name)) {
      const field = name.slice(0, MAX_ECHOED_NAME);
      throw new ValidationError(`Query parameter '${field}' is given more than once`, field);
    }
    seen.add(name);
  }
  return event.queryStringParameters ?? {};
};

/** The body as text, or a 413 when it is over MAX_BODY_BYTES (measured after base64 decoding). */
const boundedBody = (event: APIGatewayProxyEventV2): string => {
  if (event.body === undefined) return '';
  const decoded = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : undefined;
  const bytes = decoded?.length ?? Buffer.byteLength(event.body, 'utf8');
  if (bytes > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`The body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
  }
  return decoded === undefined ? event.body : decoded.toString('utf8');
};

const respondJson = (response: ApiResponse, requestId: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: response.statusCode,
  headers: { 'content-type': 'application/json', 'x-request-id': requestId },
  // A trailing newline keeps terminals (curl) tidy; JSON parsers ignore it.
  ...(response.body === undefined ? {} : { body: `${JSON.stringify(response.body)}\n` }),
});

/** Reads a text answer to its end or its budget; the generator's return value is the next cursor. */
const bufferText = async (produce: AsyncGenerator<string, string | undefined>) => {
  const chunks: string[] = [];
  for (;;) {
    const step = await produce.next();
    if (step.done === true) return { text: chunks.join(''), next: step.value };
    chunks.push(step.value);
  }
};

const respond = async (
  response: ApiResponse,
  requestId: string,
  mode: 'buffered' | 'streamed',
): Promise<APIGatewayProxyStructuredResultV2 | StreamedResult> => {
  const { content } = response;
  if (content === undefined) return respondJson(response, requestId);
  const headers = { ...content.headers, 'content-type': content.contentType, 'x-request-id': requestId };
  if ('bytes' in content) {
    // API Gateway passes binary bodies only base64-encoded, flagged as such (the local runtime too).
    return {
      statusCode: response.statusCode,
      headers,
      body: Buffer.from(content.bytes).toString('base64'),
      isBase64Encoded: true,
    };
  }
  if (mode === 'streamed')
    return { statusCode: response.statusCode, headers, stream: content.produce(undefined) };
  const { text, next } = await bufferText(content.produce(MAX_BUFFERED_TEXT_BYTES));
  return {
    statusCode: response.statusCode,
    headers: { ...headers, ...(next === undefined ? {} : { 'x-next-cursor': next }) },
    body: text,
  };
};

/**
 * Matches the route, refuses a body over MAX_BODY_BYTES, authorises the caller, then decodes the
 * path parameters, runs the route's handler and maps every error through the one error table.
 * Unknown errors are logged with the request id only and answered as an opaque 500.
 */
export const dispatch = async (
  event: APIGatewayProxyEventV2,
  handlers: Readonly<Record<string, RouteHandler>>,
  auth: Authorisation,
  log: Log,
  requestId: string,
): Promise<APIGatewayProxyStructuredResultV2> =>
  // Buffered answers are never streamed results.
  (await route(event, handlers, auth, log, requestId, 'buffered')) as APIGatewayProxyStructuredResultV2;

/** The same, for a server that can stream (the local runtime): text answers come as a stream. */
export const dispatchStreaming = (
  event: APIGatewayProxyEventV2,
  handlers: Readonly<Record<string, RouteHandler>>,
  auth: Authorisation,
  log: Log,
  requestId: string,
): Promise<APIGatewayProxyStructuredResultV2 | StreamedResult> =>
  route(event, handlers, auth, log, requestId, 'streamed');

const route = async (
  event: APIGatewayProxyEventV2,
  handlers: Readonly<Record<string, RouteHandler>>,
  auth: Authorisation,
  log: Log,
  requestId: string,
  mode: 'buffered' | 'streamed',
): Promise<APIGatewayProxyStructuredResultV2 | StreamedResult> => {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath.length > 1 ? event.rawPath.replace(/\/+$/, '') : event.rawPath;
  // The route template, never the path: paths can carry subject ids.
  let routeName = 'unmatched';
  try {
    const candidates = ROUTES.map((route) => ({ route, params: matchPath(route.path, path) })).filter(
      (candidate) => candidate.params !== undefined,
    );
    if (candidates.length === 0) {
      return respondJson(
        // Never the path in the answer either: a mistyped route can carry a subject id or an e-mail.
        { statusCode: 404, body: { error: { code: 'not_found', message: 'No route matches this path' } } },
        requestId,
      );
    }
    const matched = candidates.find((candidate) => candidate.route.method === method);
    if (matched?.params === undefined) {
      return respondJson(
        {
          statusCode: 405,
          body: {
            error: {
              code: 'method_not_allowed',
              message: `${method} is not allowed on ${candidates[0]?.route.path ?? 'this path'}`,
            },
          },
        },
        requestId,
      );
    }
    routeName = `${matched.route.method} ${matched.route.path}`;
    const rawBody = boundedBody(event);
    const headers = lowerCaseKeys(event.headers);
    // Who is calling comes first: nothing of the request is read for a caller without credentials.
    authorise(matched.route, auth, headers);
    // API Gateway hands over the decoded path parameters of a declared route; the local runtime
    // (one catch-all route) gives only the raw path, which is decoded here. A signed route
    // authenticates in its handler, and nothing may be refused before that: a bad encoding is
    // handed on as it is, for the parameter's own rule to refuse (no id contains '%').
    const signed = matched.route.roles === 'signed';
    const params = Object.fromEntries(
      Object.entries(matched.params).map(([name, raw]) => [
        name,
        event.pathParameters?.[name] ?? decodeSegment(raw, name, signed),
      ]),
    );
    const definition: RouteDefinition = matched.route;
    // A route that takes no query parameters: any one given is a 400 naming it (parseQuery's rule);
    // one that takes no body, likewise for a body field.
    if (definition.query !== true && Array.isArray(definition.roles)) parseQuery(NO_QUERY, queryOf(event));
    if (definition.body !== true && Array.isArray(definition.roles)) parseNoBody(jsonOf(rawBody));
    const handler = handlers[`${matched.route.method} ${matched.route.path}`];
    if (handler === undefined)
      throw new Error(`No handler for ${matched.route.method} ${matched.route.path}`);
    const response = await handler({
      method,
      path,
      params,
      // Read when the handler reads it: a signed route authenticates before anything is refused.
      get query() {
        return queryOf(event);
      },
      headers,
      rawBody,
      json: () => {
        requireJsonBody(rawBody, headers['content-type']);
        return jsonOf(rawBody);
      },
    });
    // Inside the try: a buffered text answer that fails midway is mapped like any other error.
    return await respond(response, requestId, mode);
  } catch (error) {
    const mapped = mapError(error, requestId);
    if (mapped.statusCode >= 500) {
      // The error object may carry request data; log only its type and the request id.
      log.error('unhandled error', {
        requestId,
        route: routeName,
        errorName: error instanceof Error ? error.name : typeof error,
        // Frames only: the message lines could carry request data.
        stack:
          error instanceof Error
            ? error.stack
                ?.split('\n')
                .filter((line) => line.trimStart().startsWith('at '))
                .slice(0, 8)
                .join('\n')
            : undefined,
      });
    }
    return respondJson(mapped, requestId);
  }
};
