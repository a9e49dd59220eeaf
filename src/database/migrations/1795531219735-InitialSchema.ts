import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/** Written with TypeORM's schema builder so the same migration runs on SQLite and MySQL/MariaDB. */
export class InitialSchema1795531219735 implements MigrationInterface {
  name = 'InitialSchema1795531219735';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'two_factor_config',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant', type: 'varchar', length: '64' },
          { name: 'kind', type: 'varchar', length: '16' },
          { name: 'subject_id', type: 'varchar', length: '128' },
          { name: 'account', type: 'varchar', length: '128' },
          { name: 'secret_ciphertext', type: 'varchar', length: '255' },
          { name: 'algorithm', type: 'varchar', length: '8' },
          { name: 'digits', type: 'integer' },
          { name: 'period', type: 'integer' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'last_used_step', type: 'integer', isNullable: true },
          { name: 'failed_attempts', type: 'integer', default: 0 },
          { name: 'locked_until', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
          { name: 'activated_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          new TableIndex({
            name: 'uq_two_factor_config_subject',
            columnNames: ['tenant', 'kind', 'subject_id'],
            isUnique: true,
          }),
          new TableIndex({ name: 'ix_two_factor_config_tenant_status', columnNames: ['tenant', 'kind', 'status'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'backup_code',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'config_id', type: 'varchar', length: '36' },
          { name: 'code_hash', type: 'varchar', length: '64' },
          { name: 'used_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'uq_backup_code_hash', columnNames: ['config_id', 'code_hash'], isUnique: true }),
        ],
        foreignKeys: [
          {
            name: 'fk_backup_code_config',
            columnNames: ['config_id'],
            referencedTableName: 'two_factor_config',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'audit_event',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant', type: 'varchar', length: '64' },
          { name: 'event', type: 'varchar', length: '48' },
          { name: 'outcome', type: 'varchar', length: '16' },
          { name: 'actor', type: 'varchar', length: '128', isNullable: true },
          { name: 'subject_kind', type: 'varchar', length: '16', isNullable: true },
          { name: 'subject_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'config_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'request_id', type: 'varchar', length: '128', isNullable: true },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'ix_audit_event_tenant_time', columnNames: ['tenant', 'created_at'] }),
          new TableIndex({ name: 'ix_audit_event_tenant_subject', columnNames: ['tenant', 'subject_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('audit_event');
    await queryRunner.dropTable('backup_code');
    await queryRunner.dropTable('two_factor_config');
  }
}
