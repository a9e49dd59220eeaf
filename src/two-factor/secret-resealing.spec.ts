import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { ConfigSecrets, SealedSecret } from './config-secrets';
import { keyIdOf, SecretCipher } from './crypto/secret-cipher';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { resealSecrets } from './secret-resealing';
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

  it('re-seals every row in batches, leaves rows for which it answers null, and can run again', async () => {
    const progress: number[] = [];
    const queryRunner = dataSource.createQueryRunner();
    try {
      const outcome = await resealSecrets(queryRunner.manager, configs, underFirstKey, {
        batchSize: 2,
        onProgress: ({ scanned }) => progress.push(scanned),
      });
      expect(outcome).toEqual({ scanned: 5, resealed: 5, unopenable: [] });
      expect(progress).toEqual([2, 4, 5]);
      const again = await resealSecrets(queryRunner.manager, configs, underFirstKey, { batchSize: 2 });
      expect(again).toEqual({ scanned: 5, resealed: 0, unopenable: [] });
    } finally {
      await queryRunner.release();
    }
    for (const row of await dataSource.manager.find(TwoFactorConfig)) {
      expect(row.secretCiphertext.split('.')[1]).toBe(keyIdOf(newKey));
      expect(after.open(row)).toEqual(keys.get(row.id));
    }
  });

  it('reports a row that does not open and leaves it as it is', async () => {
    const [victim, other] = await dataSource.manager.find(TwoFactorConfig, { order: { id: 'ASC' }, take: 2 });
    await dataSource.manager.update(TwoFactorConfig, { id: victim.id }, { secretCiphertext: other.secretCiphertext });
    const queryRunner = dataSource.createQueryRunner();
    try {
      const outcome = await resealSecrets(queryRunner.manager, configs, (row) => after.seal(row, after.open(row)));
      expect(outcome.unopenable).toEqual([
        { configId: victim.id, keyId: keyIdOf(newKey), reason: 'authentication-failed' },
      ]);
      expect(outcome.resealed).toBe(4);
    } finally {
      await queryRunner.release();
    }
    expect((await dataSource.manager.findOneByOrFail(TwoFactorConfig, { id: victim.id })).secretCiphertext).toBe(
      other.secretCiphertext,
    );
  });
});
