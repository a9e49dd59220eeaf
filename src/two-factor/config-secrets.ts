import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SecretCipher } from './crypto/secret-cipher';
import type { TwoFactorConfig } from './entities/two-factor-config.entity';

/** What of a config its sealed secret is bound to. */
export type SealedIdentity = Pick<TwoFactorConfig, 'tenant' | 'kind' | 'subjectId'>;

/**
 * Seals and opens a config's TOTP secret. The associated data binds the ciphertext to its row, so a
 * ciphertext copied to another row does not open.
 */
@Injectable()
export class ConfigSecrets {
  /** Opened when the user has no usable config, so an unknown user costs what a wrong code costs. */
  private readonly dummySealed: string;

  constructor(private readonly cipher: SecretCipher) {
    this.dummySealed = cipher.encrypt(randomBytes(20), DUMMY_ASSOCIATED_DATA);
  }

  seal(config: SealedIdentity, key: Buffer): string {
    return this.cipher.encrypt(key, associatedDataOf(config));
  }

  /** Throws SecretDecryptionError when the secret does not open. */
  open(config: SealedIdentity & Pick<TwoFactorConfig, 'secretCiphertext'>): Buffer {
    return this.cipher.decrypt(config.secretCiphertext, associatedDataOf(config));
  }

  /** A throwaway secret, opened with the same work as a real one. */
  openDummy(): Buffer {
    return this.cipher.decrypt(this.dummySealed, DUMMY_ASSOCIATED_DATA);
  }
}

const DUMMY_ASSOCIATED_DATA = 'twofa|dummy';

function associatedDataOf(config: SealedIdentity): string {
  return `${config.tenant}|${config.kind}|${config.subjectId}`;
}
