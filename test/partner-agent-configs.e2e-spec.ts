import request, { Response } from 'supertest';
import { expectStatus, fieldNames } from './helpers/http';
import { AGENT, PARTNER } from './helpers/kinds';
import { awaitFreshStep, oathtoolTotp, wrongCode } from './helpers/oathtool';
import { decodeQrDataUrl } from './helpers/qr';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { rawDataSource, RunningApp, startApp, testDatabases } from './helpers/test-app';
import { nowSeconds } from './helpers/time';
import { mintToken } from './helpers/tokens';

/**
 * The per-user 2FA admin API and login verification, for partner users and agents alike: one spec
 * per kind, every rule exercised through HTTP with codes from oathtool.
 */

/** Each kind with its alias admin prefix and every path its login answers on. */
const KINDS = [
  {
    ...PARTNER,
    aliasPrefix: '/partnerglobal/2faConfig',
    loginPaths: [PARTNER.loginPath, '/partnerloginapi/2fa%3Averify'],
  },
  {
    ...AGENT,
    aliasPrefix: '/global/2faConfig',
    loginPaths: [AGENT.loginPath, '/global/2fa:verify', '/loginapi/2fa%3Averify'],
  },
];
type KindSpec = (typeof KINDS)[number];

const ISSUER = 'TwofaE2E';
/** Every setting these suites depend on (startApp writes process.env, so nothing may leak between apps). */
const SETTINGS = {
  ...TOTP_SETTINGS,
  TOTP_ISSUER: ISSUER,
  LOCKOUT_MAX_FAILURES: '3',
  LOCKOUT_SECONDS: '60',
};

// testTimeout in jest.config.js is a global option, ignored inside `projects`.
jest.setTimeout(30_000);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BACKUP_CODE = /^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function expectError(res: Response, status: number, errorCode: string, fieldName?: string): void {
  expectStatus(res, status);
  expect(res.body.responseStatus.errorCode).toBe(errorCode);
  if (fieldName !== undefined) {
    expect(fieldNames(res)).toContain(fieldName);
  }
}

let userSeq = 0;
const newUserId = (label: string) => `${label}-${process.pid}-${++userSeq}`;

/** The routes of one kind in one app, called with tokens of one tenant. */
function apiOf(running: () => RunningApp, spec: KindSpec, tenant = 'acme') {
  const tokens = new Map<string, Promise<string>>();
  const bearer = (scope: string) => {
    if (!tokens.has(scope)) tokens.set(scope, mintToken({ tenant, sub: `svc-${scope}`, scope }));
    return tokens.get(scope)!.then((token) => `Bearer ${token}`);
  };
  const http = () => request(running().url);
  const admin = async (method: 'get' | 'post' | 'put' | 'delete', path: string, body?: object) => {
    const authorization = await bearer(spec.adminScope);
    const client = http();
    const req = client[method](path).set('Authorization', authorization);
    return body === undefined ? req : req.send(body);
  };

  const api = {
    create: (body: object, prefix: string = spec.prefix) => admin('post', prefix, body),
    get: (id: string) => admin('get', `${spec.prefix}/${id}`),
    list: async (query: Record<string, string | number>) =>
      http()
        .get(spec.prefix)
        .query(query)
        .set('Authorization', await bearer(spec.adminScope)),
    update: (id: string, body: object) => admin('put', `${spec.prefix}/${id}`, body),
    remove: (id: string) => admin('delete', `${spec.prefix}/${id}`),
    backupCodes: (id: string) => admin('post', `${spec.prefix}/${id}/backupCodes`),
    async login(userId: string, code: string, path = spec.loginPaths[0]) {
      return http()
        .post(path)
        .set('Authorization', await bearer(spec.loginScope))
        .send({ [spec.idField]: userId, code });
    },
    /** Logs in and returns the 200 body. */
    async verify(userId: string, code: string): Promise<Record<string, unknown>> {
      return expectStatus(await api.login(userId, code), 200).body as Record<string, unknown>;
    },
    /** A new pending config: its id and secret. */
    async enrol(userId = newUserId(spec.kind)) {
      const res = expectStatus(await api.create({ [spec.idField]: userId }), 200);
      return { userId, id: res.body.id as string, secret: res.body.secretKey as string };
    },
    /**
     * A config activated by a first login with the current code (the step of `at` is then spent).
     * No wait for a fresh step: with the ±1 window, `at`'s code and the next step's (`at + 30`) stay
     * valid for the whole of a test that takes less than 30 s, whichever step the server is in.
     */
    async enrolActive(userId?: string) {
      const config = await api.enrol(userId);
      const at = nowSeconds();
      expect(await api.verify(config.userId, oathtoolTotp(config.secret, { at }))).toMatchObject({
        result: 'success',
      });
      return { ...config, at };
    },
  };
  return api;
}

describe.each(testDatabases())('partner and agent 2FA configs on $name', (database) => {
  const running = withApp(database, SETTINGS);

  describe.each(KINDS)('$kind ($prefix)', (spec) => {
    const api = apiOf(running, spec);

    describe('create', () => {
      it('enrols a pending config with its secret, otpauth URL and a QR code of exactly that URL', async () => {
        const userId = newUserId('create');
        const res = expectStatus(await api.create({ [spec.idField]: userId }), 200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body).toMatchObject({ [spec.idField]: userId, status: 'pending' });
        expect(res.body.id).toMatch(UUID);
        expect(res.body.secretKey).toMatch(/^[A-Z2-7]{32}$/);
        const otpauth = new URL(res.body.otpauthUrl);
        expect(otpauth.protocol).toBe('otpauth:');
        expect(otpauth.host).toBe('totp');
        expect(decodeURIComponent(otpauth.pathname)).toBe(`/${ISSUER}:${userId}`);
        expect(res.body.otpauthUrl).toContain(`secret=${res.body.secretKey}`);
        expect(otpauth.searchParams.get('secret')).toBe(res.body.secretKey);
        expect(otpauth.searchParams.get('issuer')).toBe(ISSUER);
        expect(otpauth.searchParams.get('algorithm')).toBe('SHA1');
        expect(otpauth.searchParams.get('digits')).toBe('6');
        expect(otpauth.searchParams.get('period')).toBe('30');
        expect(decodeQrDataUrl(res.body.qrcodeUrl)).toBe(res.body.otpauthUrl);
      });

      it('enrols 16 users at once, each with a config and a QR image of its own', async () => {
        // The images come back from the rendering threads together; on SQLite the transactions that
        // follow share one connection and must not start in the same macrotask.
        const userIds = Array.from({ length: 16 }, () => newUserId('at-once'));
        const created = await Promise.all(userIds.map((userId) => api.create({ [spec.idField]: userId })));
        for (const [i, res] of created.entries()) {
          expect(expectStatus(res, 200).body[spec.idField]).toBe(userIds[i]);
          expect(decodeQrDataUrl(res.body.qrcodeUrl)).toBe(res.body.otpauthUrl);
        }
        expect(new Set(created.map((res) => String(res.body.id))).size).toBe(16);
      });

      it('answers a create repeated while the config is pending with that same config, so a retry is safe', async () => {
        const first = await api.enrol();
        for (const prefix of [spec.prefix, spec.aliasPrefix]) {
          const again = expectStatus(await api.create({ [spec.idField]: first.userId }, prefix), 200);
          expect(again.body).toMatchObject({ id: first.id, secretKey: first.secret, status: 'pending' });
        }
        expect(expectStatus(await api.list({ [spec.idField]: first.userId }), 200).body.total).toBe(1);
      });

      it('refuses a second config for the same user with 409 Conflict once active, or for another account', async () => {
        const active = await api.enrolActive();
        expectError(await api.create({ [spec.idField]: active.userId }), 409, 'Conflict');
        expectError(await api.create({ [spec.idField]: active.userId }, spec.aliasPrefix), 409, 'Conflict');
        const pending = await api.enrol();
        expectError(
          await api.create({ [spec.idField]: pending.userId, account: 'someone-else@example.com' }),
          409,
          'Conflict',
        );
      });

      it('works through the alias prefix, making the same resource', async () => {
        const userId = newUserId('alias');
        const res = expectStatus(await api.create({ [spec.idField]: userId }, spec.aliasPrefix), 200);
        expect(res.body).toMatchObject({ [spec.idField]: userId, status: 'pending' });
        const fetched = expectStatus(await api.get(res.body.id), 200);
        expect(fetched.body).toMatchObject({ id: res.body.id, [spec.idField]: userId, secretKey: res.body.secretKey });
      });

      if (spec.kind === 'agent') {
        it('accepts partneruserid as an alias of agentid', async () => {
          const userId = newUserId('agent-alias');
          const res = expectStatus(await api.create({ partneruserid: userId }), 200);
          expect(res.body).toMatchObject({ agentid: userId, status: 'pending' });
          expect(res.body).not.toHaveProperty('partneruserid');
          const listed = expectStatus(await api.list({ agentid: userId }), 200);
          expect(listed.body.items.map((item: { id: string }) => item.id)).toEqual([res.body.id]);
          expect(expectStatus(await api.create({ agentid: userId }), 200).body.id).toBe(res.body.id);
        });
      }

      it('rejects an unknown field naming it, and stores nothing', async () => {
        const userId = newUserId('unknown-field');
        const res = await api.create({ [spec.idField]: userId, favouriteColour: 'red' });
        expectError(res, 400, 'ValidationError', 'favouriteColour');
        expect(expectStatus(await api.list({ [spec.idField]: userId }), 200).body.total).toBe(0);
      });

      it('rejects a missing user id naming the id field', async () => {
        expectError(await api.create({}), 400, 'ValidationError', spec.idField);
        expectError(await api.create({ account: 'someone' }), 400, 'ValidationError', spec.idField);
      });
    });

    describe('get', () => {
      it('shows the enrolment only while pending; the first login activates and hides the secret', async () => {
        const created = expectStatus(await api.create({ [spec.idField]: newUserId('get') }), 200).body;

        const pending = expectStatus(await api.get(created.id), 200);
        expect(pending.headers['cache-control']).toBe('no-store');
        expect(pending.body).toMatchObject({
          id: created.id,
          [spec.idField]: created[spec.idField],
          status: 'pending',
          activatedAt: null,
          lockedUntil: null,
          backupCodesRemaining: 0,
          secretKey: created.secretKey,
          otpauthUrl: created.otpauthUrl,
        });
        expect(pending.body.createdAt).toMatch(ISO_TIME);
        expect(decodeQrDataUrl(pending.body.qrcodeUrl)).toBe(created.otpauthUrl);

        const before = Date.now();
        expect(await api.verify(created[spec.idField], oathtoolTotp(created.secretKey))).toMatchObject({
          result: 'success',
          method: 'totp',
        });

        const active = expectStatus(await api.get(created.id), 200).body;
        expect(active).toMatchObject({ id: created.id, status: 'active', lockedUntil: null });
        expect(active.activatedAt).toMatch(ISO_TIME);
        expect(Date.parse(active.activatedAt)).toBeGreaterThanOrEqual(before - 1000);
        expect(Date.parse(active.activatedAt)).toBeLessThanOrEqual(Date.now() + 1000);
        for (const field of ['secretKey', 'qrcodeUrl', 'otpauthUrl']) expect(active).not.toHaveProperty(field);
      });

      it('answers 400 naming id for an id that is not a UUID, and 404 for an unknown UUID on every id route', async () => {
        expectError(await api.get('not-a-uuid'), 400, 'ValidationError', 'id');
        expectError(await api.update('12345', { unlock: true }), 400, 'ValidationError', 'id');
        expectError(await api.remove('x'), 400, 'ValidationError', 'id');
        const unknown = '00000000-0000-4000-8000-000000000000';
        expectError(await api.get(unknown), 404, 'NotFound');
        expectError(await api.update(unknown, { unlock: true }), 404, 'NotFound');
        expectError(await api.remove(unknown), 404, 'NotFound');
        expectError(await api.backupCodes(unknown), 404, 'NotFound');
      });
    });

    describe('list', () => {
      // A tenant of its own, so the totals are exactly what this test made.
      const tenantApi = apiOf(running, spec, `list-${spec.kind}`);

      it('filters by user id and status and pages with a total', async () => {
        const ids: string[] = [];
        const users = [newUserId('list'), newUserId('list'), newUserId('list')];
        for (const userId of users) ids.push((await tenantApi.enrol(userId)).id);
        const secret = expectStatus(await tenantApi.get(ids[1]), 200).body.secretKey as string;
        expect(await tenantApi.verify(users[1], oathtoolTotp(secret))).toMatchObject({ result: 'success' });

        const all = expectStatus(await tenantApi.list({}), 200).body;
        expect(all).toMatchObject({ total: 3, page: 1, perPage: 20 });
        expect(all.items.map((item: { id: string }) => item.id).sort()).toEqual([...ids].sort());
        for (const item of all.items) {
          expect(Object.keys(item)).not.toEqual(expect.arrayContaining(['secretKey']));
          expect(item).not.toHaveProperty('qrcodeUrl');
          expect(item).not.toHaveProperty('otpauthUrl');
        }

        const byUser = expectStatus(await tenantApi.list({ [spec.idField]: users[1] }), 200).body;
        expect(byUser.total).toBe(1);
        expect(byUser.items).toEqual([
          expect.objectContaining({ id: ids[1], [spec.idField]: users[1], status: 'active' }),
        ]);

        const pending = expectStatus(await tenantApi.list({ status: 'pending' }), 200).body;
        expect(pending.total).toBe(2);
        expect(pending.items.map((item: { id: string }) => item.id).sort()).toEqual([ids[0], ids[2]].sort());
        const active = expectStatus(await tenantApi.list({ status: 'active' }), 200).body;
        expect(active.items.map((item: { id: string }) => item.id)).toEqual([ids[1]]);
        expect(expectStatus(await tenantApi.list({ status: 'disabled' }), 200).body).toMatchObject({
          total: 0,
          items: [],
        });

        const page1 = expectStatus(await tenantApi.list({ page: 1, perPage: 2 }), 200).body;
        const page2 = expectStatus(await tenantApi.list({ page: 2, perPage: 2 }), 200).body;
        const page3 = expectStatus(await tenantApi.list({ page: 3, perPage: 2 }), 200).body;
        expect(page1).toMatchObject({ total: 3, page: 1, perPage: 2 });
        expect(page2).toMatchObject({ total: 3, page: 2, perPage: 2 });
        expect(page1.items).toHaveLength(2);
        expect(page2.items).toHaveLength(1);
        expect(page3).toMatchObject({ total: 3, items: [] });
        const paged = [...page1.items, ...page2.items].map((item: { id: string }) => item.id);
        expect(paged.sort()).toEqual([...ids].sort());
      });

      it.each([['0'], ['101'], ['x'], ['1.5']])('rejects perPage=%s naming perPage', async (perPage) => {
        expectError(await tenantApi.list({ perPage }), 400, 'ValidationError', 'perPage');
      });

      it('rejects page=0 and an unknown status', async () => {
        expectError(await tenantApi.list({ page: 0 }), 400, 'ValidationError', 'page');
        expectError(await tenantApi.list({ status: 'locked' }), 400, 'ValidationError', 'status');
      });
    });

    describe('update', () => {
      it('rotateSecret gives a new pending secret: the old one stops working, the new one activates', async () => {
        const config = await api.enrolActive();
        const rotated = expectStatus(await api.update(config.id, { rotateSecret: true }), 200);
        expect(rotated.headers['cache-control']).toBe('no-store');
        expect(rotated.body).toMatchObject({ id: config.id, status: 'pending', activatedAt: null });
        expect(rotated.body.secretKey).toMatch(/^[A-Z2-7]{32}$/);
        expect(rotated.body.secretKey).not.toBe(config.secret);
        expect(rotated.body.otpauthUrl).toContain(`secret=${rotated.body.secretKey}`);
        expect(decodeQrDataUrl(rotated.body.qrcodeUrl)).toBe(rotated.body.otpauthUrl);
        expect(expectStatus(await api.get(config.id), 200).body.secretKey).toBe(rotated.body.secretKey);

        // A code of the old secret for a step not yet used: refused because the secret changed.
        expect(await api.verify(config.userId, oathtoolTotp(config.secret, { at: nowSeconds() + 30 }))).toEqual({
          result: 'fail',
        });
        // The user scans the new QR code and types what the app shows now.
        expect(await api.verify(config.userId, oathtoolTotp(rotated.body.secretKey))).toMatchObject({
          result: 'success',
          method: 'totp',
        });
        const after = expectStatus(await api.get(config.id), 200).body;
        expect(after.status).toBe('active');
        expect(after.activatedAt).toMatch(ISO_TIME);
        expect(after).not.toHaveProperty('secretKey');
      });

      it('enabled:false disables (a correct code fails), enabled:true brings it back to active', async () => {
        const config = await api.enrolActive();
        const disabled = expectStatus(await api.update(config.id, { enabled: false }), 200).body;
        expect(disabled).toMatchObject({ id: config.id, status: 'disabled' });
        expect(disabled).not.toHaveProperty('secretKey');
        const next = oathtoolTotp(config.secret, { at: config.at + 30 });
        expect(await api.verify(config.userId, next)).toEqual({ result: 'fail' });
        expect(
          expectStatus(await api.list({ [spec.idField]: config.userId, status: 'disabled' }), 200).body.total,
        ).toBe(1);

        const enabled = expectStatus(await api.update(config.id, { enabled: true }), 200).body;
        expect(enabled).toMatchObject({ id: config.id, status: 'active' });
        expect(enabled.activatedAt).toMatch(ISO_TIME);
        expect(await api.verify(config.userId, next)).toMatchObject({ result: 'success', method: 'totp' });
      });

      it('rejects rotateSecret:false, unlock:false and a non-boolean enabled, naming the field', async () => {
        const { id } = await api.enrol();
        expectError(await api.update(id, { rotateSecret: false }), 400, 'ValidationError', 'rotateSecret');
        expectError(await api.update(id, { unlock: false }), 400, 'ValidationError', 'unlock');
        expectError(await api.update(id, { enabled: 'no' }), 400, 'ValidationError', 'enabled');
        expectError(await api.update(id, { status: 'active' }), 400, 'ValidationError', 'status');
        expect(expectStatus(await api.get(id), 200).body.status).toBe('pending');
      });
    });

    describe('delete', () => {
      it('answers 204, the config is gone (404) and so are its backup codes', async () => {
        const config = await api.enrolActive();
        expectStatus(await api.backupCodes(config.id), 200);
        const codesOf = async () =>
          Number(
            (
              await rawDataSource(running()).query<{ n: number | string }[]>(
                'SELECT COUNT(*) AS n FROM backup_code WHERE config_id = ?',
                [config.id],
              )
            )[0].n,
          );
        expect(await codesOf()).toBe(10);

        const res = expectStatus(await api.remove(config.id), 204);
        expect(res.text).toBe('');
        expectError(await api.get(config.id), 404, 'NotFound');
        expectError(await api.remove(config.id), 404, 'NotFound');
        expect(await codesOf()).toBe(0);
        expect(await api.verify(config.userId, oathtoolTotp(config.secret, { at: config.at + 30 }))).toEqual({
          result: 'fail',
        });
        // The user can be enrolled again afresh.
        const again = expectStatus(await api.create({ [spec.idField]: config.userId }), 200).body;
        expect(again).toMatchObject({ status: 'pending', backupCodesRemaining: 0 });
        expect(again.id).not.toBe(config.id);
      });
    });

    describe('backup codes', () => {
      it('issues 10 distinct codes, each logs in once, in any case and without the dash; regeneration replaces them', async () => {
        const config = await api.enrolActive();
        const first = expectStatus(await api.backupCodes(config.id), 200);
        expect(first.headers['cache-control']).toBe('no-store');
        const codes = first.body.codes as string[];
        expect(codes).toHaveLength(10);
        for (const code of codes) expect(code).toMatch(BACKUP_CODE);
        expect(new Set(codes).size).toBe(10);
        expect(expectStatus(await api.get(config.id), 200).body.backupCodesRemaining).toBe(10);

        const login0 = await api.verify(config.userId, codes[0]);
        expect(login0).toEqual({ result: 'success', method: 'backup', sessionId: expect.any(String) });
        expect(await api.verify(config.userId, codes[0])).toEqual({ result: 'fail' });
        expect(expectStatus(await api.get(config.id), 200).body.backupCodesRemaining).toBe(9);

        expect(await api.verify(config.userId, codes[1].toLowerCase())).toMatchObject({
          result: 'success',
          method: 'backup',
        });
        expect(await api.verify(config.userId, codes[1])).toEqual({ result: 'fail' });
        expect(await api.verify(config.userId, codes[2].replace('-', ''))).toMatchObject({
          result: 'success',
          method: 'backup',
        });
        expect(await api.verify(config.userId, codes[2].replace('-', '').toLowerCase())).toEqual({ result: 'fail' });
        expect(expectStatus(await api.get(config.id), 200).body.backupCodesRemaining).toBe(7);

        const second = expectStatus(await api.backupCodes(config.id), 200).body.codes as string[];
        expect(second).toHaveLength(10);
        expect(second.filter((code) => codes.includes(code))).toEqual([]);
        expect(expectStatus(await api.get(config.id), 200).body.backupCodesRemaining).toBe(10);
        expect(await api.verify(config.userId, codes[3])).toEqual({ result: 'fail' });
        expect(await api.verify(config.userId, second[0])).toMatchObject({ result: 'success', method: 'backup' });
        expect(expectStatus(await api.get(config.id), 200).body.backupCodesRemaining).toBe(9);
      });
    });

    describe('login verification', () => {
      it('accepts a current code once; the same code and an older step then fail', async () => {
        await awaitFreshStep();
        const config = await api.enrol();
        const at = nowSeconds();
        const code = oathtoolTotp(config.secret, { at });
        const success = await api.verify(config.userId, code);
        expect(success).toEqual({ result: 'success', method: 'totp', sessionId: expect.any(String) });
        expect(await api.verify(config.userId, code)).toEqual({ result: 'fail' });
        expect(await api.verify(config.userId, oathtoolTotp(config.secret, { at: at - 30 }))).toEqual({
          result: 'fail',
        });
        // A newer step is still good: the user is not locked out by the refused replays.
        expect(await api.verify(config.userId, oathtoolTotp(config.secret, { at: at + 30 }))).toMatchObject({
          result: 'success',
        });
      });

      it('accepts a code at every login path of the kind (aliases and %3A)', async () => {
        for (const path of spec.loginPaths) {
          const config = await api.enrol();
          const res = expectStatus(await api.login(config.userId, oathtoolTotp(config.secret), path), 200);
          expect(res.body).toMatchObject({ result: 'success', method: 'totp' });
          expect(expectStatus(await api.get(config.id), 200).body.status).toBe('active');
        }
      });

      it('answers an unknown user exactly like a wrong code', async () => {
        const config = await api.enrolActive();
        const unknown = expectStatus(await api.login(newUserId('nobody'), '123456'), 200);
        const wrong = expectStatus(await api.login(config.userId, wrongCode(config.secret)), 200);
        expect(unknown.body).toEqual({ result: 'fail' });
        expect(wrong.body).toEqual(unknown.body);
      });

      it('rejects a malformed code with 400 naming code', async () => {
        const config = await api.enrol();
        for (const code of ['12ab', '12345', '1234567', '12345a78', '']) {
          expectError(await api.login(config.userId, code), 400, 'ValidationError', 'code');
        }
        expect(expectStatus(await api.get(config.id), 200).body.status).toBe('pending');
      });

      it('locks after LOCKOUT_MAX_FAILURES wrong codes: 429 with Retry-After even for a correct code, until unlocked', async () => {
        const config = await api.enrolActive();
        const codes = expectStatus(await api.backupCodes(config.id), 200).body.codes as string[];
        for (let i = 0; i < 3; i++)
          expect(await api.verify(config.userId, wrongCode(config.secret))).toEqual({ result: 'fail' });

        const next = oathtoolTotp(config.secret, { at: config.at + 30 });
        const locked = await api.login(config.userId, next);
        expectError(locked, 429, 'TooManyAttempts');
        const retryAfter = locked.headers['retry-after'];
        expect(retryAfter).toMatch(/^\d+$/);
        expect(Number(retryAfter)).toBeGreaterThan(0);
        expect(Number(retryAfter)).toBeLessThanOrEqual(60);
        // A backup code is refused too, and not spent.
        expectError(await api.login(config.userId, codes[0]), 429, 'TooManyAttempts');

        const view = expectStatus(await api.get(config.id), 200).body;
        expect(view.lockedUntil).toMatch(ISO_TIME);
        const lockedFor = Date.parse(view.lockedUntil) - Date.now();
        expect(lockedFor).toBeGreaterThan(0);
        expect(lockedFor).toBeLessThanOrEqual(61_000);
        expect(view.status).toBe('active');

        const unlocked = expectStatus(await api.update(config.id, { unlock: true }), 200).body;
        expect(unlocked).toMatchObject({ id: config.id, lockedUntil: null, status: 'active' });
        expect(await api.verify(config.userId, next)).toMatchObject({ result: 'success', method: 'totp' });
        expect(await api.verify(config.userId, codes[0])).toMatchObject({ result: 'success', method: 'backup' });
      });

      it('a success resets the failure count', async () => {
        const config = await api.enrolActive();
        const codes = expectStatus(await api.backupCodes(config.id), 200).body.codes as string[];
        for (let i = 0; i < 2; i++)
          expect(await api.verify(config.userId, wrongCode(config.secret))).toEqual({ result: 'fail' });
        expect(await api.verify(config.userId, codes[0])).toMatchObject({ result: 'success' });
        for (let i = 0; i < 2; i++)
          expect(await api.verify(config.userId, wrongCode(config.secret))).toEqual({ result: 'fail' });
        // 4 failures in all but never 3 in a row: not locked.
        expect(expectStatus(await api.get(config.id), 200).body.lockedUntil).toBeNull();
        expect(await api.verify(config.userId, oathtoolTotp(config.secret, { at: config.at + 30 }))).toMatchObject({
          result: 'success',
          method: 'totp',
        });
      });
    });
  });

  describe('other deployment parameters', () => {
    const [partner, agent] = KINDS;

    /** Runs `body` against a second app on the same database with other TOTP defaults. */
    async function withOtherApp(settings: Record<string, string>, body: (app: RunningApp) => Promise<void>) {
      const other = await startApp(running().databaseUrl, { ...SETTINGS, ...settings });
      try {
        await body(other);
      } finally {
        await other.close();
      }
    }

    it('SHA256 with 8 digits: the otpauth URL says so and an oathtool code of those parameters logs in', async () => {
      await withOtherApp({ TOTP_ALGORITHM: 'SHA256', TOTP_DIGITS: '8' }, async (app) => {
        for (const spec of [partner, agent]) {
          const api = apiOf(() => app, spec);
          await awaitFreshStep();
          const res = expectStatus(await api.create({ [spec.idField]: newUserId('sha256') }), 200).body;
          const params = new URL(res.otpauthUrl).searchParams;
          expect(params.get('algorithm')).toBe('SHA256');
          expect(params.get('digits')).toBe('8');
          expect(res.otpauthUrl).toMatch(/[?&]algorithm=SHA256&digits=8(&|$)/);
          // RFC 6238: a key as long as the HMAC output (32 bytes = 52 base32 characters).
          expect(res.secretKey).toMatch(/^[A-Z2-7]{52}$/);
          expect(decodeQrDataUrl(res.qrcodeUrl)).toBe(res.otpauthUrl);
          const userId = res[spec.idField] as string;
          // The 6-digit SHA1 code of this secret is not accepted.
          expect(await api.verify(userId, oathtoolTotp(res.secretKey))).toEqual({ result: 'fail' });
          const code = oathtoolTotp(res.secretKey, { algorithm: 'SHA256', digits: 8 });
          expect(code).toMatch(/^\d{8}$/);
          expect(await api.verify(userId, code)).toMatchObject({ result: 'success', method: 'totp' });
          expect(await api.verify(userId, code)).toEqual({ result: 'fail' });
        }
      });
    });

    it('SHA512: an oathtool SHA512 code logs in', async () => {
      await withOtherApp({ TOTP_ALGORITHM: 'SHA512', TOTP_DIGITS: '6' }, async (app) => {
        const api = apiOf(() => app, agent);
        await awaitFreshStep();
        const res = expectStatus(await api.create({ agentid: newUserId('sha512') }), 200).body;
        expect(new URL(res.otpauthUrl).searchParams.get('algorithm')).toBe('SHA512');
        expect(res.secretKey).toMatch(/^[A-Z2-7]{103}$/);
        expect(await api.verify(res.agentid, oathtoolTotp(res.secretKey, { algorithm: 'SHA512' }))).toMatchObject({
          result: 'success',
          method: 'totp',
        });
      });
    });

    it('a config keeps the parameters it was created with when the deployment defaults change', async () => {
      const sha1 = await apiOf(running, partner).enrol();
      await withOtherApp({ TOTP_ALGORITHM: 'SHA256', TOTP_DIGITS: '8' }, async (app) => {
        const api = apiOf(() => app, partner);
        await awaitFreshStep();
        const view = expectStatus(await api.get(sha1.id), 200).body;
        expect(new URL(view.otpauthUrl).searchParams.get('algorithm')).toBe('SHA1');
        expect(new URL(view.otpauthUrl).searchParams.get('digits')).toBe('6');
        expect(await api.verify(sha1.userId, oathtoolTotp(sha1.secret))).toMatchObject({ result: 'success' });
      });
    });
  });
});
