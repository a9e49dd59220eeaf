import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsBase64,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import {
  OTPAUTH_ISSUER_MAX_BYTES,
  OTPAUTH_URI_MAX_BYTES,
  TOTP_ALGORITHMS,
  TOTP_DIGITS,
  TOTP_PERIODS,
  TOTP_WINDOWS,
} from '../two-factor/totp/totp.types';
import type { TotpAlgorithm, TotpDigits, TotpPeriod, TotpWindow } from '../two-factor/totp/totp.types';

/** QR_RENDER_THREADS when unset: 2, or the core count if smaller. */
export const DEFAULT_QR_RENDER_THREADS = Math.min(2, availableParallelism());

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Every setting the service reads, with its default, validated once at start-up. This class is the
 * only reader of process.env; the registerAs namespaces beside it turn it into typed config.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = '127.0.0.1';

  /** Where the embedded defaults live: the SQLite file and the generated development keys. */
  @IsString()
  @MinLength(1)
  DATA_DIR = './data';
  @IsOptional()
  @Matches(/^(sqlite:.+|mysql:\/\/.+|mariadb:\/\/.+)$/, {
    message: 'DATABASE_URL must be sqlite:<file> or mysql://user:pass@host:3306/db',
  })
  DATABASE_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /** Worker processes of `npm run start:cluster` (src/cluster.ts); unset: one per core. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  WEB_CONCURRENCY?: number;

  /** MySQL connect timeout / SQLite busy timeout; a database that does not answer in time is a 503, never a hang. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60000)
  DATABASE_TIMEOUT_MS = 5000;
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters' })
  AUTH_JWT_SECRET?: string;
  @IsOptional()
  @Matches(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/, {
    message: 'AUTH_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)',
  })
  AUTH_JWT_PUBLIC_KEY?: string;
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'] })
  AUTH_JWKS_URL?: string;
  @IsOptional()
  @IsString()
  AUTH_JWT_ISSUER?: string;
  @IsOptional()
  @IsString()
  AUTH_JWT_AUDIENCE?: string;

  /** A token whose exp lies further ahead than this is refused: a token minted for the year 3000 is a leak for ever. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(31536000)
  AUTH_JWT_MAX_TTL_SECONDS = 86400;
  @IsOptional()
  @IsBase64()
  TWOFA_ENCRYPTION_KEY?: string;

  /** Comma-separated base64 keys; the first encrypts, all decrypt (rotation). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/=]+(,[A-Za-z0-9+/=]+)*$/, {
    message: 'TWOFA_ENCRYPTION_KEYS must be comma-separated base64 keys',
  })
  TWOFA_ENCRYPTION_KEYS?: string;

  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/^[^:]+$/, { message: 'TOTP_ISSUER must not contain a colon' })
  TOTP_ISSUER = 'twofa';

  @IsIn(TOTP_ALGORITHMS)
  TOTP_ALGORITHM: TotpAlgorithm = 'SHA1';

  @Type(() => Number)
  @IsIn(TOTP_DIGITS)
  TOTP_DIGITS: TotpDigits = 6;

  @Type(() => Number)
  @IsIn(TOTP_PERIODS)
  TOTP_PERIOD: TotpPeriod = 30;

  @Type(() => Number)
  @IsIn(TOTP_WINDOWS)
  TOTP_WINDOW: TotpWindow = 1;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  LOCKOUT_MAX_FAILURES = 5;

  /** The first lock's duration; each further lock lasts twice the one before, up to LOCKOUT_MAX_SECONDS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  LOCKOUT_SECONDS = 900;

  /** The longest a lock lasts; also the Retry-After of a hard lock. At least LOCKOUT_SECONDS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(2592000)
  LOCKOUT_MAX_SECONDS = 86400;

  /**
   * Consecutive failures (across locks; reset only by a success or an unlock) that hard-lock a config
   * until an administrator unlocks it. NIST SP 800-63B §5.2.2: no more than 100.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  LOCKOUT_HARD_LIMIT = 20;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** Requests per minute per client address on the public routes; 0 turns the limit off. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1000000)
  PUBLIC_RATE_LIMIT = 120;

  /**
   * Which proxies to believe about the client address (X-Forwarded-For), as Fastify's trustProxy:
   * `false`, `true`, a hop count, or comma-separated addresses/CIDRs. Behind a load balancer the rate
   * limit needs it, or every client is the balancer.
   */
  @Matches(/^(true|false|\d{1,2}|[0-9A-Fa-f:./]+(,\s*[0-9A-Fa-f:./]+)*)$/, {
    message: 'TRUST_PROXY must be true, false, a hop count or comma-separated addresses/CIDRs',
  })
  TRUST_PROXY = 'false';

  /**
   * Worker threads that render QR images (enrolments) off the event loop, per process. The default
   * leaves the event loop a core of its own where there are 3 or more.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(64)
  QR_RENDER_THREADS = DEFAULT_QR_RENDER_THREADS;

  /** A request that takes longer (a database that does not answer) is answered 503, never left hanging. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300000)
  REQUEST_TIMEOUT_MS = 10000;

  /** On SIGTERM/SIGINT: how long in-flight requests may take to finish before the process exits anyway. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(300000)
  SHUTDOWN_TIMEOUT_MS = 10000;

  /** How long a TwoFactorSession made by a successful login lives; an expired one reads as absent. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(2592000)
  SESSION_TTL_SECONDS = 3600;

  /** How often each instance removes a batch of expired sessions (they read as absent already). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(3600000)
  SESSION_SWEEP_INTERVAL_MS = 5000;

  /**
   * Expired sessions one sweep removes at most, in one DELETE (short locks, a small Galera write set).
   * The default removes up to 200 a second per instance: keep it above the logins a second.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(10000)
  SESSION_SWEEP_BATCH_SIZE = 1000;

  /** true: GET /metrics needs a token with scope metrics:read; false: it is open (for a scraper on a private network). */
  @IsIn(['true', 'false'])
  METRICS_REQUIRE_SCOPE: 'true' | 'false' = 'false';

  /** true: webhook URLs may be plain http (a receiver on a trusted network, tests); false: https only. */
  @IsIn(['true', 'false'])
  WEBHOOK_ALLOW_HTTP: 'true' | 'false' = 'false';

  /**
   * true: webhook destinations may resolve to loopback, private, link-local or metadata addresses; false:
   * such a destination is refused at registration and at every delivery (request forgery).
   */
  @IsIn(['true', 'false'])
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' | 'false' = 'false';

  /** How long the delivery worker waits between looks at the outbox when it found nothing due. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(60000)
  WEBHOOK_POLL_INTERVAL_MS = 1000;

  /** Attempts of one delivery before it is `failed` (Standard Webhooks retries over days). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(30)
  WEBHOOK_MAX_ATTEMPTS = 10;

  /** The wait after the first failed attempt; each later wait is 4 times longer, up to WEBHOOK_RETRY_MAX_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(3600000)
  WEBHOOK_RETRY_BASE_MS = 5000;

  /** The longest wait between two attempts of one delivery. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(604800000)
  WEBHOOK_RETRY_MAX_MS = 86400000;

  /** One delivery attempt (address lookup, connection, answer) may take this long. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(30000)
  WEBHOOK_TIMEOUT_MS = 5000;
}

export class InvalidEnvironmentError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'InvalidEnvironmentError';
  }
}

/** Validates raw variables; throws one error naming every bad setting. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  // An empty variable (`FOO=`) means "not set", as a person editing .env expects.
  const given = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== ''));
  const env = plainToInstance(Environment, given, { exposeDefaultValues: true });
  const problems = validateSync(env, { whitelist: false, forbidUnknownValues: true }).flatMap((error) =>
    Object.values(error.constraints ?? {}).map((message) => `${error.property}: ${message}`),
  );
  if (encodeURIComponent(env.TOTP_ISSUER).length > OTPAUTH_ISSUER_MAX_BYTES) {
    problems.push(
      `TOTP_ISSUER: at most ${OTPAUTH_ISSUER_MAX_BYTES} bytes once percent-encoded ` +
        `(it appears twice in every otpauth URI, which is at most ${OTPAUTH_URI_MAX_BYTES} bytes)`,
    );
  }
  const invalid = (setting: keyof Environment) => problems.some((problem) => problem.startsWith(`${setting}: `));
  if (!invalid('LOCKOUT_SECONDS') && !invalid('LOCKOUT_MAX_SECONDS') && env.LOCKOUT_MAX_SECONDS < env.LOCKOUT_SECONDS) {
    problems.push('LOCKOUT_MAX_SECONDS: must be at least LOCKOUT_SECONDS');
  }
  if (env.NODE_ENV === 'production') {
    if (!env.TWOFA_ENCRYPTION_KEY && !env.TWOFA_ENCRYPTION_KEYS) {
      problems.push('TWOFA_ENCRYPTION_KEY: required when NODE_ENV=production (no generated keys in production)');
    }
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWT_PUBLIC_KEY && !env.AUTH_JWKS_URL) {
      problems.push(
        'AUTH_JWT_SECRET: one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL is required when NODE_ENV=production',
      );
    }
  }
  if (env.WEBHOOK_RETRY_MAX_MS < env.WEBHOOK_RETRY_BASE_MS) {
    problems.push('WEBHOOK_RETRY_MAX_MS: must not be less than WEBHOOK_RETRY_BASE_MS');
  }
  if (problems.length > 0) throw new InvalidEnvironmentError(problems);
  return env;
}

/** The validated environment of this process. */
export function environment(): Environment {
  return validateEnvironment(process.env);
}
