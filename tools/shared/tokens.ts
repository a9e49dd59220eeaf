/** Bearer tokens as the service's callers get them: HS256 JWTs, minted by the e2e tests, the bench and the soak. */
import { SignJWT } from 'jose';

export interface TokenClaims {
  tenant?: string;
  sub: string;
  /** Space-separated scopes. */
  scope?: string;
  kind?: 'partner' | 'agent';
  /** A jose time span ('10m') or an absolute exp in seconds since the epoch; default '10m'. */
  expiresIn?: string | number;
  /** Default HS256. */
  alg?: 'HS256' | 'HS384' | 'HS512';
}

const encoder = new TextEncoder();

/** A token signed with `secret` (the service's AUTH_JWT_SECRET). */
export function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const { tenant, sub, scope, kind, expiresIn = '10m', alg = 'HS256' } = claims;
  return new SignJWT({
    ...(tenant !== undefined ? { tenant } : {}),
    ...(scope !== undefined ? { scope } : {}),
    ...(kind !== undefined ? { kind } : {}),
  })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(encoder.encode(secret));
}
