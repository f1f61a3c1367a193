import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planTasks, unaddressedTargets } from '../../domain/erasure/plan.js';
import { tasksFromPlan } from '../../domain/erasure/task.js';
import {
  addressValues,
  identifierHash,
  MAX_IDENTIFIER_VALUES,
  parseIdentifiers,
} from '../../domain/identifiers/index.js';
import {
  BUILT_IN_CATALOG,
  checkDeploymentConfig,
  EXAMPLE_TARGETS,
  targetNamed,
  validateIdentifiers,
} from '../../domain/policy/index.js';
import type { PolicyCatalog } from '../../domain/policy/types.js';
import {
  longestRetention,
  suppressedNames,
  suppressionPeriod,
  suppressionsOf,
} from '../../domain/suppression.js';
import { compareDurations } from '../../domain/time.js';
import { validationErrorOf } from '../helpers/factories.js';
import { identifierConfig, TEST_IDENTIFIERS } from '../helpers/identifiers.js';

const config = identifierConfig();

describe('parseIdentifiers', () => {
  it('normalises a value to a list, drops repeats and keeps declaration order', () => {
    // Act
    const parsed = parseIdentifiers(TEST_IDENTIFIERS, {
      deviceId: ['CAM-0001', 'CAM-0002', 'CAM-0001'],
      email: 'ana@example.com',
    });
    // Assess
    expect(parsed).toEqual({ email: ['ana@example.com'], deviceId: ['CAM-0001', 'CAM-0002'] });
    expect(Object.keys(parsed)).toEqual(['email', 'deviceId']);
  });

  it.each([
    [{ phone: '+31' }, 'identifiers.phone', 'is not a declared identifier (declared: email, deviceId)'],
    [{ subjectId: 'x' }, 'identifiers.subjectId', 'the subject id goes in subjectId'],
    [
      { email: 'Ana@Example.com' },
      'identifiers.email',
      "does not match the pattern declared for 'email' (e-mail address, lower case)",
    ],
    [{ deviceId: ['CAM-0001', 'cam 2'] }, 'identifiers.deviceId[1]', 'does not match the pattern'],
    [{ deviceId: [] }, 'identifiers.deviceId', 'must be a string or a list of 1 to 16 strings'],
    [{ email: 7 }, 'identifiers.email', 'must be a string or a list'],
    ['ana@example.com', 'identifiers', 'must be an object'],
  ])('refuses %j, naming %s and never repeating the value', (input, field, message) => {
    // Act
    const error = validationErrorOf(() => parseIdentifiers(TEST_IDENTIFIERS, input));
    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(error.message).not.toMatch(/Ana@Example|cam 2/);
  });

  it(`takes at most ${MAX_IDENTIFIER_VALUES} values in all`, () => {
    // Prepare
    const serials = Array.from({ length: 16 }, (_, index) => `CAM-${String(index).padStart(4, '0')}`);
    const more = { deviceId: serials, email: 'a@b.cd' };
    const declared = { ...TEST_IDENTIFIERS, serial: TEST_IDENTIFIERS.deviceId };
    // Act / Assess
    expect(() => parseIdentifiers(declared, more)).not.toThrow();
    expect(validationErrorOf(() => parseIdentifiers(declared, { ...more, serial: serials })).field).toBe(
      'identifiers',
    );
  });

  it('checks each value against the targets that find data by it', () => {
    // Prepare: a serial that fits the pattern but not an S3 path segment cannot exist; widen the pattern.
    const loose = identifierConfig();
    const widened = { ...loose, identifiers: { ...loose.identifiers, deviceId: { pattern: '.+' } } };
    // Act
    const error = validationErrorOf(() => validateIdentifiers(widened, { deviceId: ['CAM-1', 'a/../b'] }));
    // Assess
    expect(error.field).toBe('identifiers.deviceId[1]');
    expect(error.message).toContain("target 'device-video' (s3-prefix) cannot address it");
  });
});

describe('identifiers in the deployment config', () => {
  it('names every target that uses an identifier the config does not declare', () => {
    // Prepare
    const input = {
      catalog: BUILT_IN_CATALOG,
      targets: [
        ...EXAMPLE_TARGETS,
        {
          name: 'device-video',
          kind: 's3-prefix',
          bucket: 'example-devices',
          prefixTemplate: 'd/{deviceId}/',
        },
        {
          name: 'marketing-list',
          kind: 'dynamodb-items',
          table: 'example-marketing',
          subjectAttribute: 'email',
          identifier: 'email',
          keyAttributes: ['email'],
        },
        {
          name: 'crm',
          kind: 'http-webhook',
          url: 'https://crm.example.com/erase',
          signingSecretName: 'crm',
          identifiers: ['email', 'phone'],
        },
      ],
      identifiers: { email: { pattern: '.+@.+' }, subjectId: { pattern: '.+' }, bad: { pattern: '(' } },
    };
    // Act
    const result = checkDeploymentConfig(input);
    // Assess
    expect(result.ok).toBe(false);
    const problems = result.ok
      ? []
      : result.problems.map((problem) => `${problem.field}: ${problem.message}`);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^targets\[5\]\.prefixTemplate: .*uses the identifier 'deviceId', which the config does not declare/,
        ),
        expect.stringMatching(/^targets\[7\]\.identifiers\[1\]: .*uses the identifier 'phone'/),
        expect.stringMatching(/^identifiers\.subjectId: .*is the subject id/),
        expect.stringMatching(/^identifiers\.bad\.pattern: .*is not a valid regular expression/),
      ]),
    );
    expect(problems.some((problem) => problem.includes("'email', which the config does not declare"))).toBe(
      false,
    );
  });

  it('refuses a rolling window on a target keyed by an identifier (holds are kept by subject id)', () => {
    // Prepare
    const input = {
      catalog: {
        ...BUILT_IN_CATALOG,
        dataClasses: BUILT_IN_CATALOG.dataClasses.map((policy) =>
          policy.dataClass === 'cloud-video-window' ? { ...policy, targets: ['device-video'] } : policy,
        ),
      },
      targets: config.targets,
      identifiers: TEST_IDENTIFIERS,
    };
    // Act
    const result = checkDeploymentConfig(input);
    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map((problem) => problem.message).join('\n')).toContain(
      "'device-video' is keyed by the identifier 'deviceId': a rolling window needs a target keyed by the subject id",
    );
  });
});

describe('planning a request with identifiers', () => {
  it('plans identifier-keyed targets only with values, lists the others as unaddressed', () => {
    // Act
    const without = planTasks(config, ['closed-account']).map((task) => task.target.name);
    const withEmail = planTasks(config, ['closed-account'], { email: ['ana@example.com'] }).map(
      (task) => task.target.name,
    );
    // Assess
    expect(without).not.toContain('marketing-list');
    expect(without).not.toContain('device-video');
    expect(withEmail).toContain('marketing-list');
    expect(unaddressedTargets(config, ['closed-account'], { email: ['ana@example.com'] })).toEqual([
      { target: 'device-video', identifier: 'deviceId' },
    ]);
  });

  it("gives each task only its own target's identifier values", () => {
    // Prepare
    const identifiers = { email: ['ana@example.com'], deviceId: ['CAM-0001', 'CAM-0002'] };
    const planned = planTasks(config, ['closed-account'], identifiers);
    // Act
    const tasks = tasksFromPlan(planned, { requestId: 'req_1', subjectId: 'subject-1', identifiers });
    // Assess
    const byTarget = Object.fromEntries(tasks.map((task) => [task.target, task.identifiers]));
    expect(byTarget['device-video']).toEqual({ deviceId: ['CAM-0001', 'CAM-0002'] });
    expect(byTarget['marketing-list']).toEqual({ email: ['ana@example.com'] });
    expect(byTarget['customer-records']).toBeUndefined();
    expect(byTarget['partner-services']).toBeUndefined();
    expect(addressValues(targetNamed(config, 'device-video'), 'subject-1', identifiers)).toEqual([
      'CAM-0001',
      'CAM-0002',
    ]);
    expect(addressValues(targetNamed(config, 'customer-records'), 'subject-1', identifiers)).toEqual([
      'subject-1',
    ]);
  });

  it('hashes a value under its name: the same text as another identifier is another hash', () => {
    // Act / Assess
    expect(identifierHash('k', 'email', 'x')).not.toBe(identifierHash('k', 'deviceId', 'x'));
    expect(identifierHash('k', 'email', 'x')).toBe(identifierHash('k', 'email', 'x'));
    expect(identifierHash('k', 'email', 'x')).not.toContain('x@');
  });
});

describe('suppression period', () => {
  it("defaults to the catalog's longest retention, jurisdiction overrides included", () => {
    // Act / Assess: customer-profile's Swedish override (P36M) ties with business-contact's P3Y.
    expect(compareDurations(longestRetention(BUILT_IN_CATALOG), 'P36M')).toBe(0);
    expect(suppressionPeriod({ catalog: BUILT_IN_CATALOG })).toBe(longestRetention(BUILT_IN_CATALOG));
    expect(suppressionPeriod({ catalog: BUILT_IN_CATALOG, suppression: { period: 'P10Y' } })).toBe('P10Y');
  });

  it('is at least as long as every retention of any catalog (property)', () => {
    const duration = fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom('D', 'M', 'Y'))
      .map(([amount, unit]) => `P${amount}${unit}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(duration, fc.option(duration, { nil: undefined })), { minLength: 1 }),
        (specs) => {
          // Prepare
          const catalog: PolicyCatalog = {
            version: 't',
            dataClasses: specs.map(([retention, override], index) => ({
              ...(BUILT_IN_CATALOG.dataClasses[0] as PolicyCatalog['dataClasses'][number]),
              dataClass: `class-${index}`,
              retention,
              jurisdictionOverrides: (override === undefined ? {} : { SE: override }) as Record<
                string,
                string
              >,
            })),
          };
          // Act
          const longest = longestRetention(catalog);
          // Assess
          for (const [retention, override] of specs) {
            expect(compareDurations(retention, longest)).toBeLessThanOrEqual(0);
            if (override !== undefined) expect(compareDurations(override, longest)).toBeLessThanOrEqual(0);
          }
        },
      ),
    );
  });

  it('names what is listed and not expired', () => {
    // Prepare
    const hashes = { subjectId: ['h-subject'], email: ['h-email'], deviceId: ['h-cam-1', 'h-cam-2'] };
    const listed = [
      ...suppressionsOf({ a: ['h-email', 'h-cam-2'] }, '2026-01-01T00:00:00.000Z', 'P1Y'),
      ...suppressionsOf({ a: ['h-subject'] }, '2020-01-01T00:00:00.000Z', 'P1Y'),
    ];
    // Act / Assess
    expect(suppressedNames(hashes, listed, '2026-06-01T00:00:00.000Z')).toEqual(['email', 'deviceId']);
    expect(suppressedNames(hashes, listed, '2027-06-01T00:00:00.000Z')).toEqual([]);
  });
});
