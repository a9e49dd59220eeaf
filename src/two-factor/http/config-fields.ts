import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsSubjectIdText } from '../../common/http/subject-id.decorator';

/** The field decorators the partner-user and agent DTOs share: the same rules under each kind's field names. */

interface FieldDoc {
  description: string;
  example: string;
}

/** A user id (partneruserid, agentid): 1..128 characters without control characters. */
export function SubjectIdField(doc: FieldDoc, { optional = false } = {}): PropertyDecorator {
  const swagger = { type: String, maxLength: 128, ...doc };
  return applyDecorators(
    optional ? ApiPropertyOptional(swagger) : ApiProperty(swagger),
    ...(optional ? [IsOptional()] : []),
    IsString(),
    MinLength(1),
    MaxLength(128),
    IsSubjectIdText(),
  );
}

/** The account name an authenticator app shows; it becomes part of the otpauth label, so no colon. */
export function AccountField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: String,
      description:
        'Account name shown in the authenticator app; defaults to the user id. The otpauth URI it goes into is at most 512 bytes once percent-encoded (about 40 CJK characters)',
      example: 'alice@example.com',
      maxLength: 128,
    }),
    IsOptional(),
    IsString(),
    MinLength(1),
    MaxLength(128),
    Matches(/^[^:]*$/, { message: 'account must not contain a colon' }),
  );
}

/** A login code: a TOTP code or a backup code; the service judges which and its exact shape. */
export function LoginCodeField(): PropertyDecorator {
  return applyDecorators(
    ApiProperty({
      type: String,
      description: 'A TOTP code (6 or 8 digits) or an unused backup code',
      example: '081804',
    }),
    IsString(),
    MinLength(6),
    MaxLength(16),
  );
}
