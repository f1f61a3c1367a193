/**
 * The built-in catalog: every rule of retention-rules.md that is about a data class, as data.
 * Rules about handling requests are mapped to the capability implementing them instead
 * (CAPABILITY_MAPPINGS). docs/rules.md lists both with the tests that prove them.
 *
 * Target names are fixed (the local demo maps them to real stores): `customer-records` (DynamoDB),
 * `user-files` (S3), `cloud-video` (S3), `alarm-events` (DynamoDB with a timestamp attribute),
 * `partner-services` (HTTP webhook). A store-wide target erases all of a subject's data in that
 * store, so classes that cover only part of a subject's data (cookies, marketing, billing traffic)
 * go to `partner-services`, which receives the data class and erases only that.
 */
import type { ConnectorTarget } from '../connectors/types.js';
import type { CapabilityMapping, DataClassPolicy, PolicyCatalog } from './types.js';

const ACCOUNT_GONE = ['account.closed', 'account.deleted'] as const;
const ALL_TARGETS = ['customer-records', 'user-files', 'cloud-video', 'alarm-events', 'partner-services'];

const policy = (
  fields: Pick<
    DataClassPolicy,
    'dataClass' | 'description' | 'ruleRefs' | 'triggers' | 'retention' | 'targets'
  > &
    Partial<DataClassPolicy>,
): DataClassPolicy => ({
  action: 'delete',
  cancelledBy: [],
  blockers: ['legal-hold'],
  jurisdictionOverrides: {},
  ...fields,
});

export const BUILT_IN_CATALOG: PolicyCatalog = {
  version: '2026-01',
  dataClasses: [
    policy({
      dataClass: 'customer-profile',
      description:
        'Customer data; kept at most 24 months after the contract ends, unless local law says otherwise.',
      ruleRefs: ['ALE-1', 'ALU-1', 'ALU-2'],
      triggers: ['contract.ended'],
      retention: 'P24M',
      // Illustrative overrides showing ALU-2's mechanism; not legal advice about Sweden or Poland.
      jurisdictionOverrides: { SE: 'P36M', PL: 'P12M' },
      targets: ['customer-records', 'partner-services'],
    }),
    policy({
      dataClass: 'suspended-account',
      description: 'A suspended account is deleted after 3 months unless restored before.',
      ruleRefs: ['ALL-3'],
      triggers: ['account.suspended'],
      retention: 'P3M',
      cancelledBy: ['account.restored'],
      targets: ['customer-records', 'user-files'],
    }),
    policy({
      dataClass: 'closed-account',
      description: 'Closing or deleting the account erases its basic and service information at once.',
      ruleRefs: ['ALL-1', 'ALL-2', 'IMOU-4'],
      triggers: [...ACCOUNT_GONE],
      retention: 'P0D',
      targets: ALL_TARGETS,
    }),
    policy({
      dataClass: 'cookies',
      description: 'Cookie data, deleted 1 year after it was last set (the last activity).',
      ruleRefs: ['ALL-4'],
      triggers: ['subject.active'],
      retention: 'P1Y',
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'child-data',
      description:
        "Data of a child (under 18, or given without a parent's consent), deleted as soon as possible.",
      ruleRefs: ['ALL-5', 'ALU-4'],
      triggers: ['child_data.detected'],
      retention: 'P0D',
      targets: ['customer-records', 'user-files', 'cloud-video', 'alarm-events'],
    }),
    policy({
      dataClass: 'child-data-restricted',
      description:
        "A child's data in systems that cannot delete it: restricted at once (no further use or disclosure).",
      ruleRefs: ['ALU-4', 'ALU-5'],
      triggers: ['child_data.detected'],
      retention: 'P0D',
      action: 'restrict',
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'cloud-video',
      description:
        'Cloud recordings and screenshots, deleted when the cloud plan expires unless it is renewed first.',
      ruleRefs: ['IMOU-1'],
      triggers: ['plan.expired'],
      retention: 'P0D',
      cancelledBy: ['plan.renewed'],
      targets: ['cloud-video'],
    }),
    policy({
      dataClass: 'cloud-video-window',
      description:
        "While a plan runs, recordings older than the plan's storage period (the event's storagePeriod, default 30 days) are deleted.",
      ruleRefs: ['IMOU-1'],
      triggers: ['plan.renewed'],
      retention: 'P30D',
      rollingWindowAttribute: 'storagePeriod',
      // Daily runs: a recording outlives its storage period by at most a day.
      rollingInterval: 'P1D',
      cancelledBy: ['plan.expired', ...ACCOUNT_GONE],
      targets: ['cloud-video'],
    }),
    policy({
      dataClass: 'alarm-events',
      description: 'Alarm messages, alarm screenshots and API-log IP addresses, kept 7 days.',
      ruleRefs: ['IMOU-2'],
      triggers: ['subject.active'],
      retention: 'P7D',
      rolling: true,
      rollingInterval: 'P1D',
      cancelledBy: [...ACCOUNT_GONE],
      targets: ['alarm-events'],
    }),
    policy({
      dataClass: 'inactive-account',
      description: 'An account unused for 24 months is deleted; the user is told 3 months before.',
      ruleRefs: ['IMOU-3'],
      triggers: ['subject.active'],
      retention: 'P24M',
      notice: 'P3M',
      cancelledBy: [...ACCOUNT_GONE],
      targets: ALL_TARGETS,
    }),
    policy({
      dataClass: 'withdrawn-product-data',
      description: 'Data of a withdrawn product or service, anonymised at once.',
      ruleRefs: ['IMOU-5'],
      triggers: ['product.withdrawn'],
      retention: 'P0D',
      action: 'anonymise',
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'marketing-contact',
      description: 'Marketing data, deleted when consent is withdrawn or the person unsubscribes.',
      ruleRefs: ['ALM-1'],
      triggers: ['consent.withdrawn'],
      retention: 'P0D',
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'business-contact',
      description: 'Contact data of a business relation, deleted 3 years after the relationship ends.',
      ruleRefs: ['ALM-2'],
      triggers: ['relationship.ended'],
      retention: 'P3Y',
      targets: ['customer-records', 'partner-services'],
    }),
    policy({
      dataClass: 'billing-traffic',
      description:
        'Traffic data kept for billing: kept while an invoice is unpaid, deleted 24 months after settlement.',
      ruleRefs: ['ALE-2'],
      triggers: ['invoice.settled'],
      retention: 'P24M',
      blockers: ['legal-hold', 'unpaid-invoice'],
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'fault-traffic',
      description: 'Traffic data kept for fault handling, erased once older than 6 months.',
      ruleRefs: ['ALE-3'],
      triggers: ['subject.active'],
      retention: 'P6M',
      rolling: true,
      rollingInterval: 'P1M',
      cancelledBy: [...ACCOUNT_GONE],
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'traffic-statistics',
      description: 'Traffic data kept for statistics, erased once older than 24 months.',
      ruleRefs: ['ALE-3'],
      triggers: ['subject.active'],
      retention: 'P24M',
      rolling: true,
      rollingInterval: 'P1M',
      cancelledBy: [...ACCOUNT_GONE],
      targets: ['partner-services'],
    }),
    policy({
      dataClass: 'consumption-data',
      description: 'System and component consumption data, erased once older than 24 months.',
      ruleRefs: ['ALE-4'],
      triggers: ['subject.active'],
      retention: 'P24M',
      rolling: true,
      rollingInterval: 'P1M',
      cancelledBy: [...ACCOUNT_GONE],
      targets: ['partner-services'],
    }),
  ],
};

/** Rules about handling requests rather than scheduling a data class, and what implements them. */
export const CAPABILITY_MAPPINGS: readonly CapabilityMapping[] = [
  {
    ruleRef: 'ALU-3',
    capability:
      'Access/erasure requests are handled within 30 days (deadline = received + 30 days, extendable once)',
    implementedBy: 'erasure request state machine (domain/erasure): ErasureRequest.deadline',
  },
  {
    ruleRef: 'ALU-5',
    capability: 'Restriction of processing, for one data class or all of them',
    implementedBy:
      "the 'restrict' retention action (child-data-restricted), run by dynamodb-items and http-webhook targets",
  },
  {
    ruleRef: 'ALU-6',
    capability: 'Portability: a structured, machine-readable copy of the data on request',
    implementedBy:
      "portability export: POST /v1/subjects/{subjectId}/export (functions/services/exports.ts), read by the connectors' export",
  },
  {
    ruleRef: 'IMOU-6',
    capability: 'An erasure request may be refused for a stated legal reason, which the requester is told',
    implementedBy: "request rejection (domain/erasure): status 'rejected' with rejection.legalReason",
  },
  {
    ruleRef: 'ALE-5',
    capability: 'All processing is logged so that its handling can be followed up',
    implementedBy: 'audit trail (domain/audit): append-only, hash-chained per subject pseudonym',
  },
  {
    ruleRef: 'ALM-3',
    capability: 'A statutory retention requirement (also ALE-1/ALE-2 bookkeeping) stops a deletion',
    implementedBy:
      "legal holds (domain/holds.ts), checked by evaluateDue (domain/schedule/due.ts); 'legal-hold' blocks every class",
  },
];

/** Plausible resources for the five target names; a real deployment supplies its own. */
export const EXAMPLE_TARGETS: readonly ConnectorTarget[] = [
  {
    name: 'customer-records',
    kind: 'dynamodb-items',
    table: 'example-customer-records',
    subjectAttribute: 'subjectId',
    keyAttributes: ['subjectId', 'recordId'],
    anonymiseAttributes: ['email', 'name', 'phone'],
  },
  {
    name: 'user-files',
    kind: 's3-prefix',
    bucket: 'example-user-files',
    prefixTemplate: 'files/{subjectId}/',
  },
  {
    name: 'cloud-video',
    kind: 's3-prefix',
    bucket: 'example-cloud-video',
    prefixTemplate: 'video/{subjectId}/',
  },
  {
    name: 'alarm-events',
    kind: 'dynamodb-items',
    table: 'example-alarm-events',
    subjectAttribute: 'subjectId',
    keyAttributes: ['subjectId', 'alarmId'],
    timestampAttribute: 'raisedAt',
    // IMOU-2's window runs erase through this GSI (partition windowShard, sort key raisedAt).
    windowIndex: { indexName: 'byAge', partitionAttribute: 'windowShard', partitions: ['0', '1', '2', '3'] },
  },
  {
    name: 'partner-services',
    kind: 'http-webhook',
    url: 'https://partners.example.com/erasure',
    signingSecretName: 'example/partner-services/signing-secret',
    timeoutMs: 10_000,
  },
];

/** Every rule id the catalog's ruleRefs or the capability mappings cover, sorted, once each. */
export function allRuleIds(
  catalog: PolicyCatalog = BUILT_IN_CATALOG,
  mappings: readonly CapabilityMapping[] = CAPABILITY_MAPPINGS,
): string[] {
  const ids = new Set([
    ...catalog.dataClasses.flatMap((entry) => entry.ruleRefs),
    ...mappings.map((mapping) => mapping.ruleRef),
  ]);
  return [...ids].sort();
}
