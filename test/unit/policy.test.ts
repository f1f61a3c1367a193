import { describe, expect, it } from 'vitest';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import {
  BUILT_IN_CATALOG,
  EXAMPLE_TARGETS,
  parseCatalog,
  parseDeploymentConfig,
  policyFor,
  resolveRetention,
  targetsFor,
} from '../../domain/policy/index.js';
import type { DataClassPolicy } from '../../domain/policy/types.js';
import { validationErrorOf } from '../helpers/factories.js';

/** A small catalog whose entries the cases below break one at a time. */
const catalogInput = () => ({
  version: 'test-1',
  dataClasses: [
    {
      dataClass: 'customer-profile',
      description: 'Customer data',
      ruleRefs: ['ALE-1', 'ALU-2'],
      triggers: ['contract.ended'],
      retention: 'P24M',
      action: 'delete',
      jurisdictionOverrides: { SE: 'P36M', PL: 'P12M' },
      targets: ['customer-records'],
    } as Record<string, unknown>,
    {
      dataClass: 'inactive-account',
      description: 'Unused accounts',
      ruleRefs: ['IMOU-3'],
      triggers: ['subject.active'],
      retention: 'P24M',
      notice: 'P3M',
      action: 'delete',
      cancelledBy: ['account.closed'],
      targets: ['customer-records', 'user-files'],
    } as Record<string, unknown>,
    {
      dataClass: 'cookies',
      description: 'Cookies',
      ruleRefs: ['ALL-4'],
      triggers: ['subject.active'],
      retention: 'P1Y',
      action: 'delete',
      blockers: ['legal-hold'],
      targets: ['partner-services'],
    } as Record<string, unknown>,
  ],
});

const targetsInput = (): Record<string, unknown>[] => [
  {
    name: 'customer-records',
    kind: 'dynamodb-items',
    table: 'customers',
    subjectAttribute: 'subjectId',
    keyAttributes: ['subjectId', 'recordId'],
    anonymiseAttributes: ['email'],
  },
  { name: 'user-files', kind: 's3-prefix', bucket: 'user-files', prefixTemplate: 'files/{subjectId}/' },
  {
    name: 'partner-services',
    kind: 'http-webhook',
    url: 'https://partners.example.com/erasure',
    signingSecretName: 'partner-secret',
  },
];

const entryAt = (catalog: ReturnType<typeof catalogInput>, index: number): Record<string, unknown> => {
  const entry = catalog.dataClasses[index];
  if (entry === undefined) throw new Error(`no entry ${index}`);
  return entry;
};

describe('parseCatalog', () => {
  it('accepts the built-in catalog as it is (it is already normalised)', () => {
    // Prepare / Act
    const parsed = parseCatalog(BUILT_IN_CATALOG);

    // Assess
    expect(parsed).toEqual(BUILT_IN_CATALOG);
  });

  it('fills omitted cancelledBy, blockers and jurisdictionOverrides', () => {
    // Prepare
    const input = catalogInput();

    // Act
    const [profile, inactive] = parseCatalog(input).dataClasses;

    // Assess
    expect(profile).toMatchObject({ cancelledBy: [], blockers: ['legal-hold'] });
    expect(inactive?.jurisdictionOverrides).toEqual({});
  });

  it("adds 'legal-hold' to blockers that omit it instead of rejecting them (ALM-3 applies to every class)", () => {
    // Prepare
    const input = catalogInput();
    entryAt(input, 2).blockers = ['unpaid-invoice'];

    // Act
    const cookies = parseCatalog(input).dataClasses[2];

    // Assess
    expect(cookies?.blockers).toEqual(['legal-hold', 'unpaid-invoice']);
  });

  it.each<[string, (catalog: ReturnType<typeof catalogInput>) => void, string, string]>([
    [
      'a negative period',
      (catalog) => {
        entryAt(catalog, 2).retention = 'P-1Y';
      },
      'dataClasses[2].retention',
      "data class 'cookies': retention 'P-1Y' is not an ISO 8601 duration (e.g. P24M, P7D)",
    ],
    [
      'a malformed period',
      (catalog) => {
        entryAt(catalog, 0).retention = '24 months';
      },
      'dataClasses[0].retention',
      "data class 'customer-profile': retention '24 months' is not an ISO 8601 duration (e.g. P24M, P7D)",
    ],
    [
      'an empty period',
      (catalog) => {
        entryAt(catalog, 0).retention = 'P';
      },
      'dataClasses[0].retention',
      "data class 'customer-profile': retention 'P' is not an ISO 8601 duration (e.g. P24M, P7D)",
    ],
    [
      'an unknown event type',
      (catalog) => {
        entryAt(catalog, 1).triggers = ['subject.active', 'account.paused'];
      },
      'dataClasses[1].triggers[1]',
      "data class 'inactive-account': triggers[1] 'account.paused' is not a known lifecycle event type",
    ],
    [
      'a duplicate data class',
      (catalog) => {
        entryAt(catalog, 2).dataClass = 'customer-profile';
      },
      'dataClasses[2].dataClass',
      "data class 'customer-profile': dataClass 'customer-profile' is already defined by dataClasses[0]",
    ],
    [
      'a notice longer than the period',
      (catalog) => {
        entryAt(catalog, 1).notice = 'P36M';
      },
      'dataClasses[1].notice',
      "data class 'inactive-account': notice 'P36M' is longer than the retention 'P24M'",
    ],
    [
      'a notice longer than a jurisdiction override',
      (catalog) => {
        entryAt(catalog, 0).notice = 'P18M';
      },
      'dataClasses[0].notice',
      "data class 'customer-profile': notice 'P18M' is longer than the PL retention 'P12M'",
    ],
    [
      'an event that both triggers and cancels',
      (catalog) => {
        entryAt(catalog, 1).cancelledBy = ['account.closed', 'subject.active'];
      },
      'dataClasses[1].cancelledBy[1]',
      "data class 'inactive-account': cancelledBy[1] 'subject.active' is also a trigger: one event cannot both start and cancel the deletion",
    ],
    [
      'a ruleRef that is not a rule id',
      (catalog) => {
        entryAt(catalog, 0).ruleRefs = ['ALE-1', 'alu2'];
      },
      'dataClasses[0].ruleRefs[1]',
      "data class 'customer-profile': ruleRefs[1] 'alu2' is not a rule id (e.g. 'ALU-3')",
    ],
    [
      'no ruleRefs',
      (catalog) => {
        entryAt(catalog, 2).ruleRefs = [];
      },
      'dataClasses[2].ruleRefs',
      "data class 'cookies': ruleRefs must not be empty",
    ],
    [
      'a jurisdiction that is not an ISO 3166-1 alpha-2 code',
      (catalog) => {
        entryAt(catalog, 0).jurisdictionOverrides = { SE: 'P36M', Sweden: 'P36M' };
      },
      'dataClasses[0].jurisdictionOverrides.Sweden',
      "data class 'customer-profile': jurisdictionOverrides.Sweden is not an ISO 3166-1 alpha-2 country code in upper case (e.g. 'SE')",
    ],
    [
      'a jurisdiction no country has (a typo for SE would never apply)',
      (catalog) => {
        entryAt(catalog, 0).jurisdictionOverrides = { SW: 'P36M' };
      },
      'dataClasses[0].jurisdictionOverrides.SW',
      "data class 'customer-profile': jurisdictionOverrides.SW is not an assigned ISO 3166-1 alpha-2 country code (e.g. 'SE')",
    ],
    [
      "the EU's code for the United Kingdom",
      (catalog) => {
        entryAt(catalog, 0).jurisdictionOverrides = { UK: 'P36M' };
      },
      'dataClasses[0].jurisdictionOverrides.UK',
      "data class 'customer-profile': jurisdictionOverrides.UK is not an ISO 3166-1 alpha-2 country code: use 'GB'",
    ],
    [
      'a malformed jurisdiction override',
      (catalog) => {
        entryAt(catalog, 0).jurisdictionOverrides = { SE: '3 years' };
      },
      'dataClasses[0].jurisdictionOverrides.SE',
      "data class 'customer-profile': jurisdictionOverrides.SE '3 years' is not an ISO 8601 duration (e.g. P24M, P7D)",
    ],
    [
      'an unknown action',
      (catalog) => {
        entryAt(catalog, 2).action = 'shred';
      },
      'dataClasses[2].action',
      "data class 'cookies': action 'shred' must be one of 'delete', 'anonymise', 'restrict'",
    ],
    [
      'a misspelt field',
      (catalog) => {
        entryAt(catalog, 1).notise = 'P3M';
      },
      'dataClasses[1].notise',
      "data class 'inactive-account': notise is not a known field",
    ],
    [
      'a missing description',
      (catalog) => {
        delete entryAt(catalog, 2).description;
      },
      'dataClasses[2].description',
      "data class 'cookies': description is required",
    ],
    [
      'no targets',
      (catalog) => {
        entryAt(catalog, 2).targets = [];
      },
      'dataClasses[2].targets',
      "data class 'cookies': targets must not be empty",
    ],
    [
      'a target listed twice',
      (catalog) => {
        entryAt(catalog, 1).targets = ['user-files', 'user-files'];
      },
      'dataClasses[1].targets[1]',
      "data class 'inactive-account': targets[1] 'user-files' is listed twice",
    ],
    [
      'a notice on a rolling window',
      (catalog) => {
        entryAt(catalog, 1).rolling = true;
      },
      'dataClasses[1].notice',
      "data class 'inactive-account': notice is not supported on a rolling window",
    ],
    [
      'a rolling window of zero',
      (catalog) => {
        Object.assign(entryAt(catalog, 2), { rolling: true, retention: 'P0D' });
      },
      'dataClasses[2].retention',
      "data class 'cookies': retention 'P0D' cannot be a rolling window: it must be longer than zero",
    ],
    [
      'a rolling interval longer than the window',
      (catalog) => {
        Object.assign(entryAt(catalog, 2), { rolling: true, rollingInterval: 'P2Y' });
      },
      'dataClasses[2].rollingInterval',
      "data class 'cookies': rollingInterval 'P2Y' is longer than the retention 'P1Y'",
    ],
    [
      'a rolling interval on a one-off deletion',
      (catalog) => {
        entryAt(catalog, 2).rollingInterval = 'P1D';
      },
      'dataClasses[2].rollingInterval',
      "data class 'cookies': rollingInterval is set but the policy is not a rolling window",
    ],
    [
      'a data class name that is not kebab-case',
      (catalog) => {
        entryAt(catalog, 2).dataClass = 'Cookies';
      },
      'dataClasses[2].dataClass',
      "data class 'Cookies': dataClass 'Cookies' is not kebab-case (e.g. 'customer-profile')",
    ],
  ])('rejects %s, naming the field and the entry', (_case, breakIt, field, message) => {
    // Prepare
    const input = catalogInput();
    breakIt(input);

    // Act
    const error = validationErrorOf(() => parseCatalog(input));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });

  it('names an entry without a usable name by its position', () => {
    // Prepare
    const input = catalogInput();
    entryAt(input, 1).dataClass = 42;

    // Act
    const error = validationErrorOf(() => parseCatalog(input));

    // Assess
    expect(error).toMatchObject({
      field: 'dataClasses[1].dataClass',
      message: 'data class dataClasses[1]: dataClass must be a string',
    });
  });

  it('rejects what is not a catalog at all', () => {
    expect(validationErrorOf(() => parseCatalog('catalog'))).toMatchObject({
      field: undefined,
      message: 'input must be an object',
    });
    expect(validationErrorOf(() => parseCatalog({ dataClasses: [] }))).toMatchObject({
      field: 'version',
      message: 'version is required',
    });
    expect(validationErrorOf(() => parseCatalog({ version: '1', dataClasses: [] }))).toMatchObject({
      field: 'dataClasses',
      message: 'dataClasses must not be empty',
    });
  });

  it('keeps every problem in the cause', () => {
    // Prepare
    const input = catalogInput();
    entryAt(input, 0).retention = 'P-1Y';
    entryAt(input, 2).retention = 'never';

    // Act
    const error = validationErrorOf(() => parseCatalog(input));

    // Assess
    expect(error.cause).toMatchObject({
      issues: [{ path: ['dataClasses', 0, 'retention'] }, { path: ['dataClasses', 2, 'retention'] }],
    });
  });
});

describe('parseDeploymentConfig', () => {
  it('accepts the built-in catalog with the example targets', () => {
    // Prepare / Act
    const config = parseDeploymentConfig({ catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS });

    // Assess
    expect(config.catalog).toEqual(BUILT_IN_CATALOG);
    expect(config.targets.map((target) => target.name)).toEqual([
      'customer-records',
      'user-files',
      'cloud-video',
      'alarm-events',
      'partner-services',
    ]);
  });

  it('accepts the test catalog with its targets', () => {
    expect(parseDeploymentConfig({ catalog: catalogInput(), targets: targetsInput() }).targets).toHaveLength(
      3,
    );
  });

  it.each<
    [
      string,
      (config: { catalog: ReturnType<typeof catalogInput>; targets: Record<string, unknown>[] }) => void,
      string,
      string,
    ]
  >([
    [
      'a target name the catalog uses but targets do not define',
      (config) => {
        entryAt(config.catalog, 1).targets = ['customer-records', 'user-files', 'cloud-video'];
      },
      'catalog.dataClasses[1].targets[2]',
      "data class 'inactive-account': targets[2] 'cloud-video' is not defined in targets",
    ],
    [
      'duplicate target names',
      (config) => {
        config.targets.push({
          name: 'user-files',
          kind: 's3-prefix',
          bucket: 'other-bucket',
          prefixTemplate: '{subjectId}/',
        });
      },
      'targets[3].name',
      "target 'user-files': name 'user-files' is already used by targets[1]",
    ],
    [
      'an s3-prefix target asked to anonymise',
      (config) => {
        Object.assign(entryAt(config.catalog, 1), { action: 'anonymise' });
      },
      'catalog.dataClasses[1].targets[1]',
      "data class 'inactive-account': targets[1] 'user-files' is an s3-prefix target, which can only delete, not anonymise",
    ],
    [
      'an s3-prefix target asked to restrict',
      (config) => {
        Object.assign(entryAt(config.catalog, 1), { action: 'restrict' });
      },
      'catalog.dataClasses[1].targets[1]',
      "data class 'inactive-account': targets[1] 'user-files' is an s3-prefix target, which can only delete, not restrict",
    ],
    [
      'a dynamodb-items target asked to anonymise without anonymiseAttributes',
      (config) => {
        entryAt(config.catalog, 0).action = 'anonymise';
        delete config.targets[0]?.anonymiseAttributes;
      },
      'catalog.dataClasses[0].targets[0]',
      "data class 'customer-profile': targets[0] 'customer-records' cannot anonymise: the dynamodb-items target has no anonymiseAttributes",
    ],
    [
      'a rolling window on a dynamodb-items target without timestampAttribute',
      (config) => {
        Object.assign(entryAt(config.catalog, 0), { rolling: true, jurisdictionOverrides: {} });
      },
      'catalog.dataClasses[0].targets[0]',
      "data class 'customer-profile': targets[0] 'customer-records' cannot erase by age for a rolling window: the dynamodb-items target has no timestampAttribute",
    ],
    [
      'an unknown target kind',
      (config) => {
        config.targets.push({ name: 'ftp-archive', kind: 'ftp' });
      },
      'targets[3].kind',
      "target 'ftp-archive': kind 'ftp' must be one of 's3-prefix', 'dynamodb-items', 'http-webhook'",
    ],
    [
      'an s3 prefix without the subject placeholder followed by a slash',
      (config) => {
        Object.assign(config.targets[1] ?? {}, { prefixTemplate: 'files/{subjectId}' });
      },
      'targets[1].prefixTemplate',
      "target 'user-files': prefixTemplate 'files/{subjectId}' must contain one placeholder followed by '/' ('{subjectId}/' or a declared identifier such as '{deviceId}/') and no other placeholder",
    ],
    [
      'a webhook URL that is not http(s)',
      (config) => {
        Object.assign(config.targets[2] ?? {}, { url: 'ftp://partners.example.com' });
      },
      'targets[2].url',
      "target 'partner-services': url 'ftp://partners.example.com' is not an http(s) URL",
    ],
    [
      'a key attribute among the anonymised ones',
      (config) => {
        Object.assign(config.targets[0] ?? {}, { anonymiseAttributes: ['email', 'recordId'] });
      },
      'targets[0].anonymiseAttributes[1]',
      "target 'customer-records': anonymiseAttributes[1] 'recordId' is a key attribute and cannot be overwritten",
    ],
    [
      'a subject attribute that is not a key attribute of the table',
      (config) => {
        Object.assign(config.targets[0] ?? {}, { subjectAttribute: 'owner' });
      },
      'targets[0].subjectAttribute',
      "target 'customer-records': subjectAttribute 'owner' must be one of the keyAttributes when no indexName is given",
    ],
    [
      'a table that is neither a name nor a table ARN',
      (config) => {
        Object.assign(config.targets[0] ?? {}, { table: 'arn:aws:s3:::customers' });
      },
      'targets[0].table',
      "target 'customer-records': table 'arn:aws:s3:::customers' is neither a DynamoDB table name nor a table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)",
    ],
    [
      'an invalid catalog inside the config',
      (config) => {
        entryAt(config.catalog, 2).retention = 'P-1Y';
      },
      'catalog.dataClasses[2].retention',
      "data class 'cookies': retention 'P-1Y' is not an ISO 8601 duration (e.g. P24M, P7D)",
    ],
  ])('rejects %s', (_case, breakIt, field, message) => {
    // Prepare
    const config = { catalog: catalogInput(), targets: targetsInput() };
    breakIt(config);

    // Act
    const error = validationErrorOf(() => parseDeploymentConfig(config));

    // Assess
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });

  it('IMOU-3: accepts an http-webhook target as the place advance notices go', () => {
    const config = parseDeploymentConfig({
      catalog: BUILT_IN_CATALOG,
      targets: EXAMPLE_TARGETS,
      notices: { target: 'partner-services' },
    });

    expect(config.notices).toEqual({ target: 'partner-services' });
  });

  it.each([
    ['an undefined target', 'nobody', "'nobody' is not defined in targets"],
    [
      'a target that is not a webhook',
      'cloud-video',
      "'cloud-video' must be an http-webhook target to deliver notices",
    ],
  ])('rejects notices sent to %s, naming the field', (_case, target, message) => {
    const error = validationErrorOf(() =>
      parseDeploymentConfig({ catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS, notices: { target } }),
    );

    expect(error.field).toBe('notices.target');
    expect(error.message).toContain(message);
  });

  it('accepts a table of another account or region by its ARN', () => {
    // Prepare
    const config = { catalog: catalogInput(), targets: targetsInput() };
    Object.assign(config.targets[0] ?? {}, {
      table: 'arn:aws:dynamodb:eu-west-1:111122223333:table/customers',
    });

    // Act
    const parsed = parseDeploymentConfig(config);

    // Assess
    expect(parsed.targets[0]).toMatchObject({
      table: 'arn:aws:dynamodb:eu-west-1:111122223333:table/customers',
    });
  });

  it('accepts a webhook target for every action', () => {
    // Prepare
    const config = { catalog: catalogInput(), targets: targetsInput() };
    for (const action of ['delete', 'anonymise', 'restrict']) {
      entryAt(config.catalog, 2).action = action;

      // Act / Assess
      expect(() => parseDeploymentConfig(config)).not.toThrow();
    }
  });

  it('resolves the targets of a data class in catalog order', () => {
    // Prepare
    const config = parseDeploymentConfig({ catalog: catalogInput(), targets: targetsInput() });

    // Act
    const targets: ConnectorTarget[] = targetsFor(config, 'inactive-account');

    // Assess
    expect(targets.map((target) => target.kind)).toEqual(['dynamodb-items', 's3-prefix']);
  });
});

describe('resolveRetention / policyFor', () => {
  const profile: DataClassPolicy = policyFor(BUILT_IN_CATALOG, 'customer-profile');

  it.each([
    [undefined, 'P24M'],
    ['SE', 'P36M'],
    ['PL', 'P12M'],
    ['pl', 'P12M'],
    ['DE', 'P24M'],
  ])('ALU-2: data stored in %s is kept %s', (jurisdiction, period) => {
    expect(resolveRetention(profile, jurisdiction)).toBe(period);
  });

  it('does not read inherited properties as overrides', () => {
    expect(resolveRetention(profile, 'constructor')).toBe('P24M');
  });

  it('finds a data class and rejects an unknown one naming the field', () => {
    // Prepare / Act
    const error = validationErrorOf(() => policyFor(BUILT_IN_CATALOG, 'biometrics', 'dataClasses[1]'));

    // Assess
    expect(profile.ruleRefs).toContain('ALU-2');
    expect(error).toMatchObject({
      field: 'dataClasses[1]',
      message: `dataClasses[1] 'biometrics' is not a data class of catalog ${BUILT_IN_CATALOG.version}`,
    });
  });
});
