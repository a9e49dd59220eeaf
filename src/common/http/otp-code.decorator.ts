import { TextField } from './fields';

/**
 * A one-time code field: a string of 6 or 8 ASCII digits. Numbers are refused (they lose leading
 * zeros); the service then checks the exact digit count of the config it verifies against.
 */
export function IsOtpCode(description = 'A TOTP code: a string of 6 (or 8) digits'): PropertyDecorator {
  return TextField({
    minLength: 6,
    maxLength: 8,
    pattern: /^[0-9]{6}(?:[0-9]{2})?$/,
    patternMessage: '$property must be a string of 6 or 8 digits',
    description,
    example: '081804',
  });
}
