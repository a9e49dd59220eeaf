import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { createRemoteJWKSet, errors, JWTPayload, jwtVerify, JWTVerifyGetKey } from 'jose';
import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
import { authConfig } from '../../config/app.config';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';
import { Principal } from './principal';

const TENANT = /^[A-Za-z0-9._-]{1,64}$/;
const SUBJECT_MAX = 128;
/** Distinct tokens remembered; the oldest goes first. */
const VERIFIED_TOKENS_MAX = 1000;
/** Longest a verified token is trusted without a new check (bounds how long a removed JWKS key still counts). */
const VERIFIED_TOKEN_TTL_MS = 60_000;

function unauthorized(message: string): DomainError {
  return new DomainError(ErrorCode.Unauthorized, message);
}

/**
 * Verifies bearer tokens with the one configured key: an HS256 secret, a PEM public key (RS256/ES256)
 * or a JWKS URL. The accepted algorithms are fixed by the key type, so `alg: none` and
 * HS/RS confusion are refused; `exp` is required and at most AUTH_JWT_MAX_TTL_SECONDS ahead.
 */
@Injectable()
export class JwtVerifier {
  private readonly key: KeyObject | JWTVerifyGetKey;
  private readonly algorithms: string[];
  /**
   * Tokens already verified, by their exact text: callers send one token for many requests (a partner
   * backend signs in each of its users with its own service token), and checking the signature again
   * was a tenth of the CPU of a login. An entry never outlives the token's exp.
   */
  private readonly verified = new Map<string, { principal: Principal; validUntilMs: number }>();

  constructor(@Inject(authConfig.KEY) private readonly config: ConfigType<typeof authConfig>) {
    const source = config.key;
    switch (source.kind) {
      case 'secret':
        // A KeyObject, not bytes: jose converts bytes to a WebCrypto key on every call, a KeyObject once.
        this.key = createSecretKey(Buffer.from(source.secret, 'utf8'));
        this.algorithms = ['HS256'];
        break;
      case 'publicKey': {
        const key = createPublicKey(source.pem);
        this.key = key;
        this.algorithms = key.asymmetricKeyType === 'ec' ? ['ES256'] : ['RS256'];
        break;
      }
      case 'jwks':
        this.key = createRemoteJWKSet(new URL(source.url));
        this.algorithms = ['RS256', 'ES256'];
        break;
    }
  }

  async verify(authorization: string | undefined): Promise<Principal> {
    // The scheme name is case-insensitive (RFC 9110 §11.1): `bearer x` is the same credential.
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(authorization ?? '');
    if (!match) throw unauthorized('A bearer token is required');
    const token = match[1];
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (Date.now() < known.validUntilMs) return known.principal;
      this.verified.delete(token);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key as KeyObject, {
        algorithms: this.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw unauthorized('The token has expired');
      if (error instanceof errors.JOSEError) throw unauthorized('The token is not valid');
      throw error;
    }
    // Checked before the token is remembered: a remembered token's exp only comes nearer.
    if (payload.exp! * 1000 > Date.now() + this.config.maxTtlSeconds * 1000) {
      throw unauthorized('The token expires too far ahead (more than AUTH_JWT_MAX_TTL_SECONDS)');
    }
    const principal = this.principalOf(payload);
    this.remember(token, principal, payload.exp!);
    return principal;
  }

  private remember(token: string, principal: Principal, exp: number): void {
    // jose refuses a token once now >= exp (in seconds), so it is valid while Date.now() < exp * 1000.
    const validUntilMs = Math.min(exp * 1000, Date.now() + VERIFIED_TOKEN_TTL_MS);
    if (this.verified.size >= VERIFIED_TOKENS_MAX) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { principal, validUntilMs });
  }

  private principalOf(payload: JWTPayload): Principal {
    const { sub, tenant, scope, kind } = payload as JWTPayload & Record<string, unknown>;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > SUBJECT_MAX)
      throw unauthorized('The token has no valid sub');
    if (typeof tenant !== 'string' || !TENANT.test(tenant)) throw unauthorized('The token has no valid tenant');
    if (scope !== undefined && typeof scope !== 'string') throw unauthorized('The token scope must be a string');
    if (kind !== undefined && kind !== 'partner' && kind !== 'agent')
      throw unauthorized('The token kind must be partner or agent');
    return { sub, tenant, scopes: new Set((scope ?? '').split(' ').filter(Boolean)), kind };
  }
}
