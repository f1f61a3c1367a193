import type { ApiRequest } from './router.js';
import { type PathParameter, parsePathParameter } from './schemas.js';

/**
 * Whether the caller asked for `format`: by the `format` query parameter, which wins, or else by
 * naming its media type in Accept (JSON stays the default for `*\/*` and browsers).
 */
export const wants = (
  request: ApiRequest,
  format: string | undefined,
  name: string,
  mediaType: string,
): boolean =>
  format === undefined ? (request.headers.accept ?? '').toLowerCase().includes(mediaType) : format === name;

/** A path parameter, checked with its rule (`PATH_PARAMETERS`): a 400 naming it, never a lookup. */
export const pathParam = (request: ApiRequest, name: PathParameter): string =>
  parsePathParameter(name, request.params[name]);
