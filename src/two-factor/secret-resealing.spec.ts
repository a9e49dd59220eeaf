import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { ConfigSecrets, SealedSecret } from './config-secrets';
import { keyIdOf, SecretCipher } from './crypto/secret-cipher';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { resealSecrets, SealedRowStore } from './secret-resealing';
import { TwoFactorConfigRepository } from './two-factor-config.repository';

describe(resealSecrets.name, () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = new ConfigSecrets(new SecretCipher({ encryptionKeys: [oldKey] }));
  const after = new ConfigSecrets(new SecretCipher({ encryptionKeys: [newKey, oldKey] }));
  let dataSource: DataSource;
  let configs: TwoFactorConfigRepository;
  const keys = new Map<string, Buffer>();

  beforeAll(async () => {
    dataSource = new DataSource(buildDataSourceOptions({ kind: 'sqlite', file: ':memory:', timeoutMs: 1000 }));
    await dataSource.initialize();
    configs = new TwoFactorConfigRepository(dataSource);
    for (let n = 0; n < 5; n++) {
      const identity = {
        id: randomUUID(),
        secretVersion: 1,
        tenant: 'spec',
        kind: 'agent' as const,
        subjectId: `u${n}`,
      };
      const key = randomBytes(20);
      keys.set(identity.id, key);
      await dataSource.manager.insert(TwoFactorConfig, {
        ...identity,
        ...{ account: identity.subjectId, secretCiphertext: before.seal(identity, key), algorithm: 'SHA1', digits: 6 },
        ...{ period: 30, status: 'active', lastUsedStep: null, failedAttempts: 0, lockedUntil: null },
        ...{ createdAt: 0, updatedAt: 0, activatedAt: 0 },
      });
    }
  });
  afterAll(() => dataSource.destroy());

  /** Re-encryption under the first key: rows already under it are left alone. */
  const underFirstKey = (row: SealedSecret) =>
    row.secretCiphertext.split('.')[1] === keyIdOf(newKey) ? null : after.seal(row, after.open(row));

  /** The rows through a query runner's manager, as the migration and keys:reencrypt read them. */
  async function withStore<T>(use: (rows: SealedRowStore<SealedSecret>) => Promise<T>, keyId?: string): Promise<T> {
    const queryRunner = dataSource.createQueryRunner();
    try {
      return await use(configs.sealedSecrets(queryRunner.manager, keyId));
    } finally {
      await queryRunner.release();
    }
  }

  /** Every row sealed under the old key again; returns them in id order. */
  async function sealAllUnderOldKey(): Promise<TwoFactorConfig[]> {
    const rows = await dataSource.manager.find(TwoFactorConfig, { order: { id: 'ASC' } });
    for (const row of rows) {
      const secretCiphertext = before.seal(row, keys.get(row.id)!);
      await dataSource.manager.update(TwoFactorConfig, { id: row.id }, { secretCiphertext });
    }
    return rows;
  }

  it('re-seals every row in batches, leaves rows for which it answers null, and can run again', async () => {
    const progress: string[] = [];
    const outcome = await withStore((rows) =>
      resealSecrets(rows, underFirstKey, {
        batchSize: 2,
        onProgress: ({ scanned }, total, finished) =>
          progress.push(`${scanned}/${total}${finished ? ' finished' : ''}`),
      }),
    );
    expect(outcome).toEqual({ scanned: 5, resealed: 5, changed: 0, unopenable: [] });
    expect(progress).toEqual(['2/5', '4/5', '5/5 finished']);
    const again = await withStore((rows) => resealSecrets(rows, underFirstKey, { batchSize: 2 }));
    expect(again).toEqual({ scanned: 5, resealed: 0, changed: 0, unopenable: [] });
    for (const row of await dataSource.manager.find(TwoFactorConfig)) {
      expect(row.secretCiphertext.split('.')[1]).toBe(keyIdOf(newKey));
      expect(after.open(row)).toEqual(keys.get(row.id));
    }
  });

  it('with a key id, reads and counts only the rows sealed under another key', async () => {
    const [moved] = await dataSource.manager.find(TwoFactorConfig, { order: { id: 'ASC' }, take: 1 });
    const sealedBefore = before.seal(moved, keys.get(moved.id)!);
    await dataSource.manager.update(TwoFactorConfig, { id: moved.id }, { secretCiphertext: sealedBefore });
    const seen = await withStore(
      async (rows) => ({ count: await rows.count(), ids: (await rows.after('', 10)).map((row) => row.id) }),
      keyIdOf(newKey),
    );
    expect(seen).toEqual({ count: 1, ids: [moved.id] });
    const outcome = await withStore(
      (rows) => resealSecrets(rows, (row) => after.seal(row, after.open(row))),
      keyIdOf(newKey),
    );
    expect(outcome).toEqual({ scanned: 1, resealed: 1, changed: 0, unopenable: [] });
    expect(await withStore((rows) => rows.count(), keyIdOf(newKey))).toBe(0);
  });

  it('leaves a row rotated or deleted between its read and its write as that change made it, counted as changed', async () => {
    const rows = await sealAllUnderOldKey();
    const [rotated, deleted, rewrittenAtSameVersion] = rows;
    // A rotation: a new secret under a new version. A row deleted. And a secret written again at the same
    // version (the same key, another ciphertext): the condition holds the ciphertext too.
    const rotation = { ...rotated, secretVersion: rotated.secretVersion + 1 };
    const rotatedSecret = randomBytes(20);
    const changes = async () => {
      await dataSource.manager.update(
        TwoFactorConfig,
        { id: rotated.id },
        { secretVersion: rotation.secretVersion, secretCiphertext: after.seal(rotation, rotatedSecret) },
      );
      await dataSource.manager.delete(TwoFactorConfig, { id: deleted.id });
      await dataSource.manager.update(
        TwoFactorConfig,
        { id: rewrittenAtSameVersion.id },
        { secretCiphertext: before.seal(rewrittenAtSameVersion, keys.get(rewrittenAtSameVersion.id)!) },
      );
    };
    const stored = async (id: string) =>
      (await dataSource.manager.findOneByOrFail(TwoFactorConfig, { id })).secretCiphertext;
    const outcome = await withStore(async (store) => {
      // The changes land after the first batch was read and before any of it was written.
      const raced: SealedRowStore<SealedSecret> = {
        ...store,
        after: async (afterId, limit) => {
          const batch = await store.after(afterId, limit);
          if (afterId === '') await changes();
          return batch;
        },
      };
      return resealSecrets(raced, (row) => after.seal(row, after.open(row)), { batchSize: 3 });
    }, keyIdOf(newKey));
    expect(outcome).toEqual({ scanned: 5, resealed: 2, changed: 3, unopenable: [] });
    const rotatedRow = await dataSource.manager.findOneByOrFail(TwoFactorConfig, { id: rotated.id });
    expect(rotatedRow.secretVersion).toBe(rotation.secretVersion);
    expect(after.open(rotatedRow)).toEqual(rotatedSecret);
    expect(await dataSource.manager.findOneBy(TwoFactorConfig, { id: deleted.id })).toBeNull();
    expect((await stored(rewrittenAtSameVersion.id)).split('.')[1]).toBe(keyIdOf(oldKey));
    // The next run picks up the row left under the old key, and nothing else.
    const next = await withStore(
      (store) => resealSecrets(store, (row) => after.seal(row, after.open(row))),
      keyIdOf(newKey),
    );
    expect(next).toEqual({ scanned: 1, resealed: 1, changed: 0, unopenable: [] });
  });

  it('stops at a replacement that fails, a lost race too: the upgrade is recorded only when every row is done', async () => {
    const rows = await sealAllUnderOldKey();
    const failingOn = (id: string, error: Error) => (store: SealedRowStore<SealedSecret>) =>
      resealSecrets(
        { ...store, replace: (row, sealed) => (row.id === id ? Promise.reject(error) : store.replace(row, sealed)) },
        (row) => after.seal(row, after.open(row)),
      );
    const deadlock = Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK' });
    await expect(withStore(failingOn(rows[2].id, deadlock), keyIdOf(newKey))).rejects.toBe(deadlock);
    expect(await withStore((store) => store.count(), keyIdOf(newKey))).toBe(rows.length - 2);
    const broken = new Error('no such table');
    await expect(withStore(failingOn(rows[2].id, broken), keyIdOf(newKey))).rejects.toBe(broken);
    // Run again: it picks up where the failure stopped it.
    const rest = await withStore((store) => resealSecrets(store, underFirstKey), keyIdOf(newKey));
    expect(rest).toEqual({ scanned: rows.length - 2, resealed: rows.length - 2, changed: 0, unopenable: [] });
  });

  it('reports a row that does not open and leaves it as it is', async () => {
    const [victim, other] = await dataSource.manager.find(TwoFactorConfig, { order: { id: 'ASC' }, take: 2 });
    await dataSource.manager.update(TwoFactorConfig, { id: victim.id }, { secretCiphertext: other.secretCiphertext });
    const outcome = await withStore((rows) => resealSecrets(rows, (row) => after.seal(row, after.open(row))));
    expect(outcome.unopenable).toEqual([{ id: victim.id, keyId: keyIdOf(newKey), reason: 'authentication-failed' }]);
    expect(outcome.resealed).toBe(3);
    expect((await dataSource.manager.findOneByOrFail(TwoFactorConfig, { id: victim.id })).secretCiphertext).toBe(
      other.secretCiphertext,
    );
  });
});
