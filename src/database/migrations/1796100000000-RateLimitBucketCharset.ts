import { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysql } from './is-mysql';
import { convertTableCharset, tableCharsetOf } from './table-charset';

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
    await convertTableCharset(queryRunner, 'rate_limit_bucket', await tableCharsetOf(queryRunner, 'two_factor_config'));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    // Back to what creating the table gave it: the database's defaults.
    const [defaults] = (await queryRunner.query(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS charset, DEFAULT_COLLATION_NAME AS collation ' +
        'FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()',
    )) as { charset: string; collation: string }[];
    await convertTableCharset(queryRunner, 'rate_limit_bucket', defaults);
  }
}
