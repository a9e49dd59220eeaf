import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { SECRET_ENCODINGS, SecretEncoding } from '../../two-factor/totp/secret-encoding';
import { TOTP_ALGORITHMS, TOTP_DIGITS, TOTP_PERIODS } from '../../two-factor/totp/totp.types';
import type { TotpAlgorithm, TotpDigits, TotpPeriod } from '../../two-factor/totp/totp.types';
import { IsOtpCode } from '../../common/http/otp-code.decorator';

const NO_COLON = /^[^:]*$/;

export class CreateSecretKeyRequest {
  @ApiPropertyOptional({
    description:
      'Account name shown in the authenticator app (no colon). With the issuer, at most 512 bytes of otpauth URI once percent-encoded',
    example: 'alice@example.com',
    maxLength: 128,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(NO_COLON, { message: 'account must not contain a colon' })
  account?: string;

  @ApiPropertyOptional({
    description: 'Issuer shown in the app; defaults to TOTP_ISSUER (no colon)',
    example: 'ACME Co',
    maxLength: 64,
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(NO_COLON, { message: 'issuer must not contain a colon' })
  issuer?: string;
}

export class SecretKeyResponse {
  @ApiProperty({
    description: 'The secret, RFC 4648 base32 without padding',
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  })
  secretKey!: string;

  @ApiProperty({
    description: 'PNG QR code encoding exactly otpauthUrl',
    example: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUg...',
  })
  qrcodeUrl!: string;

  @ApiProperty({
    example:
      'otpauth://totp/ACME%20Co:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30',
  })
  otpauthUrl!: string;
}

export class VerifyCodeRequest {
  @ApiProperty({ description: 'The base32 secret the code belongs to', example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  secretKey!: string;

  @IsOtpCode()
  code!: string;
}

export class VerifyCodeResponse {
  @ApiProperty({ enum: ['success', 'fail'], example: 'success' })
  result!: 'success' | 'fail';
}

export class BackupCodeResponse {
  @ApiProperty({
    description: 'A backup code in the format issued per user (10 Crockford base32 characters)',
    example: 'K7Q2M-9XH4D',
  })
  code!: string;
}

export class GenerateSecretQuery {
  @ApiPropertyOptional({ enum: SECRET_ENCODINGS, default: 'base32', example: 'base32' })
  @IsOptional()
  @IsIn(SECRET_ENCODINGS)
  encoding: SecretEncoding = 'base32';

  @ApiPropertyOptional({ description: 'Random bytes (16..64)', default: 20, minimum: 16, maximum: 64, example: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(16)
  @Max(64)
  length = 20;
}

export class GenerateSecretResponse {
  @ApiProperty({ example: 'IZSEKN2SLZASGVCUJY3WOPROGBKUWPRV' })
  secret!: string;
}

/** Optional TOTP parameters of the stateless routes; each defaults to the deployment's setting. */
export class TotpParamsRequest {
  @ApiPropertyOptional({ enum: SECRET_ENCODINGS, default: 'base32', example: 'base32' })
  @IsOptional()
  @IsIn(SECRET_ENCODINGS)
  encoding?: SecretEncoding;

  @ApiPropertyOptional({ enum: TOTP_ALGORITHMS, example: 'SHA1' })
  @IsOptional()
  @IsIn(TOTP_ALGORITHMS)
  algorithm?: TotpAlgorithm;

  @ApiPropertyOptional({ enum: TOTP_DIGITS, example: 6 })
  @IsOptional()
  @IsIn(TOTP_DIGITS)
  digits?: TotpDigits;

  @ApiPropertyOptional({ enum: TOTP_PERIODS, example: 30 })
  @IsOptional()
  @IsIn(TOTP_PERIODS)
  period?: TotpPeriod;
}

export class GenerateTokenRequest extends TotpParamsRequest {
  @ApiProperty({
    description: 'The secret, in `encoding` (default base32)',
    example: 'KQ4GI6Z6OM6FIXSPPFOVOPTYGNZFCWD5NQSTS3TSMETDUMD2MNKQ',
  })
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  secret!: string;
}

export class GenerateTokenResponse {
  @ApiProperty({ description: 'The current code: a string of digits (leading zeros kept)', example: '017724' })
  token!: string;

  @ApiProperty({ description: 'Whole seconds left in the current time step', example: 29 })
  remaining!: number;
}

export class VerifyTokenRequest extends GenerateTokenRequest {
  @ApiProperty({ description: 'The code, as a string of exactly `digits` digits', example: '317729' })
  @IsString()
  @Matches(/^[0-9]+$/, { message: 'token must be a string of digits' })
  @MaxLength(8)
  token!: string;
}

export class VerifyTokenResponse {
  @ApiProperty({ example: true })
  valid!: boolean;

  @ApiProperty({ description: 'Whole seconds left in the current time step', example: 18 })
  remaining!: number;

  @ApiPropertyOptional({ description: 'The matched step offset (-1, 0 or +1), present when valid', example: 0 })
  delta?: number;
}
