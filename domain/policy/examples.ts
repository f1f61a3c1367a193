/**
 * A good value for each field of a deployment config, shown next to a problem so that whoever
 * fixes the file sees what is expected (`e.g. 'P30D'`), not only what was wrong.
 */
import { quote } from '../vocabulary/index.js';

const EXAMPLES: Readonly<Record<string, unknown>> = {
  version: 'acme-2026-01',
  dataClasses: '[{ "dataClass": "closed-account", ... }]',
  dataClass: 'closed-account',
  description: 'Everything about a customer, erased 30 days after the account is closed.',
  ruleRefs: 'GDPR-17',
  triggers: 'account.closed',
  cancelledBy: 'account.restored',
  retention: 'P30D',
  notice: 'P7D',
  rollingInterval: 'P1D',
  jurisdictionOverrides: '{ "SE": "P7Y" }',
  action: 'delete',
  blockers: 'legal-hold',
  rollingWindowAttribute: 'storagePeriod',
  rolling: true,
  name: 'orders',
  kind: 's3-prefix',
  bucket: 'acme-customer-uploads',
  prefixTemplate: 'customers/{subjectId}/',
  table: 'acme-orders',
  indexName: 'byCustomer',
  subjectAttribute: 'customerId',
  keyAttributes: 'orderId',
  anonymiseAttributes: 'email',
  timestampAttribute: 'createdAt',
  url: 'https://crm.example.com/gdpr/erase',
  signingSecretName: 'crm',
  timeoutMs: 10000,
  preview: true,
  notices: '{ "target": "notifications" }',
};

/** An example of a good value for the field at `path`, as it would be written in the JSON file. */
export const exampleFor = (path: readonly PropertyKey[]): string | undefined => {
  // Inside a list or a map, the example of the field holding it (`targets[2]` → a target name).
  for (let index = path.length - 1; index >= 0; index--) {
    const segment = path[index];
    if (typeof segment !== 'string') continue;
    if (path[index - 1] === 'jurisdictionOverrides') return quote('P7Y');
    if (segment === 'targets' && path[index - 1] !== undefined && typeof path[index - 1] === 'number') {
      return quote('orders');
    }
    if (Object.hasOwn(EXAMPLES, segment)) {
      const example = EXAMPLES[segment];
      return typeof example === 'string' && /^[[{]/.test(example) ? example : quote(example);
    }
  }
  return undefined;
};
