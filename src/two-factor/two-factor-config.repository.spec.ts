import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { NamedSql } from '../database/named-sql';
import { randomUUID } from 'node:crypto';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { LockoutPolicy } from './lockout-policy';
import {
  CONFIG_COLUMNS,
  LOGIN_STATEMENTS,
  NUMERIC_CONFIG_PROPERTIES,
  TwoFactorConfigRepository,
} from './two-factor-config.repository';

/** Ties the repository's raw SQL to the entity and to the schema the migrations build. */
describe('TwoFactorConfigRepository statements', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = new DataSource(buildDataSourceOptions({ kind: 'sqlite', file: ':memory:', timeoutMs: 1000 }));
    await dataSource.initialize();
  });
  afterAll(() => dataSource.destroy());

  it("lists exactly the entity's columns, each under its property", () => {
    const columns = dataSource
      .getMetadata(TwoFactorConfig)
      .columns.map((column) => [column.propertyName, column.databaseName]);
    expect(Object.entries(CONFIG_COLUMNS).sort()).toEqual(columns.sort());
  });

  it("converts exactly the entity's numeric columns to numbers", () => {
    const numeric = dataSource
      .getMetadata(TwoFactorConfig)
      .columns.filter((column) => ['int', 'bigint', 'integer'].includes(String(column.type)))
      .map((column) => column.propertyName);
    expect([...NUMERIC_CONFIG_PROPERTIES].sort()).toEqual(numeric.sort());
  });

  it('counts failures in SQL exactly as LockoutPolicy states the policy', async () => {
    const policy = new LockoutPolicy({ maxFailures: 2, lockSeconds: 1, maxLockSeconds: 5, hardLimit: 15 });
    const repository = new TwoFactorConfigRepository(dataSource);
    const id = randomUUID();
    await dataSource.manager.insert(TwoFactorConfig, {
      ...{ id, tenant: 'spec', kind: 'agent', subjectId: 'counted', account: 'counted', secretCiphertext: 'x' },
      ...{ algorithm: 'SHA1', digits: 6, period: 30, status: 'active', lastUsedStep: null, failedAttempts: 0 },
      ...{ lockedUntil: null, createdAt: 0, updatedAt: 0, activatedAt: 0 },
    });
    const now = 1_000_000;
    const seen: { failures: number; counted: string; lockedFor: number | null }[] = [];
    for (let attempt = 1; attempt <= 16; attempt++) {
      const counted = await dataSource.transaction((manager) => repository.countFailure(manager, { id, now }, policy));
      const row = await dataSource.manager.findOneByOrFail(TwoFactorConfig, { id });
      seen.push({
        failures: row.failedAttempts,
        counted,
        lockedFor: row.lockedUntil === null ? null : row.lockedUntil - now,
      });
      // The next attempt comes after the lock, as an attacker's would.
      await dataSource.manager.update(TwoFactorConfig, { id }, { lockedUntil: null });
    }
    const expected = Array.from({ length: 16 }, (_, index) => {
      const failures = Math.min(index + 1, 15);
      const lockSeconds = policy.lockSecondsAfter(failures);
      return {
        failures,
        counted:
          index >= 15 ? 'already-hard-locked' : failures === 15 ? 'hard-locked' : lockSeconds ? 'locked' : 'counted',
        lockedFor: index < 15 && lockSeconds ? lockSeconds * 1000 : null,
      };
    });
    expect(seen).toEqual(expected);
    // Locks at 2, 4, 6, 8 ... failures: 1, 2, 4 s, then the 5 s cap.
    expect([2, 4, 6, 8, 14].map((failures) => policy.lockSecondsAfter(failures))).toEqual([1, 2, 4, 5, 5]);
  });

  it.each(Object.entries(LOGIN_STATEMENTS) as [string, NamedSql<Record<string, unknown>>][])(
    '%s runs against the migrated schema',
    async (_name, statement) => {
      const parameters = Object.fromEntries(statement.parameterNames.map((name) => [name, 1]));
      await dataSource.transaction(async (manager) => {
        const { text, values } = statement.bind(parameters);
        await expect(manager.query(text, values)).resolves.toBeDefined();
      });
    },
  );
});
