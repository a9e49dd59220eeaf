import { InvalidSecretError } from './totp.errors';

/**
 * Strict RFC 4648 base32 (alphabet A-Z2-7). Written here rather than taken from speakeasy's
 * base32.js, which decodes invalid characters as zero, maps 0/1 to O/I and keeps non-zero leftover
 * bits, so one typed secret could silently become a different key.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Count of `=` in the padded form by unpadded length mod 8 (1, 3 and 6 are impossible). */
const PADDING_BY_LENGTH_REMAINDER = new Map<number, number>([
  [0, 0],
  [2, 6],
  [4, 4],
  [5, 3],
  [7, 1],
]);

/** Unpadded, uppercase. */
export function encodeBase32(key: Buffer): string {
  let encoded = '';
  let pendingBits = 0;
  let pendingCount = 0;
  for (const byte of key) {
    pendingBits = (pendingBits << 8) | byte;
    pendingCount += 8;
    while (pendingCount >= 5) {
      pendingCount -= 5;
      encoded += ALPHABET[(pendingBits >>> pendingCount) & 0x1f];
    }
    // Keep only the bits not yet emitted, so the accumulator never grows past 12 bits.
    pendingBits &= (1 << pendingCount) - 1;
  }
  if (pendingCount > 0) {
    encoded += ALPHABET[(pendingBits << (5 - pendingCount)) & 0x1f];
  }
  return encoded;
}

/**
 * Lowercase letters are accepted (authenticator apps and users show secrets in either case; the
 * mapping is unambiguous). Trailing `=` padding is accepted only in its exact RFC 4648 length.
 * Everything else that is not canonical base32 (spaces, other characters, impossible lengths,
 * non-zero leftover bits) throws InvalidSecretError.
 */
export function decodeBase32(text: string): Buffer {
  if (typeof text !== 'string') {
    throw new InvalidSecretError('not a string');
  }
  // ASCII-only uppercasing: String#toUpperCase would turn 'ı' into 'I' and 'ſ' into 'S'.
  const uppercased = text.replace(/[a-z]+/g, (letters) => letters.toUpperCase());
  const data = uppercased.replace(/=+$/, '');
  const paddingLength = uppercased.length - data.length;

  if (!/^[A-Z2-7]+$/.test(data)) {
    throw new InvalidSecretError('invalid characters');
  }
  const expectedPadding = PADDING_BY_LENGTH_REMAINDER.get(data.length % 8);
  if (expectedPadding === undefined) {
    throw new InvalidSecretError('invalid length');
  }
  if (paddingLength !== 0 && paddingLength !== expectedPadding) {
    throw new InvalidSecretError('invalid padding');
  }

  const bytes: number[] = [];
  let pendingBits = 0;
  let pendingCount = 0;
  for (const char of data) {
    pendingBits = (pendingBits << 5) | ALPHABET.indexOf(char);
    pendingCount += 5;
    if (pendingCount >= 8) {
      pendingCount -= 8;
      bytes.push((pendingBits >>> pendingCount) & 0xff);
      pendingBits &= (1 << pendingCount) - 1;
    }
  }
  const decoded = Buffer.from(bytes);
  // Rejects non-zero leftover bits: otherwise several spellings would decode to one key.
  if (encodeBase32(decoded) !== data) {
    throw new InvalidSecretError('non-canonical encoding');
  }
  return decoded;
}
