import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsSubjectIdText } from '../../common/http/subject-id.decorator';

export class GenerateKeyRequest {
  @ApiProperty({ description: "Must equal the token's tenant", example: 'acme' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  organisationId!: string;
}

export class GenerateKeyResponse {
  @ApiProperty({
    description: 'The otpauth URI of your new pending config; your first good code activates it',
    example:
      'otpauth://totp/twofa:agent-007?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=twofa&algorithm=SHA1&digits=6&period=30',
  })
  twoFactorUri!: string;
}

export class ResetRequest {
  @ApiProperty({ description: 'The user whose 2FA is removed', example: 'agent-042' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @IsSubjectIdText()
  targetUserId!: string;

  @ApiProperty({
    description: 'Your own current TOTP code (or a backup code), checked like a login',
    example: '081804',
  })
  @IsString()
  @MinLength(6)
  @MaxLength(16)
  callerCode!: string;

  @ApiProperty({ description: "Must equal the token's tenant", example: 'acme' })
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  organisationId!: string;

  @ApiPropertyOptional({ enum: ['partner', 'agent'], description: "Defaults to the caller's kind", example: 'agent' })
  @IsOptional()
  @IsIn(['partner', 'agent'])
  targetKind?: 'partner' | 'agent';
}

/** Seed 004 answers an empty object on success. */
export class ResetResponse {}
