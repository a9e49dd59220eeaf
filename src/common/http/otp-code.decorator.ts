import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';

/**
 * A one-time code field: a string of 6 or 8 ASCII digits. Numbers are refused (they lose leading
 * zeros); the service then checks the exact digit count of the config it verifies against.
 */
export function IsOtpCode(description = 'A TOTP code: a string of 6 (or 8) digits'): PropertyDecorator {
  return applyDecorators(
    ApiProperty({ description, example: '081804', pattern: '^[0-9]{6}([0-9]{2})?$' }),
    IsString({ message: '$property must be a string of digits' }),
    Matches(/^[0-9]{6}(?:[0-9]{2})?$/, { message: '$property must be a string of 6 or 8 digits' }),
  );
}
