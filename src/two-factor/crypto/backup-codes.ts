import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { cryptoConfig } from '../../config/app.config';
import { keyIdOf } from './secret-cipher';

/** Crockford base32: no I, L, O, U, so codes read aloud and typed by hand survive. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 10; // 50 bits from the CSPRNG; guessing is bounded by the lockout
const NORMALIZED = /^[0-9A-HJKMNP-TV-Z]{10}$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export const BACKUP_CODES_PER_SET = 10;

/** The key id of a stored hash (`<keyId>.<mac>`), as SQL. */
export const BACKUP_CODE_KEY_ID_SQL = 'SUBSTR(code_hash, 1, 8)';

/**
 * Backup codes: generation, normalisation and a keyed hash (HMAC-SHA-256 under a key derived from
 * each encryption key). The hash is deterministic, so a code is found by an indexed lookup and checked
 * against one hash; the key never sits in the database, so a dump alone cannot be brute-forced.
 */
@Injectable()
export class BackupCodes {
  private readonly hashKeys: { keyId: string; key: Buffer }[];

  constructor(@Inject(cryptoConfig.KEY) config: ConfigType<typeof cryptoConfig>) {
    this.hashKeys = config.encryptionKeys.map((key) => ({
      keyId: keyIdOf(key),
      key: Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'twofa backup-code hash v1', 32)),
    }));
  }

  /** A new code as shown to the user: `XXXXX-XXXXX`. */
  generate(): string {
    const bits = randomBytes(8).readBigUInt64BE();
    let code = '';
    for (let i = 0; i < CODE_CHARS; i++) code += ALPHABET[Number((bits >> BigInt(5 * i)) & 31n)];
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  }

  generateSet(): string[] {
    return Array.from({ length: BACKUP_CODES_PER_SET }, () => this.generate());
  }

  /** Case, dashes and spaces are forgiven; anything else, and anything not ASCII, is not a backup code. */
  normalize(input: string): string | null {
    // Checked before upper-casing: Unicode case mapping turns `ſ` into S, `ß` into SS and `ﬅ` into ST,
    // so text that is not a code would otherwise spell one.
    if (!PRINTABLE_ASCII.test(input)) return null;
    const normalized = input.replace(/[- ]/g, '').toUpperCase();
    return NORMALIZED.test(normalized) ? normalized : null;
  }

  /** The stored form under the current key, bound to its owner so hashes cannot be moved between rows. */
  hash(normalizedCode: string, ownerId: string): string {
    return this.hashWith(this.hashKeys[0], normalizedCode, ownerId);
  }

  /** Every stored form the code may have (one per configured key), for an indexed `IN (...)` lookup. */
  lookupHashes(normalizedCode: string, ownerId: string): string[] {
    return this.hashKeys.map((hashKey) => this.hashWith(hashKey, normalizedCode, ownerId));
  }

  private hashWith(hashKey: { keyId: string; key: Buffer }, normalizedCode: string, ownerId: string): string {
    const mac = createHmac('sha256', hashKey.key)
      .update(ownerId)
      .update('\0')
      .update(normalizedCode)
      .digest('base64url');
    return `${hashKey.keyId}.${mac}`;
  }
}
