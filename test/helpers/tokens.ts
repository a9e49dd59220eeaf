import { SignJWT } from 'jose';
import { signToken, TokenClaims as SignedClaims } from '../../tools/shared/tokens';
import { nowSeconds } from './time';

export interface TokenClaims extends SignedClaims {
  /** Default TEST_JWT_SECRET, the one the test app verifies with. */
  secret?: string;
}

/** The HS256 secret the test app verifies with. */
export const TEST_JWT_SECRET = 'e2e-test-secret-that-is-long-enough-0123456789';

const encoder = new TextEncoder();
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token as the app's callers get it: HS256 with the test secret, `exp` 10 minutes ahead. */
export function mintToken(claims: TokenClaims): Promise<string> {
  return signToken(claims.secret ?? TEST_JWT_SECRET, claims);
}

/** Expired a minute ago (beyond any clock tolerance), otherwise valid. */
export function expiredToken(claims: TokenClaims): Promise<string> {
  return mintToken({ ...claims, expiresIn: nowSeconds() - 60 });
}

/** Correctly formed, signed with a secret the app does not know. */
export function tokenWithOtherSecret(claims: TokenClaims): Promise<string> {
  return mintToken({ ...claims, secret: 'another-secret-that-is-also-long-enough-0123456789' });
}

/** `alg: none`, built by hand (jose refuses to make one): header.payload. with an empty signature. */
export function unsignedToken(claims: TokenClaims): string {
  const { tenant, sub, scope, kind } = claims;
  const payload = { sub, tenant, scope, kind, iat: nowSeconds(), exp: nowSeconds() + 600 };
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

/** Properly signed but without `exp`. */
export function tokenWithoutExp(claims: TokenClaims): Promise<string> {
  const { tenant, sub, scope, kind, secret = TEST_JWT_SECRET } = claims;
  return new SignJWT({ tenant, scope, kind })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .sign(encoder.encode(secret));
}

/** Properly signed, with `exp`, but without the `tenant` claim. */
export function tokenWithoutTenant(claims: Omit<TokenClaims, 'tenant'>): Promise<string> {
  return mintToken({ ...claims, tenant: undefined });
}
