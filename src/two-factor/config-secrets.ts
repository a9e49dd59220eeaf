import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SecretCipher, SecretDecryptionError } from './crypto/secret-cipher';
import type { TwoFactorConfig } from './entities/two-factor-config.entity';

/** What of a config its sealed secret is bound to. */
export type SealedIdentity = Pick<TwoFactorConfig, 'id' | 'secretVersion' | 'tenant' | 'kind' | 'subjectId'>;

/** A config with its sealed secret. */
export type SealedSecret = SealedIdentity & Pick<TwoFactorConfig, 'secretCiphertext'>;

/**
 * Seals and opens a config's TOTP secret (AES-256-GCM, SecretCipher). The associated data binds the
 * ciphertext to its row (id, tenant, kind, subject: a ciphertext copied to another row does not open)
 * and to the row's secret version, which every rotation increases: an older ciphertext of the same row,
 * written back by someone who can write the database but does not hold the key, does not open either.
 * Someone who writes back both an old ciphertext and its old version number can still roll a row back
 * (docs/architecture.md, "Secrets at rest").
 */
@Injectable()
export class ConfigSecrets {
  private readonly logger = new Logger(ConfigSecrets.name);
  /** Opened when the user has no usable config, so an unknown user costs what a wrong code costs. */
  private readonly dummySealed: string;

  constructor(private readonly cipher: SecretCipher) {
    this.dummySealed = cipher.encrypt(randomBytes(20), DUMMY_ASSOCIATED_DATA);
  }

  /** Seals under the first configured key. */
  seal(config: SealedIdentity, key: Buffer): string {
    return this.cipher.encrypt(key, associatedDataOf(config));
  }

  /** Throws SecretDecryptionError when the secret does not open. */
  open(config: SealedSecret): Buffer {
    return this.cipher.decrypt(config.secretCiphertext, associatedDataOf(config));
  }

  /** The one error line a secret that does not open gets: which config, which key id, why; never the ciphertext. */
  reportUnopenable(config: Pick<TwoFactorConfig, 'id'>, error: SecretDecryptionError): void {
    this.logger.error(
      { configId: config.id, keyId: error.keyId, reason: error.reason },
      `The TOTP secret of config ${config.id} does not open (key id ${error.keyId ?? 'none'}: ${error.reason})`,
    );
  }

  /**
   * Opens a secret sealed before the associated data held the row's id and secret version (bound to
   * tenant, kind and subject only). Only the one-time re-seal at the upgrade uses it
   * (ResealSecrets1796000000000); the service never accepts that form.
   */
  openUnversioned(config: SealedSecret): Buffer {
    return this.cipher.decrypt(config.secretCiphertext, unversionedAssociatedDataOf(config));
  }

  /** Seals in that earlier form: only for undoing the upgrade (its migration's `down`). */
  sealUnversioned(config: SealedIdentity, key: Buffer): string {
    return this.cipher.encrypt(key, unversionedAssociatedDataOf(config));
  }

  /** A throwaway secret, opened with the same work as a real one. */
  openDummy(): Buffer {
    return this.cipher.decrypt(this.dummySealed, DUMMY_ASSOCIATED_DATA);
  }
}

const DUMMY_ASSOCIATED_DATA = 'twofa|dummy';

/** A JSON array, so no value can run into the next (tenants and subjects are free text). */
function associatedDataOf(config: SealedIdentity): string {
  return JSON.stringify(['totp-secret', config.id, config.secretVersion, config.tenant, config.kind, config.subjectId]);
}

function unversionedAssociatedDataOf(config: SealedIdentity): string {
  return `${config.tenant}|${config.kind}|${config.subjectId}`;
}
