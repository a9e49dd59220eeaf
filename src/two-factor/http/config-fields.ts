import { TextField } from '../../common/http/fields';

/** The field decorators the partner-user and agent DTOs share: the same rules under each kind's field names. */

/** The account name an authenticator app shows; it becomes part of the otpauth label, so no colon. */
export function AccountField(): PropertyDecorator {
  return TextField({
    optional: true,
    maxLength: 128,
    pattern: /^[^:]*$/,
    patternMessage: 'account must not contain a colon',
    description:
      'Account name shown in the authenticator app (no colon); defaults to the user id. The otpauth URI it goes into is at most 512 bytes once percent-encoded (about 40 CJK characters)',
    example: 'alice@example.com',
  });
}

/**
 * A TOTP code (6 or 8 digits) or a backup code (10 Crockford base32 characters, ASCII, any case, dashes
 * and spaces ignored): the shapes the verification accepts (BackupCodes.normalize, TotpProvider).
 */
const LOGIN_CODE = /^(?:[0-9]{6}|[0-9]{8}|[- ]*(?:[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z][- ]*){10})$/;

/** A code checked like a login: `code` at login, `callerCode` on reset. */
export function LoginCodeField(
  description = 'A TOTP code (6 or 8 digits) or an unused backup code',
): PropertyDecorator {
  return TextField({
    minLength: 6,
    maxLength: 16,
    pattern: LOGIN_CODE,
    patternMessage: '$property must be a TOTP code (6 or 8 digits) or a backup code',
    description,
    example: '081804',
  });
}
