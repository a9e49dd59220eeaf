/** Allowlists for every TOTP parameter: nothing outside them ever reaches speakeasy. */
export const TOTP_ALGORITHMS = ['SHA1', 'SHA256', 'SHA512'] as const;
export type TotpAlgorithm = (typeof TOTP_ALGORITHMS)[number];

export const TOTP_DIGITS = [6, 8] as const;
export type TotpDigits = (typeof TOTP_DIGITS)[number];

export const TOTP_PERIODS = [30, 60] as const;
export type TotpPeriod = (typeof TOTP_PERIODS)[number];

/** Accepted skew in steps on each side of the current one. */
export const TOTP_WINDOWS = [0, 1] as const;
export type TotpWindow = (typeof TOTP_WINDOWS)[number];

/** Random secret length in bytes (RFC 4226 R6: at least 128 bits). */
export const SECRET_MIN_BYTES = 16;
export const SECRET_MAX_BYTES = 64;
export const SECRET_DEFAULT_BYTES = 20;

export interface TotpParams {
  algorithm: TotpAlgorithm;
  digits: TotpDigits;
  period: TotpPeriod;
}

export interface TotpMatch {
  /** The absolute time step (counter) the code matched. */
  step: number;
  /** The matched step minus the current step: -window..+window. */
  delta: number;
}

/**
 * The longest otpauth URI made, in bytes once percent-encoded: longer ones make QR images that cost tens
 * of milliseconds of CPU (128 CJK characters: 58 ms, against 2.5 ms for a plain one) and that apps and
 * phones scan poorly.
 */
export const OTPAUTH_URI_MAX_BYTES = 512;
/**
 * The issuer appears twice in every URI; at this many encoded bytes a URI with the longest secret
 * (SHA512) still leaves 85 bytes for the account. TOTP_ISSUER is checked against it at start-up.
 */
export const OTPAUTH_ISSUER_MAX_BYTES = 128;

export interface OtpauthUriInput {
  issuer: string;
  account: string;
  /** The secret key bytes; encoded as unpadded RFC 4648 base32 in the URI. */
  key: Buffer;
  params: TotpParams;
}

/** RFC 6238 §5.1: keys as long as the HMAC output. */
export const KEY_BYTES: Readonly<Record<TotpAlgorithm, number>> = { SHA1: 20, SHA256: 32, SHA512: 64 };

/** The parameters a stored config was created with. */
export function paramsOf(config: TotpParams): TotpParams {
  return { algorithm: config.algorithm, digits: config.digits, period: config.period };
}
