import { describe, expect, it } from 'vitest';
import { resolvedDetail } from '../../domain/erasure/request.js';
import { ResolverError } from '../../domain/errors.js';
import { MAX_IDENTIFIER_VALUES } from '../../domain/identifiers/index.js';
import { checkDeploymentConfig, resolveWith } from '../../domain/policy/index.js';
import { identifierConfig, TEST_RESOLVER } from '../helpers/identifiers.js';

const config = identifierConfig();
const EMAIL = 'ana.lindqvist@example.com';

const resolutionError = (answer: unknown, sent = {}): ResolverError => {
  try {
    resolveWith(config, 'identity-lookup', sent, answer);
  } catch (error) {
    if (error instanceof ResolverError) return error;
    throw error;
  }
  throw new Error('the answer was accepted');
};

describe('resolveWith', () => {
  it('merges the resolved identifiers after the sent ones, each value once, and counts what was resolved', () => {
    // Act
    const resolution = resolveWith(
      config,
      'identity-lookup',
      { deviceId: ['CAM-00FF'], email: [EMAIL] },
      { email: EMAIL, deviceId: ['CAM-00A1', 'CAM-00FF'] },
    );
    // Assess
    expect(resolution.identifiers).toEqual({ deviceId: ['CAM-00FF', 'CAM-00A1'], email: [EMAIL] });
    expect(resolution.resolved).toEqual({ email: 1, deviceId: 2 });
    expect(resolution.known).toEqual({ email: [EMAIL], deviceId: ['CAM-00A1', 'CAM-00FF'] });
  });

  it('skips names the resolver holds no value of (null, an empty list)', () => {
    // Act
    const resolution = resolveWith(config, 'identity-lookup', undefined, { email: null, deviceId: [] });
    // Assess
    expect(resolution).toEqual({ identifiers: {}, resolved: {}, known: {} });
  });

  it('refuses, naming the identifier and never the value, a value that does not match its pattern', () => {
    // Act
    const error = resolutionError({ deviceId: ['CAM-00A1', 'camera seven'] });
    // Assess
    expect(error.retryable).toBe(false);
    expect(error.code).toBe('resolver_failed');
    expect(error.message).toContain("'identity-lookup'");
    expect(error.message).toContain('identifiers.deviceId[1]');
    expect(error.message).not.toContain('camera seven');
  });

  it('refuses an undeclared name, an answer that is not an object, and more values than a request takes', () => {
    // Act
    const undeclared = resolutionError({ phone: '+46700000000' });
    const notAnObject = resolutionError(['CAM-00A1']);
    const serials = Array.from(
      { length: 16 },
      (_, index) => `CAM-${(0x1000 + index).toString(16).toUpperCase()}`,
    );
    const tooMany = resolutionError(
      { deviceId: serials },
      { deviceId: serials.map((serial) => serial.replace('CAM-1', 'CAM-2')).concat(['CAM-FFFF']) },
    );
    // Assess
    expect(undeclared.message).toContain('identifiers.phone');
    expect(notAnObject.message).toContain('not an object of identifiers');
    expect(tooMany.message).toContain(`${MAX_IDENTIFIER_VALUES}`);
  });
});

describe('resolvedDetail', () => {
  it('audits the names the resolver gave values of and how many, nothing without a resolver', () => {
    expect(resolvedDetail({ email: 1, deviceId: 2 })).toEqual({
      resolved: 'email,deviceId',
      resolvedValues: 3,
    });
    expect(resolvedDetail({})).toEqual({ resolved: '', resolvedValues: 0 });
    expect(resolvedDetail(undefined)).toEqual({});
  });
});

describe('identifierResolver in the deployment config', () => {
  it('is accepted as a lookup table of declared identifiers or a signed webhook', () => {
    // Act
    const table = checkDeploymentConfig({ ...config, identifierResolver: TEST_RESOLVER });
    const webhook = checkDeploymentConfig({
      ...config,
      identifierResolver: {
        name: 'identity-service',
        kind: 'http-webhook',
        url: 'https://identity.example.com/resolve',
        signingSecretName: 'identity/signing-secret',
      },
    });
    // Assess
    expect(table.ok).toBe(true);
    expect(webhook.ok).toBe(true);
  });

  it('lists every problem at once: undeclared identifiers, a bad table, attribute or URL', () => {
    // Act
    const lookup = checkDeploymentConfig({
      ...config,
      identifierResolver: {
        ...TEST_RESOLVER,
        table: 'no',
        attributes: { email: 'email', phone: 'phone', deviceId: 'bad attribute!' },
      },
    });
    const webhook = checkDeploymentConfig({
      ...config,
      identifiers: undefined,
      targets: config.targets.filter((target) => !['device-video', 'marketing-list'].includes(target.name)),
      catalog: identifierConfig({}).catalog,
      identifierResolver: {
        name: 'identity-service',
        kind: 'http-webhook',
        url: 'ftp://x',
        signingSecretName: 's',
      },
    });
    // Assess
    const problems = (result: ReturnType<typeof checkDeploymentConfig>) =>
      result.ok ? [] : result.problems.map((problem) => `${problem.field}: ${problem.message}`);
    expect(problems(lookup)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^identifierResolver\.table: /),
        expect.stringMatching(/^identifierResolver\.attributes\.deviceId: .*not an attribute name/),
      ]),
    );
    expect(problems(webhook)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^identifierResolver\.url: .*not an http\(s\) URL/)]),
    );
  });

  it('names a lookup attribute for an identifier the config does not declare', () => {
    // Act
    const result = checkDeploymentConfig({
      ...config,
      identifierResolver: { ...TEST_RESOLVER, attributes: { email: 'email', phone: 'phone' } },
    });
    // Assess
    expect(result.ok ? [] : result.problems.map((problem) => `${problem.field}: ${problem.message}`)).toEqual(
      [
        "identifierResolver.attributes.phone: 'phone' is not a declared identifier (declare it in identifiers)",
      ],
    );
  });
});
