import { registerAs } from '@nestjs/config';
import { isAbsolute, join } from 'node:path';
import { TotpParams } from '../two-factor/totp/totp.types';
import { devKeysFile, loadOrCreateDevKeys } from './dev-keys';
import { environment, InvalidEnvironmentError } from './environment';

/** One namespace per concern, each typed and built from the validated environment. */

export const httpConfig = registerAs('http', () => {
  const env = environment();
  return {
    port: env.PORT,
    host: env.HOST,
    logLevel: env.LOG_LEVEL,
    publicRateLimitPerMinute: env.PUBLIC_RATE_LIMIT,
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    production: env.NODE_ENV === 'production',
  };
});

/** Which proxies to believe, as Fastify's `trustProxy` function: the address and its hop (0 nearest). */
export type TrustProxyFunction = (address: string, hop: number) => boolean;

/**
 * TRUST_PROXY in the form Fastify's `trustProxy` takes. A hop count believes that many proxies nearest
 * the service, whatever their addresses, as Fastify did until 5.12, which reads a number as "believe
 * none" (a hop count cannot tell a proxy from a client that talks to the service directly: list the
 * proxies' addresses where clients can).
 */
export function trustProxyOf(setting: string): boolean | string | TrustProxyFunction {
  if (setting === 'true' || setting === 'false') return setting === 'true';
  if (!/^\d+$/.test(setting)) return setting;
  const hops = Number(setting);
  return (_address, hop) => hop < hops;
}

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string; timeoutMs: number }
  | { kind: 'mysql'; url: string; poolSize: number; timeoutMs: number };

export function databaseConfigFrom(env = environment()): DatabaseConfig {
  const url = env.DATABASE_URL ?? `sqlite:${join(env.DATA_DIR, 'twofa.sqlite')}`;
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    return {
      kind: 'sqlite',
      file: file === ':memory:' || isAbsolute(file) ? file : join(process.cwd(), file),
      timeoutMs: env.DATABASE_TIMEOUT_MS,
    };
  }
  return {
    kind: 'mysql',
    url: url.replace(/^mariadb:/, 'mysql:'),
    poolSize: env.DATABASE_POOL_SIZE,
    timeoutMs: env.DATABASE_TIMEOUT_MS,
  };
}

export const databaseConfig = registerAs('database', (): DatabaseConfig => databaseConfigFrom());

export type JwtKeySource =
  { kind: 'secret'; secret: string } | { kind: 'publicKey'; pem: string } | { kind: 'jwks'; url: string };

export const authConfig = registerAs('auth', () => {
  const env = environment();
  const key: JwtKeySource = env.AUTH_JWT_PUBLIC_KEY
    ? { kind: 'publicKey', pem: env.AUTH_JWT_PUBLIC_KEY }
    : env.AUTH_JWKS_URL
      ? { kind: 'jwks', url: env.AUTH_JWKS_URL }
      : { kind: 'secret', secret: env.AUTH_JWT_SECRET ?? loadOrCreateDevKeys(env.DATA_DIR).jwtSecret };
  return {
    key,
    issuer: env.AUTH_JWT_ISSUER,
    audience: env.AUTH_JWT_AUDIENCE,
    maxTtlSeconds: env.AUTH_JWT_MAX_TTL_SECONDS,
  };
});

/** The file of generated development keys, when the service uses one of them (a kind of key not configured). */
export function devKeysFileInUse(env = environment()): string | undefined {
  const jwtKeyConfigured = env.AUTH_JWT_PUBLIC_KEY ?? env.AUTH_JWKS_URL ?? env.AUTH_JWT_SECRET;
  const encryptionKeyConfigured = env.TWOFA_ENCRYPTION_KEYS ?? env.TWOFA_ENCRYPTION_KEY;
  return jwtKeyConfigured && encryptionKeyConfigured ? undefined : devKeysFile(env.DATA_DIR);
}

export const cryptoConfig = registerAs('crypto', () => {
  const env = environment();
  const keys: Buffer[] = (
    env.TWOFA_ENCRYPTION_KEYS ??
    env.TWOFA_ENCRYPTION_KEY ??
    loadOrCreateDevKeys(env.DATA_DIR).encryptionKey
  )
    .split(',')
    .map((key) => Buffer.from(key, 'base64'));
  const short = keys.findIndex((key) => key.length !== 32);
  if (short >= 0) {
    throw new InvalidEnvironmentError([
      `TWOFA_ENCRYPTION_KEY${env.TWOFA_ENCRYPTION_KEYS ? 'S' : ''}: key ${short + 1} must be base64 of exactly 32 bytes`,
    ]);
  }
  return { encryptionKeys: keys };
});

export const totpConfig = registerAs('totp', () => {
  const env = environment();
  const params: TotpParams = { algorithm: env.TOTP_ALGORITHM, digits: env.TOTP_DIGITS, period: env.TOTP_PERIOD };
  return { issuer: env.TOTP_ISSUER, defaults: params, window: env.TOTP_WINDOW };
});

export const lockoutConfig = registerAs('lockout', () => {
  const env = environment();
  return {
    maxFailures: env.LOCKOUT_MAX_FAILURES,
    lockSeconds: env.LOCKOUT_SECONDS,
    maxLockSeconds: env.LOCKOUT_MAX_SECONDS,
    hardLimit: env.LOCKOUT_HARD_LIMIT,
  };
});

export const qrConfig = registerAs('qr', () => ({ renderThreads: environment().QR_RENDER_THREADS }));

export const sessionConfig = registerAs('session', () => {
  const env = environment();
  return {
    ttlSeconds: env.SESSION_TTL_SECONDS,
    sweepIntervalMs: env.SESSION_SWEEP_INTERVAL_MS,
    sweepBatchSize: env.SESSION_SWEEP_BATCH_SIZE,
  };
});

export const metricsConfig = registerAs('metrics', () => ({
  requireScope: environment().METRICS_REQUIRE_SCOPE === 'true',
}));

export const webhookConfig = registerAs('webhooks', () => {
  const env = environment();
  return {
    allowHttp: env.WEBHOOK_ALLOW_HTTP === 'true',
    allowPrivateNetworks: env.WEBHOOK_ALLOW_PRIVATE_NETWORKS === 'true',
    pollIntervalMs: env.WEBHOOK_POLL_INTERVAL_MS,
    maxAttempts: env.WEBHOOK_MAX_ATTEMPTS,
    retryBaseMs: env.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: env.WEBHOOK_RETRY_MAX_MS,
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
  };
});

export const ALL_CONFIG = [
  httpConfig,
  databaseConfig,
  authConfig,
  cryptoConfig,
  totpConfig,
  lockoutConfig,
  qrConfig,
  sessionConfig,
  metricsConfig,
  webhookConfig,
];
