import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../database/data-source-options';
import { NamedSql } from '../database/named-sql';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { CONFIG_COLUMNS, LOGIN_STATEMENTS, NUMERIC_CONFIG_PROPERTIES } from './two-factor-config.repository';

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
