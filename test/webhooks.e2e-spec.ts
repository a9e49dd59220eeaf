import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { keyIdOf } from '../src/two-factor/crypto/secret-cipher';
import { Child, freePort, startChild } from '../tools/shared/processes';
import { expectStatus, fieldNames } from './helpers/http';
import { awaitFreshStep, oathtoolTotp, wrongCode } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import {
  judgeAnswersOfProcess,
  rawDataSource,
  RunningApp,
  startApp,
  TEST_ENCRYPTION_KEY,
  TEST_JWT_SECRET,
  TestDatabase,
  testDatabases,
} from './helpers/test-app';
import { nowSeconds, sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';
import { WEBHOOK_EVENT_TYPES, WebhookEventType } from '../src/webhooks/webhook-events';
import { duplicates, verifyAll, WebhookReceiver } from './helpers/webhook-receiver';

/**
 * Webhooks (issue 14) against the real app, a real database and a receiver on loopback that verifies
 * every delivery with the standardwebhooks package, as an integrator would.
 */

jest.setTimeout(120_000);

/** The delivery worker's timing, fast: polls every 50 ms, retries after 25 ms to 1 s, 10 attempts (5 s timeout). */
const FAST_DELIVERY = {
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '1000',
  WEBHOOK_MAX_ATTEMPTS: '10',
};
/** The receiver is on loopback over plain http, so these suites allow both. */
const OPEN = {
  ...TOTP_SETTINGS,
  LOCKOUT_MAX_FAILURES: '5',
  METRICS_REQUIRE_SCOPE: 'false',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  // startApp leaves settings in process.env: one case sets the key list, the next apps must not inherit it.
  TWOFA_ENCRYPTION_KEYS: '',
  ...FAST_DELIVERY,
};
/** The production defaults. */
const STRICT = { ...OPEN, WEBHOOK_ALLOW_HTTP: 'false', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' };

/** How long to keep listening after the expected deliveries arrived, so a duplicate would show. */
const DUPLICATE_WATCH_MS = 500;

interface Delivery {
  id: string;
  eventId: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
}

/** The routes the tests call, with a token per tenant, scope and subject. */
function clientOf(running: () => RunningApp) {
  const tokens = new Map<string, Promise<string>>();
  const bearer = async (tenant: string, scope: string, sub = 'service', kind?: 'partner' | 'agent') => {
    const key = `${tenant}|${scope}|${sub}|${kind}`;
    if (!tokens.has(key)) tokens.set(key, mintToken({ tenant, sub, scope, kind }));
    return `Bearer ${await tokens.get(key)!}`;
  };
  const http = () => request(running().url);
  const admin = (tenant: string) => bearer(tenant, 'webhooks:admin', 'hooks-admin');

  return {
    http,
    bearer,
    async subscribe(tenant: string, url: string, events?: string[]) {
      const res = await http()
        .post('/webhooks')
        .set('Authorization', await admin(tenant))
        .send(events ? { url, events } : { url });
      expectStatus(res, 201);
      return res.body as { id: string; url: string; events: string[] | null; createdAt: string; secret: string };
    },
    async deliveries(tenant: string, subscriptionId: string, query: Record<string, string | number> = {}) {
      const res = await http()
        .get(`/webhooks/${subscriptionId}/deliveries`)
        .query({ perPage: 200, ...query })
        .set('Authorization', await admin(tenant));
      expectStatus(res, 200);
      return res.body as { items: Delivery[]; total: number; page: number; perPage: number };
    },
    async waitForDeliveries(
      tenant: string,
      subscriptionId: string,
      what: string,
      done: (items: Delivery[]) => boolean,
    ) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const { items } = await this.deliveries(tenant, subscriptionId);
        if (done(items)) return items;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(items)}`);
        await sleep(50);
      }
    },
    async enrol(tenant: string, userId: string) {
      const res = await http()
        .post('/partnerglobalapi/2faConfig')
        .set('Authorization', await bearer(tenant, 'partner:admin', 'config-admin'))
        .send({ partneruserid: userId });
      expectStatus(res, 200);
      return { id: res.body.id as string, secret: res.body.secretKey as string };
    },
    async updateConfig(tenant: string, id: string, body: Record<string, unknown>) {
      const res = await http()
        .put(`/partnerglobalapi/2faConfig/${id}`)
        .set('Authorization', await bearer(tenant, 'partner:admin', 'config-admin'))
        .send(body);
      return expectStatus(res, 200).body as { secretKey?: string };
    },
    async deleteConfig(tenant: string, id: string) {
      const res = await http()
        .delete(`/partnerglobalapi/2faConfig/${id}`)
        .set('Authorization', await bearer(tenant, 'partner:admin', 'config-admin'));
      expectStatus(res, 204);
    },
    async backupCodes(tenant: string, id: string) {
      const res = await http()
        .post(`/partnerglobalapi/2faConfig/${id}/backupCodes`)
        .set('Authorization', await bearer(tenant, 'partner:admin', 'config-admin'));
      return expectStatus(res, 200).body.codes as string[];
    },
    async login(tenant: string, userId: string, code: string, requestId?: string) {
      const req = http()
        .post('/partnerloginapi/2fa:verify')
        .set('Authorization', await bearer(tenant, 'partner:login', 'login-service'));
      if (requestId) void req.set('X-Request-Id', requestId);
      const res = await req.send({ partneruserid: userId, code });
      return res.status === 200 ? (res.body.result as string) : `HTTP ${res.status}`;
    },
    async reset(tenant: string, callerId: string, callerCode: string, targetUserId: string) {
      const res = await http()
        .put('/users/2fa/reset')
        .set('Authorization', await bearer(tenant, 'users:reset', callerId, 'partner'))
        .send({ organisationId: tenant, callerCode, targetUserId });
      expectStatus(res, 200);
    },
  };
}

/** The value of one Prometheus sample, by its exact name and label set; undefined when absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(testDatabases())('webhooks on $name', (database: TestDatabase) => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });

  afterAll(() => receiver.stop());

  describe('subscriptions', () => {
    const running = withApp(database, OPEN);
    const client = clientOf(running);

    it('shows the signing secret once and stores it sealed, bound to its row', async () => {
      const created = await client.subscribe('subs-a', receiver.url('/hooks/subs'), ['reset', 'lockout.engaged']);
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        url: receiver.url('/hooks/subs'),
        events: ['lockout.engaged', 'reset'],
        createdAt: expect.any(String),
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      });
      const admin = await client.bearer('subs-a', 'webhooks:admin');
      const one = await client.http().get(`/webhooks/${created.id}`).set('Authorization', admin).expect(200);
      expect(one.body).toEqual({
        id: created.id,
        url: created.url,
        events: created.events,
        createdAt: created.createdAt,
      });
      const list = await client.http().get('/webhooks').set('Authorization', admin).expect(200);
      expect(list.body).toEqual({ items: [one.body], total: 1, page: 1, perPage: 20 });

      const rows = await rawDataSource(running()).query('SELECT * FROM webhook_subscription');
      expect(JSON.stringify(rows)).not.toContain(created.secret.slice('whsec_'.length));
      expect(rows[0].secret_ciphertext).toMatch(/^v1\./);
      // Sealed for this row: moved to another subscription, the secret no longer opens (a failed attempt).
      const other = await client.subscribe('subs-a', receiver.url('/hooks/subs-moved'));
      await rawDataSource(running()).query('UPDATE webhook_subscription SET secret_ciphertext = ? WHERE id = ?', [
        rows[0].secret_ciphertext,
        other.id,
      ]);
      const test = await client.http().post(`/webhooks/${other.id}/test`).set('Authorization', admin).expect(202);
      const [delivery] = await client.waitForDeliveries('subs-a', other.id, 'a failed attempt', (items) =>
        items.some((item) => item.attempts >= 1 && item.lastError !== null),
      );
      expect(delivery).toMatchObject({
        eventId: test.body.eventId,
        event: 'webhook.test',
        lastError: 'the signing secret cannot be decrypted (authentication-failed)',
      });
      expect(receiver.at('/hooks/subs-moved')).toHaveLength(0);
    });

    it('sends a test event to the one subscription asked, signed with its secret', async () => {
      const created = await client.subscribe('subs-test', receiver.url('/hooks/test'), ['reset']);
      const res = await client
        .http()
        .post(`/webhooks/${created.id}/test`)
        .set('Authorization', await client.bearer('subs-test', 'webhooks:admin', 'tester'))
        .set('X-Request-Id', 'webhook-test-1')
        .expect(202);
      await receiver.waitFor('the test event', () => receiver.at('/hooks/test').length === 1);
      const [event] = verifyAll(receiver.at('/hooks/test'), created.secret);
      expect(event).toMatchObject({
        id: res.body.eventId,
        type: 'webhook.test',
        data: {
          tenant: 'subs-test',
          subscriptionId: created.id,
          actor: 'tester',
          requestId: 'webhook-test-1',
          subjectKind: null,
          subjectId: null,
          configId: null,
        },
      });
      const [delivery] = await client.waitForDeliveries('subs-test', created.id, 'delivered', (items) =>
        items.every((item) => item.status === 'delivered'),
      );
      expect(delivery).toMatchObject({
        id: res.body.deliveryId,
        status: 'delivered',
        attempts: 1,
        lastStatusCode: 204,
        lastError: null,
        nextAttemptAt: null,
      });
    });

    it("answers another tenant's subscription with 404 on every route, and lists only your own", async () => {
      const mine = await client.subscribe('subs-mine', receiver.url('/hooks/mine'));
      const theirs = await client.bearer('subs-theirs', 'webhooks:admin');
      const http = client.http();
      for (const req of [
        http.get(`/webhooks/${mine.id}`),
        http.delete(`/webhooks/${mine.id}`),
        http.post(`/webhooks/${mine.id}/test`),
        http.get(`/webhooks/${mine.id}/deliveries`),
      ]) {
        const res = await req.set('Authorization', theirs);
        expect({ status: res.status, errorCode: res.body.responseStatus?.errorCode }).toEqual({
          status: 404,
          errorCode: 'NotFound',
        });
      }
      const list = await http.get('/webhooks').set('Authorization', theirs).expect(200);
      expect(list.body.total).toBe(0);
      const still = await http
        .get(`/webhooks/${mine.id}`)
        .set('Authorization', await client.bearer('subs-mine', 'webhooks:admin'));
      expect(still.status).toBe(200);
    });

    it('needs a token with the scope webhooks:admin', async () => {
      await client.http().get('/webhooks').expect(401);
      const wrongScope = await client.bearer('subs-a', 'partner:admin');
      const res = await client.http().post('/webhooks').set('Authorization', wrongScope).send({ url: receiver.url() });
      expect({ status: res.status, errorCode: res.body.responseStatus.errorCode }).toEqual({
        status: 403,
        errorCode: 'Forbidden',
      });
    });

    it('refuses unknown event types and an empty list, naming events', async () => {
      const admin = await client.bearer('subs-bad', 'webhooks:admin');
      for (const events of [['verify.success'], [], ['reset', 'reset'], 'reset']) {
        const res = await client
          .http()
          .post('/webhooks')
          .set('Authorization', admin)
          .send({ url: receiver.url(), events });
        expect(res.status).toBe(400);
        expect(fieldNames(res)).toContain('events');
      }
    });

    it('deletes a subscription with its deliveries, and keeps a tenant to 10 subscriptions', async () => {
      const admin = await client.bearer('subs-many', 'webhooks:admin');
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push((await client.subscribe('subs-many', receiver.url(`/hooks/many-${i}`))).id);
      const eleventh = await client.http().post('/webhooks').set('Authorization', admin).send({ url: receiver.url() });
      expect({ status: eleventh.status, errorCode: eleventh.body.responseStatus.errorCode }).toEqual({
        status: 409,
        errorCode: 'Conflict',
      });
      await client.http().post(`/webhooks/${ids[0]}/test`).set('Authorization', admin).expect(202);
      await client.http().delete(`/webhooks/${ids[0]}`).set('Authorization', admin).expect(204);
      const left = await rawDataSource(running()).query(
        'SELECT COUNT(*) AS n FROM webhook_delivery WHERE subscription_id = ?',
        [ids[0]],
      );
      expect(Number(left[0].n)).toBe(0);
      await client.http().get(`/webhooks/${ids[0]}`).set('Authorization', admin).expect(404);
      await client.subscribe('subs-many', receiver.url('/hooks/many-again'));
      const audit = await client
        .http()
        .get('/audit')
        .query({ subject: ids[0] })
        .set('Authorization', await client.bearer('subs-many', 'audit:read'))
        .expect(200);
      expect(audit.body.items.map((item: { event: string }) => item.event).sort()).toEqual([
        'webhook.created',
        'webhook.deleted',
      ]);
    });
  });

  describe('delivery', () => {
    // Locks of 1 s, and a hard lock at the 10th consecutive failure: the flow reaches both.
    const running = withApp(database, { ...OPEN, LOCKOUT_SECONDS: '1', LOCKOUT_HARD_LIMIT: '10' });
    const client = clientOf(running);
    const TENANT = 'hooks-flow';

    it('delivers each event type once, signed so that standardwebhooks verifies it, with ids and no secrets', async () => {
      const all = await client.subscribe(TENANT, receiver.url('/hooks/all'));
      const resetOnly = await client.subscribe(TENANT, receiver.url('/hooks/reset-only'), ['reset']);
      const other = await client.subscribe('hooks-flow-other', receiver.url('/hooks/other'));
      const secrets: string[] = [];
      const codes: string[] = [];

      // The target: enrolled, activated, backup codes made and used down to 2, locked, hard-locked, rotated,
      // disabled, deleted.
      const target = await client.enrol(TENANT, 'pu-target');
      secrets.push(target.secret);
      await awaitFreshStep();
      const activation = oathtoolTotp(target.secret);
      codes.push(activation);
      expect(await client.login(TENANT, 'pu-target', activation, 'webhook-activation')).toBe('success');
      const backup = await client.backupCodes(TENANT, target.id);
      codes.push(...backup);
      for (const code of backup.slice(0, 8)) expect(await client.login(TENANT, 'pu-target', code)).toBe('success');
      const wrong = wrongCode(target.secret);
      codes.push(wrong);
      for (let i = 0; i < 5; i++) expect(await client.login(TENANT, 'pu-target', wrong)).toBe('fail');
      // The lock began before the 5th answer and lasts 1 s; the count goes on: the 10th failure hard-locks.
      await sleep(1100);
      for (let i = 0; i < 5; i++) expect(await client.login(TENANT, 'pu-target', wrong)).toBe('fail');
      secrets.push((await client.updateConfig(TENANT, target.id, { rotateSecret: true })).secretKey!);
      await client.updateConfig(TENANT, target.id, { enabled: false });
      await client.deleteConfig(TENANT, target.id);

      // A reset: the caller proves their own 2FA (activated with the previous step's code, reset with this one's).
      const caller = await client.enrol(TENANT, 'pu-caller');
      const resetTarget = await client.enrol(TENANT, 'pu-reset-target');
      secrets.push(caller.secret, resetTarget.secret);
      await awaitFreshStep();
      const previousStep = oathtoolTotp(caller.secret, { at: nowSeconds() - 30 });
      expect(await client.login(TENANT, 'pu-caller', previousStep)).toBe('success');
      const callerCode = oathtoolTotp(caller.secret);
      codes.push(previousStep, callerCode);
      await client.reset(TENANT, 'pu-caller', callerCode, 'pu-reset-target');

      // A secret that does not open (another row's ciphertext written into this one): a failure like a
      // wrong code, reported as secret.integrity_error, without the ciphertext.
      const damaged = await client.enrol(TENANT, 'pu-damaged');
      secrets.push(damaged.secret);
      const dataSource = rawDataSource(running());
      const [{ sealed }] = await dataSource.query<{ sealed: string }[]>(
        'SELECT secret_ciphertext AS sealed FROM two_factor_config WHERE id = ?',
        [caller.id],
      );
      await dataSource.query('UPDATE two_factor_config SET secret_ciphertext = ? WHERE id = ?', [sealed, damaged.id]);
      expect(await client.login(TENANT, 'pu-damaged', oathtoolTotp(damaged.secret), 'webhook-integrity')).toBe('fail');

      // Another tenant's change goes to that tenant's subscription only.
      await client.enrol('hooks-flow-other', 'pu-elsewhere');

      const expected: Record<WebhookEventType, number> = {
        'config.created': 4,
        'config.activated': 2,
        'config.rotated': 1,
        'config.disabled': 1,
        'config.deleted': 1,
        'backup_codes.regenerated': 1,
        'backup_code.used': 8,
        'backup_codes.low': 1,
        'lockout.engaged': 1,
        'lockout.hard': 1,
        reset: 1,
        'secret.integrity_error': 1,
      };
      // Every type a tenant can subscribe to is in this flow.
      expect(Object.keys(expected)).toEqual([...WEBHOOK_EVENT_TYPES]);
      const total = Object.values(expected).reduce((sum, n) => sum + n, 0);
      await receiver.waitFor('every event', () => receiver.at('/hooks/all').length >= total);
      await receiver.waitFor('the reset', () => receiver.at('/hooks/reset-only').length >= 1);
      await receiver.waitFor("the other tenant's event", () => receiver.at('/hooks/other').length >= 1);
      await sleep(DUPLICATE_WATCH_MS);

      expect(duplicates(receiver.received)).toEqual({});
      const events = verifyAll(receiver.at('/hooks/all'), all.secret);
      const counts: Record<string, number> = {};
      for (const event of events) counts[event.type] = (counts[event.type] ?? 0) + 1;
      expect(counts).toEqual(expected);
      expect(verifyAll(receiver.at('/hooks/reset-only'), resetOnly.secret).map((event) => event.type)).toEqual([
        'reset',
      ]);
      expect(verifyAll(receiver.at('/hooks/other'), other.secret)).toEqual([
        expect.objectContaining({
          type: 'config.created',
          data: expect.objectContaining({ tenant: 'hooks-flow-other' }),
        }),
      ]);
      // A secret of one subscription verifies none of another's deliveries.
      expect(() => verifyAll(receiver.at('/hooks/reset-only'), all.secret)).toThrow();

      for (const event of events) {
        expect(Object.keys(JSON.parse(event.body))).toEqual(['type', 'timestamp', 'data']);
        expect(Date.parse(event.timestamp)).not.toBeNaN();
        expect(event.data).toMatchObject({ tenant: TENANT, subjectKind: 'partner' });
        expect(Object.keys(event.data)).toEqual(
          expect.arrayContaining(['tenant', 'subjectKind', 'subjectId', 'configId', 'actor', 'requestId']),
        );
        for (const secret of [...secrets, ...codes]) expect(event.body).not.toContain(secret);
        for (const code of backup) expect(event.body).not.toContain(code.replace('-', ''));
        for (const part of sealed.split('.').slice(2)) expect(event.body).not.toContain(part);
        expect(JSON.stringify(event.data)).not.toMatch(/otpauth|secret|v1\./i);
      }
      const ofType = (type: string) => events.filter((event) => event.type === type);
      expect(ofType('config.activated')[0].data).toMatchObject({
        subjectId: 'pu-target',
        configId: target.id,
        actor: 'login-service',
        requestId: 'webhook-activation',
      });
      expect(ofType('backup_code.used').map((event) => event.data.backupCodesRemaining)).toEqual(
        expect.arrayContaining([9, 8, 7, 6, 5, 4, 3, 2]),
      );
      expect(ofType('backup_codes.low')[0].data).toMatchObject({ configId: target.id, backupCodesRemaining: 2 });
      expect(ofType('reset')[0].data).toMatchObject({ subjectId: 'pu-reset-target', configId: resetTarget.id });
      expect(ofType('lockout.hard')[0].data).toMatchObject({ subjectId: 'pu-target', configId: target.id });
      expect(ofType('secret.integrity_error')[0].data).toEqual({
        tenant: TENANT,
        subjectKind: 'partner',
        subjectId: 'pu-damaged',
        configId: damaged.id,
        actor: 'login-service',
        requestId: 'webhook-integrity',
      });

      const { items } = await client.deliveries(TENANT, all.id);
      expect(items).toHaveLength(total);
      for (const item of items) {
        expect(item).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204, nextAttemptAt: null });
      }
    });

    it('delivers everything, once, when a receiver that was down comes back', async () => {
      const subscription = await client.subscribe('hooks-down', receiver.url('/hooks/down'), [
        'backup_codes.regenerated',
      ]);
      const config = await client.enrol('hooks-down', 'pu-down');
      await receiver.stop();
      try {
        for (let i = 0; i < 10; i++) await client.backupCodes('hooks-down', config.id);
        const items = await client.waitForDeliveries(
          'hooks-down',
          subscription.id,
          'failed attempts',
          (found) => found.length === 10 && found.every((item) => item.attempts >= 1 && item.lastError !== null),
        );
        for (const item of items) {
          expect(item).toMatchObject({ status: 'pending', lastError: 'connection refused', lastStatusCode: null });
          expect(item.nextAttemptAt).not.toBeNull();
        }
      } finally {
        await receiver.listen();
      }
      await receiver.waitFor('10 deliveries', () => receiver.at('/hooks/down').length >= 10);
      await sleep(DUPLICATE_WATCH_MS);
      expect(receiver.at('/hooks/down')).toHaveLength(10);
      const events = verifyAll(receiver.at('/hooks/down'), subscription.secret);
      expect(new Set(events.map((event) => event.id)).size).toBe(10);
      const delivered = await client.deliveries('hooks-down', subscription.id, { status: 'delivered' });
      expect(delivered.total).toBe(10);
      expect(Math.max(...delivered.items.map((item) => item.attempts))).toBeGreaterThanOrEqual(2);
    });

    it('marks a delivery failed after the last attempt, keeping at most 1 KiB of the answer', async () => {
      receiver.answer('/hooks/failing', 500, 'x'.repeat(4096));
      const subscription = await client.subscribe('hooks-failing', receiver.url('/hooks/failing'));
      await client
        .http()
        .post(`/webhooks/${subscription.id}/test`)
        .set('Authorization', await client.bearer('hooks-failing', 'webhooks:admin'))
        .expect(202);
      const [failed] = await client.waitForDeliveries('hooks-failing', subscription.id, 'failed', (items) =>
        items.every((item) => item.status === 'failed'),
      );
      expect(failed).toMatchObject({ attempts: 10, lastStatusCode: 500, nextAttemptAt: null, deliveredAt: null });
      expect(failed.lastError).toBe(`HTTP 500: ${'x'.repeat(1024)}`);
      expect(receiver.at('/hooks/failing')).toHaveLength(10);
      const paged = await client.deliveries('hooks-failing', subscription.id, {
        status: 'failed',
        perPage: 1,
        page: 1,
      });
      expect(paged).toMatchObject({ total: 1, page: 1, perPage: 1 });
    });

    it('counts pending, delivered and failed deliveries in /metrics', async () => {
      const metrics = (await client.http().get('/metrics').expect(200)).text;
      // The tests above: 23 + 1 + 1 events of the flow, 10 after the receiver came back; one failed for good
      // after 9 retries, and each of those 10 was retried at least once.
      expect(sample(metrics, 'twofa_webhook_deliveries_total{result="delivered"}')).toBe(35);
      expect(sample(metrics, 'twofa_webhook_deliveries_total{result="failed"}')).toBe(1);
      expect(sample(metrics, 'twofa_webhook_attempts_total{result="retry"}')).toBeGreaterThanOrEqual(19);
      const [{ n }] = await rawDataSource(running()).query(
        "SELECT COUNT(*) AS n FROM webhook_delivery WHERE status = 'pending'",
      );
      expect(sample(metrics, 'twofa_webhook_deliveries_pending')).toBe(Number(n));
    });

    it('counts the stored secrets per encryption key in /metrics, old keys by their place in the list', async () => {
      const count = async (sql: string) => Number((await rawDataSource(running()).query(sql))[0].n);
      const [configs, codes, subscriptions] = await Promise.all([
        count('SELECT COUNT(*) AS n FROM two_factor_config'),
        count('SELECT COUNT(*) AS n FROM backup_code WHERE used_at IS NULL'),
        count('SELECT COUNT(*) AS n FROM webhook_subscription'),
      ]);
      const current = keyIdOf(Buffer.from(TEST_ENCRYPTION_KEY, 'base64'));
      const series = (secret: string, keyId: string, key: string) =>
        `twofa_encrypted_rows{secret="${secret}",key_id="${keyId}",key="${key}"}`;
      const metrics = (await client.http().get('/metrics').expect(200)).text;
      expect(sample(metrics, series('totp_secret', current, '1'))).toBe(configs);
      expect(sample(metrics, series('backup_code', current, '1'))).toBe(codes);
      expect(sample(metrics, series('webhook_secret', current, '1'))).toBe(subscriptions);

      // The same rows seen by an instance whose new key comes first: all of them are under key 2.
      const newKey = randomBytes(32).toString('base64');
      const rotated = await startApp(running().databaseUrl, {
        ...OPEN,
        TWOFA_ENCRYPTION_KEYS: `${newKey},${TEST_ENCRYPTION_KEY}`,
      });
      try {
        const seen = (await request(rotated.url).get('/metrics').expect(200)).text;
        expect(sample(seen, series('totp_secret', current, '2'))).toBe(configs);
        expect(sample(seen, series('webhook_secret', current, '2'))).toBe(subscriptions);
        expect(seen).not.toContain(`key_id="${keyIdOf(Buffer.from(newKey, 'base64'))}"`);
      } finally {
        await rotated.close();
      }
    });
  });

  describe('two instances on one database', () => {
    // The receiver answers from jest's thread, which the first instance's SQLite busy waits also hold:
    // on a loaded machine an answer could come after the 5 s default, and an attempt that times out is
    // sent again (at least once). The limit is the receiver's here, not the service's, so it is the longest.
    const PAIR = { ...OPEN, WEBHOOK_TIMEOUT_MS: '30000' };
    const running = withApp(database, PAIR);
    const client = clientOf(running);
    let second: Child | undefined;
    let dataDir: string;

    // The second instance is a process of its own (src/main.ts through ts-node), as in production: two
    // apps in one process on one SQLite file stall each other (one connection's busy wait blocks the
    // thread the other's open transaction needs), which no deployment does.
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'twofa-webhooks-'));
      const port = await freePort();
      second = await startChild({
        name: 'the second instance',
        args: ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
        cwd: join(__dirname, '..'),
        port,
        readyPath: '/health/ready',
        env: {
          ...PAIR,
          NODE_ENV: 'test',
          LOG_LEVEL: 'warn',
          PORT: String(port),
          HOST: '127.0.0.1',
          DATA_DIR: dataDir,
          DATABASE_URL: running().databaseUrl,
          AUTH_JWT_SECRET: TEST_JWT_SECRET,
          TWOFA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        },
      });
      await judgeAnswersOfProcess(second.url);
    });

    afterAll(async () => {
      await second?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('deliver 200 events without a duplicate', async () => {
      const subscription = await client.subscribe('hooks-pair', receiver.url('/hooks/pair'), [
        'backup_codes.regenerated',
      ]);
      const instances = [running().url, second!.url];
      const admin = await client.bearer('hooks-pair', 'partner:admin', 'config-admin');
      // 10 users, each getting new backup codes 20 times, from both instances at once: 200 events.
      const configs = await Promise.all(
        Array.from({ length: 10 }, (_, i) => client.enrol('hooks-pair', `pu-pair-${i}`)),
      );
      for (let round = 0; round < 20; round++) {
        await Promise.all(
          configs.map(({ id }, i) =>
            request(instances[(round + i) % 2])
              .post(`/partnerglobalapi/2faConfig/${id}/backupCodes`)
              .set('Authorization', admin)
              .expect(200),
          ),
        );
      }
      await receiver.waitFor('200 deliveries', () => receiver.at('/hooks/pair').length >= 200);
      await sleep(DUPLICATE_WATCH_MS);
      expect(duplicates(receiver.at('/hooks/pair'))).toEqual({});
      expect(receiver.at('/hooks/pair')).toHaveLength(200);
      expect(verifyAll(receiver.at('/hooks/pair'), subscription.secret)).toHaveLength(200);
      const byInstance = await Promise.all(
        instances.map(async (instance) =>
          sample(
            (await request(instance).get('/metrics').expect(200)).text,
            'twofa_webhook_deliveries_total{result="delivered"}',
          ),
        ),
      );
      expect((byInstance[0] ?? 0) + (byInstance[1] ?? 0)).toBe(200);
      process.stdout.write(`two instances on ${database.name}: delivered ${byInstance.join(' + ')}, duplicates 0\n`);
    });
  });

  describe('a restart', () => {
    let databaseUrl: string;
    let app: RunningApp | undefined;

    beforeAll(async () => {
      databaseUrl = await database.create();
    });

    afterAll(async () => {
      await app?.close();
      await database.drop(databaseUrl);
    });

    it('loses nothing: deliveries queued before it are sent after it', async () => {
      app = await startApp(databaseUrl, OPEN);
      const client = clientOf(() => app!);
      const subscription = await client.subscribe('hooks-restart', receiver.url('/hooks/restart'));
      await receiver.stop();
      try {
        for (let i = 0; i < 5; i++) await client.enrol('hooks-restart', `pu-restart-${i}`);
        await app.close();
        app = undefined;
      } finally {
        await receiver.listen();
      }
      expect(receiver.at('/hooks/restart')).toHaveLength(0);
      app = await startApp(databaseUrl, OPEN);
      await receiver.waitFor('5 deliveries', () => receiver.at('/hooks/restart').length >= 5);
      await sleep(DUPLICATE_WATCH_MS);
      expect(duplicates(receiver.at('/hooks/restart'))).toEqual({});
      expect(verifyAll(receiver.at('/hooks/restart'), subscription.secret).map((event) => event.type)).toEqual(
        Array(5).fill('config.created'),
      );
    });
  });

  describe('request forgery', () => {
    const running = withApp(database, STRICT);
    const client = clientOf(running);

    it.each([
      ['http://hooks.example.com/in', 'InvalidUrl'],
      ['https://user:pass@hooks.example.com/in', 'InvalidUrl'],
      ['ftp://hooks.example.com/in', 'InvalidUrl'],
      ['not a url', 'InvalidUrl'],
      ['https://127.0.0.1/in', 'RefusedDestination'],
      ['https://2130706433/in', 'RefusedDestination'],
      ['https://localhost/in', 'RefusedDestination'],
      ['https://[::1]/in', 'RefusedDestination'],
      ['https://[::ffff:127.0.0.1]/in', 'RefusedDestination'],
      ['https://[::127.0.0.1]/in', 'RefusedDestination'],
      ['https://[::a9fe:a9fe]/latest/meta-data/', 'RefusedDestination'],
      ['https://10.0.0.1/in', 'RefusedDestination'],
      ['https://192.168.1.1/in', 'RefusedDestination'],
      ['https://169.254.169.254/latest/meta-data/', 'RefusedDestination'],
      ['https://[fd00:ec2::254]/latest/meta-data/', 'RefusedDestination'],
      ['https://100.100.100.200/latest/meta-data/', 'RefusedDestination'],
    ])('refuses %s at registration (%s)', async (url, errorCode) => {
      const res = await client
        .http()
        .post('/webhooks')
        .set('Authorization', await client.bearer('hooks-forgery', 'webhooks:admin'))
        .send({ url });
      expect(res.status).toBe(400);
      expect(res.body.responseStatus.errors).toEqual([
        { errorCode, fieldName: 'url', message: expect.stringMatching(/^url/) },
      ]);
    });

    it('accepts a public https destination', async () => {
      const created = await client.subscribe('hooks-forgery-ok', 'https://93.184.216.34/in', ['reset']);
      const admin = await client.bearer('hooks-forgery-ok', 'webhooks:admin');
      await client.http().delete(`/webhooks/${created.id}`).set('Authorization', admin).expect(204);
    });

    it('checks again at delivery: a destination allowed when registered is refused, and never reached', async () => {
      // A listener that only counts connections: a refused destination must not even be connected to.
      let connections = 0;
      const listener = createServer(() => (connections += 1));
      listener.listen(0, '127.0.0.1');
      await once(listener, 'listening');
      const url = `https://127.0.0.1:${(listener.address() as AddressInfo).port}/in`;
      try {
        // Registered by an instance that allows private networks, delivered by one that does not.
        const permissive = await startApp(running().databaseUrl, OPEN);
        let subscription: { id: string };
        try {
          subscription = await clientOf(() => permissive).subscribe('hooks-rebound', url);
        } finally {
          await permissive.close();
        }
        await client.enrol('hooks-rebound', 'pu-rebound');
        const [delivery] = await client.waitForDeliveries(
          'hooks-rebound',
          subscription.id,
          'refused attempts',
          (items) => items.some((item) => item.attempts >= 2),
        );
        expect(delivery.lastError).toBe(
          'url: 127.0.0.1 resolves to 127.0.0.1, a loopback address (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)',
        );
        expect(connections).toBe(0);
      } finally {
        listener.close();
      }
    });
  });
});
