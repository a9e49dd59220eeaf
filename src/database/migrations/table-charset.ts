import { QueryRunner } from 'typeorm';

export interface TableCharset {
  charset: string;
  collation: string;
}

/** A table's character set and collation on MySQL/MariaDB. */
export async function tableCharsetOf(queryRunner: QueryRunner, table: string): Promise<TableCharset> {
  const [found] = (await queryRunner.query(
    'SELECT c.CHARACTER_SET_NAME AS charset, t.TABLE_COLLATION AS collation FROM information_schema.TABLES t ' +
      'JOIN information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION ' +
      'WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME = ?',
    [table],
  )) as TableCharset[];
  return found;
}

/** Converts a table's text columns to the given character set and collation (MySQL/MariaDB). */
export async function convertTableCharset(queryRunner: QueryRunner, table: string, to: TableCharset): Promise<void> {
  // Names read from information_schema, never from input; checked anyway before they go into the DDL.
  if (![to.charset, to.collation].every((name) => /^[A-Za-z0-9_]+$/.test(name))) {
    throw new Error(`Unexpected character set or collation name: ${to.charset} ${to.collation}`);
  }
  await queryRunner.query(`ALTER TABLE \`${table}\` CONVERT TO CHARACTER SET ${to.charset} COLLATE ${to.collation}`);
}
