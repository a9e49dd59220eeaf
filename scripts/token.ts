/**
 * Prints a signed HS256 token for trying the API by hand, with the secret the service uses
 * (AUTH_JWT_SECRET, or the development secret generated under DATA_DIR).
 *
 *   npm run token -- --tenant acme --sub admin1 --scope "partner:admin partner:login" [--kind partner] [--ttl 3600]
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { authConfig } from '../src/config/app.config';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      sub: { type: 'string' },
      scope: { type: 'string', default: '' },
      kind: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  if (!values.tenant || !values.sub) throw new Error('--tenant and --sub are required');
  if (values.kind && values.kind !== 'partner' && values.kind !== 'agent')
    throw new Error('--kind must be partner or agent');
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new Error('--ttl must be a positive number of seconds');

  const auth = authConfig();
  if (auth.key.kind !== 'secret')
    throw new Error('npm run token signs with AUTH_JWT_SECRET (HS256); this deployment verifies another key');
  if (ttlSeconds > auth.maxTtlSeconds)
    throw new Error(
      `--ttl must be at most AUTH_JWT_MAX_TTL_SECONDS (${auth.maxTtlSeconds}): the service refuses longer-lived tokens`,
    );
  let jwt = new SignJWT({ tenant: values.tenant, scope: values.scope, ...(values.kind ? { kind: values.kind } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`);
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  process.stdout.write(`${await jwt.sign(new TextEncoder().encode(auth.key.secret))}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
