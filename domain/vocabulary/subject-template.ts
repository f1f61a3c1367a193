/**
 * Templates that name where one subject's data lives (an S3 target's `prefixTemplate`,
 * `video/{subjectId}/`, or `video/{deviceId}/` for data keyed by a declared identifier). The
 * catalog schema checks them, the S3 connector fills them in, and the infrastructure turns them
 * into IAM resource patterns, all with the rules below.
 */

export const SUBJECT_PLACEHOLDER = '{subjectId}';

/** Names of identifiers (`subjectId`, `email`, `deviceId`): camelCase, at most 40 characters. */
export const IDENTIFIER_NAME_PATTERN = /^[a-z][A-Za-z0-9]{0,39}$/;

export const SUBJECT_TEMPLATE_RULE =
  "must contain one placeholder followed by '/' ('{subjectId}/' or a declared identifier such as '{deviceId}/') and no other placeholder";

const PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * The identifier a template is filled with (`subjectId`, `deviceId`), or undefined when it has no
 * placeholder, several different ones, or a malformed one.
 */
export const templatePlaceholder = (template: string): string | undefined => {
  const names = new Set([...template.matchAll(PLACEHOLDER)].map((match) => match[1] ?? ''));
  const [only] = names;
  if (names.size !== 1 || only === undefined || !IDENTIFIER_NAME_PATTERN.test(only)) return undefined;
  // A brace outside a well-formed placeholder is a placeholder nobody fills in.
  if (template.replace(PLACEHOLDER, '').includes('{') || template.replace(PLACEHOLDER, '').includes('}'))
    return undefined;
  return only;
};

/**
 * Why `template` cannot name one subject's data, or undefined when it can. It must contain one
 * placeholder followed by `/`: without the placeholder every subject would get the same prefix
 * (possibly the whole bucket), and without the slash the prefix `video/ab` of subject `ab` would
 * also match `video/abc/...` of subject `abc`. Any other `{...}` is a placeholder nobody fills in.
 * Whether the identifier it names is declared is the deployment config's check.
 */
export const subjectTemplateProblem = (template: string): string | undefined => {
  const name = templatePlaceholder(template);
  return name !== undefined && template.includes(`{${name}}/`) ? undefined : SUBJECT_TEMPLATE_RULE;
};

/**
 * Why `subjectId` (or an identifier's value) cannot stand in a path segment of a template, or
 * undefined when it can: it may not be blank or contain `/`, `\`, `..` or control characters, so
 * it cannot reach outside its own folder.
 */
export const subjectSegmentProblem = (subjectId: string): string | undefined =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this rejects.
  subjectId.trim() === '' || /[/\\\u0000-\u001f\u007f]/.test(subjectId) || subjectId.includes('..')
    ? "must not be empty or contain '/', '\\', '..' or control characters"
    : undefined;

/**
 * The template with the value in place of every placeholder (of the template's one identifier).
 * split/join rather than replace: no `$&` patterns, and a value that itself contains the
 * placeholder is not substituted again. Check `subjectTemplateProblem` and `subjectSegmentProblem`
 * first.
 */
export const fillSubjectTemplate = (template: string, subjectId: string): string =>
  template.split(`{${templatePlaceholder(template) ?? 'subjectId'}}`).join(subjectId);

/** The static part of the template before its placeholder: `video/` of `video/{deviceId}/`. */
export const templateRoot = (template: string): string => {
  const index = template.indexOf('{');
  return index < 0 ? template : template.slice(0, index);
};

/** The template as a wildcard pattern for every subject: `video/{subjectId}/` → `video/*\/` (IAM, S3 conditions). */
export const subjectTemplatePattern = (template: string, wildcard = '*'): string =>
  fillSubjectTemplate(template, wildcard);
