import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { NotFoundError, ValidationError } from '../../domain/errors.js';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/index.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import {
  carriedPersonalValue,
  countryCodeProblem,
  fillSubjectTemplate,
  findPolicy,
  findTarget,
  InstantSchema,
  isSubjectId,
  knownDataClasses,
  parseWith,
  REASON_CODE_PATTERN,
  ReasonCodeSchema,
  retentionReason,
  SUBJECT_TEMPLATE_RULE,
  SubjectIdSchema,
  subjectSegmentProblem,
  subjectTemplatePattern,
  subjectTemplateProblem,
  targetNamed,
  targetsInUse,
  templatePlaceholder,
  templateRoot,
  toCountryCode,
  toErrorCode,
  validateErrorCode,
  validateIdentifier,
  validateName,
  validateReasonCode,
  validateSubjectId,
} from '../../domain/vocabulary/index.js';
import { validationErrorOf } from '../helpers/factories.js';

describe('reason codes: one rule, lowercase', () => {
  it.each(['gdpr-art17-3b-legal-obligation', 'retention:ale-1', 'retries-exhausted', 'hold.tax:2026_q4'])(
    'accepts %s',
    (code) => {
      // Act / Assess
      expect(REASON_CODE_PATTERN.test(code)).toBe(true);
      expect(validateReasonCode(code, 'reason')).toBe(code);
      expect(ReasonCodeSchema.safeParse(code).success).toBe(true);
    },
  );

  it.each([
    '',
    'two words',
    'alice@example.com',
    '-leading-dash',
    'x'.repeat(81),
    'naïve',
    'ALE-1',
    'GDPR-ART17',
    'Tax-Audit',
  ])('refuses %j, in the domain and in the API schema alike', (code) => {
    // Act
    const error = validationErrorOf(() => validateReasonCode(code, 'legalReason'));

    // Assess
    expect(error.field).toBe('legalReason');
    expect(ReasonCodeSchema.safeParse(code).success).toBe(false);
  });

  it('refuses a reason that contains the subject id', () => {
    // Act
    const error = validationErrorOf(() => validateReasonCode('asked-by-cust-8842', 'reason', 'cust-8842'));

    // Assess
    expect(error).toMatchObject({ field: 'reason', message: 'reason must not contain the subject id' });
  });

  it.each(['cust4711-complaint', 'cust.4711', 'cust_4711', 'c-u-s-t-4-7-1-1'])(
    'refuses a reason that carries the subject id with separators put in or taken out: %s',
    (reason) => {
      // Act
      const error = validationErrorOf(() => validateReasonCode(reason, 'reason', 'cust-4711'));

      // Assess
      expect(error).toMatchObject({ field: 'reason', message: 'reason must not contain the subject id' });
    },
  );

  it.each([
    ['1-----', 'retention:ale-1'],
    ['all-3-', 'gdpr-art17-request'],
    // A numeric customer number is not "found" across a date's separators.
    ['261130', 'court-order-2026-11-30'],
    ['202611', 'litigation-2026-11-001'],
  ])('subject %s is not found in %s', (subjectId, reason) => {
    // Act / Assess
    expect(validateReasonCode(reason, 'reason', subjectId)).toBe(reason);
    expect(carriedPersonalValue(reason, subjectId, undefined)).toBeUndefined();
  });

  it.each([
    ['c-4711', 'c.4711-complaint'],
    ['261130', 'case-261130'],
    ['a.l.e.1', 'kept-ale-1'],
  ])('subject %s is found in %s', (subjectId, reason) => {
    // Act / Assess
    expect(carriedPersonalValue(reason, subjectId, undefined)).toBe('subjectId');
  });

  it("refuses a reason that carries one of the subject's identifier values, without naming it", () => {
    // Prepare
    const identifiers = { email: ['customer9@example.test'], deviceId: ['CAM-00AA'] };
    const refused = (reason: string) =>
      validationErrorOf(() => validateReasonCode(reason, 'reason', 'subject-9', identifiers));

    // Act / Assess
    for (const reason of ['cam-00aa-owner', 'kept-customer9.example.test', 'customer9-example-test']) {
      expect(refused(reason)).toMatchObject({
        field: 'reason',
        message: 'reason must not contain the subject id or its identifier values',
      });
    }
    expect(validateReasonCode('gdpr-art17-request', 'reason', 'subject-9', identifiers)).toBe(
      'gdpr-art17-request',
    );
    // Values too short to tell from a code's own words are not looked for.
    expect(validateReasonCode('gdpr-art17-request', 'reason', 'subject-9', { pin: ['art'] })).toBe(
      'gdpr-art17-request',
    );
  });

  it('names a scheduled deletion after its rule, in lower case', () => {
    // Act
    const reason = retentionReason('ALE-1');

    // Assess
    expect(reason).toBe('retention:ale-1');
    expect(validateReasonCode(reason, 'reason')).toBe(reason);
  });

  it('does not repeat the refused value in its message (it may be free text)', () => {
    // Act
    const error = validationErrorOf(() => validateReasonCode('Customer Alice asked', 'reason'));

    // Assess
    expect(error.message).not.toContain('Alice');
  });
});

describe('error codes: machine-made, they keep the case of the error they name', () => {
  it.each(['retries-exhausted', 'permanent:AccessDenied', 'ThrottlingException'])('accepts %s', (code) => {
    // Act / Assess
    expect(validateErrorCode(code, 'failure.code')).toBe(code);
  });

  it.each(['gave up on Alice', '', 'x'.repeat(81)])('refuses %j', (code) => {
    // Act / Assess
    expect(validationErrorOf(() => validateErrorCode(code, 'failure.code')).field).toBe('failure.code');
  });

  it.each([
    ['ThrottlingException', 'ThrottlingException'],
    ['Some Error/Name', 'Some-Error-Name'],
    ['', 'unknown'],
    ['$weird', 'weird'],
    ['$%&', 'unknown'],
  ])('turns %j into the error code %j', (raw, code) => {
    // Act / Assess
    expect(toErrorCode(raw)).toBe(code);
    expect(validateErrorCode(toErrorCode(raw), 'code')).toBe(code);
  });
});

describe('ids, names and country codes', () => {
  it('accepts request, task and hold ids, and refuses one that contains the subject id', () => {
    // Act / Assess
    for (const id of ['req_0123456789abcdef', 'task_0123', 'hold_5f0c8b1e3a52']) {
      expect(validateIdentifier(id, 'id')).toBe(id);
    }
    expect(
      validationErrorOf(() => validateIdentifier('req-alice.example', 'requestId', 'alice.example')).field,
    ).toBe('requestId');
    expect(validationErrorOf(() => validateIdentifier('has space', 'holdId')).field).toBe('holdId');
  });

  it.each([
    ['customer-profile', true],
    ['cookies', true],
    ['Customer-Profile', false],
    ['cloud_video', false],
    ['-leading', false],
  ])('a catalog name %j is valid: %s', (name, valid) => {
    // Act / Assess
    if (valid) expect(validateName(name, 'dataClass')).toBe(name);
    else expect(validationErrorOf(() => validateName(name, 'dataClass')).field).toBe('dataClass');
  });

  it.each([
    ['SE', 'SE'],
    ['se', 'SE'],
    ['SWE', undefined],
    ['S1', undefined],
    // Two letters that no country has: a typo must not silently get the default retention.
    ['XX', undefined],
    ['SW', undefined],
    ['ZZ', undefined],
    // Codes the EU uses for the United Kingdom and Greece are not ISO's (GB, GR).
    ['UK', undefined],
    ['EL', undefined],
    ['gb', 'GB'],
    ['XK', 'XK'],
    // Not ASCII: the long s upper-cases to S, so ſe would read as Sweden.
    ['\u017fe', undefined],
    ['ＳＥ', undefined],
  ])('reads the country code of %j as %j', (value, code) => {
    // Act / Assess
    expect(toCountryCode(value)).toBe(code);
  });

  it('knows every officially assigned ISO 3166-1 alpha-2 code that the runtime names, and no other', () => {
    // Prepare: ICU names assigned regions; with fallback 'none' it names nothing else.
    const regions = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    const letters = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];
    const pairs = letters.flatMap((a) => letters.map((b) => `${a}${b}`));

    // Act
    const accepted = pairs.filter((code) => toCountryCode(code) !== undefined);

    // Assess: 249 assigned codes and Kosovo's XK, which the EU and most services use.
    expect(accepted).toHaveLength(250);
    for (const code of accepted) expect(regions.of(code), code).toBeDefined();
  });

  it.each([
    ['UK', 'GB'],
    ['EL', 'GR'],
  ])('names the ISO code to use for %s', (value, code) => {
    // Act / Assess
    expect(countryCodeProblem(value)).toContain(`'${code}'`);
  });
});

describe('subject ids: what the API accepts, the domain accepts', () => {
  it.each([
    ['subject-7f3a', true],
    ['alice@example.com', true],
    ['a/b', true],
    ['x'.repeat(256), true],
    ['', false],
    ['subject 7f3a', false],
    ['tab\there', false],
    ['naïve', false],
    ['x'.repeat(257), false],
  ])('%j is a subject id: %s', (subjectId, valid) => {
    // Act / Assess
    expect(isSubjectId(subjectId)).toBe(valid);
    expect(SubjectIdSchema.safeParse(subjectId).success).toBe(valid);
    if (!valid) expect(validationErrorOf(() => validateSubjectId(subjectId)).field).toBe('subjectId');
  });
});

describe('subject templates', () => {
  it.each([
    ['video/{subjectId}/', undefined],
    ['{subjectId}/', undefined],
    ['u/{subjectId}/media/{subjectId}/', undefined],
    ['video/{deviceId}/', undefined],
    ['video/{deviceId}', SUBJECT_TEMPLATE_RULE],
    ['video/{deviceId}/{subjectId}/', SUBJECT_TEMPLATE_RULE],
    ['video/{Device-Id}/', SUBJECT_TEMPLATE_RULE],
    ['video/{deviceId/', SUBJECT_TEMPLATE_RULE],
    ['video/', SUBJECT_TEMPLATE_RULE],
    ['video/{subjectId}', SUBJECT_TEMPLATE_RULE],
    ['video/{subjectId}-raw/', SUBJECT_TEMPLATE_RULE],
    ['{tenant}/{subjectId}/', SUBJECT_TEMPLATE_RULE],
  ])('%j: %s', (template, problem) => {
    // Act / Assess
    expect(subjectTemplateProblem(template)).toBe(problem);
  });

  it('fills in the subject id, once, and turns the template into a wildcard pattern', () => {
    // Act / Assess
    expect(fillSubjectTemplate('u/{subjectId}/media/{subjectId}/', 'a')).toBe('u/a/media/a/');
    expect(fillSubjectTemplate('video/{subjectId}/', '{subjectId}')).toBe('video/{subjectId}/');
    expect(fillSubjectTemplate('video/{subjectId}/', '$&')).toBe('video/$&/');
    expect(subjectTemplatePattern('video/{subjectId}/')).toBe('video/*/');
    expect(fillSubjectTemplate('video/{deviceId}/', 'cam-1')).toBe('video/cam-1/');
    expect(templatePlaceholder('video/{deviceId}/')).toBe('deviceId');
    expect(templateRoot('video/{deviceId}/')).toBe('video/');
  });

  it.each(['a/b', '..', 'x..y', 'a\\b', 'a\nb', '', '  '])('refuses %j as a path segment', (subjectId) => {
    // Act / Assess
    expect(subjectSegmentProblem(subjectId)).toBeDefined();
  });
});

describe('parseWith', () => {
  const Body = z.object({
    subjectId: SubjectIdSchema,
    reason: ReasonCodeSchema,
    at: InstantSchema.optional(),
  });

  it('turns canonical instants out of any ISO 8601 instant with an offset', () => {
    // Act
    const body = parseWith(Body, { subjectId: 's-1', reason: 'r', at: '2026-11-30T01:00:00+01:00' });

    // Assess
    expect(body.at).toBe('2026-11-30T00:00:00.000Z');
  });

  it.each([
    [{ subjectId: 's-1', reason: 'r', at: '2026-11-30T00:00:00' }, 'at'],
    [{ subjectId: 's-1', reason: 'Upper' }, 'reason'],
    [{ reason: 'r' }, 'subjectId'],
    [[], 'body'],
  ])('names the field of the first problem: %j → %s', (input, field) => {
    // Act
    const error = validationErrorOf(() => parseWith(Body, input, { root: 'body' }));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field} `)).toBe(true);
  });
});

describe('lookups', () => {
  const config: DeploymentConfig = { catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS };

  it('finds a data class and a target by name, or nothing', () => {
    // Act / Assess
    expect(findPolicy(config.catalog, 'cookies')?.dataClass).toBe('cookies');
    expect(findPolicy(config.catalog, 'biometrics')).toBeUndefined();
    expect(findTarget(config, 'user-files')?.kind).toBe('s3-prefix');
    expect(findTarget(config, 'nowhere')).toBeUndefined();
    expect(targetNamed(config, 'user-files').name).toBe('user-files');
    expect(() => targetNamed(config, 'nowhere')).toThrow(NotFoundError);
  });

  it('checks a list of data classes: each known, each once, never empty', () => {
    // Act / Assess
    expect(knownDataClasses(config.catalog, ['cookies', 'cloud-video', 'cookies'])).toEqual([
      'cookies',
      'cloud-video',
    ]);
    expect(validationErrorOf(() => knownDataClasses(config.catalog, ['cookies', 'biometrics'])).field).toBe(
      'dataClasses[1]',
    );
    expect(validationErrorOf(() => knownDataClasses(config.catalog, [])).field).toBe('dataClasses');
    expect(() => knownDataClasses(config.catalog, [])).toThrow(ValidationError);
  });

  it('lists the targets the catalog uses, with the actions it uses each for', () => {
    // Prepare
    const unused = {
      name: 'unused-bucket',
      kind: 's3-prefix',
      bucket: 'unused',
      prefixTemplate: 'x/{subjectId}/',
    };

    // Act
    const inUse = targetsInUse({
      ...config,
      targets: [...config.targets, unused] as DeploymentConfig['targets'],
    });

    // Assess
    expect(inUse.map(({ target }) => target.name)).toEqual(config.targets.map((target) => target.name));
    const partner = inUse.find(({ target }) => target.name === 'partner-services');
    expect([...(partner?.actions ?? [])].sort()).toEqual(['anonymise', 'delete', 'restrict']);
  });
});
