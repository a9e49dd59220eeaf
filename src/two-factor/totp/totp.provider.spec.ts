import { decodeBase32 } from './base32';
import { InvalidOtpauthLabelError } from './totp.errors';
import { SpeakeasyTotpProvider } from './totp.provider';
import { TotpAlgorithm, TotpDigits, TotpParams, TotpWindow } from './totp.types';

/** RFC 6238 Appendix A seeds: each algorithm has its own, as long as its HMAC output. */
const SEEDS: Record<TotpAlgorithm, { ascii: string; base32: string }> = {
  SHA1: {
    ascii: '12345678901234567890',
    base32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  },
  SHA256: {
    ascii: '12345678901234567890123456789012',
    base32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA',
  },
  SHA512: {
    ascii: '1234567890123456789012345678901234567890123456789012345678901234',
    base32: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA',
  },
};

function seedKey(algorithm: TotpAlgorithm): Buffer {
  return Buffer.from(SEEDS[algorithm].ascii, 'ascii');
}

/** RFC 4226 Appendix D: HOTP values for counters 0..9, ASCII seed "12345678901234567890". */
const RFC4226_HOTP = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];

/** RFC 6238 Appendix B, X = 30 s; 6-digit values are the 8-digit ones mod 10^6. */
const RFC6238_TABLE: { seconds: number; step: number; codes: Record<TotpAlgorithm, string> }[] = [
  { seconds: 59, step: 0x1, codes: { SHA1: '94287082', SHA256: '46119246', SHA512: '90693936' } },
  {
    seconds: 1111111109,
    step: 0x23523ec,
    codes: { SHA1: '07081804', SHA256: '68084774', SHA512: '25091201' },
  },
  {
    seconds: 1111111111,
    step: 0x23523ed,
    codes: { SHA1: '14050471', SHA256: '67062674', SHA512: '99943326' },
  },
  {
    seconds: 1234567890,
    step: 0x273ef07,
    codes: { SHA1: '89005924', SHA256: '91819424', SHA512: '93441116' },
  },
  {
    seconds: 2000000000,
    step: 0x3f940aa,
    codes: { SHA1: '69279037', SHA256: '90698825', SHA512: '38618901' },
  },
  {
    seconds: 20000000000,
    step: 0x27bc86aa,
    codes: { SHA1: '65353130', SHA256: '77737706', SHA512: '47863826' },
  },
];

const RFC6238_VECTORS = RFC6238_TABLE.flatMap(({ seconds, step, codes }) =>
  (Object.keys(codes) as TotpAlgorithm[]).flatMap((algorithm) => [
    { algorithm, digits: 8 as const, seconds, step, code: codes[algorithm] },
    { algorithm, digits: 6 as const, seconds, step, code: codes[algorithm].slice(2) },
  ]),
);

const DEFAULT_PARAMS: TotpParams = { algorithm: 'SHA1', digits: 6, period: 30 };
const STEP_MS = 30_000;

describe(SpeakeasyTotpProvider.name, () => {
  let provider: SpeakeasyTotpProvider;

  beforeEach(() => {
    provider = new SpeakeasyTotpProvider();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('RFC 4226 Appendix D (HOTP)', () => {
    it.each(RFC4226_HOTP.map((code, counter) => ({ counter, code })))(
      'counter $counter -> $code',
      ({ counter, code }) => {
        expect(provider.hotp(seedKey('SHA1'), counter, 6, 'SHA1')).toBe(code);
      },
    );
  });

  describe('RFC 6238 Appendix B (TOTP)', () => {
    it.each(Object.entries(SEEDS))('the %s base32 seed decodes to its ASCII seed', (_, seed) => {
      expect(decodeBase32(seed.base32).equals(Buffer.from(seed.ascii, 'ascii'))).toBe(true);
    });

    it('has 6-digit codes with leading zeros in the table', () => {
      const sixDigitCodes = RFC6238_VECTORS.filter((v) => v.digits === 6).map((v) => v.code);
      expect(sixDigitCodes).toEqual(expect.arrayContaining(['081804', '050471', '005924', '084774', '091201']));
    });

    it.each(RFC6238_VECTORS)(
      '$algorithm $digits digits at T=$seconds s: codeAt gives $code',
      ({ algorithm, digits, seconds, code }) => {
        const params: TotpParams = { algorithm, digits, period: 30 };

        expect(provider.codeAt(seedKey(algorithm), params, seconds * 1000)).toBe(code);
      },
    );

    it.each(RFC6238_VECTORS)(
      '$algorithm $digits digits at T=$seconds s: verify(window 0) matches $code at its step',
      ({ algorithm, digits, seconds, step, code }) => {
        const params: TotpParams = { algorithm, digits, period: 30 };

        expect(provider.currentStep(params, seconds * 1000)).toBe(step);
        expect(provider.verify(seedKey(algorithm), code, params, 0, seconds * 1000)).toEqual({
          step,
          delta: 0,
        });
      },
    );

    it('base32-decoded seeds give the same codes as the ASCII seeds', () => {
      for (const algorithm of Object.keys(SEEDS) as TotpAlgorithm[]) {
        const params: TotpParams = { algorithm, digits: 8, period: 30 };
        const key = decodeBase32(SEEDS[algorithm].base32);

        expect(provider.codeAt(key, params, 59_000)).toBe(RFC6238_TABLE[0].codes[algorithm]);
      }
    });

    it('does not reproduce the SHA256/SHA512 table with the 20-byte seed', () => {
      const key = seedKey('SHA1');

      expect(provider.codeAt(key, { algorithm: 'SHA256', digits: 8, period: 30 }, 59_000)).toBe('32247374');
      expect(provider.codeAt(key, { algorithm: 'SHA512', digits: 8, period: 30 }, 59_000)).toBe('69342147');
    });
  });

  describe('steps and remaining time', () => {
    it.each([
      { timeMs: 0, step: 0, remaining: 30 },
      { timeMs: 29_999, step: 0, remaining: 1 },
      { timeMs: 30_000, step: 1, remaining: 30 },
      { timeMs: 59_000, step: 1, remaining: 1 },
      { timeMs: 59_999, step: 1, remaining: 1 },
      { timeMs: 60_000, step: 2, remaining: 30 },
      { timeMs: 60_999, step: 2, remaining: 30 },
      { timeMs: 61_000, step: 2, remaining: 29 },
    ])('period 30 at $timeMs ms: step $step, $remaining s left', ({ timeMs, step, remaining }) => {
      expect(provider.currentStep(DEFAULT_PARAMS, timeMs)).toBe(step);
      expect(provider.secondsRemaining(DEFAULT_PARAMS, timeMs)).toBe(remaining);
    });

    it('uses the period of the params', () => {
      const params: TotpParams = { ...DEFAULT_PARAMS, period: 60 };

      expect(provider.currentStep(params, 119_999)).toBe(1);
      expect(provider.currentStep(params, 120_000)).toBe(2);
      expect(provider.secondsRemaining(params, 120_000)).toBe(60);
      expect(provider.secondsRemaining(params, 179_500)).toBe(1);
    });

    it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects time %p', (timeMs) => {
      expect(() => provider.currentStep(DEFAULT_PARAMS, timeMs)).toThrow(RangeError);
      expect(() => provider.secondsRemaining(DEFAULT_PARAMS, timeMs)).toThrow(RangeError);
    });
  });

  describe('verify window', () => {
    const key = seedKey('SHA1');
    const now = 1111111109 * 1000;
    const current = 0x23523ec;
    const codeAtOffset = (offset: number) => provider.codeAt(key, DEFAULT_PARAMS, now + offset * STEP_MS);

    it('the codes of C-2..C+2 are distinct (so the cases below are meaningful)', () => {
      const codes = [-2, -1, 0, 1, 2].map(codeAtOffset);
      expect(new Set(codes).size).toBe(5);
    });

    it.each([-1, 0, 1])('window 1 accepts step C%+d with its delta and step', (delta) => {
      expect(provider.verify(key, codeAtOffset(delta), DEFAULT_PARAMS, 1, now)).toEqual({
        step: current + delta,
        delta,
      });
    });

    it.each([-2, 2])('window 1 rejects step C%+d', (delta) => {
      expect(provider.verify(key, codeAtOffset(delta), DEFAULT_PARAMS, 1, now)).toBeNull();
    });

    it('window 0 accepts only the current step', () => {
      expect(provider.verify(key, codeAtOffset(0), DEFAULT_PARAMS, 0, now)).toEqual({
        step: current,
        delta: 0,
      });
      expect(provider.verify(key, codeAtOffset(-1), DEFAULT_PARAMS, 0, now)).toBeNull();
      expect(provider.verify(key, codeAtOffset(1), DEFAULT_PARAMS, 0, now)).toBeNull();
    });

    it('computes all 2W+1 candidates even when the first one matches', () => {
      const hotp = jest.spyOn(provider, 'hotp');

      expect(provider.verify(key, codeAtOffset(-1), DEFAULT_PARAMS, 1, now)).toEqual({
        step: current - 1,
        delta: -1,
      });
      expect(hotp).toHaveBeenCalledTimes(4); // 1 from codeAtOffset + 3 candidates
      expect(hotp.mock.calls.slice(1).map((call) => call[1])).toEqual([current - 1, current, current + 1]);

      hotp.mockClear();
      expect(provider.verify(key, '000000', DEFAULT_PARAMS, 0, now)).toBeNull();
      expect(hotp).toHaveBeenCalledTimes(1);
    });

    it('skips steps below 0 at the epoch', () => {
      const hotp = jest.spyOn(provider, 'hotp');

      expect(provider.verify(key, RFC4226_HOTP[0], DEFAULT_PARAMS, 1, 0)).toEqual({
        step: 0,
        delta: 0,
      });
      expect(provider.verify(key, RFC4226_HOTP[1], DEFAULT_PARAMS, 1, 0)).toEqual({
        step: 1,
        delta: 1,
      });
      expect(hotp.mock.calls.map((call) => call[1])).toEqual([0, 1, 0, 1]);
    });

    it.each(['1', '10', 2, -1, 0.5, Number.NaN, null])(
      'throws on window %p (config must be parsed and checked, S6/S7)',
      (window) => {
        const code = codeAtOffset(0);

        expect(() => provider.verify(key, code, DEFAULT_PARAMS, window as unknown as TotpWindow, now)).toThrow(
          RangeError,
        );
      },
    );
  });

  describe('malformed codes', () => {
    const key = seedKey('SHA1');
    const at59s = 59_000; // HOTP counter 1: 287082
    const at1111111109s = 1111111109 * 1000; // 081804: a code with a leading zero

    it('accepts the well-formed codes used below', () => {
      expect(provider.verify(key, '287082', DEFAULT_PARAMS, 0, at59s)).not.toBeNull();
      expect(provider.verify(key, '081804', DEFAULT_PARAMS, 0, at1111111109s)).not.toBeNull();
    });

    it.each<[string, unknown]>([
      ['a number', 287082],
      ['too short', '28708'],
      ['too long', '2870822'],
      ['a leading space', ' 87082'],
      ['a plus sign', '+87082'],
      ['a trailing newline', '287082\n'],
      ['a trailing letter', '28708x'],
      ['fullwidth digits', '\uff12\uff18\uff17\uff10\uff18\uff12'],
      ['an array', ['287082']],
      ['an object whose toString returns the code', { toString: () => '287082' }],
      ['a decimal', '9288.9'],
      ['the empty string', ''],
      ['null', null],
      ['undefined', undefined],
    ])('rejects %s for 287082', (_, code) => {
      expect(provider.verify(key, code as string, DEFAULT_PARAMS, 1, at59s)).toBeNull();
      expect(provider.isWellFormedCode(code, 6)).toBe(false);
    });

    // Each of these parses to 81804, which speakeasy's verify would accept for 081804 (S5).
    it.each<[string, unknown]>([
      ['the number without its leading zero', 81804],
      ['a leading space', ' 81804'],
      ['a plus sign', '+81804'],
      ['a trailing newline', '81804\n'],
      ['a trailing letter', '81804x'],
      ['a decimal point', '81804.'],
    ])('rejects %s for 081804', (_, code) => {
      expect(provider.verify(key, code as string, DEFAULT_PARAMS, 1, at1111111109s)).toBeNull();
    });

    it('rejects a 6-digit code where 8 digits are configured, and vice versa', () => {
      expect(provider.verify(key, '287082', { ...DEFAULT_PARAMS, digits: 8 }, 0, at59s)).toBeNull();
      expect(provider.verify(key, '94287082', DEFAULT_PARAMS, 0, at59s)).toBeNull();
    });
  });

  describe('a poisoned options body (speakeasy option mass-assignment, S8)', () => {
    const realKey = Buffer.from('the-real-20-byte-key', 'ascii');
    const attackerKeyAscii = 'attacker-chosen-key!';
    const attackerKey = Buffer.from(attackerKeyAscii, 'ascii');
    const now = 1_700_000_000_000;
    const hourAgo = now - 3_600_000;
    const poisonedBody = {
      key: attackerKeyAscii,
      secret: attackerKeyAscii,
      time: hourAgo / 1000,
      counter: 0,
      digits: 1,
      window: '10',
      encoding: 'ascii',
      algorithm: 'md5',
      step: 1,
    };

    it('a code made with the attacker key is rejected for the real key', () => {
      const attackerCode = provider.codeAt(attackerKey, DEFAULT_PARAMS, now);

      expect(provider.verify(realKey, attackerCode, DEFAULT_PARAMS, 1, now)).toBeNull();
    });

    it('extra fields smuggled into params are ignored', () => {
      const attackerCode = provider.codeAt(attackerKey, DEFAULT_PARAMS, now);
      const smuggled = { ...poisonedBody, ...DEFAULT_PARAMS } as unknown as TotpParams;

      expect(provider.verify(realKey, attackerCode, smuggled, 1, now)).toBeNull();
      const realCode = provider.codeAt(realKey, DEFAULT_PARAMS, now);
      expect(provider.verify(realKey, realCode, smuggled, 1, now)).toEqual(
        provider.verify(realKey, realCode, DEFAULT_PARAMS, 1, now),
      );
    });

    it('an hour-old code and the counter-0 code are rejected now', () => {
      const oldCode = provider.codeAt(realKey, DEFAULT_PARAMS, hourAgo);
      const counterZeroCode = provider.hotp(realKey, poisonedBody.counter, 6, 'SHA1');

      expect(provider.verify(realKey, oldCode, DEFAULT_PARAMS, 1, now)).toBeNull();
      expect(provider.verify(realKey, counterZeroCode, DEFAULT_PARAMS, 1, now)).toBeNull();
    });

    it('window "10" is refused', () => {
      const realCode = provider.codeAt(realKey, DEFAULT_PARAMS, now);
      const window = poisonedBody.window as unknown as TotpWindow;

      expect(() => provider.verify(realKey, realCode, DEFAULT_PARAMS, window, now)).toThrow(RangeError);
    });

    it('digits 1 and algorithm md5 are refused', () => {
      const onePerTen = { ...DEFAULT_PARAMS, digits: poisonedBody.digits } as unknown as TotpParams;
      const md5 = { ...DEFAULT_PARAMS, algorithm: poisonedBody.algorithm } as unknown as TotpParams;

      expect(() => provider.verify(realKey, '1', onePerTen, 1, now)).toThrow(RangeError);
      expect(() => provider.codeAt(realKey, onePerTen, now)).toThrow(RangeError);
      expect(() => provider.hotp(realKey, 1, 1 as TotpDigits, 'SHA1')).toThrow(RangeError);
      expect(() => provider.verify(realKey, '123456', md5, 1, now)).toThrow(RangeError);
      expect(() => provider.hotp(realKey, 1, 6, 'md5' as TotpAlgorithm)).toThrow(RangeError);
    });

    it('period 1 is refused (it would move the counter past 2^31 in 2038)', () => {
      const perSecond = { ...DEFAULT_PARAMS, period: 1 } as unknown as TotpParams;

      expect(() => provider.currentStep(perSecond, now)).toThrow(RangeError);
    });
  });

  describe('hotp guards', () => {
    const key = seedKey('SHA1');

    it.each([
      ['an empty key', Buffer.alloc(0)],
      ['a 15-byte key', Buffer.alloc(15, 1)],
      ['a string key', '12345678901234567890'],
      ['undefined', undefined],
    ])('refuses %s', (_, badKey) => {
      const key = badKey as unknown as Buffer;

      expect(() => provider.hotp(key, 0, 6, 'SHA1')).toThrow(RangeError);
      expect(() => provider.verify(key, '755224', DEFAULT_PARAMS, 0, 0)).toThrow(RangeError);
    });

    it('accepts a 16-byte key', () => {
      expect(provider.hotp(Buffer.alloc(16, 1), 0, 6, 'SHA1')).toMatch(/^[0-9]{6}$/);
    });

    it.each([2 ** 31, 2 ** 32, 2 ** 40, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
      'refuses counter %p (speakeasy 2.0.0 counter math is 32-bit, S15)',
      (counter) => {
        expect(() => provider.hotp(key, counter, 6, 'SHA1')).toThrow(RangeError);
      },
    );

    it('accepts the largest counter below 2^31', () => {
      expect(provider.hotp(key, 2 ** 31 - 1, 8, 'SHA1')).toMatch(/^[0-9]{8}$/);
    });
  });

  describe('generateKey', () => {
    it('returns distinct 20-byte keys by default', () => {
      const keys = Array.from({ length: 100 }, () => provider.generateKey());

      for (const key of keys) {
        expect(Buffer.isBuffer(key)).toBe(true);
        expect(key).toHaveLength(20);
      }
      expect(new Set(keys.map((key) => key.toString('hex'))).size).toBe(100);
    });

    it.each([16, 32, 64])('returns %d bytes when asked', (bytes) => {
      expect(provider.generateKey(bytes)).toHaveLength(bytes);
    });

    it.each([15, 65, 0, -20, 20.5, Number.NaN, '20'])('refuses %p bytes', (bytes) => {
      expect(() => provider.generateKey(bytes as number)).toThrow(RangeError);
    });
  });

  describe('otpauthUri', () => {
    const key = seedKey('SHA1');
    const validInput = {
      issuer: 'ACME Co',
      account: 'john.doe@email.com',
      key,
      params: DEFAULT_PARAMS,
    };

    it('builds the exact Key URI with both labels percent-encoded', () => {
      expect(provider.otpauthUri(validInput)).toBe(
        'otpauth://totp/ACME%20Co:john.doe%40email.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' +
          '&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30',
      );
    });

    it('carries non-default parameters and encodes reserved characters', () => {
      expect(
        provider.otpauthUri({
          issuer: 'A&B?#/',
          account: 'ü+1',
          key: seedKey('SHA256'),
          params: { algorithm: 'SHA256', digits: 8, period: 60 },
        }),
      ).toBe(
        `otpauth://totp/A%26B%3F%23%2F:%C3%BC%2B1?secret=${SEEDS.SHA256.base32}` +
          '&issuer=A%26B%3F%23%2F&algorithm=SHA256&digits=8&period=60',
      );
    });

    it('accepts an issuer of 64 and an account of 128 characters', () => {
      const longest = { ...validInput, issuer: 'i'.repeat(64), account: 'a'.repeat(128) };

      expect(() => provider.otpauthUri(longest)).not.toThrow();
    });

    it.each<['issuer' | 'account', string, string]>([
      ['issuer', 'ACME:Co', "contains ':'"],
      ['account', 'john:doe', "contains ':'"],
      ['issuer', '', 'empty'],
      ['account', '', 'empty'],
      ['issuer', 'i'.repeat(65), 'longer than 64 characters'],
      ['account', 'a'.repeat(129), 'longer than 128 characters'],
      ['issuer', 'ACME\nCo', 'contains control characters'],
      ['account', 'john\u0000doe', 'contains control characters'],
      ['account', 'john\u0085doe', 'contains control characters'],
      ['account', 'lone \ud800 surrogate', 'contains control characters'],
    ])('rejects %s %p (%s)', (field, value, reason) => {
      const input = { ...validInput, [field]: value };

      let error: unknown;
      try {
        provider.otpauthUri(input);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(InvalidOtpauthLabelError);
      expect(error).toMatchObject({ field, reason });
    });

    describe('at most 512 bytes once encoded', () => {
      // A CJK character is 3 bytes of UTF-8, 9 once percent-encoded.
      const cjk = (characters: number) => '認'.repeat(characters);
      const reasonOf = (input: typeof validInput) => {
        try {
          provider.otpauthUri(input);
        } catch (error) {
          return error instanceof InvalidOtpauthLabelError ? { field: error.field, reason: error.reason } : error;
        }
        return 'accepted';
      };

      it('accepts an account that fills the URI to exactly 512 bytes, and refuses one byte more', () => {
        // What the issuer, secret and parameters take; the rest is the account's.
        const room = 512 - (provider.otpauthUri({ ...validInput, account: 'a' }).length - 1);
        // Within the 128-character limit: CJK characters, then ASCII for the bytes left over.
        const accountOf = (bytes: number) => cjk(Math.floor(bytes / 9)) + 'a'.repeat(bytes % 9);
        expect(provider.otpauthUri({ ...validInput, account: accountOf(room) })).toHaveLength(512);
        expect(reasonOf({ ...validInput, account: accountOf(room + 1) })).toEqual({
          field: 'account',
          reason: 'makes the otpauth URI longer than 512 bytes',
        });
      });

      it('names the account for 128 CJK characters, the issuer for 64 of them', () => {
        expect(reasonOf({ ...validInput, account: cjk(128) })).toMatchObject({ field: 'account' });
        expect(reasonOf({ ...validInput, issuer: cjk(64) })).toMatchObject({ field: 'issuer' });
        expect(reasonOf({ ...validInput, issuer: cjk(64), account: cjk(128) })).toMatchObject({ field: 'issuer' });
      });
    });

    it('refuses a short key and parameters outside the allowlists', () => {
      const sevenDigits = { ...DEFAULT_PARAMS, digits: 7 } as unknown as TotpParams;
      const shortKey = { ...validInput, key: Buffer.alloc(10) };

      expect(() => provider.otpauthUri(shortKey)).toThrow(RangeError);
      expect(() => provider.otpauthUri({ ...validInput, params: sevenDigits })).toThrow(RangeError);
    });
  });
});
