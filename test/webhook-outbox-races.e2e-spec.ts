import request from 'supertest';
import { expectStatus } from './helpers/http';
import { wrongCode } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { mariadbDatabase, rawDataSource } from './helpers/test-app';
import { sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';
import { WebhookRepository } from '../src/webhooks/webhook.repository';

/**
 * The outbox against a subscription that goes away while a change is being written (issue 14, item 2,
 * and the guide: a lost race is an answer, never a 500). On MariaDB a change's transaction reads the
 * tenant's subscriptions and then inserts a delivery for each; a DELETE /webhooks/{id} committed in
 * between must not make that insert fail its foreign key. SQLite has one writer at a time, so there the
 * race cannot happen.
 */

const mysqlUrl = process.env.TEST_MYSQL_URL;
const describeOnMariadb = mysqlUrl ? describe : describe.skip;

jest.setTimeout(60_000);

const TENANT = 'outbox-race';

describeOnMariadb('webhook outbox races on mariadb', () => {
  const running = withApp(mariadbDatabase(mysqlUrl ?? ''), {
    ...TOTP_SETTINGS,
    LOCKOUT_MAX_FAILURES: '5',
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // Nothing is delivered during the test: the worker only looks once a minute.
    WEBHOOK_POLL_INTERVAL_MS: '60000',
  });
  const bearer = async (scope: string) => `Bearer ${await mintToken({ tenant: TENANT, sub: `svc-${scope}`, scope })}`;

  it('records a lockout as usual when its subscription is deleted meanwhile (no 500, the failure counted)', async () => {
    const http = () => request(running().url);
    const subscribed = await http()
      .post('/webhooks')
      .set('Authorization', await bearer('webhooks:admin'))
      .send({ url: 'http://127.0.0.1:9/hooks', events: ['lockout.engaged'] });
    const subscriptionId = expectStatus(subscribed, 201).body.id as string;
    const enrolled = await http()
      .post('/partnerglobalapi/2faConfig')
      .set('Authorization', await bearer('partner:admin'))
      .send({ partneruserid: 'pu-race' });
    const { id: configId, secretKey } = expectStatus(enrolled, 200).body as { id: string; secretKey: string };
    const login = await bearer('partner:login');
    const wrong = wrongCode(secretKey);
    const attempt = () =>
      http()
        .post('/partnerloginapi/2fa:verify')
        .set('Authorization', login)
        .send({ partneruserid: 'pu-race', code: wrong });
    for (let i = 0; i < 4; i++) expect(expectStatus(await attempt(), 200).body).toEqual({ result: 'fail' });

    // An administrator's DELETE of the subscription, caught between its statements and its COMMIT.
    const deletion = rawDataSource(running()).createQueryRunner();
    await deletion.connect();
    try {
      await deletion.startTransaction();
      await deletion.query('DELETE FROM webhook_subscription WHERE id = ?', [subscriptionId]);
      // The fifth failure engages the lock: its transaction writes a lockout.engaged delivery.
      const fifth = attempt().then((res) => ({ status: res.status, body: res.body as unknown }));
      await sleep(500);
      await deletion.commitTransaction();
      expect(await fifth).toEqual({ status: 200, body: { result: 'fail' } });
    } finally {
      if (deletion.isTransactionActive) await deletion.rollbackTransaction();
      await deletion.release();
    }

    const [config] = await rawDataSource(running()).query(
      'SELECT failed_attempts, locked_until FROM two_factor_config WHERE id = ?',
      [configId],
    );
    expect(Number(config.failed_attempts)).toBe(5);
    expect(config.locked_until).not.toBeNull();
    const [{ n }] = await rawDataSource(running()).query('SELECT COUNT(*) AS n FROM webhook_delivery');
    expect(Number(n)).toBe(0);
  });

  it('lets a DELETE /webhooks/{id} wait for a change writing its deliveries, then removes those too', async () => {
    const http = () => request(running().url);
    const admin = await bearer('webhooks:admin');
    const subscribed = await http()
      .post('/webhooks')
      .set('Authorization', admin)
      .send({ url: 'http://127.0.0.1:9/hooks' });
    const subscriptionId = expectStatus(subscribed, 201).body.id as string;

    // A change's transaction as the outbox writes it: the subscriptions read, then a delivery inserted.
    const change = rawDataSource(running()).createQueryRunner();
    await change.connect();
    try {
      await change.startTransaction();
      expect(await new WebhookRepository(change.manager).subscriptionsOf(TENANT)).toHaveLength(1);
      const deleted = http()
        .delete(`/webhooks/${subscriptionId}`)
        .set('Authorization', admin)
        .then((res) => res.status);
      await sleep(500);
      await change.query(
        'INSERT INTO webhook_delivery (id, subscription_id, tenant, event_id, event_type, payload, status, attempts, ' +
          "next_attempt_at, created_at) VALUES (UUID(), ?, ?, UUID(), 'reset', '{}', 'pending', 0, 0, 0)",
        [subscriptionId, TENANT],
      );
      await change.commitTransaction();
      expect(await deleted).toBe(204);
    } finally {
      if (change.isTransactionActive) await change.rollbackTransaction();
      await change.release();
    }
    const [{ n }] = await rawDataSource(running()).query(
      'SELECT COUNT(*) AS n FROM webhook_delivery WHERE subscription_id = ?',
      [subscriptionId],
    );
    expect(Number(n)).toBe(0);
  });
});
