import request from 'supertest';
import { expectStatus, fieldNames } from './helpers/http';
import { awaitFreshStep, oathtoolTotp, wrongCode } from './helpers/oathtool';
import { withApp } from './helpers/suite';
import { rawDataSource, RunningApp, TestDatabase, testDatabases } from './helpers/test-app';
import { nowSeconds } from './helpers/time';
import { mintToken } from './helpers/tokens';

/** Every setting these suites depend on, so one suite's settings never leak into the next app. */
const BASE_SETTINGS = { SESSION_TTL_SECONDS: '3600', LOCKOUT_MAX_FAILURES: '5', METRICS_REQUIRE_SCOPE: 'false' };

/** The otpauth URI's parts: issuer and account from the label, and the query parameters. */
function parseOtpauth(uri: string) {
  const url = new URL(uri);
  const [issuer, account] = decodeURIComponent(url.pathname.slice(1)).split(':');
  return { protocol: url.protocol, type: url.host, issuer, account, params: url.searchParams };
}

/** What the tests of one app share: tokens of a tenant's services and the routes they call. */
function apiOf(running: () => RunningApp) {
  const http = () => request(running().url);
  const tokens = new Map<string, Promise<string>>();
  const token = (tenant: string, scope: string, sub = 'service') => {
    const key = `${tenant}|${scope}|${sub}`;
    if (!tokens.has(key)) tokens.set(key, mintToken({ tenant, sub, scope }));
    return tokens.get(key)!;
  };
  const bearer = async (tenant: string, scope: string) => `Bearer ${await token(tenant, scope)}`;

  return {
    http,
    async generateKey(tenant: string, sub: string, body: Record<string, unknown>, kind: 'agent' | 'partner' = 'agent') {
      const userToken = await mintToken({ tenant, sub, scope: 'user', kind });
      return http().put('/users/2fa/generate-key').set('Authorization', `Bearer ${userToken}`).send(body);
    },
    async reset(tenant: string, sub: string, body: Record<string, unknown>, kind: 'agent' | 'partner' = 'agent') {
      const callerToken = await mintToken({ tenant, sub, scope: 'users:reset', kind });
      return http().put('/users/2fa/reset').set('Authorization', `Bearer ${callerToken}`).send(body);
    },
    async login(tenant: string, kind: 'agent' | 'partner', userId: string, code: string) {
      const [path, scope, field] =
        kind === 'agent'
          ? ['/loginapi/2fa:verify', 'agent:login', 'agentid']
          : ['/partnerloginapi/2fa:verify', 'partner:login', 'partneruserid'];
      return http()
        .post(path)
        .set('Authorization', await bearer(tenant, scope))
        .send({ [field]: userId, code });
    },
    async enrol(tenant: string, kind: 'agent' | 'partner', userId: string) {
      const [path, scope, field] =
        kind === 'agent'
          ? ['/globalapi/2faConfig', 'agent:admin', 'agentid']
          : ['/partnerglobalapi/2faConfig', 'partner:admin', 'partneruserid'];
      const res = await http()
        .post(path)
        .set('Authorization', await bearer(tenant, scope))
        .send({ [field]: userId })
        .expect(200);
      return { id: res.body.id as string, secret: res.body.secretKey as string, path, scope };
    },
    async getConfig(tenant: string, kind: 'agent' | 'partner', id: string) {
      const [path, scope] =
        kind === 'agent' ? ['/globalapi/2faConfig', 'agent:admin'] : ['/partnerglobalapi/2faConfig', 'partner:admin'];
      return http()
        .get(`${path}/${id}`)
        .set('Authorization', await bearer(tenant, scope));
    },
    async findConfig(tenant: string, kind: 'agent' | 'partner', userId: string) {
      const [path, scope, field] =
        kind === 'agent'
          ? ['/globalapi/2faConfig', 'agent:admin', 'agentid']
          : ['/partnerglobalapi/2faConfig', 'partner:admin', 'partneruserid'];
      const res = await http()
        .get(path)
        .query({ [field]: userId })
        .set('Authorization', await bearer(tenant, scope))
        .expect(200);
      return res.body.items as { id: string; status: string; backupCodesRemaining: number }[];
    },
    async getSession(tenant: string, publicId: string) {
      return http()
        .get(`/TwoFactorSession/${publicId}`)
        .set('Authorization', await bearer(tenant, 'sessions:admin'));
    },
    async postSession(tenant: string, userId: string) {
      const res = await http()
        .post('/TwoFactorSession/')
        .set('Authorization', await bearer(tenant, 'sessions:admin'))
        .send({ user_id: userId, bool: true })
        .expect(201);
      return res.body.public_id as string;
    },
    async audit(tenant: string, query: Record<string, string>) {
      const res = await http()
        .get('/audit')
        .query(query)
        .set('Authorization', await bearer(tenant, 'audit:read'))
        .expect(200);
      return res.body as { items: Record<string, unknown>[]; total: number };
    },
    async backupCodes(tenant: string, kind: 'agent' | 'partner', configId: string) {
      const [path, scope] =
        kind === 'agent' ? ['/globalapi/2faConfig', 'agent:admin'] : ['/partnerglobalapi/2faConfig', 'partner:admin'];
      const res = await http()
        .post(`${path}/${configId}/backupCodes`)
        .set('Authorization', await bearer(tenant, scope))
        .expect(200);
      return res.body.codes as string[];
    },
  };
}

type Api = ReturnType<typeof apiOf>;

/** A caller whose own 2FA is active: generate-key, then the first good code at login. */
async function activeCaller(api: Api, tenant: string, sub: string) {
  const res = expectStatus(await api.generateKey(tenant, sub, { organisationId: tenant }), 200);
  const secret = parseOtpauth(res.body.twoFactorUri).params.get('secret')!;
  await awaitFreshStep();
  const usedCode = oathtoolTotp(secret);
  const login = expectStatus(await api.login(tenant, 'agent', sub, usedCode), 200);
  expect(login.body.result).toBe('success');
  return { secret, usedCode, sessionId: login.body.sessionId as string };
}

/** A target with a config (enrolled by an admin), backup codes and a session from a login. */
async function enrolledTarget(api: Api, tenant: string, kind: 'agent' | 'partner', userId: string) {
  const config = await api.enrol(tenant, kind, userId);
  await awaitFreshStep();
  const login = expectStatus(await api.login(tenant, kind, userId, oathtoolTotp(config.secret)), 200);
  expect(login.body.result).toBe('success');
  const codes = await api.backupCodes(tenant, kind, config.id);
  expect(codes).toHaveLength(10);
  return { configId: config.id, sessionId: login.body.sessionId as string };
}

async function backupCodeRows(running: RunningApp, configId: string): Promise<number> {
  const rows: { n: number | string }[] = await rawDataSource(running).query(
    'SELECT COUNT(*) AS n FROM backup_code WHERE config_id = ?',
    [configId],
  );
  return Number(rows[0].n);
}

describe.each(testDatabases())('PUT /users/2fa/generate-key on $name', (database: TestDatabase) => {
  const running = withApp(database, { ...BASE_SETTINGS, TOTP_ISSUER: 'Acme 2FA' });
  const api = apiOf(running);

  it('answers the otpauth URI of a new pending config; again while pending gives a new secret; the first good code activates it; then 409', async () => {
    const first = await api.generateKey('acme', 'agent-gk@example.com', { organisationId: 'acme' });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body)).toEqual(['twoFactorUri']);
    const uri1 = parseOtpauth(first.body.twoFactorUri);
    expect(uri1).toMatchObject({
      protocol: 'otpauth:',
      type: 'totp',
      issuer: 'Acme 2FA',
      account: 'agent-gk@example.com',
    });
    expect(uri1.params.get('issuer')).toBe('Acme 2FA');
    expect(uri1.params.get('secret')).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri1.params.get('algorithm')).toBe('SHA1');
    expect(uri1.params.get('digits')).toBe('6');
    expect(uri1.params.get('period')).toBe('30');

    const [pending] = await api.findConfig('acme', 'agent', 'agent-gk@example.com');
    expect(pending.status).toBe('pending');

    const second = expectStatus(await api.generateKey('acme', 'agent-gk@example.com', { organisationId: 'acme' }), 200);
    const uri2 = parseOtpauth(second.body.twoFactorUri);
    expect(uri2.account).toBe('agent-gk@example.com');
    expect(uri2.params.get('secret')).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri2.params.get('secret')).not.toBe(uri1.params.get('secret'));
    // Still one config for the user.
    expect(await api.findConfig('acme', 'agent', 'agent-gk@example.com')).toHaveLength(1);

    await awaitFreshStep();
    // The replaced secret no longer works; the new one does.
    const stale = await api.login('acme', 'agent', 'agent-gk@example.com', oathtoolTotp(uri1.params.get('secret')!));
    expect(stale.body).toEqual({ result: 'fail' });
    const good = await api.login('acme', 'agent', 'agent-gk@example.com', oathtoolTotp(uri2.params.get('secret')!));
    expect(good.body).toMatchObject({ result: 'success', method: 'totp' });

    const [active] = await api.findConfig('acme', 'agent', 'agent-gk@example.com');
    expect(active.status).toBe('active');

    const conflict = await api.generateKey('acme', 'agent-gk@example.com', { organisationId: 'acme' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.responseStatus.errorCode).toBe('Conflict');
    // The active config was not touched: its secret still logs in (next step).
    const next = await api.login(
      'acme',
      'agent',
      'agent-gk@example.com',
      oathtoolTotp(uri2.params.get('secret')!, { at: nowSeconds() + 30 }),
    );
    expect(next.body).toMatchObject({ result: 'success' });
  });

  it('a partner token makes a partner config', async () => {
    const res = expectStatus(await api.generateKey('acme', 'pu-gk-1', { organisationId: 'acme' }, 'partner'), 200);
    expect(parseOtpauth(res.body.twoFactorUri).account).toBe('pu-gk-1');
    expect(await api.findConfig('acme', 'partner', 'pu-gk-1')).toMatchObject([{ status: 'pending' }]);
    expect(await api.findConfig('acme', 'agent', 'pu-gk-1')).toEqual([]);
  });

  it('a config an administrator disabled stays disabled: generate-key is 403 and changes nothing', async () => {
    const { id, secret, path, scope } = await api.enrol('acme', 'agent', 'agent-gk-disabled');
    const adminToken = await mintToken({ tenant: 'acme', sub: 'admin', scope });
    await api
      .http()
      .put(`${path}/${id}`)
      .set('Authorization', `Bearer ${adminToken}`)
      .send({ enabled: false })
      .expect(200);
    const res = await api.generateKey('acme', 'agent-gk-disabled', { organisationId: 'acme' });
    expect(res.status).toBe(403);
    expect(res.body.responseStatus.errorCode).toBe('Forbidden');
    expect(await api.findConfig('acme', 'agent', 'agent-gk-disabled')).toMatchObject([{ id, status: 'disabled' }]);
    await awaitFreshStep();
    expect((await api.login('acme', 'agent', 'agent-gk-disabled', oathtoolTotp(secret))).body).toEqual({
      result: 'fail',
    });
  });

  it('organisationId of another tenant is 403 naming organisationId, and nothing is created', async () => {
    const res = await api.generateKey('acme', 'agent-gk-2', { organisationId: 'globex' });
    expect(res.status).toBe(403);
    expect(res.body.responseStatus.errorCode).toBe('Forbidden');
    expect(fieldNames(res)).toEqual(['organisationId']);
    expect(await api.findConfig('acme', 'agent', 'agent-gk-2')).toEqual([]);
    expect(await api.findConfig('globex', 'agent', 'agent-gk-2')).toEqual([]);
  });

  it('a token without kind is 403', async () => {
    const token = await mintToken({ tenant: 'acme', sub: 'agent-gk-3', scope: 'user' });
    const res = await api
      .http()
      .put('/users/2fa/generate-key')
      .set('Authorization', `Bearer ${token}`)
      .send({ organisationId: 'acme' });
    expect(res.status).toBe(403);
    expect(res.body.responseStatus.errorCode).toBe('Forbidden');
    expect(await api.findConfig('acme', 'agent', 'agent-gk-3')).toEqual([]);
  });

  it('an unknown field or a missing organisationId is 400', async () => {
    const unknown = await api.generateKey('acme', 'agent-gk-4', { organisationId: 'acme', secret: 'JBSWY3DPEHPK3PXP' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.responseStatus.errorCode).toBe('ValidationError');
    expect(fieldNames(unknown)).toContain('secret');
    const missing = await api.generateKey('acme', 'agent-gk-4', {});
    expect(missing.status).toBe(400);
    expect(fieldNames(missing)).toContain('organisationId');
    expect(await api.findConfig('acme', 'agent', 'agent-gk-4')).toEqual([]);
  });

  it('no token is 401; a token without scope user is 403', async () => {
    await api.http().put('/users/2fa/generate-key').send({ organisationId: 'acme' }).expect(401);
    const token = await mintToken({ tenant: 'acme', sub: 'agent-gk-5', scope: 'users:reset', kind: 'agent' });
    await api
      .http()
      .put('/users/2fa/generate-key')
      .set('Authorization', `Bearer ${token}`)
      .send({ organisationId: 'acme' })
      .expect(403);
  });
});

describe.each(testDatabases())('PUT /users/2fa/reset on $name', (database: TestDatabase) => {
  const running = withApp(database, BASE_SETTINGS);
  const api = apiOf(running);

  describe('an agent resets another agent', () => {
    let caller: Awaited<ReturnType<typeof activeCaller>>;
    let target: Awaited<ReturnType<typeof enrolledTarget>>;
    let postedSession: string;
    let bystanderSession: string;

    beforeAll(async () => {
      target = await enrolledTarget(api, 'acme', 'agent', 'agent-target');
      postedSession = await api.postSession('acme', 'agent-target');
      bystanderSession = await api.postSession('acme', 'agent-bystander');
      caller = await activeCaller(api, 'acme', 'agent-caller');
    });

    it('a wrong callerCode is 403 Forbidden naming callerCode, and the target keeps everything', async () => {
      const res = await api.reset('acme', 'agent-caller', {
        targetUserId: 'agent-target',
        callerCode: wrongCode(caller.secret),
        organisationId: 'acme',
      });
      expect(res.status).toBe(403);
      expect(res.body.responseStatus.errorCode).toBe('Forbidden');
      expect(fieldNames(res)).toEqual(['callerCode']);
      expectStatus(await api.getConfig('acme', 'agent', target.configId), 200);
      expect(await backupCodeRows(running(), target.configId)).toBe(10);
      expectStatus(await api.getSession('acme', target.sessionId), 200);
    });

    it('the caller code already used to log in (same step) is 403 naming callerCode, recorded as a replay', async () => {
      const res = await api.reset('acme', 'agent-caller', {
        targetUserId: 'agent-target',
        callerCode: caller.usedCode,
        organisationId: 'acme',
      });
      expect(res.status).toBe(403);
      expect(res.body.responseStatus.errorCode).toBe('Forbidden');
      expect(fieldNames(res)).toEqual(['callerCode']);
      const replays = await api.audit('acme', { event: 'verify.replay', subject: 'agent-caller' });
      expect(replays.total).toBe(1);
      expectStatus(await api.getConfig('acme', 'agent', target.configId), 200);
    });

    it("the right code answers {} and removes the target's config, backup codes and sessions (audited)", async () => {
      expect(await backupCodeRows(running(), target.configId)).toBe(10);
      expectStatus(await api.getSession('acme', postedSession), 200);

      const res = await api.reset('acme', 'agent-caller', {
        targetUserId: 'agent-target',
        callerCode: oathtoolTotp(caller.secret, { at: nowSeconds() + 30 }),
        organisationId: 'acme',
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});

      const config = await api.getConfig('acme', 'agent', target.configId);
      expect(config.status).toBe(404);
      expect(config.body.responseStatus.errorCode).toBe('NotFound');
      expect(await api.findConfig('acme', 'agent', 'agent-target')).toEqual([]);
      expect(await backupCodeRows(running(), target.configId)).toBe(0);
      expectStatus(await api.getSession('acme', target.sessionId), 404);
      expectStatus(await api.getSession('acme', postedSession), 404);
      // Other users' sessions stay, the caller's own too.
      expectStatus(await api.getSession('acme', bystanderSession), 200);
      expectStatus(await api.getSession('acme', caller.sessionId), 200);

      const audit = await api.audit('acme', { event: 'reset' });
      expect(audit.total).toBe(1);
      expect(audit.items[0]).toMatchObject({
        event: 'reset',
        outcome: 'success',
        actor: 'agent-caller',
        subjectKind: 'agent',
        subjectId: 'agent-target',
        configId: target.configId,
      });

      // The target can enrol afresh. The spent code again is refused before any target is looked up.
      await api.enrol('acme', 'agent', 'agent-target');
      const again = await api.reset('acme', 'agent-caller', {
        targetUserId: 'no-such-agent',
        callerCode: oathtoolTotp(caller.secret, { at: nowSeconds() + 30 }),
        organisationId: 'acme',
      });
      expect(again.status).toBe(403);
      expect(fieldNames(again)).toEqual(['callerCode']);
    });
  });

  describe('refusals', () => {
    let caller: Awaited<ReturnType<typeof activeCaller>>;
    let target: Awaited<ReturnType<typeof enrolledTarget>>;
    const nextCode = () => oathtoolTotp(caller.secret, { at: nowSeconds() + 30 });

    beforeAll(async () => {
      target = await enrolledTarget(api, 'acme', 'agent', 'agent-target-2');
      caller = await activeCaller(api, 'acme', 'agent-caller-2');
    });

    afterEach(async () => {
      // No refusal touches the target.
      expectStatus(await api.getConfig('acme', 'agent', target.configId), 200);
      expect(await backupCodeRows(running(), target.configId)).toBe(10);
      expectStatus(await api.getSession('acme', target.sessionId), 200);
    });

    it('organisationId of another tenant is 403 naming organisationId', async () => {
      const res = await api.reset('acme', 'agent-caller-2', {
        targetUserId: 'agent-target-2',
        callerCode: nextCode(),
        organisationId: 'globex',
      });
      expect(res.status).toBe(403);
      expect(fieldNames(res)).toEqual(['organisationId']);
    });

    it('a target enrolled only in another tenant is 404', async () => {
      const other = await enrolledTarget(api, 'globex', 'agent', 'agent-elsewhere');
      const res = await api.reset('acme', 'agent-caller-2', {
        targetUserId: 'agent-elsewhere',
        callerCode: nextCode(),
        organisationId: 'acme',
      });
      expect(res.status).toBe(404);
      expect(res.body.responseStatus.errorCode).toBe('NotFound');
      expectStatus(await api.getConfig('globex', 'agent', other.configId), 200);
      expectStatus(await api.getSession('globex', other.sessionId), 200);
    });

    it('the own sub as target is 400 naming targetUserId', async () => {
      const res = await api.reset('acme', 'agent-caller-2', {
        targetUserId: 'agent-caller-2',
        callerCode: nextCode(),
        organisationId: 'acme',
      });
      expect(res.status).toBe(400);
      expect(res.body.responseStatus.errorCode).toBe('ValidationError');
      expect(fieldNames(res)).toEqual(['targetUserId']);
      expect(await api.findConfig('acme', 'agent', 'agent-caller-2')).toMatchObject([{ status: 'active' }]);
    });

    it('a caller without active 2FA (none, or only pending) is 403 naming callerCode', async () => {
      const none = await api.reset('acme', 'agent-no-2fa', {
        targetUserId: 'agent-target-2',
        callerCode: '123456',
        organisationId: 'acme',
      });
      expect(none.status).toBe(403);
      expect(none.body.responseStatus.errorCode).toBe('Forbidden');
      expect(fieldNames(none)).toEqual(['callerCode']);

      // A pending config: even its valid current code does not count.
      const pending = expectStatus(await api.generateKey('acme', 'agent-pending', { organisationId: 'acme' }), 200);
      const secret = parseOtpauth(pending.body.twoFactorUri).params.get('secret')!;
      const res = await api.reset('acme', 'agent-pending', {
        targetUserId: 'agent-target-2',
        callerCode: oathtoolTotp(secret),
        organisationId: 'acme',
      });
      expect(res.status).toBe(403);
      expect(fieldNames(res)).toEqual(['callerCode']);
    });

    it('a token without kind is 403; without users:reset 403; no token 401; unknown field 400', async () => {
      const noKind = await mintToken({ tenant: 'acme', sub: 'agent-caller-2', scope: 'users:reset' });
      const body = { targetUserId: 'agent-target-2', callerCode: nextCode(), organisationId: 'acme' };
      await api.http().put('/users/2fa/reset').set('Authorization', `Bearer ${noKind}`).send(body).expect(403);
      const noScope = await mintToken({ tenant: 'acme', sub: 'agent-caller-2', scope: 'user', kind: 'agent' });
      await api.http().put('/users/2fa/reset').set('Authorization', `Bearer ${noScope}`).send(body).expect(403);
      await api.http().put('/users/2fa/reset').send(body).expect(401);
      const unknown = await api.reset('acme', 'agent-caller-2', { ...body, force: true });
      expect(unknown.status).toBe(400);
      expect(fieldNames(unknown)).toContain('force');
    });
  });

  it('targetKind partner resets a partner user, not the agent with the same id', async () => {
    const partner = await enrolledTarget(api, 'acme', 'partner', 'shared-user-id');
    const agent = await enrolledTarget(api, 'acme', 'agent', 'shared-user-id');
    const caller = await activeCaller(api, 'acme', 'agent-caller-3');

    const res = await api.reset('acme', 'agent-caller-3', {
      targetUserId: 'shared-user-id',
      callerCode: oathtoolTotp(caller.secret, { at: nowSeconds() + 30 }),
      organisationId: 'acme',
      targetKind: 'partner',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expectStatus(await api.getConfig('acme', 'partner', partner.configId), 404);
    expect(await backupCodeRows(running(), partner.configId)).toBe(0);
    expectStatus(await api.getSession('acme', partner.sessionId), 404);

    expectStatus(await api.getConfig('acme', 'agent', agent.configId), 200);
    expect(await backupCodeRows(running(), agent.configId)).toBe(10);
    expectStatus(await api.getSession('acme', agent.sessionId), 200);

    const audit = await api.audit('acme', { event: 'reset', subject: 'shared-user-id' });
    expect(audit.items).toMatchObject([{ subjectKind: 'partner', configId: partner.configId }]);
  });
});

describe.each(testDatabases())('PUT /users/2fa/reset checks the caller first on $name', (database: TestDatabase) => {
  const running = withApp(database, BASE_SETTINGS);
  const api = apiOf(running);

  /** The answer, with only what a caller sees of it: status, errorCode, fields and message. */
  const seen = (res: { status: number; body: { responseStatus?: { errorCode: string; message: string } } }) => ({
    status: res.status,
    errorCode: res.body.responseStatus?.errorCode,
    message: res.body.responseStatus?.message,
    fields: res.status === 403 ? fieldNames(res) : [],
  });
  const REFUSED = {
    status: 403,
    errorCode: 'Forbidden',
    message: 'callerCode was not accepted',
    fields: ['callerCode'],
  };

  it('a caller whose code is not accepted gets the same 403 for a known and an unknown target, each counted and audited', async () => {
    const known = await enrolledTarget(api, 'acme', 'agent', 'probe-known');
    const caller = await activeCaller(api, 'acme', 'prober');
    const before = (await api.findConfig('acme', 'agent', 'prober'))[0];

    for (const callerCode of [wrongCode(caller.secret), caller.usedCode]) {
      for (const targetUserId of ['probe-known', 'probe-unknown']) {
        const res = await api.reset('acme', 'prober', { targetUserId, callerCode, organisationId: 'acme' });
        expect(seen(res)).toEqual(REFUSED);
      }
    }
    // Counted like logins: two wrong codes and two replays.
    const after = await api.getConfig('acme', 'agent', before.id);
    expect(after.body.consecutiveFailures).toBe(4);
    expect((await api.audit('acme', { event: 'verify.fail', subject: 'prober' })).total).toBe(2);
    expect((await api.audit('acme', { event: 'verify.replay', subject: 'prober' })).total).toBe(2);
    expectStatus(await api.getConfig('acme', 'agent', known.configId), 200);

    // Callers without active 2FA (none, pending): the same 403 whichever the target, audited as verify.fail.
    const pending = expectStatus(await api.generateKey('acme', 'prober-pending', { organisationId: 'acme' }), 200);
    const pendingSecret = parseOtpauth(pending.body.twoFactorUri).params.get('secret')!;
    for (const [sub, callerCode] of [
      ['prober-none', '123456'],
      ['prober-pending', oathtoolTotp(pendingSecret)],
    ]) {
      for (const targetUserId of ['probe-known', 'probe-unknown']) {
        const res = await api.reset('acme', sub, { targetUserId, callerCode, organisationId: 'acme' });
        expect(seen(res)).toEqual(REFUSED);
      }
      expect((await api.audit('acme', { event: 'verify.fail', subject: sub })).total).toBe(2);
    }
    expect((await api.findConfig('acme', 'agent', 'prober-pending'))[0].status).toBe('pending');
  });

  it("an unknown target is 404 only once the caller's code is accepted, and that code stays spent", async () => {
    const known = await enrolledTarget(api, 'acme', 'agent', 'spent-known');
    const caller = await activeCaller(api, 'acme', 'spender');
    const code = oathtoolTotp(caller.secret, { at: nowSeconds() + 30 });

    const unknown = await api.reset('acme', 'spender', {
      targetUserId: 'spent-unknown',
      callerCode: code,
      organisationId: 'acme',
    });
    expect(seen(unknown)).toMatchObject({ status: 404, errorCode: 'NotFound' });
    expect((await api.audit('acme', { event: 'verify.success', subject: 'spender' })).total).toBe(2);

    const replayed = await api.reset('acme', 'spender', {
      targetUserId: 'spent-known',
      callerCode: code,
      organisationId: 'acme',
    });
    expect(seen(replayed)).toEqual(REFUSED);
    expectStatus(await api.getConfig('acme', 'agent', known.configId), 200);
  });
});

describe.each(testDatabases())('PUT /users/2fa/reset caller lockout on $name', (database: TestDatabase) => {
  const running = withApp(database, { ...BASE_SETTINGS, LOCKOUT_MAX_FAILURES: '3' });
  const api = apiOf(running);

  it('LOCKOUT_MAX_FAILURES wrong caller codes lock the caller: then the same 403, even for the right code', async () => {
    const target = await enrolledTarget(api, 'acme', 'agent', 'agent-target');
    const caller = await activeCaller(api, 'acme', 'agent-caller');
    const body = { targetUserId: 'agent-target', organisationId: 'acme' };

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const res = await api.reset('acme', 'agent-caller', { ...body, callerCode: wrongCode(caller.secret) });
      expect(res.status).toBe(403);
      expect(fieldNames(res)).toEqual(['callerCode']);
    }

    const locked = await api.reset('acme', 'agent-caller', {
      ...body,
      callerCode: oathtoolTotp(caller.secret, { at: nowSeconds() + 30 }),
    });
    expect(locked.status).toBe(403);
    expect(locked.body.responseStatus.errorCode).toBe('Forbidden');
    expect(fieldNames(locked)).toEqual(['callerCode']);
    expect(locked.headers['retry-after']).toBeUndefined();
    expect((await api.audit('acme', { event: 'verify.locked', subject: 'agent-caller' })).total).toBe(1);

    // The lock is the caller's own 2FA: their login is locked too (429); the target is untouched.
    const login = await api.login('acme', 'agent', 'agent-caller', oathtoolTotp(caller.secret));
    expect(login.status).toBe(429);
    expect(login.headers['retry-after']).toBeDefined();
    expectStatus(await api.getConfig('acme', 'agent', target.configId), 200);
    expect(await backupCodeRows(running(), target.configId)).toBe(10);
    const lockouts = await api.audit('acme', { event: 'lockout.engaged', subject: 'agent-caller' });
    expect(lockouts.total).toBe(1);
  });
});
