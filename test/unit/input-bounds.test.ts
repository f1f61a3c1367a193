/**
 * The domain's limits on what callers hand in (domain/bounds.ts) and whether every target of a
 * deployment can address a subject id (domain/policy/addressing.ts). The API applies both; its
 * handler tests are in test/functions/api-input.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EARLIEST_INSTANT,
  requireAuditScope,
  requireEventTime,
  requireHoldEnd,
  requireRollingWindow,
  requireSweepTime,
} from '../../domain/bounds.js';
import { ValidationError } from '../../domain/errors.js';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS, parseDeploymentConfig } from '../../domain/policy/index.js';
import { decide } from '../../domain/schedule/decide.js';
import { subjectAddressProblem, validateAddressableSubject } from '../../domain/vocabulary/index.js';
import { scheduleEmpty, scheduleEvent, validationErrorOf } from '../helpers/factories.js';

const NOW = '2026-11-21T12:00:00.000Z';
const CONFIG = parseDeploymentConfig({ catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS });

describe('bounds: instants', () => {
  it.each([
    ['occurredAt', () => requireEventTime('1999-12-31T23:59:59.999Z', NOW)],
    // ALL-3: an event dated ahead would make one sent before that time count as older, and be
    // ignored: a restore dated tomorrow hides a suspension, a suspension dated tomorrow a restore.
    ['occurredAt', () => requireEventTime('2026-11-21T12:05:00.001Z', NOW)],
    ['now', () => requireSweepTime('0001-01-01T00:00:00.000Z', NOW, true)],
    ['now', () => requireSweepTime('2036-11-21T12:00:00.001Z', NOW, true)],
    ['now', () => requireSweepTime('2026-11-22T12:00:00.001Z', NOW, false)],
    // ALL-3: not even a second ahead in a deployment, or a deletion would run before it is due.
    ['now', () => requireSweepTime(new Date(Date.parse(NOW) + 1000).toISOString(), NOW, false)],
    ['until', () => requireHoldEnd('2126-11-21T12:00:00.001Z', NOW)],
    ['from', () => requireAuditScope({ subjectId: 's', from: '1999-01-01T00:00:00.000Z' }, NOW)],
    ['to', () => requireAuditScope({ requestId: 'r', to: '2026-11-23T00:00:00.000Z' }, NOW)],
  ])('refuses an out-of-bounds %s, naming it', (field, check) => {
    expect(validationErrorOf(check).field).toBe(field);
  });

  it.each([
    ['to', { from: '2026-11-01T00:00:00.000Z' }],
    ['from', { to: '2026-11-01T00:00:00.000Z' }],
    ['subjectId', {}],
  ] as const)('an audit query without its scope names what is missing: %s', (field, query) => {
    expect(validationErrorOf(() => requireAuditScope(query, NOW)).field).toBe(field);
  });

  it.each([
    () => requireEventTime(EARLIEST_INSTANT, NOW),
    () => requireEventTime('2026-11-21T12:05:00.000Z', NOW),
    () => requireSweepTime('2036-11-21T12:00:00.000Z', NOW, true),
    () => requireSweepTime(NOW, NOW, false),
    () => requireHoldEnd('2126-11-21T12:00:00.000Z', NOW),
    () => requireAuditScope({ from: EARLIEST_INSTANT, to: '2000-03-01T00:00:00.000Z' }, NOW),
  ])('accepts the bounds themselves (%#)', (check) => {
    expect(check).not.toThrow();
  });
});

describe('bounds: a rolling window an event sets is P1D to P10Y', () => {
  it.each(['P1D', 'PT24H', 'P7D', 'P1M', 'P10Y', 'P3652D'])('accepts %s', (window) => {
    expect(() => requireRollingWindow(window, 'attributes.storagePeriod')).not.toThrow();
  });

  it.each(['PT1S', 'PT23H59M', 'P0D', 'P10Y1D', 'P5000Y', 'P99999999999D', 'seven days', ''])(
    'refuses %j naming the field',
    (window) => {
      expect(validationErrorOf(() => requireRollingWindow(window, 'attributes.storagePeriod')).field).toBe(
        'attributes.storagePeriod',
      );
    },
  );

  it('is checked whatever the event triggers: an account.suspended carrying storagePeriod P5000Y is refused', () => {
    const event = scheduleEvent('account.suspended', '2026-11-20', {
      attributes: { storagePeriod: 'P5000Y' },
    });

    expect(validationErrorOf(() => decide(BUILT_IN_CATALOG, scheduleEmpty(), event)).field).toBe(
      'attributes.storagePeriod',
    );
  });

  it('never throws anything but a ValidationError, for any duration-shaped text', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^P(\d{1,14}Y)?(\d{1,14}M)?(\d{1,14}D)?(T(\d{1,14}H)?(\d{1,14}S)?)?$/),
        (window) => {
          try {
            requireRollingWindow(window, 'w');
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
            expect((error as ValidationError).field).toBe('w');
          }
        },
      ),
    );
  });
});

describe('subjectAddressProblem: every target of the deployment can address the subject id', () => {
  it.each(['subject-7f3a', 'user@example.com', 'a.b', 'pseudonym:abc', '{subjectId}', '%2F'])(
    'accepts %j',
    (subjectId) => {
      expect(subjectAddressProblem(CONFIG, subjectId)).toBeUndefined();
      expect(validateAddressableSubject(CONFIG, subjectId)).toBe(subjectId);
    },
  );

  it.each(['a/b', '/', 'a\\b', '..', 'a..b', ' '])(
    'refuses %j, naming the S3 target and not the id',
    (subjectId) => {
      const problem = subjectAddressProblem(CONFIG, subjectId);

      expect(problem).toMatch(/^target 'user-files' \(s3-prefix\) cannot address it: it must not/);
      const error = validationErrorOf(() => validateAddressableSubject(CONFIG, subjectId));
      expect(error.field).toBe('subjectId');
    },
  );

  it('refuses a subject id that makes an S3 key longer than 1,024 bytes', () => {
    const config = parseDeploymentConfig({
      catalog: BUILT_IN_CATALOG,
      targets: EXAMPLE_TARGETS.map((target) =>
        target.name === 'cloud-video'
          ? { ...target, prefixTemplate: `${'v'.repeat(800)}/{subjectId}/` }
          : target,
      ),
    });

    expect(subjectAddressProblem(config, 's'.repeat(200))).toBeUndefined();
    expect(subjectAddressProblem(config, 's'.repeat(256))).toMatch(/^target 'cloud-video' .* 1024 bytes/);
  });

  it('a deployment without S3 targets addresses ids with a slash', () => {
    const config = parseDeploymentConfig({
      catalog: {
        version: 'webhook-only',
        dataClasses: [
          {
            dataClass: 'closed-account',
            description: 'Everything, at the partner.',
            ruleRefs: ['ALL-1'],
            triggers: ['account.closed'],
            retention: 'P0D',
            action: 'delete',
            targets: ['partner-services'],
          },
        ],
      },
      targets: EXAMPLE_TARGETS.filter((target) => target.kind === 'http-webhook'),
    });

    expect(subjectAddressProblem(config, 'tenant/42')).toBeUndefined();
  });
});
