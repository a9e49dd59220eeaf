import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * two_factor_session.origin: `login` (made by a successful verification) or `api` (posted to
 * /TwoFactorSession); a login's session cannot be moved to another user_id. Also an index on expires_at,
 * so the background removal of expired sessions (SessionExpirySweeper) reads a range, not the table.
 *
 * Existing rows are recognised by `kind`: a login has always written the user's kind (partner or agent)
 * and a POST never did, so rows with a kind are `login`, the others `api`. The column's default is
 * `login`, the stricter of the two: an instance still running the previous version during a rolling
 * upgrade inserts rows without naming the column, and its logins must not become rebindable (a session
 * it posts becomes `login` too: a rebind is refused that the API would have allowed, never the reverse).
 * The UPDATE touches only the posted rows, the fewer.
 */
export class SessionOrigin1796500000000 implements MigrationInterface {
  name = 'SessionOrigin1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'two_factor_session',
      new TableColumn({ name: 'origin', type: 'varchar', length: '8', default: "'login'" }),
    );
    await queryRunner.query("UPDATE two_factor_session SET origin = 'api' WHERE kind IS NULL");
    await queryRunner.createIndex(
      'two_factor_session',
      new TableIndex({ name: 'ix_two_factor_session_expires', columnNames: ['expires_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('two_factor_session', 'ix_two_factor_session_expires');
    await queryRunner.dropColumn('two_factor_session', 'origin');
  }
}
