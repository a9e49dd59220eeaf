import { MigrationInterface, QueryRunner, TableForeignKey } from 'typeorm';
import { isMysql } from './is-mysql';

const TABLES = ['two_factor_config', 'backup_code', 'audit_event', 'two_factor_session'];

const backupCodeForeignKey = () =>
  new TableForeignKey({
    name: 'fk_backup_code_config',
    columnNames: ['config_id'],
    referencedTableName: 'two_factor_config',
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
  });

/**
 * MySQL/MariaDB compare text case-insensitively by default (utf8mb4_general_ci and the like): the
 * tenant "Acme" read the rows of tenant "acme", and user ids or public_ids differing only in case were
 * one. SQLite compares bytes; this makes MySQL/MariaDB do the same (a binary, no-pad collation where
 * the server has one). Nothing to do on SQLite.
 */
export class CaseSensitiveText1795540000000 implements MigrationInterface {
  name = 'CaseSensitiveText1795540000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    const available = new Set(
      (
        (await queryRunner.query(
          "SHOW COLLATION WHERE Collation IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin')",
        )) as { Collation: string }[]
      ).map((row) => row.Collation),
    );
    const collation = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin', 'utf8mb4_bin'].find((name) => available.has(name))!;
    await this.convert(queryRunner, `utf8mb4 COLLATE ${collation}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!isMysql(queryRunner)) return;
    await this.convert(queryRunner, 'utf8mb4');
  }

  /** A column in a foreign key cannot change collation, so the key is dropped and made again. */
  private async convert(queryRunner: QueryRunner, characterSet: string): Promise<void> {
    await queryRunner.dropForeignKey('backup_code', 'fk_backup_code_config');
    for (const table of TABLES) {
      await queryRunner.query(`ALTER TABLE \`${table}\` CONVERT TO CHARACTER SET ${characterSet}`);
    }
    await queryRunner.createForeignKey('backup_code', backupCodeForeignKey());
  }
}
