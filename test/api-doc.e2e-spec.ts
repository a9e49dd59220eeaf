import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOpenApiDocument } from '../src/app.openapi';
import { withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';

/**
 * docs/api.md is the contract the repository documents (issue 12): every operation the app serves is
 * on it as `METHOD /path`, spelled as in /docs-json, so a route added without its documentation fails
 * here. What each route takes and answers is checked against the served document by the other suites.
 */

const API_DOC = readFileSync(join(__dirname, '..', 'docs', 'api.md'), 'utf8');

describe('docs/api.md', () => {
  const app = withApp(testDatabases()[0]);

  it('names every operation of the OpenAPI document', () => {
    const { paths } = buildOpenApiDocument(app().app);
    const operations = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'put', 'post', 'delete', 'patch'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.filter((operation) => !API_DOC.includes(`\`${operation}`))).toEqual([]);
  });
});
