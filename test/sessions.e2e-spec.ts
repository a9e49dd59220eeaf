import request from 'supertest';
import { MIGRATIONS } from '../src/database/data-source-options';
import { SessionOrigin1796500000000 } from '../src/database/migrations/1796500000000-SessionOrigin';
import { fieldNames } from './helpers/http';
import { Kind, KINDS } from './helpers/kinds';
import { awaitFreshStep, oathtoolTotp, wrongCode } from './helpers/oathtool';
import { withApp } from './helpers/suite';
import { rawDataSource, RunningApp, startApp, TestDatabase, testDatabases, withSchemaOf } from './helpers/test-app';
import { sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';

/** Every setting these suites depend on, so one suite's settings never leak into the next app. */
const BASE_SETTINGS = {
  SESSION_TTL_SECONDS: '3600',
  SESSION_SWEEP_INTERVAL_MS: '',
  SESSION_SWEEP_BATCH_SIZE: '',
  LOCKOUT_MAX_FAILURES: '5',
  METRICS_REQUIRE_SCOPE: 'false',
};
const SESSION_FIELDS = ['bool', 'created_at', 'expires_at', 'origin', 'public_id', 'user_id'];

describe.each(testDatabases())('TwoFactorSession API on $name', (database: TestDatabase) => {
  const running = withApp(database, BASE_SETTINGS);
  let admin: string;
  let adminB: string;

  const http = () => request(running().url);
  const create = (token: string, body: Record<string, unknown>) =>
    http().post('/TwoFactorSession/').set('Authorization', `Bearer ${token}`).send(body);
  const get = (token: string, publicId: string) =>
    http().get(`/TwoFactorSession/${publicId}`).set('Authorization', `Bearer ${token}`);
  const list = (token: string, query: Record<string, string | number>) =>
    http().get('/TwoFactorSession/').query(query).set('Authorization', `Bearer ${token}`);

  beforeAll(async () => {
    admin = await mintToken({ tenant: 'acme', sub: 'session-admin', scope: 'sessions:admin' });
    adminB = await mintToken({ tenant: 'globex', sub: 'session-admin', scope: 'sessions:admin' });
  });

  describe('create', () => {
    it('POST /TwoFactorSession/ answers 201 with exactly the record fields and a generated 30-char public_id', async () => {
      const before = Date.now();
      const res = await create(admin, { user_id: 'fgklr4zxdkloknhx307x', bool: true }).expect(201);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(Object.keys(res.body).sort()).toEqual(SESSION_FIELDS);
      expect(res.body.user_id).toBe('fgklr4zxdkloknhx307x');
      expect(res.body.origin).toBe('api');
      expect(res.body.bool).toBe(true);
      expect(res.body.public_id).toMatch(/^[a-z0-9]{30}$/);
      const createdAt = Date.parse(res.body.created_at);
      expect(new Date(createdAt).toISOString()).toBe(res.body.created_at);
      expect(createdAt).toBeGreaterThanOrEqual(before - 1000);
      expect(createdAt).toBeLessThanOrEqual(Date.now() + 1000);
      expect(Date.parse(res.body.expires_at) - createdAt).toBe(3600 * 1000);

      const other = await create(admin, { user_id: 'fgklr4zxdkloknhx307x', bool: true }).expect(201);
      expect(other.body.public_id).not.toBe(res.body.public_id);
    });

    it('keeps a given public_id; the same public_id again is 409', async () => {
      const res = await create(admin, { user_id: 'u-1', public_id: 'n6l7k4uqu4ljxn6e7khv5knpbgyes4', bool: false });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ user_id: 'u-1', public_id: 'n6l7k4uqu4ljxn6e7khv5knpbgyes4', bool: false });

      const again = await create(admin, { user_id: 'u-2', public_id: 'n6l7k4uqu4ljxn6e7khv5knpbgyes4', bool: true });
      expect(again.status).toBe(409);
      expect(again.body.responseStatus.errorCode).toBe('Conflict');
      // The first record is untouched.
      const stored = await get(admin, 'n6l7k4uqu4ljxn6e7khv5knpbgyes4').expect(200);
      expect(stored.body).toMatchObject({ user_id: 'u-1', bool: false });
    });

    it('rejects an unknown field (400), and does not store the record', async () => {
      const res = await create(admin, { user_id: 'u-unknown', public_id: 'unknownfield1', bool: true, admin: true });
      expect(res.status).toBe(400);
      expect(res.body.responseStatus.errorCode).toBe('ValidationError');
      expect(res.body.responseStatus.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ fieldName: 'admin' })]),
      );
      await get(admin, 'unknownfield1').expect(404);
    });

    it('rejects bool sent as the string "true" (400, fieldName bool)', async () => {
      const res = await create(admin, { user_id: 'u-3', bool: 'true' });
      expect(res.status).toBe(400);
      expect(res.body.responseStatus.errorCode).toBe('ValidationError');
      expect(fieldNames(res)).toEqual(['bool']);
    });

    it('rejects a missing user_id (400, fieldName user_id)', async () => {
      const res = await create(admin, { bool: true });
      expect(res.status).toBe(400);
      expect(fieldNames(res)).toContain('user_id');
    });
  });

  describe('read', () => {
    it('GET /TwoFactorSession/:public_id answers the record as created', async () => {
      const created = await create(admin, { user_id: 'reader', bool: true }).expect(201);
      const res = await get(admin, created.body.public_id).expect(200);
      expect(res.body).toEqual(created.body);
    });

    it('an unknown public_id is a 404 in the error envelope', async () => {
      const res = await get(admin, 'doesnotexist0000000000000000000').expect(404);
      expect(res.body).toEqual({
        responseStatus: { errorCode: 'NotFound', message: expect.any(String), errors: [] },
      });
    });
  });

  describe('list', () => {
    let token: string;
    const ids: string[] = [];

    beforeAll(async () => {
      token = await mintToken({ tenant: 'list-tenant', sub: 'lister', scope: 'sessions:admin' });
      for (let i = 0; i < 5; i += 1) {
        const res = await create(token, { user_id: `list-user-${i}`, bool: i % 2 === 0 }).expect(201);
        ids.push(res.body.public_id);
        await sleep(5); // distinct created_at
      }
    });

    it('answers a page as a JSON array, oldest first with order=asc, and the total in X-Total-Count', async () => {
      const res = await list(token, { order: 'asc', orderBy: 'created_at', page: 1, responsePerPage: 2 }).expect(200);
      expect(Array.isArray(res.body)).toBe(true);
      expect(res.body.map((s: { public_id: string }) => s.public_id)).toEqual(ids.slice(0, 2));
      expect(res.headers['x-total-count']).toBe('5');
      for (const session of res.body) expect(Object.keys(session).sort()).toEqual(SESSION_FIELDS);
      expect(res.body[0]).toMatchObject({ user_id: 'list-user-0', bool: true });
    });

    it('order=desc reverses the order', async () => {
      const res = await list(token, { order: 'desc', orderBy: 'created_at', page: 1, responsePerPage: 2 }).expect(200);
      expect(res.body.map((s: { public_id: string }) => s.public_id)).toEqual([ids[4], ids[3]]);
      expect(res.headers['x-total-count']).toBe('5');
    });

    it('page 2 and the last, partial page', async () => {
      const page2 = await list(token, { order: 'asc', orderBy: 'created_at', page: 2, responsePerPage: 2 });
      expect(page2.status).toBe(200);
      expect(page2.body.map((s: { public_id: string }) => s.public_id)).toEqual(ids.slice(2, 4));
      const page3 = await list(token, { order: 'asc', orderBy: 'created_at', page: 3, responsePerPage: 2 });
      expect(page3.body.map((s: { public_id: string }) => s.public_id)).toEqual([ids[4]]);
      const beyond = await list(token, { order: 'asc', page: 4, responsePerPage: 2 }).expect(200);
      expect(beyond.body).toEqual([]);
      expect(beyond.headers['x-total-count']).toBe('5');
    });

    it.each([
      ['order', { order: 'sideways' }],
      ['orderBy', { orderBy: 'user_id' }],
      ['responsePerPage', { responsePerPage: 0 }],
      ['responsePerPage', { responsePerPage: 'many' }],
      ['page', { page: 0 }],
    ])('a bad %s is a 400 naming it', async (field, query) => {
      const res = await list(token, query);
      expect(res.status).toBe(400);
      expect(res.body.responseStatus.errorCode).toBe('ValidationError');
      expect(fieldNames(res)).toContain(field);
    });
  });

  describe('update and delete', () => {
    it('PUT of a posted session answers 204 and GET shows the change, also another user_id and bool true again', async () => {
      const created = await create(admin, { user_id: 'before', bool: true }).expect(201);
      const id = created.body.public_id as string;
      const res = await http()
        .put(`/TwoFactorSession/${id}`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ user_id: 'after', bool: false });
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      const after = await get(admin, id).expect(200);
      expect(after.body).toEqual({ ...created.body, user_id: 'after', bool: false });
      await http()
        .put(`/TwoFactorSession/${id}`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ user_id: 'after', bool: true })
        .expect(204);
      expect((await get(admin, id).expect(200)).body).toEqual({ ...created.body, user_id: 'after', bool: true });
    });

    it('PUT with the same public_id in the body is accepted; a different one is a 400 and changes nothing', async () => {
      const created = await create(admin, { user_id: 'keep', bool: true }).expect(201);
      const id = created.body.public_id as string;
      await http()
        .put(`/TwoFactorSession/${id}`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ user_id: 'keep2', public_id: id, bool: true })
        .expect(204);
      const res = await http()
        .put(`/TwoFactorSession/${id}`)
        .set('Authorization', `Bearer ${admin}`)
        .send({ user_id: 'renamed', public_id: 'someotherid', bool: false });
      expect(res.status).toBe(400);
      expect(fieldNames(res)).toEqual(['public_id']);
      await get(admin, 'someotherid').expect(404);
      expect((await get(admin, id).expect(200)).body).toMatchObject({ user_id: 'keep2', bool: true });
    });

    it('PUT of an unknown session is a 404', async () => {
      const res = await http()
        .put('/TwoFactorSession/nosuchsession')
        .set('Authorization', `Bearer ${admin}`)
        .send({ user_id: 'x', bool: true });
      expect(res.status).toBe(404);
      expect(res.body.responseStatus.errorCode).toBe('NotFound');
      await get(admin, 'nosuchsession').expect(404);
    });

    // MariaDB only: there a DELETE in an open transaction holds the row while the PUT reads it, so the PUT's
    // UPDATE is certain to find it gone (SQLite has one writer: the PUT would wait at BEGIN instead).
    (database.name === 'mariadb' ? it : it.skip)(
      'PUT of a session deleted between its read and its write is a 404 and audits nothing',
      async () => {
        const created = await create(admin, { user_id: 'racing', bool: true }).expect(201);
        const id = created.body.public_id as string;
        const db = rawDataSource(running());
        const holder = db.createQueryRunner();
        await holder.connect();
        try {
          await holder.startTransaction();
          await holder.query('DELETE FROM two_factor_session WHERE public_id = ?', [id]);
          const put = http()
            .put(`/TwoFactorSession/${id}`)
            .set('Authorization', `Bearer ${admin}`)
            .send({ user_id: 'racing', bool: false })
            .then((res) => res);
          const deadline = Date.now() + 30_000;
          for (;;) {
            const [{ n }] = await db.query<{ n: number | string }[]>(
              'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO LIKE ?',
              ['UPDATE %two_factor_session%', `%${id}%`],
            );
            if (Number(n) > 0) break;
            if (Date.now() > deadline) throw new Error('the PUT never reached its UPDATE');
            await sleep(20);
          }
          await holder.commitTransaction();
          const res = await put;
          expect({ status: res.status, errorCode: res.body.responseStatus?.errorCode }).toEqual({
            status: 404,
            errorCode: 'NotFound',
          });
        } finally {
          if (holder.isTransactionActive) await holder.rollbackTransaction();
          await holder.release();
        }
        const [{ n }] = await db.query<{ n: number | string }[]>(
          "SELECT COUNT(*) AS n FROM audit_event WHERE tenant = 'acme' AND event = 'session.updated' AND subject_id = 'racing'",
        );
        expect(Number(n)).toBe(0);
      },
    );

    it('DELETE answers 204, then the session is gone (GET 404, DELETE again 404)', async () => {
      const created = await create(admin, { user_id: 'doomed', bool: true }).expect(201);
      const id = created.body.public_id as string;
      const res = await http().delete(`/TwoFactorSession/${id}`).set('Authorization', `Bearer ${admin}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      await get(admin, id).expect(404);
      await http().delete(`/TwoFactorSession/${id}`).set('Authorization', `Bearer ${admin}`).expect(404);
    });
  });

  describe('tenant isolation', () => {
    it("another tenant's session does not exist for the caller, and the same public_id can exist in both", async () => {
      const tokenA = await mintToken({ tenant: 'iso-a', sub: 'a-admin', scope: 'sessions:admin' });
      const tokenB = await mintToken({ tenant: 'iso-b', sub: 'b-admin', scope: 'sessions:admin' });
      const a = await create(tokenA, { user_id: 'user-of-a', public_id: 'shared-id', bool: true }).expect(201);

      await get(tokenB, 'shared-id').expect(404);
      await http()
        .put('/TwoFactorSession/shared-id')
        .set('Authorization', `Bearer ${tokenB}`)
        .send({ user_id: 'hijack', bool: false })
        .expect(404);
      await http().delete('/TwoFactorSession/shared-id').set('Authorization', `Bearer ${tokenB}`).expect(404);
      const listB = await list(tokenB, {}).expect(200);
      expect(listB.body).toEqual([]);
      expect(listB.headers['x-total-count']).toBe('0');

      const b = await create(tokenB, { user_id: 'user-of-b', public_id: 'shared-id', bool: false }).expect(201);
      expect(b.body).toMatchObject({ user_id: 'user-of-b', public_id: 'shared-id', bool: false });
      expect((await get(tokenA, 'shared-id').expect(200)).body).toEqual(a.body);
      expect((await get(tokenB, 'shared-id').expect(200)).body).toEqual(b.body);

      const listA = await list(tokenA, {}).expect(200);
      expect(listA.headers['x-total-count']).toBe('1');
      expect(listA.body.map((s: { user_id: string }) => s.user_id)).toEqual(['user-of-a']);
    });

    it('tenants and public_ids that differ only in letter case are distinct (on every database)', async () => {
      const lower = await mintToken({ tenant: 'casetenant', sub: 'admin', scope: 'sessions:admin' });
      const upper = await mintToken({ tenant: 'CaseTenant', sub: 'admin', scope: 'sessions:admin' });
      await create(lower, { user_id: 'lower-user', public_id: 'caseid', bool: true }).expect(201);

      await get(upper, 'caseid').expect(404);
      const upperList = await list(upper, {}).expect(200);
      expect(upperList.headers['x-total-count']).toBe('0');
      await create(upper, { user_id: 'upper-user', public_id: 'caseid', bool: false }).expect(201);

      await get(lower, 'CASEID').expect(404);
      await create(lower, { user_id: 'other-user', public_id: 'CASEID', bool: true }).expect(201);
      expect((await get(lower, 'caseid').expect(200)).body.user_id).toBe('lower-user');
      expect((await get(lower, 'CASEID').expect(200)).body.user_id).toBe('other-user');
      expect((await get(upper, 'caseid').expect(200)).body.user_id).toBe('upper-user');
    });

    it('the default tenant does not see the other tenants in its list', async () => {
      const res = await list(adminB, { responsePerPage: 100 }).expect(200);
      expect(res.body).toEqual([]);
      expect(res.headers['x-total-count']).toBe('0');
    });
  });

  describe.each(KINDS)('sessions from $kind login verification', (kind: Kind) => {
    let kindAdmin: string;
    let kindLogin: string;

    const put = (publicId: string, body: Record<string, unknown>) =>
      http().put(`/TwoFactorSession/${publicId}`).set('Authorization', `Bearer ${admin}`).send(body);
    /** A login of this kind's user with the code of `secret` now: the session id. */
    const logIn = async (userId: string, secret: string): Promise<string> => {
      await awaitFreshStep();
      const res = await http()
        .post(kind.loginPath)
        .set('Authorization', `Bearer ${kindLogin}`)
        .send({ [kind.idField]: userId, code: oathtoolTotp(secret) })
        .expect(200);
      expect(res.body).toEqual({
        result: 'success',
        method: 'totp',
        sessionId: expect.stringMatching(/^[a-z0-9]{30}$/),
      });
      return res.body.sessionId as string;
    };
    /** Enrols a user of this kind, fails one code, then logs in with the new config's first code. */
    const enrolAndLogIn = async (userId: string): Promise<{ sessionId: string; configId: string }> => {
      const enrol = await http()
        .post(kind.prefix)
        .set('Authorization', `Bearer ${kindAdmin}`)
        .send({ [kind.idField]: userId })
        .expect(200);
      expect(
        (
          await http()
            .post(kind.loginPath)
            .set('Authorization', `Bearer ${kindLogin}`)
            .send({ [kind.idField]: userId, code: wrongCode(enrol.body.secretKey) })
            .expect(200)
        ).body,
      ).toEqual({ result: 'fail' });
      return { sessionId: await logIn(userId, enrol.body.secretKey), configId: enrol.body.id };
    };
    /** A change of the user's config by the kind's admin API: the config it answers. */
    const changeConfig = async (configId: string, body: Record<string, unknown>) =>
      (
        await http()
          .put(`${kind.prefix}/${configId}`)
          .set('Authorization', `Bearer ${kindAdmin}`)
          .send(body)
          .expect(200)
      ).body as { status: string; secretKey?: string };

    beforeAll(async () => {
      kindAdmin = await mintToken({ tenant: 'acme', sub: `${kind.kind}-admin`, scope: kind.adminScope });
      kindLogin = await mintToken({ tenant: 'acme', sub: 'login-service', scope: kind.loginScope });
    });

    it('a successful verification (not a failed one) makes a session with origin login, user_id the user, bool true', async () => {
      const before = await list(admin, { responsePerPage: 100 }).expect(200);
      const { sessionId } = await enrolAndLogIn(`${kind.kind}-007`);

      const session = await get(admin, sessionId).expect(200);
      expect(session.body).toMatchObject({
        user_id: `${kind.kind}-007`,
        public_id: sessionId,
        origin: 'login',
        bool: true,
      });
      expect(Date.parse(session.body.expires_at) - Date.parse(session.body.created_at)).toBe(3600 * 1000);
      const after = await list(admin, { responsePerPage: 100 }).expect(200);
      expect(Number(after.headers['x-total-count'])).toBe(Number(before.headers['x-total-count']) + 1);
      // The session belongs to the login's tenant only.
      await get(adminB, sessionId).expect(404);
    });

    it("a login's session keeps its user_id (409 naming user_id, nothing changed), and can be revoked but not made true again", async () => {
      const { sessionId } = await enrolAndLogIn(`${kind.kind}-rebind`);
      const created = (await get(admin, sessionId).expect(200)).body;

      const rebind = await put(sessionId, { user_id: 'someone-else', bool: true });
      expect(rebind.status).toBe(409);
      expect(rebind.body.responseStatus).toMatchObject({ errorCode: 'Conflict', errors: [{ fieldName: 'user_id' }] });
      // Another user_id is refused even together with a revocation.
      expect(fieldNames(await put(sessionId, { user_id: 'someone-else', bool: false }).expect(409))).toEqual([
        'user_id',
      ]);
      expect((await get(admin, sessionId).expect(200)).body).toEqual(created);

      await put(sessionId, { user_id: `${kind.kind}-rebind`, bool: true }).expect(204);
      await put(sessionId, { user_id: `${kind.kind}-rebind`, public_id: sessionId, bool: false }).expect(204);
      expect((await get(admin, sessionId).expect(200)).body).toEqual({ ...created, bool: false });
      await put(sessionId, { user_id: `${kind.kind}-rebind`, bool: false }).expect(204);

      const reassert = await put(sessionId, { user_id: `${kind.kind}-rebind`, bool: true });
      expect(reassert.status).toBe(409);
      expect(fieldNames(reassert)).toEqual(['bool']);
      expect((await get(admin, sessionId).expect(200)).body).toEqual({ ...created, bool: false });
    });

    it("a user's sessions (their logins' and those posted for their id) go when their config is rotated, disabled or deleted; others' stay", async () => {
      const userId = `${kind.kind}-leaver`;
      const bystander = await enrolAndLogIn(`${kind.kind}-bystander`);
      const { sessionId: first, configId } = await enrolAndLogIn(userId);
      const posted = (await create(admin, { user_id: userId, bool: true }).expect(201)).body.public_id as string;
      const postedForOther = (await create(admin, { user_id: `${userId}-2`, bool: true }).expect(201)).body
        .public_id as string;
      const status = async (publicId: string) => (await get(admin, publicId)).status;
      const expectStatuses = async (expected: Record<string, number>) => {
        const actual: Record<string, number> = {};
        for (const publicId of Object.keys(expected)) actual[publicId] = await status(publicId);
        expect(actual).toEqual(expected);
      };
      const others = { [bystander.sessionId]: 200, [postedForOther]: 200 };

      // Changes that leave the factor as it was keep the sessions.
      await changeConfig(configId, { unlock: true });
      await http()
        .post(`${kind.prefix}/${configId}/backupCodes`)
        .set('Authorization', `Bearer ${kindAdmin}`)
        .expect(200);
      await expectStatuses({ [first]: 200, [posted]: 200, ...others });

      const rotated = await changeConfig(configId, { rotateSecret: true });
      await expectStatuses({ [first]: 404, [posted]: 404, ...others });

      const afterRotation = await logIn(userId, rotated.secretKey!);
      expect((await changeConfig(configId, { enabled: false })).status).toBe('disabled');
      await expectStatuses({ [afterRotation]: 404, ...others });

      const reenabled = await changeConfig(configId, { enabled: true, rotateSecret: true });
      const beforeDeletion = await logIn(userId, reenabled.secretKey!);
      await http().delete(`${kind.prefix}/${configId}`).set('Authorization', `Bearer ${kindAdmin}`).expect(204);
      await expectStatuses({ [beforeDeletion]: 404, ...others });
    });
  });

  describe('auth', () => {
    it('no token is 401', async () => {
      const res = await http().get('/TwoFactorSession/').expect(401);
      expect(res.body.responseStatus.errorCode).toBe('Unauthorized');
      await http().post('/TwoFactorSession/').send({ user_id: 'x', bool: true }).expect(401);
    });

    it('a token without sessions:admin is 403, and nothing is created', async () => {
      const token = await mintToken({ tenant: 'acme', sub: 'someone', scope: 'agent:admin agent:login' });
      const res = await create(token, { user_id: 'x', public_id: 'forbidden-create', bool: true });
      expect(res.status).toBe(403);
      expect(res.body.responseStatus.errorCode).toBe('Forbidden');
      await http().get('/TwoFactorSession/').set('Authorization', `Bearer ${token}`).expect(403);
      await get(admin, 'forbidden-create').expect(404);
    });
  });
});

describe.each(testDatabases())('TwoFactorSession expiry on $name', (database: TestDatabase) => {
  /** A sweep every 100 ms of at most 3 rows, so a backlog takes many sweeps. */
  const settings = {
    ...BASE_SETTINGS,
    SESSION_TTL_SECONDS: '60',
    SESSION_SWEEP_INTERVAL_MS: '100',
    SESSION_SWEEP_BATCH_SIZE: '3',
  };
  const running = withApp(database, settings);
  let admin: string;

  beforeAll(async () => {
    admin = await mintToken({ tenant: 'acme', sub: 'session-admin', scope: 'sessions:admin' });
  });

  it('sessions live SESSION_TTL_SECONDS; an expired one is gone from GET, PUT, DELETE and the list', async () => {
    const http = () => request(running().url);
    const auth = `Bearer ${admin}`;
    const keep = await http().post('/TwoFactorSession/').set('Authorization', auth).send({ user_id: 'k', bool: true });
    const old = await http().post('/TwoFactorSession/').set('Authorization', auth).send({ user_id: 'o', bool: true });
    expect(old.status).toBe(201);
    expect(Date.parse(old.body.expires_at) - Date.parse(old.body.created_at)).toBe(60 * 1000);
    const before = await http().get('/TwoFactorSession/').set('Authorization', auth).expect(200);
    expect(before.headers['x-total-count']).toBe('2');

    await rawDataSource(running()).query('UPDATE two_factor_session SET expires_at = ? WHERE public_id = ?', [
      Date.now() - 1000,
      old.body.public_id,
    ]);

    await http().get(`/TwoFactorSession/${old.body.public_id}`).set('Authorization', auth).expect(404);
    await http()
      .put(`/TwoFactorSession/${old.body.public_id}`)
      .set('Authorization', auth)
      .send({ user_id: 'o', bool: true })
      .expect(404);
    await http().delete(`/TwoFactorSession/${old.body.public_id}`).set('Authorization', auth).expect(404);
    const after = await http().get('/TwoFactorSession/').set('Authorization', auth).expect(200);
    expect(after.headers['x-total-count']).toBe('1');
    expect(after.body.map((s: { public_id: string }) => s.public_id)).toEqual([keep.body.public_id]);
    await http().get(`/TwoFactorSession/${keep.body.public_id}`).set('Authorization', auth).expect(200);
  });
  it('expired rows are removed in the background in bounded batches by every instance, each row once; live ones stay', async () => {
    const second = await startApp(running().databaseUrl, settings);
    try {
      const instances = [running(), second];
      const db = rawDataSource(running());
      const count = async (condition: string): Promise<number> =>
        Number(
          (
            await db.query<{ n: number | string }[]>(
              `SELECT COUNT(*) AS n FROM two_factor_session WHERE ${condition}`,
              [Date.now()],
            )
          )[0].n,
        );
      /** Waits (polling, 30 s at most) until no row is expired. */
      const drained = async (): Promise<number> => {
        for (let waited = 0; waited < 30_000 && (await count('expires_at <= ?')) > 0; waited += 100) await sleep(100);
        return count('expires_at <= ?');
      };
      const removedByAll = async (): Promise<number> => {
        let total = 0;
        for (const instance of instances) {
          const text = (await request(instance.url).get('/metrics').expect(200)).text;
          total += Number(/^twofa_sessions_expired_removed_total (\d+)$/m.exec(text)?.[1] ?? 0);
        }
        return total;
      };
      expect(await drained()).toBe(0);
      const before = await removedByAll();
      const live = await count('expires_at > ?');

      const now = Date.now();
      const rows: unknown[][] = [];
      for (let i = 0; i < 40; i++) {
        const login = i % 2 === 0;
        rows.push([
          `t-${i % 3}`,
          `expired-${i}`,
          `u-${i}`,
          login ? 'agent' : null,
          login ? 'login' : 'api',
          now - 1000 - i,
        ]);
      }
      rows.push(['t-0', 'live-1', 'u-live', 'agent', 'login', now + 60_000]);
      rows.push(['t-1', 'live-2', 'u-live', null, 'api', now + 60_000]);
      for (const row of rows) {
        await db.query(
          'INSERT INTO two_factor_session (tenant, public_id, user_id, kind, origin, bool, created_at, expires_at) ' +
            'VALUES (?, ?, ?, ?, ?, 1, 0, ?)',
          row,
        );
      }

      expect(await drained()).toBe(0);
      expect(await count('expires_at > ?')).toBe(live + 2);
      expect((await removedByAll()) - before).toBe(40);
    } finally {
      await second.close();
    }
  });
});

describe.each(testDatabases())(
  'TwoFactorSession rows stored before origin existed, on $name',
  (database: TestDatabase) => {
    let databaseUrl: string;
    let running: RunningApp | undefined;

    afterAll(async () => {
      await running?.close();
      if (databaseUrl) await database.drop(databaseUrl);
    });

    /** Sessions as the service wrote them before: a login's with the user's kind, a posted one without. */
    function seedBeforeOrigin(now: number): Promise<void> {
      return withSchemaOf(
        databaseUrl,
        MIGRATIONS.slice(0, MIGRATIONS.indexOf(SessionOrigin1796500000000)),
        async (db) => {
          for (const [publicId, userId, kind] of [
            ['old-partner-login', 'pu-1', 'partner'],
            ['old-agent-login', 'ag-1', 'agent'],
            ['old-posted', 'pu-1', null],
          ]) {
            await db.query(
              'INSERT INTO two_factor_session (tenant, public_id, user_id, kind, bool, created_at, expires_at) ' +
                'VALUES (?, ?, ?, ?, 1, ?, ?)',
              ['acme', publicId, userId, kind, now, now + 3600_000],
            );
          }
        },
      );
    }

    it('the upgrade marks the sessions with a kind as login (their user_id stays), the others as api', async () => {
      databaseUrl = await database.create();
      await seedBeforeOrigin(Date.now());
      running = await startApp(databaseUrl, BASE_SETTINGS);
      const admin = `Bearer ${await mintToken({ tenant: 'acme', sub: 'session-admin', scope: 'sessions:admin' })}`;
      const http = () => request(running!.url);
      const origins = await http().get('/TwoFactorSession/').query({ order: 'asc' }).set('Authorization', admin);
      expect(
        Object.fromEntries(
          (origins.body as { public_id: string; origin: string }[]).map((s) => [s.public_id, s.origin]),
        ),
      ).toEqual({ 'old-partner-login': 'login', 'old-agent-login': 'login', 'old-posted': 'api' });

      for (const publicId of ['old-partner-login', 'old-agent-login']) {
        const res = await http()
          .put(`/TwoFactorSession/${publicId}`)
          .set('Authorization', admin)
          .send({ user_id: 'someone-else', bool: true });
        expect(res.status).toBe(409);
        expect(fieldNames(res)).toEqual(['user_id']);
      }
      await http()
        .put('/TwoFactorSession/old-posted')
        .set('Authorization', admin)
        .send({ user_id: 'someone-else', bool: true })
        .expect(204);
    });
  },
);
