import request from 'supertest';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import { expectEnvelope, fieldNames, sendBytes, SERVER_REQUEST_ID } from './helpers/http';
import { CapturedLogs, captureLogs } from './helpers/logs';
import { awaitFreshStep, oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { rawDataSource, RunningApp, startApp, TestDatabase, testDatabases } from './helpers/test-app';
import { sleep } from './helpers/time';

/** docs/api.md "Conventions for every route", on the real server. */

// testTimeout in jest.config.js is ignored inside `projects`; some tests wait out a 30 s step boundary.
jest.setTimeout(30_000);

const SETTINGS = {
  ...TOTP_SETTINGS,
  TOTP_ISSUER: 'Conventions E2E',
  LOG_LEVEL: 'silent',
};

const VALID_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe.each(testDatabases().map((database) => [database.name, database] as const))(
  'HTTP conventions on %s',
  (_name, database: TestDatabase) => {
    // The logs test below gives nestjs-pino's process-wide logger its level; this app is silent.
    beforeAll(() => {
      __resetOutOfContextForTests();
    });
    const running = withApp(database, SETTINGS);
    const http = () => request(running().url);

    describe('the error envelope', () => {
      it('a validation error: the envelope with the field named', async () => {
        const res = await http().post('/verify/token').send({ secret: VALID_SECRET, token: 123456 });
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toContain('token');
        expect(res.headers['cache-control']).toBe('no-store');
      });

      it('an unknown route: 404 NotFound with no field errors', async () => {
        const res = await http().get('/no/such/route');
        expectEnvelope(res, 404, 'NotFound');
        expect(res.body.responseStatus.errors).toEqual([]);
      });

      it('a known path with another method: 404 NotFound envelope', async () => {
        const res = await http().get('/verify/token');
        expectEnvelope(res, 404, 'NotFound');
      });

      it('a protected route without a token: 401 Unauthorized envelope', async () => {
        const res = await http().get('/audit');
        expectEnvelope(res, 401, 'Unauthorized');
      });

      it("a path with a broken percent-encoding: 400 envelope naming path, not Fastify's own body", async () => {
        const res = await http().get('/generate/%E0%A4%A').set('X-Request-Id', 'bad-url-1');
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['path']);
        expect(res.headers['x-request-id']).toBe('bad-url-1');
      });

      it('an over-long path parameter: 400 envelope naming path', async () => {
        const res = await http().get(`/TwoFactorSession/${'a'.repeat(500)}`);
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['path']);
      });
    });

    describe('content types', () => {
      it.each([
        ['text/plain', (req: request.Test) => req.set('Content-Type', 'text/plain').send('secret=x&token=123456')],
        [
          'application/x-www-form-urlencoded',
          (req: request.Test) => req.type('form').send({ secret: VALID_SECRET, token: '123456' }),
        ],
        ['multipart/form-data', (req: request.Test) => req.field('secret', VALID_SECRET).field('token', '123456')],
        [
          'application/xml',
          (req: request.Test) => req.set('Content-Type', 'application/xml').send('<token>123456</token>'),
        ],
      ])('%s on POST /verify/token: 415 UnsupportedMediaType', async (contentType, send) => {
        const res = await send(http().post('/verify/token'));
        expectEnvelope(res, 415, 'UnsupportedMediaType');
      });

      it('application/json with a charset parameter is JSON', async () => {
        const res = await http()
          .post('/generate/token')
          .set('Content-Type', 'application/json; charset=utf-8')
          .send(JSON.stringify({ secret: VALID_SECRET }));
        expect(res.status).toBe(200);
        expect(res.body.token).toMatch(/^[0-9]{6}$/);
      });

      it('responses are JSON', async () => {
        const res = await http().post('/2fa/codes');
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
      });
    });

    describe('body size', () => {
      it('a 17 KiB JSON body: 413 PayloadTooLarge', async () => {
        const body = JSON.stringify({ secret: 'A'.repeat(17 * 1024), token: '123456' });
        expect(Buffer.byteLength(body)).toBeGreaterThan(17 * 1024);
        const res = await http().post('/verify/token').set('Content-Type', 'application/json').send(body);
        expectEnvelope(res, 413, 'PayloadTooLarge');
      });

      it('a 15 KiB JSON body is read (a 400 for the over-long field, not a 413)', async () => {
        const body = JSON.stringify({ secret: 'A'.repeat(15 * 1024), token: '123456' });
        expect(Buffer.byteLength(body)).toBeLessThan(16 * 1024);
        const res = await http().post('/verify/token').set('Content-Type', 'application/json').send(body);
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['secret']);
      });
    });

    describe('malformed bodies', () => {
      const postRaw = (path: string, raw: string) =>
        http().post(path).set('Content-Type', 'application/json').send(raw);

      it('malformed JSON: 400 ValidationError naming body', async () => {
        const res = await postRaw('/verify/token', '{"secret": "GEZDGNBV", "token": ');
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['body']);
      });

      it.each([
        ['a JSON array', '[]'],
        ['an array of the fields', `[{"secret":"${VALID_SECRET}","token":"123456"}]`],
        ['null', 'null'],
        ['a string', '"123456"'],
        ['a number', '123456'],
      ])('%s as the body: 400 ValidationError', async (_case, raw) => {
        const res = await postRaw('/verify/token', raw);
        expectEnvelope(res, 400, 'ValidationError');
      });

      it.each([
        ['arrays', (depth: number) => `{"secret":${'['.repeat(depth)}${']'.repeat(depth)}}`],
        ['objects', (depth: number) => `{"secret":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`],
      ])('deeply nested %s (16 KiB of brackets): 400 naming body, not a 500', async (_case, nested) => {
        const res = await postRaw('/generate/token', nested(Math.floor((16 * 1024 - 20) / 6)));
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['body']);
        const deepArrays = await postRaw('/generate/token', `{"secret":${'['.repeat(8000)}${']'.repeat(8000)}}`);
        expectEnvelope(deepArrays, 400, 'ValidationError');
      });

      it('brackets inside strings do not count as nesting', async () => {
        const res = await postRaw('/2fa/secretkey', JSON.stringify({ account: '[[[[{{{{'.repeat(8), issuer: 'x"]}' }));
        expect(res.status).toBe(200);
      });

      it.each([
        ['__proto__ at the top', `{"secret":"${VALID_SECRET}","token":"123456","__proto__":{"polluted":"yes"}}`],
        [
          'constructor.prototype',
          `{"secret":"${VALID_SECRET}","token":"123456","constructor":{"prototype":{"polluted":"yes"}}}`,
        ],
        [
          '__proto__ nested',
          `{"secret":"${VALID_SECRET}","token":"123456","algorithm":{"__proto__":{"polluted":"yes"}}}`,
        ],
      ])('%s: 400, not 500, and nothing is polluted', async (_case, raw) => {
        for (const path of ['/verify/token', '/2fa/secretkey', '/2fa/code:verify']) {
          const res = await postRaw(path, raw);
          expectEnvelope(res, 400, 'ValidationError');
        }
        // The app runs in this process: its Object.prototype is ours.
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
        // And the server still works afterwards.
        await http().get('/health/live').expect(200);
      });
    });

    describe('X-Request-Id', () => {
      it.each([
        ['GET /health/live (200)', () => http().get('/health/live'), 200],
        ['POST /2fa/codes (200)', () => http().post('/2fa/codes'), 200],
        ['an unknown route (404)', () => http().get('/nope'), 404],
        ['a validation error (400)', () => http().post('/verify/token').send({}), 400],
        [
          'a malformed body (400)',
          () => http().post('/verify/token').set('Content-Type', 'application/json').send('{'),
          400,
        ],
        ['a form body (415)', () => http().post('/verify/token').type('form').send({ a: 'b' }), 415],
        [
          'an oversized body (413)',
          () =>
            http()
              .post('/verify/token')
              .set('Content-Type', 'application/json')
              .send(JSON.stringify({ secret: 'A'.repeat(17 * 1024) })),
          413,
        ],
      ])("%s: a fresh id when none is sent, the client's when it is well-formed", async (_case, send, status) => {
        const first = await send();
        const second = await send();
        expect(first.status).toBe(status);
        expect(first.headers['x-request-id']).toMatch(SERVER_REQUEST_ID);
        expect(second.headers['x-request-id']).toMatch(SERVER_REQUEST_ID);
        expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);

        const echoed = await send().set('X-Request-Id', 'abc-123');
        expect(echoed.status).toBe(status);
        expect(echoed.headers['x-request-id']).toBe('abc-123');
      });

      it("a request target Fastify refuses before routing (an absolute URL with a broken host): the envelope naming path, with the id and helmet's headers", async () => {
        const request = 'GET http://[/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
        const res = await sendBytes(running().url, request);
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['path']);
        expect(res.headers['x-request-id']).toMatch(SERVER_REQUEST_ID);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      });

      it.each([
        ['300 characters', 'a'.repeat(300)],
        ['a space', 'abc 123'],
        ['an encoded newline', 'abc%0D%0AX-Injected: yes'],
        ['a quote', 'abc"123'],
        ['an empty value', ''],
      ])('a malformed client id (%s) is replaced', async (_case, given) => {
        const res = await http().get('/health/live').set('X-Request-Id', given);
        expect(res.status).toBe(200);
        expect(res.headers['x-request-id']).toMatch(SERVER_REQUEST_ID);
        expect(res.headers['x-request-id']).not.toBe(given);
        expect(res.headers['x-injected']).toBeUndefined();
      });
    });

    describe('health', () => {
      it('GET /health/live: 200', async () => {
        await http().get('/health/live').expect(200);
      });

      it('GET /health/ready: 200 {status:"ok"} (the database answers)', async () => {
        const res = await http().get('/health/ready');
        expect(res.status).toBe(200);
        expect(res.body.status).toBe('ok');
        // Not a Galera node: its state is not asked for (test/galera/ covers a cluster).
        expect(res.body.info.databaseNode).toEqual(
          database.name === 'sqlite' ? { status: 'up' } : { status: 'up', galera: false },
        );
      });

      if (database.name === 'mariadb') {
        it('leaves wsrep_sync_wait as the server has it on a MariaDB without Galera', async () => {
          const [row] = await rawDataSource(running()).query(
            'SELECT @@session.wsrep_sync_wait AS session, @@global.wsrep_sync_wait AS global, @@wsrep_on AS wsrepOn',
          );
          expect(row).toEqual({ session: row.global, global: row.global, wsrepOn: '0' });
        });
      }
    });

    describe('Swagger', () => {
      const TOOLKIT_OPERATIONS: [string, string][] = [
        ['/2fa/secretkey', 'post'],
        ['/2fa/code:verify', 'post'],
        ['/2fa/codes', 'post'],
        ['/generate/secret', 'get'],
        ['/generate/token', 'post'],
        ['/verify/token', 'post'],
      ];

      interface OpenApiOperation {
        responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
      }
      interface OpenApiDocument {
        openapi: string;
        paths: Record<string, Record<string, OpenApiOperation>>;
        components: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
      }
      let document: OpenApiDocument;

      beforeAll(async () => {
        const res = await http().get('/docs-json').expect(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        document = res.body as OpenApiDocument;
      });

      it('GET /docs serves the Swagger UI page', async () => {
        const res = await http().get('/docs').redirects(2);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
        expect(res.text).toMatch(/swagger-ui/i);
      });

      it('GET /docs-json is an OpenAPI 3 document', () => {
        expect(document.openapi).toMatch(/^3\./);
      });

      it('lists every public path, /2fa/code:verify with its literal colon', () => {
        const paths = Object.keys(document.paths);
        for (const path of [...TOOLKIT_OPERATIONS.map(([path]) => path), '/health/live', '/health/ready']) {
          expect(paths).toContain(path);
        }
        expect(paths.filter((path) => path.includes('::') || /\{verify\}|:verify\}/.test(path))).toEqual([]);
        expect(paths).toContain('/partnerloginapi/2fa:verify');
      });

      it.each(TOOLKIT_OPERATIONS)('%s %s has a JSON 200 response schema', (path, method) => {
        const operation = document.paths[path]?.[method];
        expect(operation).toBeDefined();
        expect(operation.responses['200']?.content?.['application/json']?.schema).toBeDefined();
      });

      it('declares a bearer security scheme', () => {
        expect(document.components.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
      });
    });

    describe('logs', () => {
      let logged: RunningApp;
      let logDatabaseUrl: string;
      let logs: CapturedLogs | undefined;

      beforeAll(async () => {
        logs = captureLogs();
        logDatabaseUrl = await database.create();
        // nestjs-pino keeps one logger for logs outside a request per process, made by the first app
        // (here the silent one). One app per process in production; reset it so this app's level applies.
        __resetOutOfContextForTests();
        logged = await startApp(logDatabaseUrl, { ...SETTINGS, TOTP_DIGITS: '8', LOG_LEVEL: 'info' });
      });

      afterAll(async () => {
        await logged?.close();
        logs?.stop();
        if (logDatabaseUrl) await database.drop(logDatabaseUrl);
      });

      it('never contain a secret, a code, an otpauth URI or a bearer token, but do record each request', async () => {
        const api = () => request(logged.url);
        const requestId = `log-test-${Date.now()}`;
        const bearer = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsb2ctdGVzdCJ9.c2lnbmF0dXJlLW5vdC1zZWNyZXQtYnV0LWxvbmc';

        const issued = await api()
          .post('/2fa/secretkey')
          .set('X-Request-Id', requestId)
          .send({ account: 'log-test-account', issuer: 'LogIssuer' })
          .expect(200);
        const { secretKey, otpauthUrl } = issued.body as { secretKey: string; otpauthUrl: string };

        await awaitFreshStep();
        // 8 digits (TOTP_DIGITS=8): long enough that a timestamp cannot contain one by chance.
        const code = oathtoolTotp(secretKey, { digits: 8 });
        await api().post('/2fa/code:verify').send({ secretKey, code }).expect(200, { result: 'success' });
        await api().post('/2fa/code%3Averify').send({ secretKey, code: '0000000x' }).expect(400);
        await api().post('/verify/token').send({ secret: secretKey, token: code, digits: 8 }).expect(200);
        const generated = await api().post('/generate/token').send({ secret: secretKey, digits: 8 }).expect(200);
        const badSecret = `${secretKey.slice(0, 20)} ${secretKey.slice(20)}`;
        await api().post('/verify/token').send({ secret: badSecret, token: code }).expect(400);
        const fresh = await api().get('/generate/secret').query({ encoding: 'hex', length: 32 }).expect(200);
        await api().get('/generate/secret').query({ secret: secretKey }).expect(400);
        await api().get('/audit').set('Authorization', `Bearer ${bearer}`).expect(401);

        // "request completed" is written after the response is sent: wait for all nine.
        const completed = () =>
          logs!
            .text()
            .split('\n')
            .filter((line) => line.includes('request completed'));
        for (let tries = 0; tries < 50 && completed().length < 9; tries++) await sleep(20);
        const text = logs!.text();

        expect(completed().length).toBeGreaterThanOrEqual(9);
        // Logs outside a request (the start-up) are captured too.
        expect(text).toContain('Nest application successfully started');
        expect(text).toContain(requestId);
        expect(text).toContain('/2fa/secretkey');
        for (const forbidden of [
          secretKey,
          secretKey.slice(0, 16),
          secretKey.toLowerCase(),
          otpauthUrl,
          encodeURIComponent(otpauthUrl),
          'otpauth://',
          code,
          generated.body.token,
          fresh.body.secret,
          bearer,
          'log-test-account',
        ]) {
          expect(text).not.toContain(forbidden);
        }
      });
    });
  },
);
