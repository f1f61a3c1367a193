import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_DEPLOYMENT_CONFIG } from '../../infra/config/example.js';
import { checkConfig, DeploymentConfigError } from '../../infra/constructs/config-validation.js';
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
    expect(() => readConfigFile(file)).toThrow(/broken\.json: not valid JSON: /);
  });

  it('lists every mistake at once, one line each: file, field, data class or target, value, a good example', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'erasure-config-')), 'several.json');
    const [closed, ...classes] = EXAMPLE_DEPLOYMENT_CONFIG.catalog.dataClasses;
    const targets = EXAMPLE_DEPLOYMENT_CONFIG.targets.map((target) =>
      target.kind === 'http-webhook'
        ? { ...target, url: 'http://partner.example/erase', timeoutMs: 60_000 }
        : target,
    );
    const webhook = targets.findIndex((target) => target.kind === 'http-webhook');
    const hook = targets[webhook]?.name;
    writeFileSync(
      file,
      JSON.stringify({
        catalog: {
          ...EXAMPLE_DEPLOYMENT_CONFIG.catalog,
          dataClasses: [{ ...closed, retention: 'P30X', targets: ['nowhere'] }, ...classes],
        },
        targets,
      }),
    );
    let error: unknown;
    try {
      readConfigFile(file);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DeploymentConfigError);
    const { problems, message, stack } = error as DeploymentConfigError;
    const name = closed?.dataClass;
    expect(new Set(problems)).toEqual(
      new Set([
        `${file}: catalog.dataClasses[0].retention: 'P30X' is not an ISO 8601 duration (e.g. P24M, P7D) (data class '${name}'; e.g. 'P30D')`,
        `${file}: catalog.dataClasses[0].targets[0]: 'nowhere' is not defined in targets (data class '${name}'; e.g. 'orders')`,
        `${file}: targets[${webhook}].url: 'http://partner.example/erase' must use https (target '${hook}'; e.g. 'https://crm.example.com/gdpr/erase')`,
        `${file}: targets[${webhook}].timeoutMs: must be below the worker's timeout (60000 ms), got 60000 (target '${hook}'; e.g. 10000)`,
      ]),
    );
    // The message is the list; the stack is the message (nothing for a user to read past).
    expect(message.split('\n')).toHaveLength(problems.length + 1);
    expect(stack).toBe(`DeploymentConfigError: ${message}`);
  });
});
