/**
 * What a code, an id or a name may be. Each rule is written here once and used by the domain's
 * transitions, the API schemas (through `./schemas.ts`), the catalog schema and the connectors.
 *
 * The `validate...` functions return the value or throw a ValidationError naming `field`. Their
 * messages state the rule, never the value: a rejected value may be the very personal data the
 * rule keeps out.
 */
import { containsSubjectId, isDetectableSubjectId } from '../audit/pseudonym.js';
import { ValidationError } from '../errors.js';
import type { SubjectIdentifiers } from '../identifiers/types.js';

// ---------------------------------------------------------------------------------------------
// Reason codes and error codes
// ---------------------------------------------------------------------------------------------

/**
 * Reasons (of an erasure request, a rejection's legal reason, a deadline extension, a legal hold)
 * are codes such as `gdpr-art17-3b-legal-obligation`, not free text, because they are copied into
 * the audit trail, which outlives the erasure and must not hold personal data: free text is where
 * names, e-mail addresses and case details end up. Lowercase letters, digits, `.`, `_`, `:`, `-`;
 * no spaces, no `@`; at most 80 characters. A scheduled deletion's reason names its rule in lower
 * case (`retentionReason`).
 */
export const REASON_CODE_PATTERN = /^[a-z0-9][a-z0-9._:-]{0,79}$/;
export const REASON_CODE_RULE =
  "a reason code such as gdpr-art17-request (lowercase letters, digits, '.', '_', ':', '-'; at most 80 characters)";

/**
 * Failure codes on a task (`retries-exhausted`, `permanent:AccessDenied`) are written by the
 * orchestrator, not typed by a person, and often carry an AWS error name, so they keep its case.
 * Otherwise the reason-code alphabet and length.
 */
export const ERROR_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$/;
export const ERROR_CODE_RULE = "an error code (letters, digits, '.', '_', ':', '-'; at most 80 characters)";

const requireCode = (
  value: unknown,
  field: string,
  pattern: RegExp,
  rule: string,
  subjectId: string | undefined,
): string => {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new ValidationError(`${field} must be ${rule}, not free text`, field);
  }
  if (subjectId !== undefined && containsSubjectId(value, subjectId)) {
    throw new ValidationError(`${field} must not contain the subject id`, field);
  }
  return value;
};

export const isReasonCode = (value: unknown): value is string =>
  typeof value === 'string' && REASON_CODE_PATTERN.test(value);

/** Letters and digits only, lower case: what is left of a value once separators are put in or taken out. */
const folded = (text: string): string => text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Values shorter than this (folded) are not looked for: they would be found in a code's own words. */
const MIN_FOLDED_LENGTH = 4;

/**
 * Whether a code carries `value` whatever separators were put in or taken out (`cust.4711`,
 * `c-u-s-t-4-7-1-1` for `cust-4711`): a reason is copied into the audit trail for good. The value
 * must make up whole runs of the code's letters and digits (a value of digits only, one whole
 * run), so a numeric id `261130` is not "found" across the separators of a date
 * (`court-order-2026-11-30`).
 */
const carries = (code: string, value: string): boolean => {
  const needle = folded(value);
  if (needle.length < MIN_FOLDED_LENGTH) return false;
  const tokens = code
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token !== '');
  // Digits alone are one token: joined across separators they would be found in every date
  // (`202611` in `2026-11-001`).
  if (/^\p{N}+$/u.test(needle)) return tokens.includes(needle);
  return tokens.some((_, start) => {
    let run = '';
    for (const token of tokens.slice(start)) {
      run += token;
      if (run === needle) return true;
      if (!needle.startsWith(run)) return false;
    }
    return false;
  });
};

/**
 * What of a person a code carries, separators put in or taken out (`carries`): `subjectId` (when
 * it is long enough to look for, `isDetectableSubjectId`), or one of `identifiers`' values. The one
 * rule for reasons and for the reason codes partners report.
 */
export const carriedPersonalValue = (
  code: string,
  subjectId: string | undefined,
  identifiers: SubjectIdentifiers | undefined,
): 'subjectId' | 'identifier' | undefined => {
  if (subjectId !== undefined && isDetectableSubjectId(subjectId) && carries(code, subjectId)) {
    return 'subjectId';
  }
  const values = Object.values(identifiers ?? {}).flat();
  return values.some((value) => carries(code, value)) ? 'identifier' : undefined;
};

/**
 * Returns `value` if it is a reason code (`REASON_CODE_PATTERN`) that carries neither `subjectId`
 * nor one of `identifiers`' values, even with separators put in or taken out.
 */
export const validateReasonCode = (
  value: string,
  field: string,
  subjectId?: string,
  identifiers?: SubjectIdentifiers,
): string => {
  requireCode(value, field, REASON_CODE_PATTERN, REASON_CODE_RULE, subjectId);
  const carried = carriedPersonalValue(value, subjectId, identifiers);
  if (carried === 'subjectId') throw new ValidationError(`${field} must not contain the subject id`, field);
  if (carried === 'identifier') {
    throw new ValidationError(`${field} must not contain the subject id or its identifier values`, field);
  }
  return value;
};

/** Returns `value` if it is an error code (`ERROR_CODE_PATTERN`) that does not contain `subjectId`. */
export const validateErrorCode = (value: string, field: string, subjectId?: string): string =>
  requireCode(value, field, ERROR_CODE_PATTERN, ERROR_CODE_RULE, subjectId);

/**
 * An error code made from any text (an error's name or code): other characters become `-`, what
 * precedes the first letter or digit is dropped, and `unknown` stands in for nothing left.
 */
export const toErrorCode = (raw: string, maxLength = 60): string => {
  const code = raw
    .replace(/[^A-Za-z0-9._:-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, maxLength);
  return code === '' ? 'unknown' : code;
};

/** The reason of a deletion the schedule starts: `retention:` and the rule id in lower case (`retention:ale-1`). */
export const retentionReason = (ruleRef: string): string => `retention:${ruleRef.toLowerCase()}`;

// ---------------------------------------------------------------------------------------------
// Ids and names
// ---------------------------------------------------------------------------------------------

export const IDENTIFIER_MAX_LENGTH = 128;
/** Ids (request, task, hold, connector kind) end up in keys and in the audit trail. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const IDENTIFIER_RULE = `an id (letters, digits, '.', '_', ':', '-'; at most ${IDENTIFIER_MAX_LENGTH} characters)`;

export const isIdentifier = (value: unknown): value is string =>
  typeof value === 'string' && IDENTIFIER_PATTERN.test(value);

/** Returns `value` if it is an id (`IDENTIFIER_PATTERN`) that does not contain `subjectId`. */
export const validateIdentifier = (value: string, field: string, subjectId?: string): string =>
  requireCode(value, field, IDENTIFIER_PATTERN, IDENTIFIER_RULE, subjectId);

/** Names the catalog gives (data classes, connector targets): kebab-case, `customer-profile`. */
export const NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const NAME_RULE = "kebab-case (e.g. 'customer-profile')";

export const isName = (value: unknown): value is string =>
  typeof value === 'string' && NAME_PATTERN.test(value);

/** Returns `value` if it is a catalog name (`NAME_PATTERN`). */
export const validateName = (value: string, field: string): string => {
  if (!isName(value)) throw new ValidationError(`${field} must be ${NAME_RULE}`, field);
  return value;
};

/** Rule ids of retention-rules.md: `ALU-3`, `IMOU-1`. */
export const RULE_REF_PATTERN = /^[A-Z]{2,5}-\d{1,3}$/;

/** ISO 3166-1 alpha-2 in upper case (`SE`): the format only; `toCountryCode` checks the code is assigned. */
export const COUNTRY_CODE_PATTERN = /^[A-Z]{2}$/;

/**
 * The officially assigned ISO 3166-1 alpha-2 codes, and XK (Kosovo), which the EU and most
 * services use. A jurisdiction picks a retention period (ALU-2): a code no country has (`SW` for
 * Sweden) would silently get the default period, so it is refused instead.
 */
const ASSIGNED_COUNTRY_CODES = new Set(
  `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
  BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG
  EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR
  HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR
  LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG
  NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE
  SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA
  UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW`.split(/\s+/),
);

/** Codes the EU writes for two member states (and the former one) where ISO has others. */
const EU_COUNTRY_CODES: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** The country code a value names, upper-cased (`se` → `SE`), or undefined when it names none. */
export const toCountryCode = (value: string): string | undefined => {
  // ASCII letters only, before upper-casing: `ſe` (long s) would otherwise become `SE`.
  if (!/^[A-Za-z]{2}$/.test(value)) return undefined;
  const code = value.toUpperCase();
  return ASSIGNED_COUNTRY_CODES.has(code) ? code : undefined;
};

/** Why `value` is no country code, or undefined when it is one (`toCountryCode`). */
export const countryCodeProblem = (value: string): string | undefined => {
  if (toCountryCode(value) !== undefined) return undefined;
  const iso = EU_COUNTRY_CODES[value.toUpperCase()];
  return iso === undefined
    ? "is not an assigned ISO 3166-1 alpha-2 country code (e.g. 'SE')"
    : `is not an ISO 3166-1 alpha-2 country code: use '${iso}'`;
};

// ---------------------------------------------------------------------------------------------
// Subject ids
// ---------------------------------------------------------------------------------------------

export const SUBJECT_ID_MAX_LENGTH = 256;
/**
 * Subject ids are opaque to the orchestrator (used exactly as given, never trimmed or case-folded),
 * but bounded so that they fit in keys and cannot smuggle control characters: 1 to 256 printable
 * ASCII characters, no spaces.
 */
export const SUBJECT_ID_PATTERN = /^[\x21-\x7e]{1,256}$/;
export const SUBJECT_ID_RULE = `printable ASCII without spaces, 1 to ${SUBJECT_ID_MAX_LENGTH} characters`;

export const isSubjectId = (value: unknown): value is string =>
  typeof value === 'string' && SUBJECT_ID_PATTERN.test(value);

/** Returns `value` if it is a subject id (`SUBJECT_ID_PATTERN`). */
export const validateSubjectId = (value: string, field = 'subjectId'): string => {
  if (!isSubjectId(value)) throw new ValidationError(`${field} must be ${SUBJECT_ID_RULE}`, field);
  return value;
};
