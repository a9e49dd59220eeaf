import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { cryptoConfig } from '../../config/app.config';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a stored secret could not be opened. Never carries the ciphertext or the key. */
export class SecretDecryptionError extends Error {
  constructor(
    readonly reason: 'malformed' | 'unknown-key' | 'authentication-failed',
    /** The key id the sealed value names (8 hex characters), or null when it names none. */
    readonly keyId: string | null = null,
  ) {
    super(`Stored secret cannot be decrypted: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

const KEY_ID = /^[0-9a-f]{8}$/;

/** The key id of a sealed value stored in `column`, as SQL (the 8 characters after `v1.`). */
export function sealedKeyIdSql(column: string): string {
  return `SUBSTR(${column}, ${FORMAT.length + 2}, 8)`;
}

/** A short, stable id of a key, stored with each ciphertext so keys can rotate. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('twofa-key-id:').update(key).digest('hex').slice(0, 8);
}

/**
 * AES-256-GCM for TOTP secrets at rest. The associated data binds a ciphertext to its row's identity
 * (tenant, kind, subject), so a ciphertext copied to another row fails authentication.
 * Format: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
@Injectable()
export class SecretCipher {
  private readonly keys: Map<string, Buffer>;
  /** The id of the first key of TWOFA_ENCRYPTION_KEYS, the one that encrypts. */
  readonly primaryKeyId: string;

  constructor(@Inject(cryptoConfig.KEY) config: ConfigType<typeof cryptoConfig>) {
    this.keys = new Map(config.encryptionKeys.map((key) => [keyIdOf(key), key]));
    this.primaryKeyId = keyIdOf(config.encryptionKeys[0]);
  }

  /** The configured key ids, in the order of TWOFA_ENCRYPTION_KEYS. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  /** A key id's place in TWOFA_ENCRYPTION_KEYS ("1" encrypts), or "unlisted". */
  keyPlaceOf(keyId: string): string {
    const place = this.keyIds.indexOf(keyId);
    return place < 0 ? 'unlisted' : String(place + 1);
  }

  encrypt(plaintext: Buffer, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.primaryKeyId)!, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [FORMAT, this.primaryKeyId, iv, ciphertext, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  decrypt(sealed: string, associatedData: string): Buffer {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== FORMAT) throw new SecretDecryptionError('malformed');
    const [, keyId, ivText, ciphertextText, tagText] = parts;
    if (!KEY_ID.test(keyId)) throw new SecretDecryptionError('malformed');
    const key = this.keys.get(keyId);
    if (!key) throw new SecretDecryptionError('unknown-key', keyId);
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SecretDecryptionError('malformed', keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]);
    } catch {
      throw new SecretDecryptionError('authentication-failed', keyId);
    }
  }
}
