/**
 * The oracle of the tools and the e2e tests: RFC 4648 base32 and RFC 4226 / RFC 6238 (SHA-1) on
 * node:crypto only, independent of the service's own decoder and TOTP provider. The bench and the soak
 * compute the codes they send in-process (checked against the RFC vectors and oathtool by selfTest);
 * the e2e tests take their codes from oathtool and decode secrets here.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Base32 (padding and lowercase forgiven) to bytes; throws on a character outside the alphabet. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** Bytes to unpadded uppercase base32. */
export function base32Encode(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** HOTP(K, C) with SHA-1, dynamic truncation, `digits` decimal digits. */
export function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', key).update(message).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

export const PERIOD_MS = 30_000;

export function stepAt(timeMs: number = Date.now()): number {
  return Math.floor(timeMs / PERIOD_MS);
}

/** A 6-digit code that matches none of the steps around `step` (so the service answers fail). */
export function wrongCode(key: Buffer, step: number): string {
  const valid = new Set([-2, -1, 0, 1, 2].map((offset) => hotp(key, step + offset)));
  let candidate = (Number(hotp(key, step)) + 500_000) % 1_000_000;
  while (valid.has(String(candidate).padStart(6, '0'))) candidate = (candidate + 1) % 1_000_000;
  return String(candidate).padStart(6, '0');
}

/**
 * Checks this implementation against RFC 6238 Appendix B (SHA-1, T=59 → 94287082) and, when oathtool is
 * installed, against oathtool for a random key and time. Throws on a mismatch.
 */
export function selfTest(): string {
  const rfcKey = Buffer.from('12345678901234567890', 'ascii');
  if (hotp(rfcKey, stepAt(59_000), 8) !== '94287082') throw new Error('TOTP self-test failed (RFC 6238 vector)');
  if (hotp(rfcKey, stepAt(1_111_111_109_000), 8) !== '07081804')
    throw new Error('TOTP self-test failed (RFC vector 2)');
  const key = randomBytes(20);
  const time = 1_700_000_000 + Math.floor(Math.random() * 100_000_000);
  try {
    const fromOathtool = execFileSync('oathtool', ['--totp', '-b', '-N', `@${time}`, base32Encode(key)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const ours = hotp(key, stepAt(time * 1000));
    if (fromOathtool !== ours) throw new Error(`TOTP self-test failed: oathtool ${fromOathtool}, bench ${ours}`);
    return 'RFC 6238 vectors and oathtool agree';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'RFC 6238 vectors agree (oathtool not installed)';
    throw error;
  }
}
