import type { EntityManager } from 'typeorm';
import type { SealedSecret } from './config-secrets';
import { SecretDecryptionError } from './crypto/secret-cipher';
import type { TwoFactorConfigRepository } from './two-factor-config.repository';

export interface ResealOutcome {
  /** Rows read. */
  scanned: number;
  /** Rows whose secret was replaced. */
  resealed: number;
  /** Rows left as they were because their secret does not open: which, under which key id, why. */
  unopenable: { configId: string; keyId: string | null; reason: SecretDecryptionError['reason'] }[];
}

export interface ResealOptions {
  /** Rows per read; each row is then one conditional UPDATE. */
  batchSize?: number;
  /** Called after every batch, for a progress line. */
  onProgress?: (outcome: ResealOutcome, total: number) => void;
}

/**
 * Re-seals stored TOTP secrets, every row of two_factor_config in id order, `batchSize` at a time.
 * `reseal` gives a row's new sealed secret, or null to leave the row as it is; a row whose secret
 * does not open (`reseal` throws SecretDecryptionError) is left as it is and reported. Each new secret
 * is written by one conditional UPDATE that matches only while the row still holds the secret that was
 * read, so a rotation in between wins. Running it again is safe when `reseal` answers null for the form
 * it produces. Used by the upgrade that binds secrets to their version (ResealSecrets1796000000000);
 * re-encrypting every row under the first key is `reseal` = open, then seal.
 */
export async function resealSecrets(
  manager: EntityManager,
  configs: TwoFactorConfigRepository,
  reseal: (row: SealedSecret) => string | null,
  { batchSize = 500, onProgress }: ResealOptions = {},
): Promise<ResealOutcome> {
  const total = await configs.countAll(manager);
  const outcome: ResealOutcome = { scanned: 0, resealed: 0, unopenable: [] };
  for (let afterId = ''; ;) {
    const rows = await configs.secretsAfter(manager, afterId, batchSize);
    for (const row of rows) {
      let sealed: string | null;
      try {
        sealed = reseal(row);
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        outcome.unopenable.push({ configId: row.id, keyId: error.keyId, reason: error.reason });
        continue;
      }
      if (
        sealed !== null &&
        (await configs.replaceSecret(manager, { id: row.id, from: row.secretCiphertext, to: sealed }))
      ) {
        outcome.resealed++;
      }
    }
    outcome.scanned += rows.length;
    onProgress?.(outcome, total);
    if (rows.length < batchSize) return outcome;
    afterId = rows[rows.length - 1].id;
  }
}
