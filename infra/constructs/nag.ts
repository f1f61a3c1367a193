import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Acknowledges one cdk-nag finding on a construct (and everything below it), with its reason. */
export const acknowledge = (scope: IConstruct, id: string, reason: string): void => {
  Validations.of(scope).acknowledge({ id, reason });
};

/**
 * cdk-nag names a wildcard-resource finding after the resource with CloudFormation references
 * flattened (`arn:<AWS::Partition>:s3:::bucket/video/*`); this builds the same text, so a finding is
 * acknowledged for exactly the ARN we put in the statement and no other.
 */
export const flattenReference = (node: unknown): string => {
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const record = node as Record<string, unknown>;
    const join = record['Fn::Join'];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flattenReference).join(delimiter);
    }
    if (typeof record.Ref === 'string') return `<${flattenReference(record.Ref)}>`;
    const getAtt = record['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${flattenReference(getAtt[0])}.${flattenReference(getAtt[1])}>`;
    if ('Fn::ImportValue' in record) return flattenReference(record['Fn::ImportValue']);
    if ('Fn::Sub' in record) return flattenReference(record['Fn::Sub']);
  }
  return JSON.stringify(node);
};

/**
 * Acknowledges `AwsSolutions-IAM5` for one wildcard resource we declared on purpose. Only for ARNs
 * built from pseudo parameters, literals and same-stack references (cross-stack references are
 * rewritten at synthesis, after this runs).
 */
export const acknowledgeWildcardResource = (scope: IConstruct, arn: string, reason: string): void => {
  const resolved = flattenReference(Stack.of(scope).resolve(arn));
  acknowledge(scope, `AwsSolutions-IAM5[Resource::${resolved}]`, reason);
};
