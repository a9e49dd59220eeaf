import { randomBytes } from 'node:crypto';
import { SecretCipher } from '../two-factor/crypto/secret-cipher';

/** Standard Webhooks: a random symmetric secret of 24 to 64 bytes, shown base64 with the `whsec_` prefix. */
const SECRET_BYTES = 32;
const PREFIX = 'whsec_';

/** Binds a sealed secret to its subscription: copied to another row, it no longer decrypts. */
function associatedDataOf(subscription: { tenant: string; id: string }): string {
  return `webhook-secret|${subscription.id}|${subscription.tenant}`;
}

/** A new signing secret: the text shown once to the caller, and the sealed form stored in the row. */
export function newSigningSecret(
  cipher: SecretCipher,
  subscription: { tenant: string; id: string },
): { secret: string; sealed: string } {
  const bytes = randomBytes(SECRET_BYTES);
  return { secret: PREFIX + bytes.toString('base64'), sealed: cipher.encrypt(bytes, associatedDataOf(subscription)) };
}

/** The `whsec_...` secret of a stored subscription. Throws SecretDecryptionError when it cannot be opened. */
export function openSigningSecret(
  cipher: SecretCipher,
  subscription: { tenant: string; id: string; secretCiphertext: string },
): string {
  return PREFIX + cipher.decrypt(subscription.secretCiphertext, associatedDataOf(subscription)).toString('base64');
}

/** The same signing secret sealed again under the first key. Throws SecretDecryptionError when it cannot be opened. */
export function resealSigningSecret(
  cipher: SecretCipher,
  subscription: { tenant: string; id: string; secretCiphertext: string },
): string {
  const associatedData = associatedDataOf(subscription);
  return cipher.encrypt(cipher.decrypt(subscription.secretCiphertext, associatedData), associatedData);
}
