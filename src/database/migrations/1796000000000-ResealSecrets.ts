import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { cryptoConfig } from '../../config/app.config';
import { ConfigSecrets, SealedSecret } from '../../two-factor/config-secrets';
import { SecretCipher, SecretDecryptionError } from '../../two-factor/crypto/secret-cipher';
import { resealSecrets } from '../../two-factor/secret-resealing';
import { TwoFactorConfigRepository } from '../../two-factor/two-factor-config.repository';

/**
 * Binds every stored TOTP secret to its row's id and secret version (ConfigSecrets): adds
 * `secret_version` (1 for every existing row) and re-seals, once, each secret still in the earlier form
 * (bound to tenant, kind and subject only). Once this migration is recorded the service never accepts
 * that form again: a row the upgrade re-sealed cannot be rolled back by writing an older ciphertext
 * into it, and there is no flag in the row that says "old form" for an attacker to set.
 *
 * It needs the encryption keys (TWOFA_ENCRYPTION_KEY(S), or the development keys), read as the app
 * reads them; the cluster primary runs it once, before any worker starts. A row sealed under a key that
 * is not configured stops it (add the key and start again: the rows done so far are skipped); a row
 * that does not open under its configured key is left as it is (it fails as an integrity error at
 * login, audited) and logged. A new database has no rows, and then no keys are read.
 */
export class ResealSecrets1796000000000 implements MigrationInterface {
  name = 'ResealSecrets1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // On MySQL the ALTER commits by itself: a run stopped below must find the column there next time.
    if (!(await queryRunner.hasColumn('two_factor_config', 'secret_version'))) {
      await queryRunner.addColumn(
        'two_factor_config',
        new TableColumn({ name: 'secret_version', type: 'integer', default: 1 }),
      );
    }
    await reseal(queryRunner, (secrets, row) => {
      try {
        secrets.open(row);
        return null; // already bound to its version (a run that stopped halfway)
      } catch (error) {
        if (!(error instanceof SecretDecryptionError) || error.reason !== 'authentication-failed') throw error;
        return secrets.seal(row, secrets.openUnversioned(row));
      }
    });
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await reseal(queryRunner, (secrets, row) => secrets.sealUnversioned(row, secrets.open(row)));
    await queryRunner.dropColumn('two_factor_config', 'secret_version');
  }
}

async function reseal(
  queryRunner: QueryRunner,
  resealed: (secrets: ConfigSecrets, row: SealedSecret) => string | null,
): Promise<void> {
  const configs = new TwoFactorConfigRepository(queryRunner.connection);
  if ((await configs.countAll(queryRunner.manager)) === 0) return;
  const secrets = new ConfigSecrets(new SecretCipher(cryptoConfig()));
  const log = (message: string): void => {
    queryRunner.connection.logger.logMigration(message, queryRunner);
  };
  const outcome = await resealSecrets(configs.sealedSecrets(queryRunner.manager), (row) => resealed(secrets, row), {
    onProgress: ({ scanned, resealed: done }, total) =>
      log(`re-sealing TOTP secrets: ${scanned}/${total} read, ${done} re-sealed`),
  });
  for (const row of outcome.unopenable.filter((row) => row.reason !== 'unknown-key')) {
    log(
      `the TOTP secret of config ${row.id} does not open (key id ${row.keyId ?? 'none'}: ${row.reason}); left as it is`,
    );
  }
  const underMissingKeys = outcome.unopenable.filter((row) => row.reason === 'unknown-key');
  if (underMissingKeys.length > 0) {
    const keyIds = [...new Set(underMissingKeys.map((row) => row.keyId))].join(', ');
    throw new Error(
      `Re-sealing TOTP secrets: ${underMissingKeys.length} rows are sealed under key id(s) ${keyIds}, ` +
        'which TWOFA_ENCRYPTION_KEY(S) does not hold; add the key(s) and start again',
    );
  }
}
