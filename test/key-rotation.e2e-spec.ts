import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import request from 'supertest';
import { ConfigSecrets } from '../src/two-factor/config-secrets';
import { keyIdOf, SecretCipher } from '../src/two-factor/crypto/secret-cipher';
import { expectStatus } from './helpers/http';
import { PARTNER } from './helpers/kinds';
import { oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS } from './helpers/suite';
import { rawDataSource, RunningApp, startApp, TestDatabase, testDatabases } from './helpers/test-app';
import { nowSeconds, sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';
import { duplicates, verifyAll, WebhookReceiver } from './helpers/webhook-receiver';

/**
 * Key rotation that finishes (issue 14 item 5, README "Key rotation"): data written under an old key;
 * the service restarted with `new,old` and kept under login traffic while `npm run keys:reencrypt` runs
 * as a child process and rotations and a webhook deletion race it; then the service restarted with the
 * new key alone: every login still succeeds (oathtool codes) and every webhook still signs. The reports'
 * counts are checked against the database.
 */

jest.setTimeout(240_000);

const ROOT = join(__dirname, '..');
const TENANT = 'rotation';
const OTHER_TENANT = 'rotation-other';
const OLD_KEY = randomBytes(32).toString('base64');
const NEW_KEY = randomBytes(32).toString('base64');
const OLD_ID = keyIdOf(Buffer.from(OLD_KEY, 'base64'));
const NEW_ID = keyIdOf(Buffer.from(NEW_KEY, 'base64'));
const SETTINGS = {
  ...TOTP_SETTINGS,
  LOCKOUT_MAX_FAILURES: '5',
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_POLL_INTERVAL_MS: '50',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '1000',
};
/** Users enrolled under the old key; the first TRAFFIC are active and log in during the run. */
const USERS = 120;
const TRAFFIC = 60;
/** Users rotated (again and again) while keys:reencrypt runs. */
const ROTATED = 10;
/** Active users with backup codes made under the old key; the traffic uses at most 3 of each. */
const WITH_BACKUP_CODES = 8;
const STEP_SECONDS = 30;

interface User {
  userId: string;
  configId: string;
  secret: string;
  /** The last TOTP step this user logged in with; the next code must be for a later one. */
  lastStep: number | null;
  backupCodes: string[];
}

interface Subscription {
  id: string;
  tenant: string;
  path: string;
  secret: string;
}

/** One run of `npm run keys:reencrypt`, as a person runs it, with the service's database and keys. */
function runKeysReencrypt(
  databaseUrl: string,
  keys: string,
  options: string[] = [],
  settings: Record<string, string> = {},
) {
  const child = spawn('npm', ['run', '-s', 'keys:reencrypt', '--', '--batch-size', '5', ...options], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      DATABASE_URL: databaseUrl,
      TWOFA_ENCRYPTION_KEYS: keys,
      ...settings,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let sawProgress: () => void;
  const progressed = new Promise<void>((resolve) => (sawProgress = resolve));
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (/\d+\/\d+ read/.test(stderr)) sawProgress();
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => {
      sawProgress();
      resolve({ code, stdout, stderr });
    }),
  );
  return { progressed, exited };
}

/** The report's `stored rows per key id` table: `<secret> <key id>` → rows. */
function reportedRows(report: string): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const line of report.split('\n')) {
    const match = /^(totp_secret|backup_code|webhook_secret)\s+([0-9a-f]{8})\s+(\d+|unlisted)\s+(\d+)$/.exec(line);
    if (match && Number(match[4]) > 0) rows[`${match[1]} ${match[2]}`] = Number(match[4]);
  }
  return rows;
}

/** The report's `this run` line of one kind: read, re-sealed, changed meanwhile, do not open. */
function reportedPass(report: string, kind: string): number[] {
  const line = report.split('\n').find((l) => new RegExp(`^${kind}\\s+\\d+\\s+\\d+\\s+\\d+\\s+\\d+$`).test(l));
  if (!line) throw new Error(`no "this run" line for ${kind} in:\n${report}`);
  return line.trim().split(/\s+/).slice(1).map(Number);
}

/** The same figures counted in the database, with SQL of the test's own. */
async function storedRows(running: RunningApp): Promise<Record<string, number>> {
  const dataSource = rawDataSource(running);
  const rows: Record<string, number> = {};
  for (const [secret, sql] of [
    ['totp_secret', 'SELECT SUBSTR(secret_ciphertext, 4, 8) AS k, COUNT(*) AS n FROM two_factor_config GROUP BY k'],
    [
      'backup_code',
      'SELECT SUBSTR(code_hash, 1, 8) AS k, COUNT(*) AS n FROM backup_code WHERE used_at IS NULL GROUP BY k',
    ],
    [
      'webhook_secret',
      'SELECT SUBSTR(secret_ciphertext, 4, 8) AS k, COUNT(*) AS n FROM webhook_subscription GROUP BY k',
    ],
  ]) {
    for (const row of await dataSource.query<{ k: string; n: number | string }[]>(sql)) {
      rows[`${secret} ${row.k}`] = Number(row.n);
    }
  }
  return rows;
}

async function configsWithOldBackupCodes(running: RunningApp): Promise<number> {
  const [{ n }] = await rawDataSource(running).query<{ n: number | string }[]>(
    'SELECT COUNT(DISTINCT config_id) AS n FROM backup_code WHERE used_at IS NULL AND SUBSTR(code_hash, 1, 8) <> ?',
    [NEW_ID],
  );
  return Number(n);
}

const currentStep = () => Math.floor(nowSeconds() / STEP_SECONDS);

/**
 * The step a user's next code is for: later than the last one used, and now or next (the window is ±1,
 * so a code for now stays good across a boundary); null when that is further ahead.
 */
function usableStep(user: User): number | null {
  const now = currentStep();
  const step = user.lastStep === null ? now : Math.max(user.lastStep + 1, now);
  return step <= now + 1 ? step : null;
}

/**
 * A fresh database and a webhook receiver for the enclosing describe, and the service on them, started
 * again with the key list given; all closed after its tests.
 */
function withRotatingService(database: TestDatabase) {
  let databaseUrl: string | undefined;
  let running: RunningApp | undefined;
  let receiver: WebhookReceiver | undefined;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    databaseUrl = await database.create();
  });

  afterAll(async () => {
    await running?.close();
    await receiver?.stop();
    if (databaseUrl) await database.drop(databaseUrl);
  });

  return {
    databaseUrl: () => databaseUrl!,
    receiver: () => receiver!,
    running: () => running!,
    async restart(keys: string): Promise<RunningApp> {
      await running?.close();
      running = await startApp(databaseUrl!, { ...SETTINGS, TWOFA_ENCRYPTION_KEYS: keys });
      return running;
    },
  };
}

describe.each(testDatabases())('key rotation on $name', (database: TestDatabase) => {
  const service = withRotatingService(database);
  const users: User[] = [];
  const subscriptions: Subscription[] = [];
  const tokens = new Map<string, Promise<string>>();
  const bearer = async (tenant: string, scope: string) => {
    if (!tokens.has(tenant + scope)) tokens.set(tenant + scope, mintToken({ tenant, sub: 'rotation-admin', scope }));
    return `Bearer ${await tokens.get(tenant + scope)!}`;
  };
  const http = () => request(service.running().url);

  async function login(user: User, code: string): Promise<string> {
    const res = await http()
      .post(PARTNER.loginPath)
      .set('Authorization', await bearer(TENANT, PARTNER.loginScope))
      .send({ partneruserid: user.userId, code });
    return res.status === 200 ? `${res.body.result} ${res.body.method ?? ''}`.trim() : `HTTP ${res.status}`;
  }

  /** A TOTP login with the user's next code, waiting for the step when none is usable yet. */
  async function loginWithTotp(user: User): Promise<string> {
    let step = usableStep(user);
    while (step === null) {
      await sleep((STEP_SECONDS - (nowSeconds() % STEP_SECONDS)) * 1000 + 200);
      step = usableStep(user);
    }
    user.lastStep = step;
    return login(user, oathtoolTotp(user.secret, { at: step * STEP_SECONDS }));
  }

  const receiver = () => service.receiver();

  it('re-encrypts under the new key while the service runs, after which the old key can go', async () => {
    // Before the rotation: everything under the old key.
    await service.restart(OLD_KEY);
    const admin = await bearer(TENANT, PARTNER.adminScope);
    for (let n = 0; n < USERS; n++) {
      const res = await http()
        .post(PARTNER.prefix)
        .set('Authorization', admin)
        .send({ partneruserid: `pu-${n}` });
      expectStatus(res, 200);
      users.push({
        userId: `pu-${n}`,
        configId: res.body.id,
        secret: res.body.secretKey,
        lastStep: null,
        backupCodes: [],
      });
    }
    for (const user of users.slice(0, TRAFFIC)) expect(await loginWithTotp(user)).toBe('success totp');
    for (const user of users.slice(0, WITH_BACKUP_CODES)) {
      const res = await http().post(`${PARTNER.prefix}/${user.configId}/backupCodes`).set('Authorization', admin);
      user.backupCodes = expectStatus(res, 200).body.codes;
    }
    const subscribe = async (tenant: string, events?: string[]) => {
      const path = `/keys/${database.name}/${subscriptions.length}`;
      const res = await http()
        .post('/webhooks')
        .set('Authorization', await bearer(tenant, 'webhooks:admin'))
        .send({ url: receiver().url(path), ...(events ? { events } : {}) });
      const subscription = { id: expectStatus(res, 201).body.id, tenant, path, secret: res.body.secret };
      subscriptions.push(subscription);
      return subscription;
    };
    for (let n = 0; n < 4; n++) await subscribe(TENANT, ['config.rotated']);
    for (let n = 0; n < 3; n++) await subscribe(OTHER_TENANT);
    expect(await storedRows(service.running())).toEqual({
      [`totp_secret ${OLD_ID}`]: USERS,
      [`backup_code ${OLD_ID}`]: 10 * WITH_BACKUP_CODES,
      [`webhook_secret ${OLD_ID}`]: 7,
    });

    // Steps 1 and 2 of the runbook: the new key first, the service restarted.
    await service.restart(`${NEW_KEY},${OLD_KEY}`);

    // Login traffic on the active users (TOTP, and up to 3 backup codes each) until keys:reencrypt is done.
    let reencrypting = true;
    const outcomes: string[] = [];
    const traffic = async (mine: User[]) => {
      while (reencrypting) {
        let loggedIn = false;
        for (const user of mine) {
          if (!reencrypting) break;
          if (usableStep(user) !== null) {
            outcomes.push(await loginWithTotp(user));
            loggedIn = true;
          } else if (user.backupCodes.length > 7) {
            outcomes.push(await login(user, user.backupCodes.pop()!));
            loggedIn = true;
          }
        }
        if (!loggedIn) await sleep(50);
      }
    };
    const trafficDone = Promise.all([traffic(users.slice(0, TRAFFIC / 2)), traffic(users.slice(TRAFFIC / 2, TRAFFIC))]);

    // Step 3, with the service busy (and the run slowed to 100 ms between batches of 5): once it has done a
    // batch, rotations one after the other and a webhook deletion race it.
    const run = runKeysReencrypt(service.databaseUrl(), `${NEW_KEY},${OLD_KEY}`, ['--pause-ms', '100']);
    await run.progressed;
    const rotated = users.slice(USERS - ROTATED);
    let rotations = 0;
    const rotating = (async () => {
      for (let n = 0; reencrypting; n++) {
        const user = rotated[n % ROTATED];
        const res = await http()
          .put(`${PARTNER.prefix}/${user.configId}`)
          .set('Authorization', admin)
          .send({ rotateSecret: true });
        user.secret = expectStatus(res, 200).body.secretKey;
        user.lastStep = null;
        rotations++;
      }
    })();
    const deleted = subscriptions[0];
    await http()
      .delete(`/webhooks/${deleted.id}`)
      .set('Authorization', await bearer(TENANT, 'webhooks:admin'))
      .expect(204);
    subscriptions.splice(0, 1);
    const first = await run.exited;
    reencrypting = false;
    await Promise.all([trafficDone, rotating]);

    // Every login during the run succeeded.
    expect(rotations).toBeGreaterThanOrEqual(1);
    expect(outcomes.length).toBeGreaterThanOrEqual(TRAFFIC);
    expect(outcomes.filter((outcome) => !outcome.startsWith('success'))).toEqual([]);
    // Every secret moved; only backup codes are left under the old key (exit 4). What was rotated or
    // deleted between a read and its write was left to that change.
    expect({ code: first.code, stderr: first.stderr }).toMatchObject({
      code: 4,
      stderr: expect.stringContaining('100%'),
    });
    expect(first.stdout).toContain('result: backup-codes-left (exit 4)');
    // What it prints holds no secret: no TOTP secret, backup code or webhook signing secret.
    const printed = first.stdout + first.stderr;
    const secrets = [
      ...users.flatMap((user) => [user.secret, ...user.backupCodes]),
      ...subscriptions.map((subscription) => subscription.secret.replace(/^whsec_/, '')),
    ];
    expect(secrets.length).toBeGreaterThan(USERS);
    expect(secrets.filter((secret) => printed.includes(secret))).toEqual([]);
    // A row rotated before its page was read is under the new key already and not read at all.
    const [read, resealed, changed, unopenable] = reportedPass(first.stdout, 'totp_secret');
    expect(unopenable).toBe(0);
    expect(resealed + changed).toBe(read);
    expect(read).toBeLessThanOrEqual(USERS);
    expect(resealed).toBeGreaterThanOrEqual(USERS - ROTATED);
    const webhookPass = reportedPass(first.stdout, 'webhook_secret');
    expect(webhookPass[1] + webhookPass[2]).toBe(webhookPass[0]);
    expect(webhookPass[1]).toBeGreaterThanOrEqual(6);
    const firstRows = reportedRows(first.stdout);
    expect(firstRows[`totp_secret ${NEW_ID}`]).toBe(USERS);
    expect(firstRows[`totp_secret ${OLD_ID}`]).toBeUndefined();
    expect(firstRows[`webhook_secret ${OLD_ID}`]).toBeUndefined();
    process.stdout.write(
      `keys:reencrypt on ${database.name} under ${outcomes.length} logins and ${rotations} rotations: ` +
        `TOTP ${read} read, ${resealed} re-sealed, ${changed} changed meanwhile; webhooks ${webhookPass.join('/')}\n` +
        `${first.stdout}\n`,
    );

    // Run again with the service idle: nothing left to read, and the report is the database's.
    const second = await runKeysReencrypt(service.databaseUrl(), `${NEW_KEY},${OLD_KEY}`).exited;
    expect(second.code).toBe(4);
    expect(reportedPass(second.stdout, 'totp_secret')).toEqual([0, 0, 0, 0]);
    expect(reportedPass(second.stdout, 'webhook_secret')).toEqual([0, 0, 0, 0]);
    expect(reportedRows(second.stdout)).toEqual(await storedRows(service.running()));
    // The traffic used at most 3 of each user's 10 codes: every one of those configs still has some.
    expect(await configsWithOldBackupCodes(service.running())).toBe(WITH_BACKUP_CODES);
    expect(second.stdout).toContain(`configs with unused backup codes under an old key: ${WITH_BACKUP_CODES}.`);

    // Step 4: those users get new backup codes; then nothing is under the old key (exit 0).
    for (const user of users.slice(0, WITH_BACKUP_CODES)) {
      const res = await http().post(`${PARTNER.prefix}/${user.configId}/backupCodes`).set('Authorization', admin);
      user.backupCodes = expectStatus(res, 200).body.codes;
    }
    const third = await runKeysReencrypt(service.databaseUrl(), `${NEW_KEY},${OLD_KEY}`).exited;
    expect(third.code).toBe(0);
    expect(third.stdout).toContain('result: done (exit 0)');
    const finalRows = await storedRows(service.running());
    expect(reportedRows(third.stdout)).toEqual(finalRows);
    expect(finalRows).toEqual({
      [`totp_secret ${NEW_ID}`]: USERS,
      [`backup_code ${NEW_ID}`]: 10 * WITH_BACKUP_CODES,
      [`webhook_secret ${NEW_ID}`]: 6,
    });

    // Step 5: the old key removed. /metrics shows nothing under it; every user logs in, rotated ones with
    // their new secret, backup codes work, and every subscription's deliveries verify with its secret.
    await service.restart(NEW_KEY);
    const metrics = (await http().get('/metrics').expect(200)).text;
    expect(metrics).toContain(`twofa_encrypted_rows{secret="totp_secret",key_id="${NEW_ID}",key="1"} ${USERS}`);
    expect(metrics).not.toContain(`key_id="${OLD_ID}"`);
    const afterRemoval: string[] = [];
    for (const user of users) afterRemoval.push(`${user.userId} ${await loginWithTotp(user)}`);
    expect(afterRemoval).toEqual(users.map((user) => `${user.userId} success totp`));
    for (const user of users.slice(0, WITH_BACKUP_CODES)) {
      expect(await login(user, user.backupCodes[0])).toBe('success backup');
    }
    const audit = await http()
      .get('/audit')
      .query({ event: 'secret.integrity_error' })
      .set('Authorization', await bearer(TENANT, 'audit:read'))
      .expect(200);
    expect(audit.body.total).toBe(0);

    const before = receiver().received.length;
    for (const subscription of subscriptions) {
      await http()
        .post(`/webhooks/${subscription.id}/test`)
        .set('Authorization', await bearer(subscription.tenant, 'webhooks:admin'))
        .expect(202);
    }
    const typesAt = (path: string) =>
      receiver()
        .at(path)
        .map((webhook) => (JSON.parse(webhook.body) as { type: string }).type);
    await receiver().waitFor('a test event per subscription, and the rotations', (received) =>
      subscriptions.every(
        (subscription) =>
          received.slice(before).some((webhook) => webhook.path === subscription.path) &&
          (subscription.tenant !== TENANT ||
            typesAt(subscription.path).filter((type) => type === 'config.rotated').length >= rotations),
      ),
    );
    expect(duplicates(receiver().received)).toEqual({});
    for (const subscription of [deleted, ...subscriptions]) {
      const events = verifyAll(receiver().at(subscription.path), subscription.secret);
      if (subscription !== deleted) expect(events.map((event) => event.type)).toContain('webhook.test');
      for (const event of events) expect(event.body).not.toContain(subscription.secret.slice('whsec_'.length));
    }
    // The rotations were reported to the tenant's remaining subscriptions, signed (and verified) as well.
    for (const subscription of subscriptions.filter((s) => s.tenant === TENANT)) {
      const types = verifyAll(receiver().at(subscription.path), subscription.secret).map((event) => event.type);
      expect(types.filter((type) => type === 'config.rotated')).toHaveLength(rotations);
    }
  });
});

/**
 * The race made certain on MariaDB: the test holds the row lock of a config and of a subscription, waits
 * until keys:reencrypt (a child process on the same database user, so its statement shows in the
 * process list) has read them and sent its UPDATE, which then waits on that lock, and changes the row
 * under it as the service's rotation does (a new secret sealed for the next version) or deletes the
 * subscription, and commits. The UPDATE then matches nothing: the row is left as the change made it.
 */
describe.each(testDatabases().filter((database) => database.name === 'mariadb'))(
  'key rotation racing a row on $name',
  (database: TestDatabase) => {
    const service = withRotatingService(database);

    it('leaves a config rotated and a subscription deleted while its UPDATE waits, counted as changed meanwhile', async () => {
      let running = await service.restart(OLD_KEY);
      const receiver = service.receiver();
      const admin = `Bearer ${await mintToken({ tenant: TENANT, sub: 'rotation-admin', scope: `${PARTNER.adminScope} webhooks:admin` })}`;
      /** A current code for each config, by its id. */
      const codes = new Map<string, () => string>();
      for (let n = 0; n < 12; n++) {
        const res = await request(running.url)
          .post(PARTNER.prefix)
          .set('Authorization', admin)
          .send({ partneruserid: `race-${n}` });
        const secret = expectStatus(res, 200).body.secretKey as string;
        codes.set(res.body.id, () => oathtoolTotp(secret));
      }
      const subscriptions = new Map<string, string>();
      for (let n = 0; n < 2; n++) {
        const res = await request(running.url)
          .post('/webhooks')
          .set('Authorization', admin)
          .send({ url: receiver.url(`/race/${n}`), events: ['config.rotated'] });
        subscriptions.set(expectStatus(res, 201).body.id, res.body.secret);
      }
      running = await service.restart(`${NEW_KEY},${OLD_KEY}`);

      const dataSource = rawDataSource(running);
      const [config] = await dataSource.query<{ id: string; subjectId: string }[]>(
        'SELECT id, subject_id AS subjectId FROM two_factor_config ORDER BY id LIMIT 1 OFFSET 7',
      );
      const [{ id: subscriptionId }] = await dataSource.query<{ id: string }[]>(
        'SELECT id FROM webhook_subscription ORDER BY id LIMIT 1',
      );
      const configLock = dataSource.createQueryRunner();
      const subscriptionLock = dataSource.createQueryRunner();
      await configLock.startTransaction();
      await subscriptionLock.startTransaction();
      const rotatedSecret = randomBytes(20);
      try {
        await configLock.query('SELECT id FROM two_factor_config WHERE id = ? FOR UPDATE', [config.id]);
        await subscriptionLock.query('SELECT id FROM webhook_subscription WHERE id = ? FOR UPDATE', [subscriptionId]);
        const run = runKeysReencrypt(service.databaseUrl(), `${NEW_KEY},${OLD_KEY}`, [], {
          DATABASE_TIMEOUT_MS: '60000',
        });
        /** Until the child's UPDATE of that row is under way (it cannot finish while the lock is held). */
        const updateSent = async (table: string, id: string) => {
          const deadline = Date.now() + 120_000;
          for (;;) {
            const [{ n }] = await dataSource.query<{ n: number | string }[]>(
              'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO LIKE ?',
              [`UPDATE %${table}% SET %secret_ciphertext%`, `%${id}%`],
            );
            if (Number(n) > 0) return;
            if (Date.now() > deadline) throw new Error(`keys:reencrypt never updated ${table} ${id}`);
            await sleep(20);
          }
        };
        await updateSent('two_factor_config', config.id);
        // A rotation, as the service writes one: a new secret sealed under the first key for the next version.
        const rotation = {
          id: config.id,
          secretVersion: 2,
          tenant: TENANT,
          kind: 'partner' as const,
          subjectId: config.subjectId,
        };
        const sealed = new ConfigSecrets(new SecretCipher({ encryptionKeys: [Buffer.from(NEW_KEY, 'base64')] })).seal(
          rotation,
          rotatedSecret,
        );
        await configLock.query(
          'UPDATE two_factor_config SET secret_ciphertext = ?, secret_version = 2, last_used_step = NULL WHERE id = ?',
          [sealed, config.id],
        );
        await configLock.commitTransaction();
        await updateSent('webhook_subscription', subscriptionId);
        await subscriptionLock.query('DELETE FROM webhook_delivery WHERE subscription_id = ?', [subscriptionId]);
        await subscriptionLock.query('DELETE FROM webhook_subscription WHERE id = ?', [subscriptionId]);
        await subscriptionLock.commitTransaction();

        const report = await run.exited;
        expect({ code: report.code, stderr: report.stderr }).toMatchObject({ code: 0 });
        expect(reportedPass(report.stdout, 'totp_secret')).toEqual([12, 11, 1, 0]);
        expect(reportedPass(report.stdout, 'webhook_secret')).toEqual([2, 1, 1, 0]);
        expect(reportedRows(report.stdout)).toEqual(await storedRows(running));
        process.stdout.write(`keys:reencrypt racing a row on ${database.name}:\n${report.stdout}\n`);
      } finally {
        await configLock.release();
        await subscriptionLock.release();
      }

      // With the new key alone: the rotated config opens to its new secret, every other to its first one.
      running = await service.restart(NEW_KEY);
      codes.set(config.id, () => oathtoolTotp(rotatedSecret.toString('hex'), { hex: true }));
      const login = `Bearer ${await mintToken({ tenant: TENANT, sub: 'rotation-login', scope: PARTNER.loginScope })}`;
      const rows = await rawDataSource(running).query<{ id: string; subjectId: string }[]>(
        'SELECT id, subject_id AS subjectId FROM two_factor_config',
      );
      for (const row of rows) {
        const res = await request(running.url)
          .post(PARTNER.loginPath)
          .set('Authorization', login)
          .send({ partneruserid: row.subjectId, code: codes.get(row.id)!() });
        expect({ user: row.subjectId, body: expectStatus(res, 200).body }).toMatchObject({
          user: row.subjectId,
          body: { result: 'success' },
        });
      }
      const [kept] = [...subscriptions.keys()].filter((id) => id !== subscriptionId);
      await request(running.url).get(`/webhooks/${subscriptionId}`).set('Authorization', admin).expect(404);
      await request(running.url).post(`/webhooks/${kept}/test`).set('Authorization', admin).expect(202);
      const path = `/race/${[...subscriptions.keys()].indexOf(kept)}`;
      await receiver.waitFor('the test event', () => receiver.at(path).length >= 1);
      // Subscribed to config.rotated only, which nothing here sends through the service: the one delivery is the test.
      expect(verifyAll(receiver.at(path), subscriptions.get(kept)!).map((event) => event.type)).toEqual([
        'webhook.test',
      ]);
    });
  },
);
