import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { ConfigSecrets } from '../two-factor/config-secrets';
import { BackupCodes } from '../two-factor/crypto/backup-codes';
import { keyIdOf, SecretCipher } from '../two-factor/crypto/secret-cipher';
import { BackupCode } from '../two-factor/entities/backup-code.entity';
import { TwoFactorConfig } from '../two-factor/entities/two-factor-config.entity';
import { resealSecrets } from '../two-factor/secret-resealing';
import { WebhookSubscription } from '../webhooks/entities/webhook-subscription.entity';
import { newSigningSecret, openSigningSecret } from '../webhooks/webhook-secret';
import {
  KeyReencryptionReport,
  reencryptionPasses,
  reencryptUnderFirstKey,
  RowsUnderKey,
  verdictOf,
} from './key-reencryption';

const oldKey = randomBytes(32);
const newKey = randomBytes(32);
const OLD_ID = keyIdOf(oldKey);
const NEW_ID = keyIdOf(newKey);
/** What the service had before the rotation, and what it has during it (new key first). */
const oldCipher = new SecretCipher({ encryptionKeys: [oldKey] });
const rotatingCipher = new SecretCipher({ encryptionKeys: [newKey, oldKey] });
/** After the old key was removed. */
const newOnlyCipher = new SecretCipher({ encryptionKeys: [newKey] });

describe(reencryptUnderFirstKey.name, () => {
  let dataSource: DataSource;
  /** Each config's TOTP secret and each subscription's signing secret, as first stored. */
  const totpSecrets = new Map<string, Buffer>();
  const signingSecrets = new Map<string, string>();

  async function insertConfig(cipher: SecretCipher, subjectId: string): Promise<TwoFactorConfig> {
    const identity = { id: randomUUID(), secretVersion: 1, tenant: 'spec', kind: 'agent' as const, subjectId };
    const secret = randomBytes(20);
    totpSecrets.set(identity.id, secret);
    const config: TwoFactorConfig = {
      ...identity,
      ...{ account: subjectId, secretCiphertext: new ConfigSecrets(cipher).seal(identity, secret), algorithm: 'SHA1' },
      ...{ digits: 6, period: 30, status: 'active', lastUsedStep: null, failedAttempts: 0, lockedUntil: null },
      ...{ createdAt: 0, updatedAt: 0, activatedAt: 0 },
    };
    await dataSource.manager.insert(TwoFactorConfig, config);
    return config;
  }

  async function insertBackupCodes(cipher: SecretCipher, configId: string, unused: number, used: number) {
    const codes = new BackupCodes({ encryptionKeys: cipher === oldCipher ? [oldKey] : [newKey, oldKey] });
    await dataSource.manager.insert(
      BackupCode,
      Array.from({ length: unused + used }, (_, n) => ({
        id: randomUUID(),
        configId,
        codeHash: codes.hash(codes.normalize(codes.generate())!, configId),
        usedAt: n < used ? 1 : null,
        createdAt: 0,
      })),
    );
  }

  async function insertSubscription(cipher: SecretCipher): Promise<WebhookSubscription> {
    const identity = { id: randomUUID(), tenant: 'spec' };
    const { secret, sealed } = newSigningSecret(cipher, identity);
    signingSecrets.set(identity.id, secret);
    const subscription = {
      ...identity,
      ...{ url: 'https://hooks.example.com/', events: null, secretCiphertext: sealed, createdBy: null, createdAt: 0 },
    };
    await dataSource.manager.insert(WebhookSubscription, subscription);
    return subscription;
  }

  const stored = async () => ({
    configs: await dataSource.manager.find(TwoFactorConfig),
    subscriptions: await dataSource.manager.find(WebhookSubscription),
  });

  beforeEach(async () => {
    dataSource = new DataSource(buildDataSourceOptions({ kind: 'sqlite', file: ':memory:', timeoutMs: 1000 }));
    await dataSource.initialize();
  });
  afterEach(() => dataSource.destroy());

  it('moves every TOTP and signing secret to the first key, leaves rows already there untouched, and reports per key', async () => {
    const before = [];
    for (let n = 0; n < 5; n++) before.push(await insertConfig(oldCipher, `old-${n}`));
    const alreadyNew = await insertConfig(rotatingCipher, 'new');
    await insertBackupCodes(oldCipher, before[0].id, 3, 2);
    await insertBackupCodes(oldCipher, before[1].id, 0, 4); // all used: nothing left to regenerate
    await insertBackupCodes(rotatingCipher, alreadyNew.id, 10, 0);
    await insertSubscription(oldCipher);
    await insertSubscription(oldCipher);
    const newSubscription = await insertSubscription(rotatingCipher);

    const progress: string[] = [];
    const report = await reencryptUnderFirstKey(dataSource, rotatingCipher, {
      batchSize: 2,
      onProgress: (kind, outcome, total) => progress.push(`${kind} ${outcome.scanned}/${total}`),
    });

    expect(progress).toEqual([
      'totp_secret 2/5',
      'totp_secret 4/5',
      'totp_secret 5/5',
      'webhook_secret 2/2',
      'webhook_secret 2/2',
    ]);
    expect(report.passes).toEqual({
      totp_secret: { scanned: 5, resealed: 5, changed: 0, unopenable: [] },
      webhook_secret: { scanned: 2, resealed: 2, changed: 0, unopenable: [] },
    });
    const rows: RowsUnderKey[] = [
      { secret: 'totp_secret', keyId: NEW_ID, key: '1', rows: 6 },
      { secret: 'totp_secret', keyId: OLD_ID, key: '2', rows: 0 },
      { secret: 'backup_code', keyId: NEW_ID, key: '1', rows: 10 },
      { secret: 'backup_code', keyId: OLD_ID, key: '2', rows: 3 },
      { secret: 'webhook_secret', keyId: NEW_ID, key: '1', rows: 3 },
      { secret: 'webhook_secret', keyId: OLD_ID, key: '2', rows: 0 },
    ];
    expect(report).toMatchObject({ keyIds: [NEW_ID, OLD_ID], rows, configsWithOldBackupCodes: 1 });
    expect(verdictOf(report)).toBe('backup-codes-left');

    // Every secret opens with the new key alone, to what it was; the row already under it was not rewritten.
    const { configs, subscriptions } = await stored();
    for (const config of configs)
      expect(new ConfigSecrets(newOnlyCipher).open(config)).toEqual(totpSecrets.get(config.id));
    expect(configs.find((config) => config.id === alreadyNew.id)!.secretCiphertext).toBe(alreadyNew.secretCiphertext);
    for (const subscription of subscriptions) {
      expect(openSigningSecret(newOnlyCipher, subscription)).toBe(signingSecrets.get(subscription.id));
    }
    expect(subscriptions.find((row) => row.id === newSubscription.id)!.secretCiphertext).toBe(
      newSubscription.secretCiphertext,
    );

    // Run again: nothing is read, nothing written.
    const again = await reencryptUnderFirstKey(dataSource, rotatingCipher);
    expect(again.passes).toEqual({
      totp_secret: { scanned: 0, resealed: 0, changed: 0, unopenable: [] },
      webhook_secret: { scanned: 0, resealed: 0, changed: 0, unopenable: [] },
    });
    expect(await stored()).toEqual({ configs, subscriptions });
  });

  it('never overwrites a subscription deleted or a config rotated between its read and its write', async () => {
    const rotated = await insertConfig(oldCipher, 'rotated');
    const deleted = await insertSubscription(oldCipher);
    const kept = await insertSubscription(oldCipher);
    const rotatedSecret = randomBytes(20);
    const queryRunner = dataSource.createQueryRunner();
    try {
      const passes = reencryptionPasses(queryRunner.manager, rotatingCipher);
      // Read, then the service rotates (with the new key first, as every instance then runs) and deletes.
      const configs = await resealSecrets(
        {
          ...passes.totp_secret.rows,
          after: async (afterId, limit) => {
            const batch = await passes.totp_secret.rows.after(afterId, limit);
            const rotation = { ...rotated, secretVersion: 2 };
            await dataSource.manager.update(
              TwoFactorConfig,
              { id: rotated.id },
              { secretVersion: 2, secretCiphertext: new ConfigSecrets(rotatingCipher).seal(rotation, rotatedSecret) },
            );
            return batch;
          },
        },
        (row) => passes.totp_secret.reseal(row),
      );
      const webhooks = await resealSecrets(
        {
          ...passes.webhook_secret.rows,
          after: async (afterId, limit) => {
            const batch = await passes.webhook_secret.rows.after(afterId, limit);
            await dataSource.manager.delete(WebhookSubscription, { id: deleted.id });
            return batch;
          },
        },
        (row) => passes.webhook_secret.reseal(row),
      );
      expect({ configs, webhooks }).toEqual({
        configs: { scanned: 1, resealed: 0, changed: 1, unopenable: [] },
        webhooks: { scanned: 2, resealed: 1, changed: 1, unopenable: [] },
      });
    } finally {
      await queryRunner.release();
    }
    const { configs, subscriptions } = await stored();
    expect(configs).toHaveLength(1);
    expect(configs[0].secretVersion).toBe(2);
    expect(new ConfigSecrets(newOnlyCipher).open(configs[0])).toEqual(rotatedSecret);
    expect(subscriptions.map((row) => row.id)).toEqual([kept.id]);
    expect(openSigningSecret(newOnlyCipher, subscriptions[0])).toBe(signingSecrets.get(kept.id));
  });

  it('leaves a row whose UPDATE lost a race (deadlock, Galera certification conflict) to the next run', async () => {
    const [lostConfig] = [await insertConfig(oldCipher, 'lost'), await insertConfig(oldCipher, 'won')];
    const lostSubscription = await insertSubscription(oldCipher);
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), {
      code: 'ER_LOCK_DEADLOCK',
    });
    // The replacements of these two rows fail as the database fails a statement that lost a race (at
    // the driver, under both TypeORM's query and the statements sent to the driver directly).
    const connection = (dataSource.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
    const statementPrototype = Object.getPrototypeOf(connection.prepare('SELECT 1')) as Database.Statement;
    const run = statementPrototype.run;
    const racing = jest.spyOn(statementPrototype, 'run').mockImplementation(function (
      this: Database.Statement,
      ...values: unknown[]
    ) {
      const lost = values.some((value) => value === lostConfig.id || value === lostSubscription.id);
      if (/^UPDATE\b/.test(this.source) && lost) throw deadlock;
      return run.apply(this, values);
    });
    let first: KeyReencryptionReport;
    try {
      first = await reencryptUnderFirstKey(dataSource, rotatingCipher);
    } finally {
      racing.mockRestore();
    }
    expect(first.passes).toEqual({
      totp_secret: { scanned: 2, resealed: 1, changed: 1, unopenable: [] },
      webhook_secret: { scanned: 1, resealed: 0, changed: 1, unopenable: [] },
    });
    expect(verdictOf(first)).toBe('rows-left');

    const second = await reencryptUnderFirstKey(dataSource, rotatingCipher);
    expect(second.passes).toEqual({
      totp_secret: { scanned: 1, resealed: 1, changed: 0, unopenable: [] },
      webhook_secret: { scanned: 1, resealed: 1, changed: 0, unopenable: [] },
    });
    expect(verdictOf(second)).toBe('done');
    const { configs, subscriptions } = await stored();
    for (const config of configs)
      expect(new ConfigSecrets(newOnlyCipher).open(config)).toEqual(totpSecrets.get(config.id));
    expect(openSigningSecret(newOnlyCipher, subscriptions[0])).toBe(signingSecrets.get(lostSubscription.id));
  });

  it('reports secrets that do not open, leaves them as they are, and says so in its verdict', async () => {
    const missingKey = new SecretCipher({ encryptionKeys: [randomBytes(32)] });
    const underMissingKey = await insertConfig(missingKey, 'missing-key');
    const victim = await insertConfig(oldCipher, 'victim');
    const donor = await insertConfig(oldCipher, 'donor');
    await dataSource.manager.update(TwoFactorConfig, { id: victim.id }, { secretCiphertext: donor.secretCiphertext });
    const report = await reencryptUnderFirstKey(dataSource, rotatingCipher);
    expect(report.passes.totp_secret.unopenable).toEqual(
      expect.arrayContaining([
        { id: underMissingKey.id, keyId: missingKey.primaryKeyId, reason: 'unknown-key' },
        { id: victim.id, keyId: OLD_ID, reason: 'authentication-failed' },
      ]),
    );
    expect(report.passes.totp_secret).toMatchObject({ scanned: 3, resealed: 1, changed: 0 });
    expect(report.rows.filter((row) => row.secret === 'totp_secret')).toEqual([
      { secret: 'totp_secret', keyId: NEW_ID, key: '1', rows: 1 },
      { secret: 'totp_secret', keyId: OLD_ID, key: '2', rows: 1 },
      { secret: 'totp_secret', keyId: missingKey.primaryKeyId, key: 'unlisted', rows: 1 },
    ]);
    expect(verdictOf(report)).toBe('unopenable');
  });
});

describe(verdictOf.name, () => {
  const idle = { scanned: 0, resealed: 0, changed: 0, unopenable: [] };
  const reportWith = (rows: RowsUnderKey[], configsWithOldBackupCodes = 0): KeyReencryptionReport => ({
    keyIds: [NEW_ID, OLD_ID],
    passes: { totp_secret: idle, webhook_secret: idle },
    rows,
    configsWithOldBackupCodes,
  });
  const under = (secret: RowsUnderKey['secret'], keyId: string, rows: number): RowsUnderKey => ({
    secret,
    keyId,
    key: keyId === NEW_ID ? '1' : '2',
    rows,
  });

  it.each([
    ['done', reportWith([under('totp_secret', NEW_ID, 3), under('totp_secret', OLD_ID, 0)])],
    ['rows-left', reportWith([under('totp_secret', NEW_ID, 3), under('webhook_secret', OLD_ID, 1)])],
    ['rows-left', reportWith([under('totp_secret', OLD_ID, 1)], 2)],
    ['backup-codes-left', reportWith([under('totp_secret', NEW_ID, 3), under('backup_code', OLD_ID, 4)], 1)],
  ])('%s', (verdict, report) => {
    expect(verdictOf(report)).toBe(verdict);
  });
});
