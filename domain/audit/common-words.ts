/**
 * The words the orchestrator itself writes into the audit trail: event types, statuses, actions,
 * lifecycle event types, detail keys, and the built-in catalog's data classes, rule refs and
 * targets. A subject id made of nothing but these words (`request`, `delete`, `closed-account`)
 * cannot be told apart from the trail's own vocabulary, and finding it there proves nothing; it is
 * not looked for, so such a subject is erased like any other.
 */
import { LIFECYCLE_EVENT_TYPES } from '../events.js';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../policy/catalog.js';
import { AUDIT_EVENT_TYPES } from './events.js';

const OWN_WORDS = [
  // Request and task statuses, origins and actions.
  'received rejected blocked dispatched completed partially_failed cancelled',
  'pending running succeeded verified failed restarted awaiting_callback',
  'api schedule delete anonymise restrict',
  // Detail keys and the parts of idempotency keys.
  'status origin reason reasons data classes dataclasses deadline taskcount previousstatus detail',
  'request task hold holds notice event export attempt attempts held error errorcode code',
  'subject pseudonym system key retention legal unpaid invoice blockers blocker retryat until',
  'noticeat deletiondueat eventtype occurredat decisions sources records truncated supported',
  'verifiedcount failedcount affectedcount deletedcount olderthan redrive redriven target',
].flatMap((line) => line.split(' '));

/** Lower-case tokens: runs of letters, digits and underscores. */
export const wordsOf = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((word) => word.length > 0);

export const COMMON_WORDS: ReadonlySet<string> = new Set(
  [
    ...OWN_WORDS,
    ...AUDIT_EVENT_TYPES,
    ...LIFECYCLE_EVENT_TYPES,
    ...BUILT_IN_CATALOG.dataClasses.flatMap((policy) => [
      policy.dataClass,
      ...policy.ruleRefs,
      ...policy.targets,
    ]),
    ...EXAMPLE_TARGETS.map((target) => target.name),
  ].flatMap(wordsOf),
);

/**
 * Whether `subjectId` consists of nothing but words the trail uses anyway. A number makes an id
 * distinctive (`customer-4711`): numbers are never common here.
 */
export const isCommonWordsOnly = (subjectId: string): boolean =>
  wordsOf(subjectId).every((word) => COMMON_WORDS.has(word) && !/\d/.test(word));
