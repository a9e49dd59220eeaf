import { createHmac, randomBytes, timingSafeEqual } from 'crypto';
import { Injectable } from '@nestjs/common';
import * as speakeasy from 'speakeasy';
import { encodeBase32 } from './base32';
import { InvalidOtpauthLabelError, OtpauthLabelField } from './totp.errors';
import {
  OTPAUTH_URI_MAX_BYTES,
  OtpauthUriInput,
  SECRET_DEFAULT_BYTES,
  SECRET_MAX_BYTES,
  SECRET_MIN_BYTES,
  TOTP_ALGORITHMS,
  TOTP_DIGITS,
  TOTP_PERIODS,
  TOTP_WINDOWS,
  TotpAlgorithm,
  TotpDigits,
  TotpMatch,
  TotpParams,
  TotpWindow,
} from './totp.types';

/**
 * RFC 4226/6238 one-time codes. Every argument is validated at runtime as well as typed, because
 * values reach here from config strings and request bodies where the types are only a promise.
 */
export abstract class TotpProvider {
  /** Random key of `bytes` bytes (default 20, the SHA-1 output length). */
  abstract generateKey(bytes?: number): Buffer;
  /** The HOTP code for `counter`, exactly `digits` ASCII digits. */
  abstract hotp(key: Buffer, counter: number, digits: TotpDigits, algorithm: TotpAlgorithm): string;
  /** The TOTP code of the step containing `timeMs`. */
  abstract codeAt(key: Buffer, params: TotpParams, timeMs: number): string;
  abstract currentStep(params: TotpParams, timeMs: number): number;
  /** Whole seconds left in the current step: 1..period. */
  abstract secondsRemaining(params: TotpParams, timeMs: number): number;
  /**
   * The lowest step in [current - window, current + window] whose code equals `code`, or null.
   * Malformed codes give null; invalid key, params, window or time throw.
   */
  abstract verify(key: Buffer, code: string, params: TotpParams, window: TotpWindow, timeMs: number): TotpMatch | null;
  abstract isWellFormedCode(code: unknown, digits: TotpDigits): code is string;
  abstract otpauthUri(input: OtpauthUriInput): string;
}

const HMAC_ALGORITHMS: Readonly<Record<TotpAlgorithm, string>> = {
  SHA1: 'sha1',
  SHA256: 'sha256',
  SHA512: 'sha512',
};

/**
 * The only shape in which speakeasy is called: it truncates the HMAC digest to the code (RFC 4226
 * §5.3), given the digest. speakeasy 2.0.0 would compute the digest itself with `new Buffer(8)`, whose
 * deprecation check walks the stack on every call (4 % of the CPU of a stateless verify), and with
 * 32-bit shifts of the counter (S15); the provider computes it with node:crypto instead.
 */
type SpeakeasyDigestHotp = (options: { digest: Buffer; digits: TotpDigits }) => string;

/** Steps up to 2^31 - 1 (with 30 s steps, beyond the year 4000): what speakeasy's own digest got right (S15). */
const COUNTER_LIMIT = 2 ** 31;

/** HMAC(key, counter as 8 bytes big-endian): RFC 4226 §5.3 step 1. */
function hotpDigest(key: Buffer, counter: number, algorithm: TotpAlgorithm): Buffer {
  const counterBytes = Buffer.alloc(8);
  counterBytes.writeUInt32BE(Math.floor(counter / 2 ** 32), 0);
  counterBytes.writeUInt32BE(counter % 2 ** 32, 4);
  return createHmac(HMAC_ALGORITHMS[algorithm], key).update(counterBytes).digest();
}

/** Built once: this check runs several times on every verification. */
const CODE_PATTERNS: Readonly<Record<TotpDigits, RegExp>> = { 6: /^[0-9]{6}$/, 8: /^[0-9]{8}$/ };

const ISSUER_MAX_LENGTH = 64;
const ACCOUNT_MAX_LENGTH = 128;
/** C0/C1 controls, and lone surrogates (encodeURIComponent throws URIError on those). */
const FORBIDDEN_LABEL_CHARACTERS = /[\p{Cc}\p{Cs}]/u;

function isOneOf<T>(allowed: readonly T[], value: unknown): value is T {
  return allowed.includes(value as T);
}

function assertKey(key: Buffer): void {
  // A short or empty key gives guessable or publicly computable codes (S4).
  if (!Buffer.isBuffer(key) || key.length < SECRET_MIN_BYTES) {
    throw new RangeError(`TOTP key must be a Buffer of at least ${SECRET_MIN_BYTES} bytes`);
  }
}

function assertDigits(digits: TotpDigits): void {
  if (!isOneOf(TOTP_DIGITS, digits)) {
    throw new RangeError(`TOTP digits must be one of ${TOTP_DIGITS.join(', ')}`);
  }
}

function assertParams(params: TotpParams): void {
  if (!isOneOf(TOTP_ALGORITHMS, params.algorithm)) {
    throw new RangeError(`TOTP algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`);
  }
  assertDigits(params.digits);
  if (!isOneOf(TOTP_PERIODS, params.period)) {
    throw new RangeError(`TOTP period must be one of ${TOTP_PERIODS.join(', ')}`);
  }
}

function assertTime(timeMs: number): void {
  if (!Number.isFinite(timeMs) || timeMs < 0) {
    throw new RangeError('Time must be a non-negative number of milliseconds');
  }
}

function assertLabelPart(field: OtpauthLabelField, value: string, maxLength: number): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOtpauthLabelError(field, 'empty');
  }
  if (value.length > maxLength) {
    throw new InvalidOtpauthLabelError(field, `longer than ${maxLength} characters`);
  }
  // The Key URI format separates issuer and account with ':' and forbids it in either part.
  if (value.includes(':')) {
    throw new InvalidOtpauthLabelError(field, "contains ':'");
  }
  if (FORBIDDEN_LABEL_CHARACTERS.test(value)) {
    throw new InvalidOtpauthLabelError(field, 'contains control characters');
  }
}

@Injectable()
export class SpeakeasyTotpProvider extends TotpProvider {
  generateKey(bytes: number = SECRET_DEFAULT_BYTES): Buffer {
    if (!Number.isInteger(bytes) || bytes < SECRET_MIN_BYTES || bytes > SECRET_MAX_BYTES) {
      throw new RangeError(`Key length must be an integer from ${SECRET_MIN_BYTES} to ${SECRET_MAX_BYTES} bytes`);
    }
    return randomBytes(bytes);
  }

  hotp(key: Buffer, counter: number, digits: TotpDigits, algorithm: TotpAlgorithm): string {
    assertKey(key);
    if (!Number.isSafeInteger(counter) || counter < 0 || counter >= COUNTER_LIMIT) {
      throw new RangeError(`HOTP counter must be an integer from 0 to ${COUNTER_LIMIT - 1}`);
    }
    assertDigits(digits);
    if (!isOneOf(TOTP_ALGORITHMS, algorithm)) {
      throw new RangeError(`TOTP algorithm must be one of ${TOTP_ALGORITHMS.join(', ')}`);
    }
    // Built from the checked arguments only: speakeasy honours many option aliases (`key`, `time`,
    // `window`, `encoding`, ...), so nothing caller-shaped may ever be spread in (S8).
    const code = (speakeasy.hotp as unknown as SpeakeasyDigestHotp)({
      digest: hotpDigest(key, counter, algorithm),
      digits,
    });
    if (!this.isWellFormedCode(code, digits)) {
      throw new Error('speakeasy returned a malformed HOTP code');
    }
    return code;
  }

  codeAt(key: Buffer, params: TotpParams, timeMs: number): string {
    return this.hotp(key, this.currentStep(params, timeMs), params.digits, params.algorithm);
  }

  currentStep(params: TotpParams, timeMs: number): number {
    assertParams(params);
    assertTime(timeMs);
    // One division, not two, so double rounding cannot push floor() across a step boundary.
    return Math.floor(timeMs / (params.period * 1000));
  }

  secondsRemaining(params: TotpParams, timeMs: number): number {
    assertParams(params);
    assertTime(timeMs);
    return params.period - (Math.floor(timeMs / 1000) % params.period);
  }

  verify(key: Buffer, code: string, params: TotpParams, window: TotpWindow, timeMs: number): TotpMatch | null {
    // Configuration faults throw (fail closed) before the code is looked at, whatever the code.
    assertKey(key);
    if (!isOneOf(TOTP_WINDOWS, window)) {
      throw new RangeError(`TOTP window must be one of ${TOTP_WINDOWS.join(', ')}`);
    }
    const current = this.currentStep(params, timeMs);
    if (!this.isWellFormedCode(code, params.digits)) {
      return null;
    }

    const submitted = Buffer.from(code, 'ascii');
    let match: TotpMatch | null = null;
    // Every candidate is computed and compared, with no early exit, so the time taken does not
    // reveal whether or at which offset the code matched (S17).
    // Steps start at 0 (there are none before the epoch). Looping over steps rather than
    // `-window..window` keeps delta +0, not -0, for window 0.
    for (let step = Math.max(0, current - window); step <= current + window; step++) {
      const candidate = Buffer.from(this.hotp(key, step, params.digits, params.algorithm), 'ascii');
      const equal = timingSafeEqual(candidate, submitted);
      if (equal && match === null) {
        match = { step, delta: step - current };
      }
    }
    return match;
  }

  isWellFormedCode(code: unknown, digits: TotpDigits): code is string {
    assertDigits(digits);
    // typeof first: speakeasy would String() numbers, arrays and objects (S5). The length check
    // backs up the anchors against any trailing newline or other sneaked-in character.
    return typeof code === 'string' && code.length === digits && CODE_PATTERNS[digits].test(code);
  }

  otpauthUri({ issuer, account, key, params }: OtpauthUriInput): string {
    assertLabelPart('issuer', issuer, ISSUER_MAX_LENGTH);
    assertLabelPart('account', account, ACCOUNT_MAX_LENGTH);
    assertKey(key);
    assertParams(params);
    // Built here rather than with speakeasy.otpauthURL, which leaves the label unencoded (S13).
    const encodedAccount = encodeURIComponent(account);
    const label = `${encodeURIComponent(issuer)}:${encodedAccount}`;
    const uri =
      `otpauth://totp/${label}?secret=${encodeBase32(key)}&issuer=${encodeURIComponent(issuer)}` +
      `&algorithm=${params.algorithm}&digits=${params.digits}&period=${params.period}`;
    // Percent-encoded, the URI is ASCII: its length is its size in bytes.
    if (uri.length > OTPAUTH_URI_MAX_BYTES) {
      // The issuer is to blame when not even a one-character account would fit beside it.
      const field = uri.length - encodedAccount.length + 1 > OTPAUTH_URI_MAX_BYTES ? 'issuer' : 'account';
      throw new InvalidOtpauthLabelError(field, `makes the otpauth URI longer than ${OTPAUTH_URI_MAX_BYTES} bytes`);
    }
    return uri;
  }
}
