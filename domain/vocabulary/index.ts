/**
 * One vocabulary: what a reason code, an id, a subject id, a subject template, an instant and a
 * duration may be, how a data class or a target is looked up, and how a broken rule becomes a
 * ValidationError naming its field. The API schemas, the catalog schema, the infrastructure's
 * config checks and the connectors use these and write none of their own.
 *
 * Instants and durations are defined in `../time.ts`, lookups in `../policy/lookup.ts` and whether
 * every target can address a subject id in `../policy/addressing.ts`; they are re-exported here so
 * that one import reaches the whole vocabulary.
 */

export {
  subjectAddressProblem,
  validateAddressableSubject,
  validateIdentifiers,
} from '../policy/addressing.js';
export {
  findPolicy,
  findTarget,
  knownDataClasses,
  policyFor,
  type TargetInUse,
  targetNamed,
  targetsFor,
  targetsInUse,
} from '../policy/lookup.js';
export {
  CANONICAL_INSTANT_RULE,
  DURATION_RULE,
  INSTANT_RULE,
  isCanonicalInstant,
  isDuration,
  parseDuration,
  parseInstant,
  requireCanonicalInstant,
} from '../time.js';
export * from './codes.js';
export * from './parse.js';
export * from './schemas.js';
export * from './subject-template.js';
