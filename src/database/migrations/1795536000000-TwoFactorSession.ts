import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

export class TwoFactorSession1795536000000 implements MigrationInterface {
  name = 'TwoFactorSession1795536000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'two_factor_session',
        columns: [
          { name: 'tenant', type: 'varchar', length: '64', isPrimary: true },
          { name: 'public_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '128' },
          { name: 'kind', type: 'varchar', length: '16', isNullable: true },
          { name: 'bool', type: 'boolean' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'ix_two_factor_session_tenant_created', columnNames: ['tenant', 'created_at'] }),
          new TableIndex({ name: 'ix_two_factor_session_tenant_user', columnNames: ['tenant', 'user_id'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('two_factor_session');
  }
}
