import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DEPLOYMENT_CONFIG } from '../../infra/config/example.js';
import { checkConfig } from '../../infra/constructs/config-validation.js';
import { optionsFromContext, readConfigFile } from '../../infra/stacks/erasure-app.js';

const EXAMPLE_FILE = 'infra/config/example.json';

describe('deployment config of the app', () => {
  it('deploys the built-in catalog with the example targets when no file is given', () => {
    expect(optionsFromContext(new App()).config).toBeUndefined();
    expect(checkConfig(EXAMPLE_DEPLOYMENT_CONFIG).problems).toEqual([]);
  });

  it('reads -c config=<file>, -c prefix and -c alarmTopicArn from the context', () => {
    const app = new App({
      context: {
        config: EXAMPLE_FILE,
        prefix: 'erasure-prod',
        alarmTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops',
      },
    });
    const options = optionsFromContext(app);
    expect(options.prefix).toBe('erasure-prod');
    expect(options.alarmTopicArn).toBe('arn:aws:sns:eu-west-1:111122223333:ops');
    expect(options.config?.targets.map((target) => target.name)).toEqual(['orders', 'uploads', 'crm']);
  });

  it('accepts the example file as the construct would (schema and infrastructure checks)', () => {
    expect(checkConfig(readConfigFile(EXAMPLE_FILE)).problems).toEqual([]);
  });

  it('names the file and the field of a bad config', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'erasure-config-')), 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        ...EXAMPLE_DEPLOYMENT_CONFIG,
        targets: [{ ...EXAMPLE_DEPLOYMENT_CONFIG.targets[0], name: 'Not Kebab' }],
      }),
    );
    expect(() => readConfigFile(file)).toThrow(/bad\.json: targets\[0\]\.name: .*is not kebab-case/);
  });

  it('names the file when it is not JSON', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'erasure-config-')), 'broken.json');
    writeFileSync(file, '{ "catalog": ');
    expect(() => readConfigFile(file)).toThrow(/Deployment config .*broken\.json: /);
  });
});
