/**
 * Zod schemas of the vocabulary's values, for the API's bodies and the policy catalog. Each one
 * checks with the rule of `./codes.ts`, `./subject-template.ts` or `../time.ts`; none has a rule of
 * its own. Messages are predicates for `parseWith` (`./parse.ts`) to put the field in front of.
 */
import * as z from 'zod';
import { DURATION_RULE, INSTANT_RULE, isDuration, parseInstant } from '../time.js';
import {
  IDENTIFIER_RULE,
  isIdentifier,
  isName,
  isReasonCode,
  isSubjectId,
  NAME_RULE,
  REASON_CODE_RULE,
  SUBJECT_ID_RULE,
} from './codes.js';
import { quote } from './parse.js';
import { subjectTemplateProblem } from './subject-template.js';

/** A string matching `pattern`; the message quotes the value (for configuration, never personal data). */
export const matching = (pattern: RegExp, predicate: string) =>
  z.string().regex(pattern, { error: (issue) => `${quote(issue.input)} ${predicate}` });

/** A reason code (`REASON_CODE_PATTERN`). The message does not repeat the value: it may be free text. */
export const ReasonCodeSchema = z.string().refine(isReasonCode, { error: `must be ${REASON_CODE_RULE}` });

/** A subject id (`SUBJECT_ID_PATTERN`). The message does not repeat the value. */
export const SubjectIdSchema = z.string().refine(isSubjectId, { error: `must be ${SUBJECT_ID_RULE}` });

/** An id (`IDENTIFIER_PATTERN`: request, task, hold). The message does not repeat the value. */
export const IdentifierSchema = z.string().refine(isIdentifier, { error: `must be ${IDENTIFIER_RULE}` });

/** A catalog name (data class, target): kebab-case. */
export const NameSchema = z
  .string()
  .refine(isName, { error: (issue) => `${quote(issue.input)} is not ${NAME_RULE}` });

/**
 * Any ISO 8601 instant with a UTC offset (`parseInstant`), turned into the canonical UTC form
 * (`2026-11-30T00:00:00.000Z`).
 */
export const InstantSchema = z.string().transform((value, ctx) => {
  try {
    return parseInstant(value, 'instant');
  } catch {
    ctx.addIssue({ code: 'custom', input: value, message: `is not ${INSTANT_RULE}` });
    return z.NEVER;
  }
});

/** An ISO 8601 duration (`isDuration`), kept as written. */
export const DurationSchema = z
  .string()
  .refine(isDuration, { error: (issue) => `${quote(issue.input)} is not ${DURATION_RULE}` });

/** A template with `{subjectId}/` (`subjectTemplateProblem`). */
export const SubjectTemplateSchema = z
  .string()
  .refine((template) => subjectTemplateProblem(template) === undefined, {
    error: (issue) => `${quote(issue.input)} ${subjectTemplateProblem(String(issue.input))}`,
  });

/** A list without repeats; a repeat is reported at its own index. */
export const distinctList = <Item extends z.ZodType<string>>(item: Item, minimum: number) =>
  z
    .array(item)
    .min(minimum)
    .superRefine((items, ctx) => {
      items.forEach((value, index) => {
        const first = items.indexOf(value);
        if (first !== index) {
          ctx.addIssue({ code: 'custom', path: [index], message: `${quote(value)} is listed twice` });
        }
      });
    });
