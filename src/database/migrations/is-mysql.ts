import { QueryRunner } from 'typeorm';

/** True on MySQL/MariaDB, where migrations that only concern their character sets have work to do. */
export function isMysql(queryRunner: QueryRunner): boolean {
  const type = queryRunner.connection.options.type;
  return type === 'mysql' || type === 'mariadb';
}
