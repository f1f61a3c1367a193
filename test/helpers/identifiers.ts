import { BUILT_IN_CATALOG, EXAMPLE_TARGETS, parseDeploymentConfig } from '../../domain/policy/index.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';

/** Declared identifiers of the tests: e-mail addresses in lower case, camera serials. */
export const TEST_IDENTIFIERS = {
  email: { pattern: '[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}', description: 'e-mail address, lower case' },
  deviceId: { pattern: 'CAM-[0-9A-F]{4,16}', description: 'camera serial' },
} as const;

/** Classes whose data also lives in the identifier-keyed targets below. */
const WITH_DEVICE_VIDEO = ['closed-account', 'cloud-video', 'child-data', 'inactive-account'];
const WITH_MARKETING = ['closed-account', 'marketing-contact', 'inactive-account'];

/**
 * The built-in catalog and example targets, plus video kept per camera serial
 * (`device-video`, `devices/{deviceId}/`) and a marketing list keyed by e-mail (`marketing-list`).
 */
export const identifierConfig = (
  names: { readonly videoBucket?: string; readonly marketingTable?: string } = {},
  base: Pick<DeploymentConfig, 'catalog' | 'targets'> = {
    catalog: BUILT_IN_CATALOG,
    targets: EXAMPLE_TARGETS,
  },
): DeploymentConfig =>
  parseDeploymentConfig({
    catalog: {
      ...base.catalog,
      dataClasses: base.catalog.dataClasses.map((policy) => ({
        ...policy,
        targets: [
          ...policy.targets,
          ...(WITH_DEVICE_VIDEO.includes(policy.dataClass) ? ['device-video'] : []),
          ...(WITH_MARKETING.includes(policy.dataClass) ? ['marketing-list'] : []),
        ],
      })),
    },
    targets: [
      ...base.targets,
      {
        name: 'device-video',
        kind: 's3-prefix',
        bucket: names.videoBucket ?? 'example-device-video',
        prefixTemplate: 'devices/{deviceId}/',
      },
      {
        name: 'marketing-list',
        kind: 'dynamodb-items',
        table: names.marketingTable ?? 'example-marketing-list',
        subjectAttribute: 'email',
        identifier: 'email',
        keyAttributes: ['email'],
      },
    ],
    identifiers: TEST_IDENTIFIERS,
  });

/** The lookup table resolver of the tests: one item per subject id, e-mail and camera serials. */
export const TEST_RESOLVER = {
  name: 'identity-lookup',
  kind: 'dynamodb-lookup',
  table: 'example-identity',
  keyAttribute: 'subjectId',
  attributes: { email: 'email', deviceId: 'devices' },
} as const;

/** `identifierConfig` with an identifier resolver (`TEST_RESOLVER` unless another is given). */
export const resolverConfig = (
  resolver: Record<string, unknown> = TEST_RESOLVER,
  names: Parameters<typeof identifierConfig>[0] = {},
): DeploymentConfig => parseDeploymentConfig({ ...identifierConfig(names), identifierResolver: resolver });
