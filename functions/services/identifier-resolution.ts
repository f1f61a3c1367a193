import { ResolverError } from '../../domain/errors.js';
import type { SubjectIdentifiers } from '../../domain/identifiers/identifiers.js';
import { type Resolution, resolveWith } from '../../domain/policy/resolution.js';
import type { ServiceDeps } from './deps.js';

/**
 * The identifiers a new request (or dry run, or export) addresses: those it was sent, and, when the
 * deployment has a resolver, those the resolver returns for the subject. `resolved` is undefined
 * without a resolver. Only intake calls this: a request stores the merged set, and its tasks,
 * retries and re-drives use that, never a new answer.
 *
 * A resolver that cannot answer is a retryable `ResolverError` naming it (the API answers 503, the
 * sweep leaves the due entry for its next run); a failure's cause is kept for the error's chain
 * but its message (which might quote the subject) is not repeated.
 */
export const resolveIdentifiers = async (
  deps: Pick<ServiceDeps, 'config' | 'identifierResolver'>,
  query: { readonly subjectId: string; readonly requestId: string },
  sent: SubjectIdentifiers | undefined,
): Promise<{
  readonly identifiers?: SubjectIdentifiers;
  readonly resolved?: Resolution['resolved'];
  /** What the resolver knows of the subject; undefined without a resolver. */
  readonly known?: SubjectIdentifiers;
}> => {
  const resolver = deps.identifierResolver;
  if (resolver === undefined) return sent === undefined ? {} : { identifiers: sent };
  let answer: Readonly<Record<string, unknown>>;
  try {
    answer = await resolver.resolve(query);
  } catch (error) {
    if (error instanceof ResolverError) throw error;
    throw new ResolverError(`Identifier resolver '${resolver.name}' is unavailable`, resolver.name, true, {
      cause: error,
    });
  }
  return resolveWith(deps.config, resolver.name, sent, answer);
};
