import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

export class RateLimitBucket1795550000000 implements MigrationInterface {
  name = 'RateLimitBucket1795550000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'rate_limit_bucket',
        columns: [
          { name: 'bucket', type: 'varchar', length: '128', isPrimary: true },
          { name: 'hits', type: 'integer' },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'ix_rate_limit_bucket_expires', columnNames: ['expires_at'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('rate_limit_bucket');
  }
}
