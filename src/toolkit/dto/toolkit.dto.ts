import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { EnumField, QueryIntegerField, TextField } from '../../common/http/fields';
import { IsOtpCode } from '../../common/http/otp-code.decorator';
import { SECRET_ENCODINGS, SecretEncoding } from '../../two-factor/totp/secret-encoding';
import {
  SECRET_DEFAULT_BYTES,
  SECRET_MAX_BYTES,
  SECRET_MIN_BYTES,
  TOTP_ALGORITHMS,
  TOTP_DIGITS,
  TOTP_PERIODS,
} from '../../two-factor/totp/totp.types';
import type { TotpAlgorithm, TotpDigits, TotpPeriod } from '../../two-factor/totp/totp.types';

/** Issuer and account form the otpauth label `issuer:account`, so neither may contain a colon. */
const NO_COLON = /^[^:]*$/;

/** Base32 of 16 to 64 bytes: 26 to 103 characters, and the `=` padding RFC 4648 allows. */
const BASE32_SECRET = { minLength: 26, maxLength: 104, pattern: /^[A-Za-z2-7]+=*$/ };

/**
 * A secret in any of the encodings: 16 to 64 bytes are at least 16 characters (ascii) and at most 128
 * (hex). The decoder then checks the exact byte count for the encoding.
 */
const ENCODED_SECRET = { minLength: SECRET_MIN_BYTES, maxLength: SECRET_MAX_BYTES * 2 };

export class CreateSecretKeyRequest {
  @TextField({
    optional: true,
    maxLength: 128,
    pattern: NO_COLON,
    patternMessage: 'account must not contain a colon',
    description:
      'Account name shown in the authenticator app (no colon); defaults to `user`. With the issuer, at most 512 bytes of otpauth URI once percent-encoded',
    example: 'alice@example.com',
  })
  account?: string;

  @TextField({
    optional: true,
    maxLength: 64,
    pattern: NO_COLON,
    patternMessage: 'issuer must not contain a colon',
    description: 'Issuer shown in the app (no colon); defaults to TOTP_ISSUER',
    example: 'ACME Co',
  })
  issuer?: string;
}

export class SecretKeyResponse {
  @ApiProperty({
    type: String,
    description: 'The secret, RFC 4648 base32 without padding',
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  })
  secretKey!: string;

  @ApiProperty({
    type: String,
    description: 'PNG QR code encoding exactly otpauthUrl',
    example: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg...',
  })
  qrcodeUrl!: string;

  @ApiProperty({
    type: String,
    example:
      'otpauth://totp/ACME%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30',
  })
  otpauthUrl!: string;
}

export class VerifyCodeRequest {
  @TextField({
    ...BASE32_SECRET,
    patternMessage: 'secretKey must be base32 (A-Z, 2-7)',
    description: 'The base32 secret the code belongs to (16 to 64 bytes; lower case accepted)',
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  })
  secretKey!: string;

  @IsOtpCode()
  code!: string;
}

export class VerifyCodeResponse {
  @ApiProperty({ type: String, enum: ['success', 'fail'], example: 'success' })
  result!: 'success' | 'fail';
}

export class BackupCodeResponse {
  @ApiProperty({
    type: String,
    description: 'A backup code in the format issued per user: 10 Crockford base32 characters, shown XXXXX-XXXXX',
    pattern: '^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$',
    example: 'K7Q2M-9XH4D',
  })
  code!: string;
}

export class GenerateSecretQuery {
  @EnumField(SECRET_ENCODINGS, { optional: true, default: 'base32', example: 'base32' })
  encoding: SecretEncoding = 'base32';

  @QueryIntegerField({
    optional: true,
    minimum: SECRET_MIN_BYTES,
    maximum: SECRET_MAX_BYTES,
    default: SECRET_DEFAULT_BYTES,
    example: SECRET_DEFAULT_BYTES,
    description: 'Random bytes',
  })
  length = SECRET_DEFAULT_BYTES;
}

export class GenerateSecretResponse {
  @ApiProperty({ type: String, example: 'IZSEKN2SLZASGVCUJY3WOPROGBKUWPRV' })
  secret!: string;
}

/** Optional TOTP parameters of the stateless routes; each defaults to the deployment's setting. */
export class TotpParamsRequest {
  @EnumField(SECRET_ENCODINGS, { optional: true, default: 'base32', example: 'base32' })
  encoding?: SecretEncoding;

  // speakeasy-based clients send `sha256`: any case is accepted, the canonical spelling is upper case.
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toUpperCase() : value))
  @EnumField(TOTP_ALGORITHMS, {
    optional: true,
    description: 'HMAC algorithm; defaults to TOTP_ALGORITHM. Any case is accepted (`sha256`); shown here upper case.',
    example: 'SHA1',
  })
  algorithm?: TotpAlgorithm;

  @EnumField(TOTP_DIGITS, { optional: true, description: 'Defaults to TOTP_DIGITS', example: 6 })
  digits?: TotpDigits;

  @EnumField(TOTP_PERIODS, { optional: true, description: 'Seconds per step; defaults to TOTP_PERIOD', example: 30 })
  period?: TotpPeriod;
}

export class GenerateTokenRequest extends TotpParamsRequest {
  @TextField({
    ...ENCODED_SECRET,
    description: 'The secret, in `encoding` (default base32), 16 to 64 bytes',
    example: 'KQ4GI6Z6OM6FIXSPPFOVOPTYGNZFCWD5NQSTS3TSMETDUMD2MNKQ',
  })
  secret!: string;
}

export class GenerateTokenResponse {
  @ApiProperty({
    type: String,
    pattern: '^[0-9]{6}([0-9]{2})?$',
    description: 'The current code: a string of digits (leading zeros kept)',
    example: '017724',
  })
  token!: string;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: Math.max(...TOTP_PERIODS),
    description: 'Whole seconds left in the current time step',
    example: 29,
  })
  remaining!: number;
}

export class VerifyTokenRequest extends GenerateTokenRequest {
  @TextField({
    minLength: Math.min(...TOTP_DIGITS),
    maxLength: Math.max(...TOTP_DIGITS),
    pattern: /^[0-9]+$/,
    patternMessage: 'token must be a string of digits',
    description: 'The code, as a string of exactly `digits` digits (a number would lose leading zeros)',
    example: '317729',
  })
  token!: string;
}

export class VerifyTokenResponse {
  @ApiProperty({ type: Boolean, example: true })
  valid!: boolean;

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: Math.max(...TOTP_PERIODS),
    description: 'Whole seconds left in the current time step',
    example: 18,
  })
  remaining!: number;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: -1,
    maximum: 1,
    description: 'The matched step offset (-1, 0 or +1), present when valid',
    example: 0,
  })
  delta?: number;
}
