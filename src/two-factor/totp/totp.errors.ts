/**
 * A secret that is not strict, canonical RFC 4648 base32. The message names only the reason, never
 * the input, because the input is a secret and error messages end up in logs.
 */
export class InvalidSecretError extends Error {
  override readonly name = 'InvalidSecretError';

  constructor(readonly reason: string) {
    super(`Invalid base32 secret: ${reason}`);
  }
}

export type OtpauthLabelField = 'issuer' | 'account';

/** An issuer or account name that cannot go into an otpauth:// label (Key URI format). */
export class InvalidOtpauthLabelError extends Error {
  override readonly name = 'InvalidOtpauthLabelError';

  constructor(
    readonly field: OtpauthLabelField,
    readonly reason: string,
  ) {
    super(`Invalid otpauth ${field}: ${reason}`);
  }
}
