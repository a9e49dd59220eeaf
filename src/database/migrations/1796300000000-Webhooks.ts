import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { isMysql } from './is-mysql';
import { convertTableCharset, tableCharsetOf } from './table-charset';

/** Webhook subscriptions and their outbox of deliveries (issue 14). */
export class Webhooks1796300000000 implements MigrationInterface {
  name = 'Webhooks1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'webhook_subscription',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant', type: 'varchar', length: '64' },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'varchar', length: '512', isNullable: true },
          { name: 'secret_ciphertext', type: 'varchar', length: '255' },
          { name: 'created_by', type: 'varchar', length: '128', isNullable: true },
          { name: 'created_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'ix_webhook_subscription_tenant_created', columnNames: ['tenant', 'created_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'webhook_delivery',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'subscription_id', type: 'varchar', length: '36' },
          { name: 'tenant', type: 'varchar', length: '64' },
          { name: 'event_id', type: 'varchar', length: '36' },
          { name: 'event_type', type: 'varchar', length: '48' },
          { name: 'payload', type: 'text' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'attempts', type: 'integer' },
          { name: 'next_attempt_at', type: 'bigint', isNullable: true },
          { name: 'claim_token', type: 'varchar', length: '36', isNullable: true },
          { name: 'last_attempt_at', type: 'bigint', isNullable: true },
          { name: 'last_status_code', type: 'integer', isNullable: true },
          { name: 'last_error', type: 'varchar', length: '1200', isNullable: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'delivered_at', type: 'bigint', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'ix_webhook_delivery_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({
            name: 'ix_webhook_delivery_subscription_created',
            columnNames: ['subscription_id', 'created_at'],
          }),
        ],
      }),
    );
    if (isMysql(queryRunner)) {
      // A new table takes the database's default (case-insensitive, maybe latin1): compare as the others do.
      const like = await tableCharsetOf(queryRunner, 'two_factor_config');
      for (const table of ['webhook_subscription', 'webhook_delivery'])
        await convertTableCharset(queryRunner, table, like);
    }
    // After the conversion: a column in a foreign key cannot change its collation.
    await queryRunner.createForeignKey(
      'webhook_delivery',
      new TableForeignKey({
        name: 'fk_webhook_delivery_subscription',
        columnNames: ['subscription_id'],
        referencedTableName: 'webhook_subscription',
        referencedColumnNames: ['id'],
        onDelete: 'CASCADE',
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_delivery');
    await queryRunner.dropTable('webhook_subscription');
  }
}
