import { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysql } from './is-mysql';

/**
 * rate_limit_bucket was created after CaseSensitiveText converted the other tables, so on MySQL/MariaDB
 * it took the database's default character set: latin1_swedish_ci on servers that still default to it,
 * where a client address outside latin1 could not even be compared with the keys. It takes the
 * character set and collation of two_factor_config (utf8mb4 with a binary collation), whatever they are
 * on this server. Nothing to do on SQLite.
 */
export class RateLimitBucketCharset1796100000000 implements MigrationInterface {
  name = 'RateLimitBucketCharset1796100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    const [like] = (await queryRunner.query(
      'SELECT c.CHARACTER_SET_NAME AS charset, t.TABLE_COLLATION AS collation FROM information_schema.TABLES t ' +
        'JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION ' +
        "WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = 'two_factor_config'",
    )) as { charset: string; collation: string }[];
    await convert(queryRunner, like);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    // Back to what creating the table gave it: the database's defaults.
    const [defaults] = (await queryRunner.query(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation ' +
        'FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()',
    )) as { charset: string; collation: string }[];
    await convert(queryRunner, defaults);
  }
}

async function convert(queryRunner: QueryRunner, to: { charset: string; collation: string }): Promise<void> {
  // Names read from information_schema, never from input; checked anyway before they go into the DDL.
  if (![to.charset, to.collation].every((name) => /^[A-Za-z0-9_]+$/.test(name))) {
    throw new Error(`Unexpected character set or collation name: ${to.charset} ${to.collation}`);
  }
  await queryRunner.query(
    `ALTER TABLE \`rate_limit_bucket\` CONVERT TO CHARACTER SET ${to.charset} COLLATE ${to.collation}`,
  );
}
