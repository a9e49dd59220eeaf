import { randomBytes } from 'node:crypto';
import { keyIdOf, SecretCipher, SecretDecryptionError } from './secret-cipher';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const cipherWith = (...keys: Buffer[]) => new SecretCipher({ encryptionKeys: keys });
const secret = Buffer.from('12345678901234567890');
const aad = 'acme|partner|user-1';

function expectDecryptFailure(action: () => unknown, reason: SecretDecryptionError['reason']): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect((error as SecretDecryptionError).reason).toBe(reason);
    return;
  }
  throw new Error('expected decryption to fail');
}

describe(SecretCipher.name, () => {
  it('round-trips a secret and never stores it readable', () => {
    const cipher = cipherWith(keyA);
    const sealed = cipher.encrypt(secret, aad);
    expect(cipher.decrypt(sealed, aad).equals(secret)).toBe(true);
    expect(sealed).not.toContain(secret.toString('base64url'));
    expect(sealed).not.toContain(secret.toString('hex'));
    expect(sealed.split('.')[1]).toBe(keyIdOf(keyA));
  });

  it('uses a fresh IV each time', () => {
    const cipher = cipherWith(keyA);
    expect(cipher.encrypt(secret, aad)).not.toBe(cipher.encrypt(secret, aad));
  });

  it('rejects a tampered ciphertext, IV or tag', () => {
    const cipher = cipherWith(keyA);
    const parts = cipher.encrypt(secret, aad).split('.');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index], 'base64url');
      bytes[0] ^= 0x01;
      const tampered = [...parts];
      tampered[index] = bytes.toString('base64url');
      expectDecryptFailure(() => cipher.decrypt(tampered.join('.'), aad), 'authentication-failed');
    }
  });

  it('refuses a ciphertext copied to another row (associated data)', () => {
    const cipher = cipherWith(keyA);
    const sealed = cipher.encrypt(secret, aad);
    expectDecryptFailure(() => cipher.decrypt(sealed, 'acme|partner|user-2'), 'authentication-failed');
    expectDecryptFailure(() => cipher.decrypt(sealed, 'other|partner|user-1'), 'authentication-failed');
  });

  it('names an unknown key id instead of returning a wrong secret', () => {
    const sealed = cipherWith(keyA).encrypt(secret, aad);
    expectDecryptFailure(() => cipherWith(keyB).decrypt(sealed, aad), 'unknown-key');
  });

  it('decrypts with an older key after rotation and encrypts with the new one', () => {
    const sealedOld = cipherWith(keyA).encrypt(secret, aad);
    const rotated = cipherWith(keyB, keyA);
    expect(rotated.decrypt(sealedOld, aad).equals(secret)).toBe(true);
    const sealedNew = rotated.encrypt(secret, aad);
    expect(sealedNew.split('.')[1]).toBe(keyIdOf(keyB));
  });

  it('rejects malformed values', () => {
    const cipher = cipherWith(keyA);
    for (const value of ['', 'plain', 'v2.a.b.c.d', 'v1.x.y.z']) {
      expectDecryptFailure(() => cipher.decrypt(value, aad), 'malformed');
    }
  });

  it('keeps the key and the plaintext out of its error messages', () => {
    const cipher = cipherWith(keyA);
    const sealed = cipher.encrypt(secret, aad);
    try {
      cipher.decrypt(sealed, 'wrong');
    } catch (error) {
      const message = String((error as Error).message);
      expect(message).not.toContain(sealed);
      expect(message).not.toContain(keyA.toString('base64'));
    }
  });
});
