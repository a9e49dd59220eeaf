import request from 'supertest';
import { fieldNames } from './helpers/http';
import { awaitFreshStep, oathtoolTotp, wrongCode } from './helpers/oathtool';
import { withApp } from './helpers/suite';
import { rawDataSource, TestDatabase, testDatabases } from './helpers/test-app';
import { sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';

/** Every setting these suites depend on, so one suite's settings never leak into the next app. */
const BASE_SETTINGS = { SESSION_TTL_SECONDS: '3600', LOCKOUT_MAX_FAILURES: '5', METRICS_REQUIRE_SCOPE: 'false' };
const AUDIT_FIELDS = [
  'actor',
  'configId',
  'createdAt',
  'event',
  'id',
  'keyId',
  'outcome',
  'requestId',
  'subjectId',
  'subjectKind',
];

interface AuditItem {
  id: string;
  event: string;
  outcome: string;
  actor: string | null;
  subjectKind: string | null;
  subjectId: string | null;
  configId: string | null;
  requestId: string | null;
  createdAt: string;
}

/** The value of one Prometheus sample, by its exact name and label set; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(testDatabases())('GET /audit and GET /metrics on $name', (database: TestDatabase) => {
  const running = withApp(database, BASE_SETTINGS);
  const tokens: Record<string, string> = {};
  const http = () => request(running().url);
  const bearer = (name: string) => `Bearer ${tokens[name]}`;

  // What the flow did, for the assertions.
  let configId: string;
  const secrets: string[] = [];
  const codes: string[] = [];
  let wrongCodeRequestId: string;
  let verifications = 0;

  const audit = (token: string, query: Record<string, string | number> = {}) =>
    http().get('/audit').query(query).set('Authorization', bearer(token));
  const verify = async (tenant: 'main' | 'other', agentid: string, code: string, path = '/loginapi/2fa:verify') => {
    verifications += 1;
    const res = await http()
      .post(path)
      .set('Authorization', bearer(`${tenant}Login`))
      .send({ agentid, code })
      .expect(200);
    await sleep(10); // every step of the flow in its own millisecond
    return res;
  };

  beforeAll(async () => {
    tokens.mainAdmin = await mintToken({ tenant: 'audit-t', sub: 'agent-admin', scope: 'agent:admin' });
    tokens.mainLogin = await mintToken({ tenant: 'audit-t', sub: 'login-service', scope: 'agent:login' });
    tokens.mainAudit = await mintToken({ tenant: 'audit-t', sub: 'auditor', scope: 'audit:read' });
    tokens.otherAdmin = await mintToken({ tenant: 'audit-other', sub: 'other-admin', scope: 'agent:admin' });
    tokens.otherLogin = await mintToken({ tenant: 'audit-other', sub: 'other-login', scope: 'agent:login' });
    tokens.otherAudit = await mintToken({ tenant: 'audit-other', sub: 'other-auditor', scope: 'audit:read' });

    // The flow: enrol, verify success, wrong code, replay, backup codes regenerate + use, rotate, delete.
    const enrol = await http()
      .post('/globalapi/2faConfig')
      .set('Authorization', bearer('mainAdmin'))
      .set('X-Request-Id', 'audit-test-1')
      .send({ agentid: 'audit-agent' })
      .expect(200);
    expect(enrol.headers['x-request-id']).toBe('audit-test-1');
    configId = enrol.body.id;
    secrets.push(enrol.body.secretKey);
    await sleep(10);

    await awaitFreshStep();
    const code = oathtoolTotp(enrol.body.secretKey);
    codes.push(code);
    expect((await verify('main', 'audit-agent', code)).body.result).toBe('success');
    const wrong = wrongCode(enrol.body.secretKey);
    codes.push(wrong);
    const failed = await verify('main', 'audit-agent', wrong);
    expect(failed.body.result).toBe('fail');
    wrongCodeRequestId = failed.headers['x-request-id'];
    expect((await verify('main', 'audit-agent', code)).body.result).toBe('fail'); // replay

    const backup = await http()
      .post(`/globalapi/2faConfig/${configId}/backupCodes`)
      .set('Authorization', bearer('mainAdmin'))
      .expect(200);
    codes.push(...(backup.body.codes as string[]));
    await sleep(10);
    expect((await verify('main', 'audit-agent', backup.body.codes[0])).body).toMatchObject({
      result: 'success',
      method: 'backup',
    });

    const rotated = await http()
      .put(`/globalapi/2faConfig/${configId}`)
      .set('Authorization', bearer('mainAdmin'))
      .send({ rotateSecret: true })
      .expect(200);
    secrets.push(rotated.body.secretKey);
    await sleep(10);
    await http().delete(`/globalapi/2faConfig/${configId}`).set('Authorization', bearer('mainAdmin')).expect(204);
    await sleep(10);

    // Another user of the same tenant, and a user of another tenant (its colon percent-encoded).
    const second = await http()
      .post('/globalapi/2faConfig')
      .set('Authorization', bearer('mainAdmin'))
      .send({ agentid: 'audit-agent-2' })
      .expect(200);
    secrets.push(second.body.secretKey);
    const other = await http()
      .post('/globalapi/2faConfig')
      .set('Authorization', bearer('otherAdmin'))
      .send({ agentid: 'other-agent' })
      .expect(200);
    secrets.push(other.body.secretKey);
    const otherWrong = wrongCode(other.body.secretKey);
    codes.push(otherWrong);
    expect((await verify('other', 'other-agent', otherWrong, '/loginapi/2fa%3Averify')).body.result).toBe('fail');
  });

  describe('GET /audit', () => {
    it("lists the subject's events newest first, with every field", async () => {
      const res = await audit('mainAudit', { subject: 'audit-agent' }).expect(200);
      expect(res.body).toMatchObject({ total: 10, page: 1, perPage: 50 });
      const items = res.body.items as AuditItem[];
      expect(items).toHaveLength(10);
      for (const item of items) {
        expect(Object.keys(item).sort()).toEqual(AUDIT_FIELDS);
        expect(item).toMatchObject({ subjectKind: 'agent', subjectId: 'audit-agent', configId });
        expect(item.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(new Date(Date.parse(item.createdAt)).toISOString()).toBe(item.createdAt);
      }
      const times = items.map((item) => Date.parse(item.createdAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);

      // Events written by one request share a millisecond; compare them as groups, newest first.
      const groups: string[][] = [];
      items.forEach((item, index) => {
        if (index > 0 && times[index] === times[index - 1]) groups[groups.length - 1].push(item.event);
        else groups.push([item.event]);
      });
      expect(groups.map((group) => group.sort())).toEqual([
        ['config.deleted'],
        ['config.rotated'],
        ['backup_code.used', 'verify.success'],
        ['backup_codes.regenerated'],
        ['verify.replay'],
        ['verify.fail'],
        ['config.activated', 'verify.success'],
        ['config.created'],
      ]);

      const byEvent = (event: string) => items.filter((item) => item.event === event);
      expect(byEvent('config.created')[0]).toMatchObject({ actor: 'agent-admin', outcome: 'success' });
      expect(byEvent('config.deleted')[0]).toMatchObject({ actor: 'agent-admin', outcome: 'success' });
      expect(byEvent('verify.fail')[0]).toMatchObject({ actor: 'login-service', outcome: 'failure' });
      expect(byEvent('verify.replay')[0]).toMatchObject({ actor: 'login-service', outcome: 'failure' });
      for (const success of byEvent('verify.success')) expect(success.outcome).toBe('success');
    });

    it('the requestId of an event is the X-Request-Id of its request (sent or generated)', async () => {
      const created = await audit('mainAudit', { subject: 'audit-agent', event: 'config.created' }).expect(200);
      expect(created.body.items).toMatchObject([{ event: 'config.created', requestId: 'audit-test-1' }]);
      const failed = await audit('mainAudit', { event: 'verify.fail', subject: 'audit-agent' }).expect(200);
      expect(wrongCodeRequestId).toEqual(expect.any(String));
      expect(failed.body.items).toMatchObject([{ requestId: wrongCodeRequestId }]);
    });

    it('filters by event and by subject', async () => {
      const all = await audit('mainAudit').expect(200);
      expect(all.body.total).toBe(11); // audit-agent's 10 and audit-agent-2's config.created
      expect(all.body.items.map((item: AuditItem) => item.subjectId)).toContain('audit-agent-2');

      const successes = await audit('mainAudit', { event: 'verify.success' }).expect(200);
      expect(successes.body.total).toBe(2);
      expect(successes.body.items.map((item: AuditItem) => item.event)).toEqual(['verify.success', 'verify.success']);

      const created = await audit('mainAudit', { event: 'config.created' }).expect(200);
      expect(created.body.items.map((item: AuditItem) => item.subjectId)).toEqual(['audit-agent-2', 'audit-agent']);

      const second = await audit('mainAudit', { subject: 'audit-agent-2' }).expect(200);
      expect(second.body).toMatchObject({ total: 1, items: [{ event: 'config.created', subjectId: 'audit-agent-2' }] });

      const none = await audit('mainAudit', { subject: 'nobody', event: 'verify.fail' }).expect(200);
      expect(none.body).toEqual({ items: [], total: 0, page: 1, perPage: 50 });
    });

    it('pages with page and perPage, and total counts every match', async () => {
      const all = (await audit('mainAudit', { subject: 'audit-agent' }).expect(200)).body.items as AuditItem[];
      const pages: AuditItem[] = [];
      for (let page = 1; page <= 4; page += 1) {
        const res = await audit('mainAudit', { subject: 'audit-agent', page, perPage: 3 }).expect(200);
        expect(res.body).toMatchObject({ total: 10, page, perPage: 3 });
        expect(res.body.items).toHaveLength(page < 4 ? 3 : 1);
        pages.push(...(res.body.items as AuditItem[]));
      }
      expect(pages.map((item) => item.id)).toEqual(all.map((item) => item.id));
      const beyond = await audit('mainAudit', { subject: 'audit-agent', page: 5, perPage: 3 }).expect(200);
      expect(beyond.body).toEqual({ items: [], total: 10, page: 5, perPage: 3 });
    });

    it("another tenant's events are invisible", async () => {
      const other = await audit('otherAudit').expect(200);
      expect(other.body.total).toBe(2);
      expect(new Set(other.body.items.map((item: AuditItem) => item.subjectId))).toEqual(new Set(['other-agent']));
      expect(other.body.items.map((item: AuditItem) => item.event).sort()).toEqual(['config.created', 'verify.fail']);
      const cross = await audit('otherAudit', { subject: 'audit-agent' }).expect(200);
      expect(cross.body.total).toBe(0);
      const main = await audit('mainAudit', { subject: 'other-agent' }).expect(200);
      expect(main.body.total).toBe(0);
    });

    it('never holds a secret or a code, neither in the API nor in the stored rows', async () => {
      expect(secrets).toHaveLength(4); // enrolment, rotation, audit-agent-2, other-agent
      expect(codes).toHaveLength(13);
      const needles = [
        ...secrets,
        ...codes,
        ...codes.filter((code) => code.includes('-')).map((code) => code.replace(/-/g, '')),
      ];
      // ids are random UUIDs and times are digits: a 6-digit code could appear there by chance.
      const generated = new Set(['id', 'configId', 'requestId', 'createdAt', 'config_id', 'request_id', 'created_at']);
      const check = (row: Record<string, unknown>) => {
        for (const [key, value] of Object.entries(row)) {
          if (value === null || generated.has(key)) continue;
          for (const needle of needles) expect(`${key}=${JSON.stringify(value)}`).not.toContain(needle);
        }
        for (const secret of secrets) expect(JSON.stringify(row)).not.toContain(secret);
      };
      for (const token of ['mainAudit', 'otherAudit']) {
        const res = await audit(token, { perPage: 200 }).expect(200);
        (res.body.items as Record<string, unknown>[]).forEach(check);
      }
      const rows: Record<string, unknown>[] = await rawDataSource(running()).query('SELECT * FROM audit_event');
      expect(rows).toHaveLength(13);
      rows.forEach(check);
    });

    it('no token is 401; a token without audit:read is 403; bad paging or event is 400', async () => {
      const anonymous = await http().get('/audit').expect(401);
      expect(anonymous.body.responseStatus.errorCode).toBe('Unauthorized');
      const forbidden = await http().get('/audit').set('Authorization', bearer('mainAdmin')).expect(403);
      expect(forbidden.body.responseStatus.errorCode).toBe('Forbidden');
      for (const [field, query] of [
        ['perPage', { perPage: 0 }],
        ['perPage', { perPage: 201 }],
        ['page', { page: 0 }],
        ['event', { event: 'DROP TABLE' }],
      ] as const) {
        const res = await audit('mainAudit', query).expect(400);
        expect(res.body.responseStatus.errorCode).toBe('ValidationError');
        expect(fieldNames(res)).toContain(field);
      }
    });
  });

  describe('GET /metrics', () => {
    it('is open by default and answers Prometheus text with request counts, latency and verify outcomes', async () => {
      const res = await http().get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.text;
      expect(text).toContain('# TYPE twofa_http_requests_total counter');
      expect(text).toContain('# TYPE twofa_http_request_duration_seconds histogram');

      const verifyRoute = 'twofa_http_requests_total{method="POST",route="/loginapi/2fa:verify",status="200"}';
      expect(verifications).toBe(5);
      expect(sample(text, verifyRoute)).toBeGreaterThanOrEqual(verifications);
      // Routes are templates: no ids, no percent-encoded or doubled colons.
      expect(text).not.toMatch(/route="[^"]*(%3A|::)/i);
      expect(text).not.toContain(configId);
      expect(
        sample(text, 'twofa_http_requests_total{method="DELETE",route="/globalapi/2faConfig/:id",status="204"}'),
      ).toBe(1);
      expect(sample(text, 'twofa_http_requests_total{method="POST",route="/globalapi/2faConfig",status="200"}')).toBe(
        3,
      );

      expect(text).toMatch(
        /^twofa_http_request_duration_seconds_bucket\{le="[0-9.]+",method="POST",route="\/loginapi\/2fa:verify"\} \d+$/m,
      );
      expect(
        sample(
          text,
          'twofa_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/loginapi/2fa:verify"}',
        ),
      ).toBeGreaterThanOrEqual(verifications);
      expect(
        sample(text, 'twofa_http_request_duration_seconds_count{method="POST",route="/loginapi/2fa:verify"}'),
      ).toBeGreaterThanOrEqual(verifications);

      expect(sample(text, 'twofa_verify_total{result="success",method="totp"}')).toBe(1);
      expect(sample(text, 'twofa_verify_total{result="success",method="backup"}')).toBe(1);
      expect(sample(text, 'twofa_verify_total{result="fail",method="totp"}')).toBe(2);
      expect(sample(text, 'twofa_verify_total{result="replay",method="totp"}')).toBe(1);
    });

    it('counts each scrape-visible request: a further verification raises the counters', async () => {
      const before = (await http().get('/metrics').expect(200)).text;
      await verify('main', 'audit-agent-2', '000000');
      const after = (await http().get('/metrics').expect(200)).text;
      const series = 'twofa_http_requests_total{method="POST",route="/loginapi/2fa:verify",status="200"}';
      expect(sample(after, series)).toBe(sample(before, series)! + 1);
      // audit-agent-2 is pending: a wrong code is a TOTP failure (000000 is wrong unless the secret says otherwise).
      const failures = (text: string) =>
        (sample(text, 'twofa_verify_total{result="fail",method="totp"}') ?? 0) +
        (sample(text, 'twofa_verify_total{result="success",method="totp"}') ?? 0);
      expect(failures(after)).toBe(failures(before) + 1);
    });
  });
});

describe.each(testDatabases())('GET /metrics with METRICS_REQUIRE_SCOPE=true on $name', (database: TestDatabase) => {
  const running = withApp(database, { ...BASE_SETTINGS, METRICS_REQUIRE_SCOPE: 'true' });

  it('no token is 401, a token without metrics:read 403, a token with metrics:read 200', async () => {
    const anonymous = await request(running().url).get('/metrics').expect(401);
    expect(anonymous.body.responseStatus.errorCode).toBe('Unauthorized');
    expect(anonymous.text).not.toContain('twofa_http_requests_total');

    const auditor = await mintToken({ tenant: 'acme', sub: 'auditor', scope: 'audit:read' });
    const forbidden = await request(running().url)
      .get('/metrics')
      .set('Authorization', `Bearer ${auditor}`)
      .expect(403);
    expect(forbidden.body.responseStatus.errorCode).toBe('Forbidden');

    const scraper = await mintToken({ tenant: 'acme', sub: 'prometheus', scope: 'metrics:read' });
    const res = await request(running().url).get('/metrics').set('Authorization', `Bearer ${scraper}`).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    // The refused scrapes were counted too.
    expect(sample(res.text, 'twofa_http_requests_total{method="GET",route="/metrics",status="401"}')).toBe(1);
    expect(sample(res.text, 'twofa_http_requests_total{method="GET",route="/metrics",status="403"}')).toBe(1);
  });
});
