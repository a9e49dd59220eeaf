import { decodeBase32, encodeBase32 } from './base32';
import { InvalidSecretError } from './totp.errors';

/** RFC 6238 Appendix A/B seeds and their base32 forms. */
const RFC_SEEDS = [
  {
    name: 'SHA1 (20 bytes)',
    ascii: '12345678901234567890',
    base32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
    padded: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  },
  {
    name: 'SHA256 (32 bytes)',
    ascii: '12345678901234567890123456789012',
    base32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA',
    padded: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA====',
  },
  {
    name: 'SHA512 (64 bytes)',
    ascii: '1234567890123456789012345678901234567890123456789012345678901234',
    base32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA',
    padded: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA=',
  },
];

/** RFC 4648 section 10 test vectors. */
const RFC4648_VECTORS = [
  { ascii: 'f', base32: 'MY', padded: 'MY======' },
  { ascii: 'fo', base32: 'MZXQ', padded: 'MZXQ====' },
  { ascii: 'foo', base32: 'MZXW6', padded: 'MZXW6===' },
  { ascii: 'foob', base32: 'MZXW6YQ', padded: 'MZXW6YQ=' },
  { ascii: 'fooba', base32: 'MZXW6YTB', padded: 'MZXW6YTB' },
  { ascii: 'foobar', base32: 'MZXW6YTBOI', padded: 'MZXW6YTBOI======' },
];

function decodeFailure(text: string): InvalidSecretError {
  try {
    decodeBase32(text);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSecretError);
    return error as InvalidSecretError;
  }
  throw new Error('decodeBase32 accepted the input');
}

describe('base32', () => {
  describe('RFC seeds', () => {
    it.each(RFC_SEEDS)('$name: encodes to the table value and decodes back', (seed) => {
      const key = Buffer.from(seed.ascii, 'ascii');

      expect(encodeBase32(key)).toBe(seed.base32);
      expect(decodeBase32(seed.base32).equals(key)).toBe(true);
    });

    it.each(RFC_SEEDS)('$name: accepts the correctly padded form', (seed) => {
      expect(decodeBase32(seed.padded).toString('ascii')).toBe(seed.ascii);
    });
  });

  describe('RFC 4648 section 10 vectors', () => {
    it('encodes the empty buffer as the empty string', () => {
      expect(encodeBase32(Buffer.alloc(0))).toBe('');
    });

    it.each(RFC4648_VECTORS)('"$ascii" <-> $base32 (padded $padded)', (vector) => {
      expect(encodeBase32(Buffer.from(vector.ascii, 'ascii'))).toBe(vector.base32);
      expect(decodeBase32(vector.base32).toString('ascii')).toBe(vector.ascii);
      expect(decodeBase32(vector.padded).toString('ascii')).toBe(vector.ascii);
    });
  });

  it('round-trips every byte value and every length from 1 to 40', () => {
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, byte) => byte));
    for (let length = 1; length <= 40; length++) {
      const key = allBytes.subarray(256 - length);
      expect(decodeBase32(encodeBase32(key)).equals(key)).toBe(true);
    }
    expect(decodeBase32(encodeBase32(allBytes)).equals(allBytes)).toBe(true);
  });

  describe('case', () => {
    it('accepts lowercase and mixed case (unambiguous, and apps display either)', () => {
      const key = Buffer.from('12345678901234567890', 'ascii');

      expect(decodeBase32('gezdgnbvgy3tqojqgezdgnbvgy3tqojq').equals(key)).toBe(true);
      expect(decodeBase32('GeZdGnBvGy3tQoJqGeZdGnBvGy3tQoJq').equals(key)).toBe(true);
    });

    it('uppercases ASCII only: dotless i and long s do not become I and S', () => {
      expect(encodeBase32(Buffer.from('ABCDE', 'ascii'))).toBe('IFBEGRCF');
      expect(decodeBase32('iFBEGRCF').toString('ascii')).toBe('ABCDE');

      expect(decodeFailure('\u0131FBEGRCF').reason).toBe('invalid characters');
      expect(decodeFailure('MZXW6YTBO\u017f').reason).toBe('invalid characters');
    });
  });

  describe('rejects', () => {
    it.each([
      ['a space inside', 'JBSW Y3DP'],
      ['surrounding whitespace', ' GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'],
      ['a trailing newline', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n'],
      ['symbols', '!!!!!!!!'],
      ['digit 0 for O', '0OOOOOOO'],
      ['digit 1 for I', '1IIIIIII'],
      ['digit 8', 'AAAAAAA8'],
      ['digit 9', 'AAAAAAA9'],
      ['a hyphen', 'GEZDGNBV-GY3TQOJQ'],
      ['padding in the middle', 'MZXQ====MZXQ===='],
      ['fullwidth letters', '\uff2d\uff39'],
      ['the empty string', ''],
      ['padding only', '========'],
    ])('%s', (_, text) => {
      expect(decodeFailure(text).reason).toBe('invalid characters');
    });

    it.each([
      ['1 character', 'A'],
      ['3 characters', 'MZX'],
      ['6 characters', 'MZXW6Y'],
      ['9 characters', 'MZXW6YTBO'],
    ])('an impossible length: %s', (_, text) => {
      expect(decodeFailure(text).reason).toBe('invalid length');
    });

    it.each([
      ['too short', 'MY====='],
      ['too long', 'MY======='],
      ['on a full block', 'MZXW6YTB========'],
      ['SHA256 seed with 3 instead of 4', RFC_SEEDS[1].base32 + '==='],
      ['SHA512 seed with 2 instead of 1', RFC_SEEDS[2].base32 + '=='],
    ])('wrong padding: %s', (_, text) => {
      expect(decodeFailure(text).reason).toBe('invalid padding');
    });

    it.each([
      // speakeasy issue #135: base32.js decodes this to 17 bytes and a wrong key.
      ['speakeasy #135', 'S46SQCPPTCNPROMHWYBDCTBZXV'],
      ['MZ (leftover bits 01)', 'MZ'],
      ['MZ padded', 'MZ======'],
      ['MZXR (leftover bits 0001)', 'MZXR'],
    ])('non-canonical leftover bits: %s', (_, text) => {
      expect(decodeFailure(text).reason).toBe('non-canonical encoding');
    });

    it('a value that is not a string', () => {
      expect(decodeFailure(12345678 as unknown as string).reason).toBe('not a string');
    });
  });

  it('never puts the input into the error message', () => {
    const secretLike = [
      'GEZDGNBVGY3TQOJQGEZDGNBV GY3TQOJQ',
      'S46SQCPPTCNPROMHWYBDCTBZXV',
      'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA===',
      'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQG',
    ];
    for (const text of secretLike) {
      const error = decodeFailure(text);
      expect(error.message).not.toContain(text);
      expect(error.message).not.toContain(text.slice(0, 8));
      expect(error.message.toUpperCase()).not.toContain('GEZDGNBV');
    }
  });
});
