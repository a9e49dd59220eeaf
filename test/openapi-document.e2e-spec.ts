import request from 'supertest';
import { OpenApiConformance } from './helpers/openapi-conformance';
import { withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';

/**
 * The OpenAPI document as clients meet it at /docs-json: what a client generator, a linter or Swagger UI
 * relies on, operation by operation. (Redocly CLI and Spectral lint it in CI: npm run lint:openapi, docs/openapi-lint.md.)
 */

interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
  requestBody?: { content: Record<string, { schema?: unknown; examples?: Record<string, { value: unknown }> }> };
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema?: unknown; example?: unknown }> }
  >;
}

interface Document {
  servers?: { url: string }[];
  info: { license?: { name: string } };
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const ERROR_CODE_OF: Record<string, string> = {
  '400': 'ValidationError',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'NotFound',
  '409': 'Conflict',
  '413': 'PayloadTooLarge',
  '415': 'UnsupportedMediaType',
  '429': 'TooManyAttempts',
  '503': 'ServiceUnavailable',
};

/** Routes that need no database: the process probe and the metrics of this process. */
const WITHOUT_DATABASE = ['GET /health/live', 'GET /metrics'];

describe.each(testDatabases().slice(0, 1))('the OpenAPI document on $name', (database) => {
  const running = withApp(database);
  let document: Document;
  let operations: { key: string; path: string; method: string; operation: Operation }[];

  beforeAll(async () => {
    const res = await request(running().url).get('/docs-json').expect(200);
    document = res.body as Document;
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        path,
        method,
        operation,
      })),
    );
  });

  it('names the server that served it, so "Try it out" calls this service', () => {
    expect(document.servers).toEqual([{ url: running().url, description: 'This service' }]);
    expect(document.info.license?.name).toMatch(/UNLICENSED/);
  });

  it('gives every operation a unique readable operationId, a summary, a description and one declared tag', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => !/^[a-z][A-Za-z]+$/.test(id ?? ''))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    const declared = new Map(document.tags?.map((tag) => [tag.name, tag.description]));
    for (const { key, operation } of operations) {
      expect({ key, summary: Boolean(operation.summary), description: Boolean(operation.description) }).toEqual({
        key,
        summary: true,
        description: true,
      });
      expect({ key, tags: operation.tags?.length }).toEqual({ key, tags: 1 });
      expect({ key, declared: Boolean(declared.get(operation.tags![0])) }).toEqual({ key, declared: true });
    }
  });

  it('documents each alias once, as a note on the operation it serves', () => {
    const paths = Object.keys(document.paths);
    for (const alias of ['/partnerglobal/', '/global/']) {
      expect(paths.filter((path) => path.startsWith(alias))).toEqual([]);
    }
    expect(paths).not.toContain('/2fa/code');
    expect(document.paths['/2fa/codes'].post.description).toContain('POST /2fa/code');
    expect(document.paths['/loginapi/2fa:verify'].post.description).toContain('POST /global/2fa:verify');
    expect(document.paths['/partnerglobalapi/2faConfig/{id}'].put.description).toContain(
      'PUT /partnerglobal/2faConfig/{id}',
    );
  });

  it('says which operations are public (security: []) and which need the bearer token', () => {
    for (const { key, operation } of operations) {
      const isPublic = /^(GET|POST) \/(2fa|generate|verify|health)\//.test(key);
      if (key === 'GET /metrics') expect(operation.security).toEqual([{ bearer: [] }, {}]);
      else expect({ key, security: operation.security }).toEqual({ key, security: isPublic ? [] : [{ bearer: [] }] });
    }
  });

  it('documents the errors each operation can answer, each with the envelope and its own errorCode', () => {
    for (const { key, operation, path } of operations) {
      const statuses = Object.keys(operation.responses);
      const secured = (operation.security ?? []).some((requirement) => 'bearer' in requirement);
      const readsBody = ['POST', 'PUT', 'DELETE'].some((method) => key.startsWith(method));
      const takesInput = readsBody || path.includes('{') || (operation.parameters ?? []).length > 0;
      const expected = [
        ...(takesInput ? ['400'] : []),
        ...(secured ? ['401', '403'] : []),
        ...(readsBody ? ['413', '415'] : []),
        ...(WITHOUT_DATABASE.includes(key) ? [] : ['503']),
      ];
      expect({ key, missing: expected.filter((status) => !statuses.includes(status)) }).toEqual({ key, missing: [] });
      for (const status of statuses.filter((code) => code >= '400')) {
        const json = operation.responses[status].content?.['application/json'];
        expect({ key, status, schema: json?.schema }).toEqual({
          key,
          status,
          schema: { $ref: '#/components/schemas/ErrorEnvelope' },
        });
        expect({ key, status, example: json?.example }).toMatchObject({
          key,
          status,
          example: { responseStatus: { errorCode: ERROR_CODE_OF[status] } },
        });
      }
      if (statuses.includes('429')) expect(operation.responses['429'].headers).toHaveProperty('Retry-After');
    }
  });

  it('documents 404 only where a record is looked up, and 409 where one can already exist', () => {
    for (const { key, operation, path } of operations) {
      const looksUp = path.includes('{') || key === 'PUT /users/2fa/reset';
      expect({ key, notFound: '404' in operation.responses }).toEqual({ key, notFound: looksUp });
    }
    const conflicts = operations.filter(({ operation }) => '409' in operation.responses).map(({ key }) => key);
    expect(conflicts.sort()).toEqual(
      [
        'POST /partnerglobalapi/2faConfig',
        'POST /globalapi/2faConfig',
        'POST /TwoFactorSession',
        'PUT /TwoFactorSession/{public_id}',
        'PUT /users/2fa/generate-key',
        'POST /webhooks',
      ].sort(),
    );
  });

  it('types paging and lengths as integers with their limits (Swagger UI shows number fields)', () => {
    const parameter = (path: string, name: string) =>
      document.paths[path].get.parameters!.find((candidate) => candidate.name === name)!.schema;
    expect(parameter('/audit', 'page')).toMatchObject({ type: 'integer', minimum: 1, default: 1 });
    expect(parameter('/audit', 'perPage')).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(parameter('/TwoFactorSession', 'responsePerPage')).toMatchObject({ type: 'integer', maximum: 100 });
    expect(parameter('/generate/secret', 'length')).toMatchObject({ type: 'integer', minimum: 16, maximum: 64 });
  });

  it('gives request examples that do not rotate and disable at once, and no fixed public_id', () => {
    const examples = (key: string) => {
      const [method, path] = key.split(' ');
      const content = document.paths[path][method.toLowerCase()].requestBody!.content['application/json'];
      return Object.values(content.examples ?? {}).map((example) => example.value as Record<string, unknown>);
    };
    const updates = examples('PUT /partnerglobalapi/2faConfig/{id}');
    expect(updates[0]).toEqual({ unlock: true });
    for (const update of updates) expect(Object.keys(update)).toHaveLength(1);
    for (const key of ['POST /TwoFactorSession', 'PUT /TwoFactorSession/{public_id}']) {
      for (const example of examples(key)) expect(example).not.toHaveProperty('public_id');
    }
    for (const example of examples('POST /globalapi/2faConfig')) expect(example).not.toHaveProperty('partneruserid');
  });
});

describe(OpenApiConformance.name, () => {
  const document = {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/audit': {
        get: {
          responses: {
            '200': {
              description: '',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Page' } } },
            },
            '204': { description: '' },
          },
        },
      },
      '/2fa/codes': { post: { responses: { '200': { description: '' } } } },
    },
    components: {
      schemas: {
        Page: {
          type: 'object',
          properties: { actor: { type: 'string', nullable: true }, createdAt: { type: 'string', format: 'date-time' } },
          required: ['actor'],
        },
      },
    },
  };
  const conformance = new OpenApiConformance(document);
  const json = (body: unknown, status = 200) => ({
    status,
    contentType: 'application/json; charset=utf-8',
    body,
    text: JSON.stringify(body),
  });

  it('accepts an answer that matches its schema, nullable strings as null or text', () => {
    expect(conformance.violation('GET', 'http://x/audit', json({ actor: null }))).toBeUndefined();
    expect(
      conformance.violation('GET', 'http://x/audit?page=1', json({ actor: 'a', createdAt: '2026-01-01T00:00:00Z' })),
    ).toBeUndefined();
  });

  it('refuses a wrong type, a bad format, an undocumented field and an undocumented status', () => {
    expect(conformance.violation('GET', 'http://x/audit', json({ actor: {} }))).toMatch(/must be string/);
    expect(conformance.violation('GET', 'http://x/audit', json({ actor: null, createdAt: 'yesterday' }))).toMatch(
      /format/,
    );
    expect(conformance.violation('GET', 'http://x/audit', json({ actor: null, extra: 1 }))).toMatch(/additional/);
    expect(conformance.violation('GET', 'http://x/audit', json({}, 500))).toMatch(/does not list/);
    expect(conformance.violation('GET', 'http://x/audit', { ...json({}, 204), text: '{}' })).toMatch(/body/);
  });

  it('judges an alias as the operation it serves, and leaves requests outside the document alone', () => {
    expect(conformance.violation('POST', 'http://x/2fa/code', json({}, 500))).toMatch(/POST \/2fa\/codes answered 500/);
    expect(conformance.violation('GET', 'http://x/docs', json({}, 404))).toBeUndefined();
    expect(conformance.violation('DELETE', 'http://x/audit', json({}, 404))).toBeUndefined();
  });
});
