import { DataSource } from 'typeorm';
import { databaseConfigFrom } from '../src/config/app.config';
import { validateEnvironment } from '../src/config/environment';
import { buildDataSourceOptions, MIGRATIONS } from '../src/database/data-source-options';
import { RateLimitBucket1795550000000 } from '../src/database/migrations/1795550000000-RateLimitBucket';
import { sendRaw } from './helpers/http';
import { TOTP_SETTINGS } from './helpers/suite';
import { mariadbDatabase, rawDataSource, RunningApp, startApp } from './helpers/test-app';

/**
 * rate_limit_bucket on an existing MariaDB database whose default character set is latin1 (issue 10,
 * item 7): the table was created after the migration that gave every other table utf8mb4 with a binary
 * collation, so it had the database's latin1_swedish_ci. The RateLimitBucketCharset migration gives it
 * the other tables' character set and collation, read here from information_schema.
 */

const mysqlUrl = process.env.TEST_MYSQL_URL;
const describeOnMariadb = mysqlUrl ? describe : describe.skip;

jest.setTimeout(60_000);

interface TableCollation {
  table: string;
  collation: string;
  charset: string;
}

async function tableCollations(dataSource: DataSource): Promise<TableCollation[]> {
  return dataSource.query<TableCollation[]>(
    'SELECT t.TABLE_NAME AS `table`, t.TABLE_COLLATION AS collation, c.CHARACTER_SET_NAME AS charset ' +
      'FROM information_schema.TABLES t JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION ' +
      'WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY t.TABLE_NAME',
  );
}

describeOnMariadb('rate_limit_bucket character set on a latin1 MariaDB database', () => {
  const latin1 = mariadbDatabase(mysqlUrl ?? '', 'CHARACTER SET latin1 COLLATE latin1_swedish_ci');
  let databaseUrl: string;
  let running: RunningApp | undefined;

  beforeAll(async () => {
    databaseUrl = await latin1.create();
  });

  afterAll(async () => {
    await running?.close();
    await latin1.drop(databaseUrl);
  });

  it('was latin1_swedish_ci there before this change', async () => {
    // The schema as a release before this change left it: every migration up to the one creating the table.
    const dataSource = new DataSource({
      ...buildDataSourceOptions(databaseConfigFrom(validateEnvironment({ DATABASE_URL: databaseUrl }))),
      migrations: MIGRATIONS.slice(0, MIGRATIONS.indexOf(RateLimitBucket1795550000000) + 1),
      migrationsRun: false,
    });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations();
      const byTable = new Map((await tableCollations(dataSource)).map((row) => [row.table, row]));
      expect(byTable.get('rate_limit_bucket')).toMatchObject({ charset: 'latin1', collation: 'latin1_swedish_ci' });
      expect(byTable.get('two_factor_config')).toMatchObject({ charset: 'utf8mb4' });
    } finally {
      await dataSource.destroy();
    }
  });

  it('has the character set and collation of the other tables once the service has started (migrated)', async () => {
    running = await startApp(databaseUrl, { ...TOTP_SETTINGS, PUBLIC_RATE_LIMIT: '100', TRUST_PROXY: 'true' });
    const dataSource = rawDataSource(running);
    const entityTables = dataSource.entityMetadatas.map((entity) => entity.tableName);
    const collations = (await tableCollations(dataSource)).filter((row) => entityTables.includes(row.table));
    const reference = collations.find((row) => row.table === 'two_factor_config')!;
    expect(reference.charset).toBe('utf8mb4');
    expect(collations.map((row) => row.table).sort()).toEqual([...entityTables].sort());
    for (const row of collations) expect(row).toEqual({ ...reference, table: row.table });

    const [bucketColumn] = await dataSource.query<{ charset: string; collation: string }[]>(
      'SELECT CHARACTER_SET_NAME AS charset, COLLATION_NAME AS collation FROM information_schema.COLUMNS ' +
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'rate_limit_bucket' AND COLUMN_NAME = 'bucket'",
    );
    expect(bucketColumn).toEqual({ charset: reference.charset, collation: reference.collation });
  });

  it('counts a public request there, with a forwarded IPv6 address (as its /64) and with 200 characters that are none', async () => {
    for (const forwardedFor of ['2001:db8::7', 'é'.repeat(200)]) {
      const res = await sendRaw(running!.url, {
        method: 'POST',
        path: '/2fa/codes',
        headers: { 'x-forwarded-for': forwardedFor },
      });
      expect({ forwardedFor, status: res.status }).toEqual({ forwardedFor, status: 200 });
    }
    const buckets = await rawDataSource(running!).query<{ bucket: string }[]>('SELECT bucket FROM rate_limit_bucket');
    expect(buckets.map((row) => row.bucket.split('|')[0]).sort()).toEqual(['public:127.0.0.1', 'public:2001:db8::/64']);
  });
});
