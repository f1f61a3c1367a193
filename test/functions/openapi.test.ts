/**
 * `GET /openapi.json`: an OpenAPI 3.1 document with every route of ROUTES, its roles and
 * security, its parameters and body from the same zod schemas that validate requests, every error
 * shape; and every example in it is accepted by the schema it illustrates (request examples by
 * the zod schema the API parses with, error examples by the error body's schema, which real
 * error answers match too). The structure is checked by hand: no OpenAPI validator is a
 * dependency of the project.
 */
import { describe, expect, it } from 'vitest';
import {
  ErrorBodySchema,
  OPENAPI_VERSION,
  OPERATIONS,
  openApiDocument,
} from '../../functions/api/openapi.js';
import { PATH_PARAMETERS } from '../../functions/api/schemas.js';
import { ROUTES, type RouteDefinition, routeKey } from '../../functions/shared/routes.js';
import { bearer, callApi } from '../helpers/api-handler.js';
import { handlerDeps } from '../helpers/handler-deps.js';

type Json = Record<string, unknown>;
const document = openApiDocument() as unknown as Json & {
  paths: Record<string, Record<string, Json>>;
  components: Json & { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const operations = () =>
  Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );

describe('GET /openapi.json', () => {
  it('is served to anyone, without credentials, as the document', async () => {
    const built = handlerDeps();

    const anonymous = await callApi(built, { method: 'GET', path: '/openapi.json' });
    const withToken = await callApi(built, {
      method: 'GET',
      path: '/openapi.json',
      headers: bearer('service'),
    });

    expect(anonymous.status).toBe(200);
    expect(anonymous.headers?.['content-type']).toBe('application/json');
    expect(anonymous.body).toEqual(JSON.parse(JSON.stringify(document)));
    expect(withToken.body).toEqual(anonymous.body);
  });
});

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 in structure: version, info, paths, components, unique operation ids', () => {
    expect(document.openapi).toBe(OPENAPI_VERSION);
    expect(OPENAPI_VERSION).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(document.components.schemas)).toContain('Error');
    for (const path of Object.keys(document.paths)) expect(path).toMatch(/^\//);
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, operation } of operations()) {
      expect(METHODS, `${method} ${path}`).toContain(method);
      const responses = operation.responses as Record<string, Json>;
      expect(Object.keys(responses).length, `${method} ${path}`).toBeGreaterThan(0);
      for (const [status, response] of Object.entries(responses)) {
        expect(status).toMatch(/^[1-5]\d\d$/);
        expect(response.description, `${method} ${path} ${status}`).toEqual(expect.any(String));
      }
      // Every {param} of the path is a required path parameter, and no other path parameter exists.
      const declared = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      const parameters = (operation.parameters ?? []) as Json[];
      const inPath = parameters.filter((parameter) => parameter.in === 'path');
      expect(inPath.map((parameter) => parameter.name)).toEqual(declared);
      expect(inPath.every((parameter) => parameter.required === true)).toBe(true);
      for (const parameter of parameters) {
        expect(['path', 'query', 'header', 'cookie']).toContain(parameter.in);
        expect(parameter.schema, `${method} ${path} ${parameter.name}`).toEqual(expect.any(Object));
      }
      // Every security requirement names a declared scheme.
      for (const requirement of operation.security as Json[]) {
        for (const scheme of Object.keys(requirement)) {
          expect(Object.keys(document.components.securitySchemes)).toContain(scheme);
        }
      }
    }
    // Every $ref resolves.
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)];
    for (const [, name] of refs) expect(document.components.schemas).toHaveProperty(name as string);
  });

  it('has every route of the route table, with its roles, and nothing else', () => {
    const documented = operations().map(({ path, method }) => `${method.toUpperCase()} ${path}`);

    expect(documented.sort()).toEqual(ROUTES.map(routeKey).sort());
    for (const route of ROUTES as readonly RouteDefinition[]) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()] as Json;
      expect(operation['x-roles']).toEqual(route.roles);
      const security = operation.security as Json[];
      if (route.roles === 'public') expect(security).toEqual([]);
      else if (route.roles === 'signed') expect(security).toEqual([{ webhookSignature: [] }]);
      else {
        expect(security).toEqual([{ awsSigV4: [] }, { bearerToken: [] }]);
        expect(operation.description).toContain(`Roles: ${route.roles.join(', ')}.`);
        expect(Object.keys(operation.responses as Json)).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });

  it("documents the audit search's filters and CSV, and the certificate's PDF", () => {
    const audit = document.paths['/v1/audit']?.get as Json;
    const certificate = document.paths['/v1/erasure-requests/{requestId}/certificate']?.get as Json;

    const names = (audit.parameters as Json[]).map((parameter) => parameter.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'subjectId',
        'requestId',
        'from',
        'to',
        'dataClass',
        'ruleRef',
        'type',
        'cursor',
        'limit',
        'format',
      ]),
    );
    expect(Object.keys(((audit.responses as Json)['200'] as Json).content as Json)).toEqual([
      'application/json',
      'text/csv',
    ]);
    expect(Object.keys(((certificate.responses as Json)['200'] as Json).content as Json)).toEqual([
      'application/json',
      'application/pdf',
    ]);
  });

  it('has request examples that the zod schemas the API parses with accept', () => {
    let checked = 0;
    for (const [key, operation] of Object.entries(OPERATIONS)) {
      if (operation.body !== undefined) {
        expect(operation.body.schema.safeParse(operation.body.example).success, `${key} body`).toBe(true);
        checked++;
      }
      if (operation.query !== undefined) {
        expect(operation.query.schema.safeParse(operation.query.example).success, `${key} query`).toBe(true);
        checked++;
      }
    }
    // Path parameters, through their own rules, and the examples as the document carries them.
    for (const { path, method, operation } of operations()) {
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        if (parameter.in === 'path') {
          const schema = PATH_PARAMETERS[parameter.name as keyof typeof PATH_PARAMETERS];
          expect(parameter.example, `${method} ${path} ${parameter.name}`).toEqual(expect.any(String));
          expect(schema.safeParse(parameter.example).success, `${method} ${path} ${parameter.name}`).toBe(
            true,
          );
          checked++;
        }
      }
      const body = (operation.requestBody as Json | undefined)?.content as Record<string, Json> | undefined;
      const operationKey = `${method.toUpperCase()} ${path}` as keyof typeof OPERATIONS;
      if (body !== undefined)
        expect(body['application/json']?.example).toEqual(OPERATIONS[operationKey].body?.example);
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('has error examples of the error shape, the shape the API really answers', async () => {
    let checked = 0;
    for (const { operation } of operations()) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Json>)) {
        if (Number(status) < 400) continue;
        const media = (response.content as Record<string, Json>)['application/json'];
        expect(media?.schema).toEqual({ $ref: '#/components/schemas/Error' });
        expect(ErrorBodySchema.safeParse(media?.example).success).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(ROUTES.length * 2);
    // Real answers of each kind match the documented shape.
    const built = handlerDeps();
    const answers = await Promise.all([
      callApi(built, {
        method: 'GET',
        path: '/v1/audit',
        query: { subjectId: 'x', ruleRef: 'bad' },
        headers: bearer('compliance'),
      }),
      callApi(built, { method: 'GET', path: '/v1/audit' }),
      callApi(built, {
        method: 'GET',
        path: '/v1/audit',
        headers: bearer('service'),
        query: { subjectId: 'x' },
      }),
      callApi(built, { method: 'GET', path: '/v1/erasure-requests/req_none', headers: bearer('compliance') }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([400, 401, 403, 404]);
    for (const answer of answers)
      expect(ErrorBodySchema.strict().safeParse(answer.body).success, answer.raw).toBe(true);
  });
});
