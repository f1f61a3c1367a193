import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentConfig } from '../../domain/policy/types.js';
import { flattenReference } from '../../infra/constructs/nag.js';
import { ErasureOrchestrator } from '../../infra/index.js';

const CONFIG: DeploymentConfig = {
  catalog: {
    version: 'acme-1',
    dataClasses: [
      {
        dataClass: 'orders',
        description: 'orders of a customer',
        ruleRefs: ['ACME-1'],
        triggers: ['account.closed'],
        retention: 'P30D',
        cancelledBy: [],
        blockers: ['legal-hold'],
        jurisdictionOverrides: {},
        action: 'delete',
        targets: ['newsletter'],
      },
    ],
  },
  targets: [
    {
      name: 'newsletter',
      kind: 'dynamodb-items',
      table: 'acme-newsletter',
      subjectAttribute: 'email',
      identifier: 'email',
      keyAttributes: ['email'],
    },
  ],
  identifiers: { email: { pattern: '.+@.+' } },
  identifierResolver: {
    name: 'acme-identity',
    kind: 'dynamodb-lookup',
    table: 'acme-identity',
    keyAttribute: 'customerId',
    attributes: { email: 'email' },
  },
};

type Statement = { readonly Action: string | string[]; readonly Resource: unknown };
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

describe('ErasureOrchestrator with a lookup-table identifier resolver', () => {
  let grantsOf: (role: string) => { actions: string[]; resources: string[] }[];

  beforeAll(() => {
    const app = new App();
    const stack = new Stack(app, 'Acme');
    new ErasureOrchestrator(stack, 'Erasure', { config: CONFIG });
    const template = Template.fromStack(stack);
    grantsOf = (role) => {
      const roleIds = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.includes(role));
      return Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((policy) =>
          (policy.Properties.Roles as { Ref: string }[]).some((ref) => roleIds.includes(ref.Ref)),
        )
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[])
        .map((statement) => ({
          actions: list(statement.Action),
          resources: list(statement.Resource).map(flattenReference),
        }));
    };
  });

  const table = 'arn:<AWS::Partition>:dynamodb:<AWS::Region>:<AWS::AccountId>:table/acme-identity';
  const onTable = (role: string) =>
    grantsOf(role)
      .filter((statement) => statement.resources.some((resource) => resource.startsWith(table)))
      .map((statement) => ({
        ...statement,
        resources: statement.resources.filter((r) => r.startsWith(table)),
      }));

  it('lets the functions that create requests (API, sweep shard) get items of the lookup table, and nothing else', () => {
    expect(onTable('ApiHandler')).toEqual([{ actions: ['dynamodb:GetItem'], resources: [table] }]);
    expect(onTable('SweepShard')).toEqual([{ actions: ['dynamodb:GetItem'], resources: [table] }]);
  });

  it('gives the worker, the coordinator and the certificate function no access to it', () => {
    for (const role of ['Worker', 'SweepRole', 'CertificateHandler']) {
      expect(grantsOf(role).length).toBeGreaterThan(0);
      expect(JSON.stringify(grantsOf(role))).not.toContain('acme-identity');
    }
  });

  it('refuses, before creating anything, a lookup attribute for an undeclared identifier, with every other problem', () => {
    const stack = new Stack(new App(), 'Refused');
    const resolver = CONFIG.identifierResolver;
    const build = () =>
      new ErasureOrchestrator(stack, 'Erasure', {
        config: {
          ...CONFIG,
          identifierResolver: {
            ...(resolver as NonNullable<typeof resolver>),
            kind: 'dynamodb-lookup',
            table: 'x',
            keyAttribute: 'customerId',
            attributes: { email: 'email', phone: 'phone' },
          },
        },
      });
    expect(build).toThrow(
      /identifierResolver\.table[\s\S]*identifierResolver\.attributes\.phone|identifierResolver\.attributes\.phone[\s\S]*identifierResolver\.table/,
    );
    expect(stack.node.tryFindChild('Erasure')?.node.children ?? []).toHaveLength(0);
  });
});
