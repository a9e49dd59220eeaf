import { ApiProperty } from '@nestjs/swagger';
import { EnumField, TextField } from '../../common/http/fields';
import { SubjectIdField } from '../../common/http/subject-id.decorator';
import { LoginCodeField } from '../../two-factor/http/config-fields';

const ORGANISATION_ID = { maxLength: 64, description: "Must equal your token's tenant", example: 'acme' };

export class GenerateKeyRequest {
  @TextField(ORGANISATION_ID)
  organisationId!: string;
}

export class GenerateKeyResponse {
  @ApiProperty({
    type: String,
    description: 'The otpauth URI of your new pending config; your first good code at login activates it',
    example:
      'otpauth://totp/twofa:admin1?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=twofa&algorithm=SHA1&digits=6&period=30',
  })
  twoFactorUri!: string;
}

export class ResetRequest {
  @SubjectIdField({ description: 'The user whose 2FA is removed', example: 'pu-10042' })
  targetUserId!: string;

  @LoginCodeField('Your own current TOTP code (or a backup code), checked like a login')
  callerCode!: string;

  @TextField(ORGANISATION_ID)
  organisationId!: string;

  @EnumField(['partner', 'agent'], { optional: true, description: 'Defaults to your own kind', example: 'partner' })
  targetKind?: 'partner' | 'agent';
}

/** Seed 004 answers an empty object on success. */
export class ResetResponse {}
