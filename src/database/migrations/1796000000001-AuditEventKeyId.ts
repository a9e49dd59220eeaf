import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** audit_event.key_id: the encryption key id an event is about (secret.integrity_error). */
export class AuditEventKeyId1796000000001 implements MigrationInterface {
  name = 'AuditEventKeyId1796000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'audit_event',
      new TableColumn({ name: 'key_id', type: 'varchar', length: '16', isNullable: true }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('audit_event', 'key_id');
  }
}
