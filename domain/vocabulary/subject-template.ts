/**
 * Templates that name where one subject's data lives (an S3 target's `prefixTemplate`,
 * `video/{subjectId}/`). The catalog schema checks them, the S3 connector fills them in, and the
 * infrastructure turns them into IAM resource patterns, all with the rules below.
 */

export const SUBJECT_PLACEHOLDER = '{subjectId}';

export const SUBJECT_TEMPLATE_RULE = `must contain '${SUBJECT_PLACEHOLDER}/' and no other placeholder`;

/**
 * Why `template` cannot name one subject's data, or undefined when it can. It must contain
 * `{subjectId}/`: without the placeholder every subject would get the same prefix (possibly the
 * whole bucket), and without the slash the prefix `video/ab` of subject `ab` would also match
 * `video/abc/...` of subject `abc`. Any other `{...}` is a placeholder nobody fills in.
 */
export const subjectTemplateProblem = (template: string): string | undefined =>
  template.includes(`${SUBJECT_PLACEHOLDER}/`) && !/\{(?!subjectId\})/.test(template)
    ? undefined
    : SUBJECT_TEMPLATE_RULE;

/**
 * Why `subjectId` cannot stand in a path segment of a template, or undefined when it can: it may
 * not be blank or contain `/`, `\`, `..` or control characters, so it cannot reach outside its own
 * folder.
 */
export const subjectSegmentProblem = (subjectId: string): string | undefined =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
  subjectId.trim() === '' || /[/\\\u0000-\u001f\u007f]/.test(subjectId) || subjectId.includes('..')
    ? "must not be empty or contain '/', '\\', '..' or control characters"
    : undefined;

/**
 * The template with the subject id in place of every placeholder. split/join rather than replace:
 * no `$&` patterns, and a subject id that itself contains `{subjectId}` is not substituted again.
 * Check `subjectTemplateProblem` and `subjectSegmentProblem` first.
 */
export const fillSubjectTemplate = (template: string, subjectId: string): string =>
  template.split(SUBJECT_PLACEHOLDER).join(subjectId);

/** The template as a wildcard pattern for every subject: `video/{subjectId}/` → `video/*\/` (IAM, S3 conditions). */
export const subjectTemplatePattern = (template: string, wildcard = '*'): string =>
  fillSubjectTemplate(template, wildcard);
