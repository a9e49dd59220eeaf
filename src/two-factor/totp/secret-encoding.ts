import { randomInt } from 'node:crypto';
import { decodeBase32, encodeBase32 } from './base32';
import { InvalidSecretError } from './totp.errors';
import { SECRET_MAX_BYTES, SECRET_MIN_BYTES } from './totp.types';

/** The encodings seed 003's Auth Endpoint speaks for client-held secrets. */
export const SECRET_ENCODINGS = ['base32', 'hex', 'base64', 'ascii'] as const;
export type SecretEncoding = (typeof SECRET_ENCODINGS)[number];

const ASCII_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Strict decoding of a client-supplied secret: one canonical spelling per key, and at least
 * 128 bits, so a lenient decoder can never turn garbage into a weak or empty key (an empty HMAC key
 * gives codes anyone can compute).
 */
export function decodeSecret(text: string, encoding: SecretEncoding): Buffer {
  let key: Buffer;
  switch (encoding) {
    case 'base32':
      key = decodeBase32(text);
      break;
    case 'hex':
      if (!HEX.test(text)) throw new InvalidSecretError('not hexadecimal');
      key = Buffer.from(text, 'hex');
      break;
    case 'base64':
      key = Buffer.from(text, 'base64');
      if (key.toString('base64') !== text) throw new InvalidSecretError('not canonical base64');
      break;
    case 'ascii':
      if (!PRINTABLE_ASCII.test(text)) throw new InvalidSecretError('not printable ASCII');
      key = Buffer.from(text, 'ascii');
      break;
  }
  if (key.length < SECRET_MIN_BYTES) throw new InvalidSecretError(`shorter than ${SECRET_MIN_BYTES} bytes`);
  if (key.length > SECRET_MAX_BYTES) throw new InvalidSecretError(`longer than ${SECRET_MAX_BYTES} bytes`);
  return key;
}

/**
 * A new secret of `bytes` random bytes in the given encoding. ASCII cannot carry arbitrary bytes, so an
 * ASCII secret is drawn uniformly from 62 letters and digits with at least as many bits of entropy
 * (capped at the 64-byte key limit).
 */
export function encodeNewSecret(randomKey: Buffer, encoding: SecretEncoding): string {
  switch (encoding) {
    case 'base32':
      return encodeBase32(randomKey);
    case 'hex':
      return randomKey.toString('hex');
    case 'base64':
      return randomKey.toString('base64');
    case 'ascii': {
      const length = Math.min(SECRET_MAX_BYTES, Math.ceil((randomKey.length * 8) / Math.log2(ASCII_ALPHABET.length)));
      return Array.from({ length }, () => ASCII_ALPHABET[randomInt(ASCII_ALPHABET.length)]).join('');
    }
  }
}
