import request, { Response } from 'supertest';
import { expectStatus } from './helpers/http';
import { AGENT, Kind, PARTNER } from './helpers/kinds';
import { awaitFreshStep, oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';
import {
  expiredToken,
  mintToken,
  tokenWithOtherSecret,
  tokenWithoutExp,
  tokenWithoutTenant,
  unsignedToken,
} from './helpers/tokens';

/** Authentication (bearer JWT), scopes, and the tenant partition of the per-user 2FA APIs. */

// testTimeout in jest.config.js is a global option, ignored inside `projects`.
jest.setTimeout(30_000);

const SETTINGS = {
  ...TOTP_SETTINGS,
  TOTP_ISSUER: 'twofa',
  LOCKOUT_MAX_FAILURES: '5',
  LOCKOUT_SECONDS: '900',
};

function expectError(res: Response, status: number, errorCode: string): void {
  expectStatus(res, status);
  expect(res.body).toEqual({ responseStatus: expect.objectContaining({ errorCode, message: expect.any(String) }) });
}

describe.each(testDatabases())('authentication and tenancy on $name', (database) => {
  const running = withApp(database, SETTINGS);
  const http = () => request(running().url);

  const bearer = async (tenant: string, scope: string) =>
    `Bearer ${await mintToken({ tenant, sub: `svc-${tenant}`, scope })}`;

  /** Routes of one kind, called with a token of one tenant. */
  const as = (tenant: string, spec: Kind) => ({
    create: async (userId: string) =>
      http()
        .post(spec.prefix)
        .set('Authorization', await bearer(tenant, spec.adminScope))
        .send({ [spec.idField]: userId }),
    get: async (id: string) =>
      http()
        .get(`${spec.prefix}/${id}`)
        .set('Authorization', await bearer(tenant, spec.adminScope)),
    list: async (query: Record<string, string> = {}) =>
      http()
        .get(spec.prefix)
        .query(query)
        .set('Authorization', await bearer(tenant, spec.adminScope)),
    update: async (id: string, body: object) =>
      http()
        .put(`${spec.prefix}/${id}`)
        .set('Authorization', await bearer(tenant, spec.adminScope))
        .send(body),
    remove: async (id: string) =>
      http()
        .delete(`${spec.prefix}/${id}`)
        .set('Authorization', await bearer(tenant, spec.adminScope)),
    backupCodes: async (id: string) =>
      http()
        .post(`${spec.prefix}/${id}/backupCodes`)
        .set('Authorization', await bearer(tenant, spec.adminScope)),
    login: async (userId: string, code: string) =>
      expectStatus(
        await http()
          .post(spec.loginPath)
          .set('Authorization', await bearer(tenant, spec.loginScope))
          .send({ [spec.idField]: userId, code }),
        200,
      ).body as Record<string, unknown>,
  });

  describe('authentication', () => {
    const claims = { tenant: 'acme', sub: 'admin-1', scope: 'partner:admin partner:login agent:admin agent:login' };
    /** An admin read, an admin write and a login, each with a given Authorization header. */
    const routes: [string, (authorization?: string) => request.Test][] = [
      ['GET partner list', (auth) => withAuth(http().get(PARTNER.prefix), auth)],
      ['POST agent create', (auth) => withAuth(http().post(AGENT.prefix), auth).send({ agentid: 'nobody' })],
      [
        'POST partner login',
        (auth) => withAuth(http().post(PARTNER.loginPath), auth).send({ partneruserid: 'nobody', code: '123456' }),
      ],
    ];
    function withAuth(req: request.Test, authorization?: string): request.Test {
      return authorization === undefined ? req : req.set('Authorization', authorization);
    }

    const badHeaders: [string, () => string | undefined | Promise<string>][] = [
      ['no Authorization header', () => undefined],
      ['a Basic credential', () => 'Basic x'],
      ['Bearer without a token', () => 'Bearer '],
      ['a token that is not a JWT', () => 'Bearer not-a-jwt'],
      ['a token signed with another secret', async () => `Bearer ${await tokenWithOtherSecret(claims)}`],
      ['an expired token', async () => `Bearer ${await expiredToken(claims)}`],
      ['an alg:none token', () => `Bearer ${unsignedToken(claims)}`],
      ['a token without exp', async () => `Bearer ${await tokenWithoutExp(claims)}`],
      ['a token without tenant', async () => `Bearer ${await tokenWithoutTenant(claims)}`],
      ['a tampered payload', async () => `Bearer ${await tamperedToken()}`],
    ];

    /** A valid token whose payload was swapped for another tenant's, keeping the signature. */
    async function tamperedToken(): Promise<string> {
      const [header, , signature] = (await mintToken(claims)).split('.');
      const payload = JSON.parse(
        Buffer.from((await mintToken({ ...claims, tenant: 'evil' })).split('.')[1], 'base64url').toString(),
      );
      return [header, Buffer.from(JSON.stringify(payload)).toString('base64url'), signature].join('.');
    }

    it('accepts the well-formed token the refusals below are variants of', async () => {
      const auth = `Bearer ${await mintToken(claims)}`;
      expectStatus(await routes[0][1](auth), 200);
      expect(expectStatus(await routes[2][1](auth), 200).body).toEqual({ result: 'fail' });
    });

    it.each(badHeaders)('answers 401 Unauthorized to %s', async (_label, header) => {
      const authorization = await header();
      for (const [name, call] of routes) {
        const res = await call(authorization);
        expect({ route: name, status: res.status }).toEqual({ route: name, status: 401 });
        expectError(res, 401, 'Unauthorized');
      }
      // Nothing was created by the refused create.
      const list = await http()
        .get(AGENT.prefix)
        .set('Authorization', await bearer('acme', 'agent:admin'));
      expect(expectStatus(list, 200).body.total).toBe(0);
    });

    it('the alg:none token really is unsigned and otherwise valid (so the 401 is about the algorithm)', () => {
      const [header, payload, signature] = unsignedToken(claims).split('.');
      expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'none', typ: 'JWT' });
      expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).toMatchObject({
        tenant: 'acme',
        sub: 'admin-1',
        exp: expect.any(Number),
      });
      expect(signature).toBe('');
    });
  });

  describe('scopes', () => {
    const call = async (scope: string, method: 'get' | 'post', path: string, body?: object) => {
      const token = await mintToken({ tenant: 'acme', sub: 'caller', scope });
      const req = http()[method](path).set('Authorization', `Bearer ${token}`);
      return body ? req.send(body) : req;
    };

    it('answers 403 Forbidden to a valid token without the route scope', async () => {
      expectError(await call('partner:login', 'get', PARTNER.prefix), 403, 'Forbidden');
      expectError(await call('partner:login', 'post', PARTNER.prefix, { partneruserid: 'x' }), 403, 'Forbidden');
      expectError(await call('partner:admin', 'get', AGENT.prefix), 403, 'Forbidden');
      expectError(await call('partner:admin', 'get', '/global/2faConfig'), 403, 'Forbidden');
      expectError(await call('partner:admin', 'post', AGENT.prefix, { agentid: 'x' }), 403, 'Forbidden');
      expectError(
        await call('partner:login', 'post', AGENT.loginPath, { agentid: 'x', code: '123456' }),
        403,
        'Forbidden',
      );
      expectError(
        await call('partner:admin', 'post', PARTNER.loginPath, { partneruserid: 'x', code: '123456' }),
        403,
        'Forbidden',
      );
      expectError(await call('agent:admin', 'get', PARTNER.prefix), 403, 'Forbidden');
      expectError(await call('', 'get', PARTNER.prefix), 403, 'Forbidden');
      // A scope name is matched whole, not as a prefix or substring.
      expectError(await call('partner:adminx partner', 'get', PARTNER.prefix), 403, 'Forbidden');
      // The refused creates stored nothing.
      expect(expectStatus(await call('partner:admin', 'get', PARTNER.prefix), 200).body.total).toBe(0);
      expect(expectStatus(await call('agent:admin', 'get', AGENT.prefix), 200).body.total).toBe(0);
    });

    it('reads scope as a space-separated list', async () => {
      expectStatus(await call('partner:login agent:login partner:admin', 'get', PARTNER.prefix), 200);
      expectStatus(await call('sessions:admin agent:admin', 'get', AGENT.prefix), 200);
    });
  });

  describe('tenant isolation', () => {
    it('another tenant sees none of it: 404 on every id route, absent from its list, and login fails', async () => {
      for (const spec of [PARTNER, AGENT]) {
        const a = as('tenant-a', spec);
        const b = as('tenant-b', spec);
        const userId = `shared-${spec.kind}-user`;
        await awaitFreshStep();
        const created = expectStatus(await a.create(userId), 200).body;
        const at = Math.floor(Date.now() / 1000);
        expect(await a.login(userId, oathtoolTotp(created.secretKey, { at }))).toMatchObject({ result: 'success' });
        const codes = expectStatus(await a.backupCodes(created.id), 200).body.codes as string[];

        expectError(await b.get(created.id), 404, 'NotFound');
        expectError(await b.update(created.id, { enabled: false }), 404, 'NotFound');
        expectError(await b.update(created.id, { rotateSecret: true }), 404, 'NotFound');
        expectError(await b.backupCodes(created.id), 404, 'NotFound');
        expectError(await b.remove(created.id), 404, 'NotFound');
        expect(expectStatus(await b.list(), 200).body).toMatchObject({ total: 0, items: [] });
        expect(expectStatus(await b.list({ [spec.idField]: userId }), 200).body.total).toBe(0);
        // A's valid next-step code and an unused backup code mean nothing in B.
        expect(await b.login(userId, oathtoolTotp(created.secretKey, { at: at + 30 }))).toEqual({ result: 'fail' });
        expect(await b.login(userId, codes[0])).toEqual({ result: 'fail' });

        // None of B's attempts touched A's config: still active, same secret, all codes, not locked.
        const afterwards = expectStatus(await a.get(created.id), 200).body;
        expect(afterwards).toMatchObject({ status: 'active', backupCodesRemaining: 10, lockedUntil: null });
        expect(expectStatus(await a.list(), 200).body.items.map((item: { id: string }) => item.id)).toContain(
          created.id,
        );
        expect(await a.login(userId, codes[0])).toMatchObject({ result: 'success', method: 'backup' });
        expect(await a.login(userId, oathtoolTotp(created.secretKey, { at: at + 30 }))).toMatchObject({
          result: 'success',
          method: 'totp',
        });
      }
    });

    it('the same user id may be enrolled separately per tenant and as partner vs agent', async () => {
      const userId = 'same-id-everywhere';
      const enrolments = [
        { tenant: 'tenant-x', spec: PARTNER },
        { tenant: 'tenant-y', spec: PARTNER },
        { tenant: 'tenant-x', spec: AGENT },
      ];
      await awaitFreshStep();
      const configs = [];
      for (const { tenant, spec } of enrolments) {
        const body = expectStatus(await as(tenant, spec).create(userId), 200).body;
        expect(body).toMatchObject({ [spec.idField]: userId, status: 'pending' });
        configs.push({ tenant, spec, id: body.id as string, secret: body.secretKey as string });
      }
      expect(new Set(configs.map((config) => config.id)).size).toBe(3);
      expect(new Set(configs.map((config) => config.secret)).size).toBe(3);
      // A create repeated while pending answers the same tenant's own config, never another tenant's.
      for (const [index, { tenant, spec }] of enrolments.entries()) {
        const again = expectStatus(await as(tenant, spec).create(userId), 200).body;
        expect({ id: again.id, secret: again.secretKey }).toEqual({
          id: configs[index].id,
          secret: configs[index].secret,
        });
      }

      // Each config answers only to its own secret.
      for (const [index, config] of configs.entries()) {
        const other = configs[(index + 1) % configs.length];
        const api = as(config.tenant, config.spec);
        expect(await api.login(userId, oathtoolTotp(other.secret))).toEqual({ result: 'fail' });
        expect(await api.login(userId, oathtoolTotp(config.secret))).toMatchObject({ result: 'success' });
        expect(expectStatus(await api.get(config.id), 200).body.status).toBe('active');
      }
      // Deleting one leaves the others.
      expectStatus(await as('tenant-x', PARTNER).remove(configs[0].id), 204);
      expectStatus(await as('tenant-y', PARTNER).get(configs[1].id), 200);
      expectStatus(await as('tenant-x', AGENT).get(configs[2].id), 200);
      // An agent id is not a partner user id: the agent's config is not found under the partner prefix.
      expectError(await as('tenant-x', PARTNER).get(configs[2].id), 404, 'NotFound');
    });
  });
});
