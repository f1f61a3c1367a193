/**
 * Values of the deployment config known only at deploy time (a bucket name from `bucket.bucketName`,
 * another API's URL): the config the function gets holds `${ERASURE_REF_<n>}` in their place, and
 * its environment holds each value in the variable of that name, which CloudFormation resolves.
 */
export const CONFIG_REF_PREFIX = 'ERASURE_REF_';

const REF = /^\$\{(ERASURE_REF_\d+)\}$/;

/** `ERASURE_REF_3` → the text that stands for it in the config. */
export const configRef = (variable: string): string => `\${${variable}}`;

/** The config JSON with every reference replaced by its variable's value; a missing one fails by name. */
export const resolveConfigRefs = (configJson: string, source: NodeJS.ProcessEnv): string => {
  if (!configJson.includes(`\${${CONFIG_REF_PREFIX}`)) return configJson;
  return JSON.stringify(
    JSON.parse(configJson, (_key, value: unknown) => {
      const variable = typeof value === 'string' ? REF.exec(value)?.[1] : undefined;
      if (variable === undefined) return value;
      const resolved = source[variable];
      if (resolved === undefined || resolved === '') {
        throw new Error(`The deployment config refers to ${variable}, which is not set`);
      }
      return resolved;
    }),
  );
};
