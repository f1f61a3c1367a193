/**
 * The trail's proof in the stacks: the asymmetric signing key and the anchors bucket (versioned,
 * Object Lock in compliance mode, retention configurable) in the data stack, and exactly the
 * variables and grants the manifest's `proof: 'anchor'` names on the API and the sweep, no more on
 * the worker; cdk-nag clean (synthesis throws on an unacknowledged finding).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { OrchestratorData } from '../../infra/constructs/orchestrator-data.js';
import { OrchestratorPropsError } from '../../infra/index.js';
import { addErasureStacks } from '../../infra/stacks/erasure-app.js';

type Statement = { readonly Action: string | string[]; readonly Resource: unknown };
const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let data: Template;
let worker: Template;

beforeAll(() => {
  const app = new App();
  const stacks = addErasureStacks(app, { prefix: 'erasure-proof', anchorRetentionDays: 2555 });
  app.synth();
  data = Template.fromStack(stacks.data);
  worker = Template.fromStack(stacks.worker);
});

const functionNamed = (description: string) => {
  const found = Object.entries(
    worker.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp(description) },
    }),
  );
  expect(found).toHaveLength(1);
  return found[0] as [
    string,
    {
      Properties: {
        Role: { 'Fn::GetAtt': [string, string] };
        Environment: { Variables: Record<string, unknown> };
      };
    },
  ];
};

const actionsOfRole = (roleLogicalId: string): string[] =>
  Object.values(worker.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleLogicalId))
    .flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).flatMap((s) => list(s.Action)),
    );

/** The policies on a role, by logical id, with their statements. */
const policiesOfRole = (roleLogicalId: string): [string, Statement[]][] =>
  Object.entries(worker.findResources('AWS::IAM::Policy'))
    .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(roleLogicalId))
    .map(([id, policy]) => [id, policy.Properties.PolicyDocument.Statement as Statement[]]);

describe('proof resources', () => {
  it('a retained ECC_NIST_P256 SIGN_VERIFY key signs anchors and certificates', () => {
    data.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    });
  });

  it('anchors go to a retained, versioned, encrypted, private bucket with Object Lock in compliance mode', () => {
    data.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        VersioningConfiguration: { Status: 'Enabled' },
        ObjectLockEnabled: true,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 2555 } },
        },
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
        BucketEncryption: Match.anyValue(),
      }),
    });
  });

  it('the certificate function anchors and signs with read access to the tables: no write to the audit table, kms:Sign on the signing key', () => {
    const [, fn] = functionNamed('Erasure Orchestrator certificates of erasure');
    const policies = policiesOfRole(fn.Properties.Role['Fn::GetAtt'][0]);
    const writes = policies.flatMap(([, statements]) =>
      statements.flatMap((statement) =>
        list(statement.Action).filter((action) =>
          /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|TransactWriteItems|PartiQL)/.test(action),
        ),
      ),
    );
    // Anchoring on demand leaves the marks (functions/services/anchors.ts writeAnchor); the sweep clears them.
    expect(writes).toEqual([]);
    const signing = policies.flatMap(([, statements]) =>
      statements.filter((statement) => list(statement.Action).includes('kms:Sign')),
    );
    expect(signing).toHaveLength(1);
    expect(JSON.stringify(signing[0]?.Resource)).toContain('SigningKey');
  });

  it('the API, the certificate function and the sweep get the bucket, the key and the grants to anchor; the worker gets none', () => {
    for (const description of ['API', 'certificates of erasure', 'sweep']) {
      const [, fn] = functionNamed(`Erasure Orchestrator ${description}`);
      expect(Object.keys(fn.Properties.Environment.Variables)).toEqual(
        expect.arrayContaining(['ANCHORS_BUCKET', 'SIGNING_KEY_ARN']),
      );
      const actions = actionsOfRole(fn.Properties.Role['Fn::GetAtt'][0]);
      expect(actions).toEqual(
        expect.arrayContaining([
          'kms:Sign',
          'kms:GetPublicKey',
          's3:PutObject',
          's3:GetObject',
          's3:ListBucket',
        ]),
      );
      // Anchoring reads the moved heads from an index: no Scan of the audit table, but for the
      // sweep's marking of heads written before that index (the 'table scans' test below).
      const auditScans = policiesOfRole(fn.Properties.Role['Fn::GetAtt'][0]).flatMap(([, statements]) =>
        statements.filter(
          (statement) =>
            list(statement.Action).includes('dynamodb:Scan') &&
            JSON.stringify(statement.Resource).includes('Audit'),
        ),
      );
      expect(auditScans).toHaveLength(description === 'sweep' ? 1 : 0);
      // Nothing it may delete is an anchor: the sweep's only deletes are the rolling-window runs'
      // on connector targets (ConnectorWindowsPolicy), never on the anchors bucket.
      const deleting = policiesOfRole(fn.Properties.Role['Fn::GetAtt'][0]).flatMap(([id, statements]) =>
        statements
          .filter((statement) => list(statement.Action).some((action) => action.startsWith('s3:Delete')))
          .map((statement) => ({ id, resource: JSON.stringify(statement.Resource) })),
      );
      for (const { id, resource } of deleting) {
        expect(id).toContain('ConnectorWindows');
        expect(resource).not.toMatch(/anchor/i);
      }
      expect(
        actions.some(
          (action) => action.startsWith('s3:PutObjectRetention') || action.startsWith('s3:Bypass'),
        ),
      ).toBe(false);
    }
    const [, workerFn] = functionNamed('Erasure Orchestrator worker');
    expect(Object.keys(workerFn.Properties.Environment.Variables)).not.toContain('ANCHORS_BUCKET');
    const workerActions = actionsOfRole(workerFn.Properties.Role['Fn::GetAtt'][0]);
    expect(workerActions).not.toContain('kms:Sign');
    expect(workerActions).not.toContain('dynamodb:Scan');
  });

  it('refuses a retention that is not a whole number of days', () => {
    expect(() => new OrchestratorData(new Stack(new App(), 'S'), 'Data', { anchorRetentionDays: 0 })).toThrow(
      OrchestratorPropsError,
    );
  });
});

describe('table scans', () => {
  const scansOf = (description: string) => {
    const [, fn] = functionNamed(`Erasure Orchestrator ${description}`);
    return policiesOfRole(fn.Properties.Role['Fn::GetAtt'][0]).flatMap(([, statements]) =>
      statements
        .filter((statement) => list(statement.Action).includes('dynamodb:Scan'))
        .map((statement) => JSON.stringify(statement.Resource)),
    );
  };

  it('only the API and the sweep may Scan the legal holds table (the activeHolds upgrade)', () => {
    for (const description of ['API', 'sweep:']) {
      const holdScans = scansOf(description).filter((resource) => /LegalHolds/.test(resource));
      expect(holdScans).toHaveLength(1);
      expect(holdScans[0]).not.toMatch(/index/);
    }
    for (const description of ['certificates of erasure', 'due-bucket shard', 'worker'])
      expect(scansOf(description)).toEqual([]);
  });

  it('only the sweep, the scheduled anchorer, may Scan the audit table (heads from before byUnanchored)', () => {
    const auditScans = (description: string) =>
      scansOf(description).filter((resource) => /Audit/.test(resource));
    const sweep = auditScans('sweep:');
    expect(sweep).toHaveLength(1);
    // The table alone: no index may be scanned.
    expect(sweep[0]).not.toMatch(/index/);
    expect(scansOf('sweep:')).toHaveLength(2);
    // The API and the certificate function anchor too, but on demand within API Gateway's 29 s.
    expect(auditScans('API')).toEqual([]);
    for (const description of ['certificates of erasure', 'due-bucket shard', 'worker'])
      expect(auditScans(description)).toEqual([]);
  });
});
