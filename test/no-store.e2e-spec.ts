import request, { Response } from 'supertest';
import { expectStatus } from './helpers/http';
import { AGENT, Kind, PARTNER } from './helpers/kinds';
import { oathtoolTotp, wrongCode } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';
import { mintToken } from './helpers/tokens';

/**
 * `Cache-Control: no-store` on every answer that carries a secret, a code, an otpauth URI or a session
 * id (issue 10, item 7), and on every error answer. The walk below calls each such route, aliases
 * included; the OpenAPI document says which routes answer such a field, so a new one cannot be missed.
 */

jest.setTimeout(60_000);

const TENANT = 'no-store';
/** Response fields that hold a secret, a code, an otpauth URI or a session id. */
const SENSITIVE_FIELDS = [
  'secretKey',
  'otpauthUrl',
  'qrcodeUrl',
  'twoFactorUri',
  'secret',
  'token',
  'code',
  'codes',
  'sessionId',
  'public_id',
];

const KINDS: { spec: Kind; prefixes: string[]; loginPaths: string[] }[] = [
  { spec: PARTNER, prefixes: [PARTNER.prefix, '/partnerglobal/2faConfig'], loginPaths: [PARTNER.loginPath] },
  {
    spec: AGENT,
    prefixes: [AGENT.prefix, '/global/2faConfig'],
    loginPaths: [AGENT.loginPath, '/global/2fa:verify'],
  },
];

interface OpenApiSchema {
  $ref?: string;
  type?: string;
  items?: OpenApiSchema;
  properties?: Record<string, OpenApiSchema>;
}
interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: OpenApiSchema }> }> }>
  >;
  components: { schemas: Record<string, OpenApiSchema> };
}

/** `METHOD /path` of every operation whose 2xx body has a sensitive field at its top level (or its items'). */
function routesAnsweringSensitiveFields(document: OpenApiDocument): string[] {
  const resolve = (schema: OpenApiSchema): OpenApiSchema =>
    schema.$ref ? document.components.schemas[schema.$ref.split('/').pop()!] : schema;
  const routes: string[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const schemas = Object.entries(operation.responses)
        .filter(([status]) => status.startsWith('2'))
        .flatMap(([, response]) => Object.values(response.content ?? {}).map((content) => resolve(content.schema)));
      const fields = schemas.flatMap((schema) =>
        Object.keys((schema.type === 'array' && schema.items ? resolve(schema.items) : schema).properties ?? {}),
      );
      if (fields.some((field) => SENSITIVE_FIELDS.includes(field))) routes.push(`${method.toUpperCase()} ${path}`);
    }
  }
  return routes.sort();
}

describe.each(testDatabases())('Cache-Control: no-store on $name', (database) => {
  const running = withApp(database, TOTP_SETTINGS);
  const http = () => request(running().url);
  const bearer = async (scope: string, claims: { sub?: string; kind?: 'partner' | 'agent' } = {}) =>
    `Bearer ${await mintToken({ tenant: TENANT, sub: claims.sub ?? `svc-${scope}`, scope, kind: claims.kind })}`;

  /** Every answer checked, by the route template it was sent to. */
  const checked = new Set<string>();
  const expectNoStore = (route: string, res: Response, status: number): void => {
    expectStatus(res, status);
    expect({ route, cacheControl: res.headers['cache-control'] }).toEqual({ route, cacheControl: 'no-store' });
    checked.add(route);
  };

  it('sends no-store on every answer with a secret, code, otpauth URI or session id', async () => {
    for (const { spec, prefixes, loginPaths } of KINDS) {
      const admin = await bearer(spec.adminScope);
      const login = await bearer(spec.loginScope);
      for (const prefix of prefixes) {
        const userId = `${spec.kind}-${prefixes.indexOf(prefix)}`;
        const created = await http()
          .post(prefix)
          .set('Authorization', admin)
          .send({ [spec.idField]: userId });
        expectNoStore(`POST ${prefix}`, created, 200);
        const id = created.body.id as string;
        expectNoStore(`GET ${prefix}/{id}`, await http().get(`${prefix}/${id}`).set('Authorization', admin), 200);
        const rotated = await http().put(`${prefix}/${id}`).set('Authorization', admin).send({ rotateSecret: true });
        expectNoStore(`PUT ${prefix}/{id}`, rotated, 200);
        const secret = rotated.body.secretKey as string;
        for (const path of loginPaths) {
          const body = { [spec.idField]: userId, code: wrongCode(secret) };
          expectNoStore(`POST ${path} (fail)`, await http().post(path).set('Authorization', login).send(body), 200);
        }
        const success = await http()
          .post(loginPaths[0])
          .set('Authorization', login)
          .send({ [spec.idField]: userId, code: oathtoolTotp(secret) });
        expectNoStore(`POST ${loginPaths[0]}`, success, 200);
        expect(success.body.result).toBe('success');
        const backupCodes = await http().post(`${prefix}/${id}/backupCodes`).set('Authorization', admin);
        expectNoStore(`POST ${prefix}/{id}/backupCodes`, backupCodes, 200);
        // The backup code logs in on every path of the kind (aliases included).
        for (const [index, path] of loginPaths.entries()) {
          const body = { [spec.idField]: userId, code: backupCodes.body.codes[index] };
          const res = await http().post(path).set('Authorization', login).send(body);
          expectNoStore(`POST ${path}`, res, 200);
          expect(res.body).toMatchObject({ result: 'success', method: 'backup' });
        }
      }
    }

    const sessions = await bearer('sessions:admin');
    const created = await http()
      .post('/TwoFactorSession/')
      .set('Authorization', sessions)
      .send({ user_id: 'u1', bool: true });
    expectNoStore('POST /TwoFactorSession', created, 201);
    expectNoStore('GET /TwoFactorSession', await http().get('/TwoFactorSession/').set('Authorization', sessions), 200);
    const session = await http().get(`/TwoFactorSession/${created.body.public_id}`).set('Authorization', sessions);
    expectNoStore('GET /TwoFactorSession/{public_id}', session, 200);

    const user = await bearer('user', { sub: 'self-service', kind: 'partner' });
    const generated = await http()
      .put('/users/2fa/generate-key')
      .set('Authorization', user)
      .send({ organisationId: TENANT });
    expectNoStore('PUT /users/2fa/generate-key', generated, 200);
    const selfSecret = new URL(generated.body.twoFactorUri as string).searchParams.get('secret')!;
    const activated = await http()
      .post(PARTNER.loginPath)
      .set('Authorization', await bearer(PARTNER.loginScope))
      .send({ partneruserid: 'self-service', code: oathtoolTotp(selfSecret) });
    expect(activated.body.result).toBe('success');
    const reset = await http()
      .put('/users/2fa/reset')
      .set('Authorization', await bearer('users:reset', { sub: 'self-service', kind: 'partner' }))
      .send({
        targetUserId: 'partner-0',
        callerCode: oathtoolTotp(selfSecret, { at: Math.floor(Date.now() / 1000) + 30 }),
        organisationId: TENANT,
      });
    expectNoStore('PUT /users/2fa/reset', reset, 200);

    expectNoStore('POST /2fa/secretkey', await http().post('/2fa/secretkey').send({ account: 'alice' }), 200);
    expectNoStore('POST /2fa/codes', await http().post('/2fa/codes'), 200);
    expectNoStore('POST /2fa/code', await http().post('/2fa/code'), 200);
    expectNoStore('GET /generate/secret', await http().get('/generate/secret'), 200);
    const token = await http().post('/generate/token').send({ secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' });
    expectNoStore('POST /generate/token', token, 200);

    // A public destination that no event reaches (resets only, and the one above came before it).
    const subscribed = await http()
      .post('/webhooks')
      .set('Authorization', await bearer('webhooks:admin'))
      .send({ url: 'https://93.184.216.34/no-store', events: ['reset'] });
    expectNoStore('POST /webhooks', subscribed, 201);

    // Every route the API document says answers such a field was walked above.
    const document = expectStatus(await http().get('/docs-json'), 200).body as OpenApiDocument;
    const walked = new Set([...checked].map((route) => route.replace(' (fail)', '').replace(/\/$/, '')));
    const documented = routesAnsweringSensitiveFields(document).map((route) => route.replace(/\/$/, ''));
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.filter((route) => !walked.has(route))).toEqual([]);
  });

  it('sends no-store on error answers of those routes too', async () => {
    const admin = await bearer(PARTNER.adminScope);
    for (const [route, res, status] of [
      ['POST /partnerglobalapi/2faConfig', await http().post(PARTNER.prefix).set('Authorization', admin).send({}), 400],
      [
        'GET /globalapi/2faConfig/{id}',
        await http()
          .get(`${AGENT.prefix}/00000000-0000-4000-8000-000000000000`)
          .set('Authorization', await bearer(AGENT.adminScope)),
        404,
      ],
      ['POST /loginapi/2fa:verify', await http().post(AGENT.loginPath).send({ agentid: 'x', code: '123456' }), 401],
      [
        'GET /TwoFactorSession/{public_id}',
        await http()
          .get('/TwoFactorSession/nope')
          .set('Authorization', await bearer('sessions:admin')),
        404,
      ],
      ['POST /2fa/secretkey', await http().post('/2fa/secretkey').send({ account: 'a:b' }), 400],
    ] as const) {
      expectNoStore(route, res, status);
    }
  });
});
