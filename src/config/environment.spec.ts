import { availableParallelism } from 'node:os';
import { trustProxyOf } from './app.config';
import { InvalidEnvironmentError, validateEnvironment } from './environment';

function problemsOf(raw: Record<string, string>): string[] {
  try {
    validateEnvironment(raw);
  } catch (error) {
    if (error instanceof InvalidEnvironmentError) return error.problems;
    throw error;
  }
  return [];
}

describe(validateEnvironment.name, () => {
  it('gives the documented defaults when nothing is set', () => {
    const env = validateEnvironment({});
    expect(env).toMatchObject({
      PORT: 3000,
      HOST: '127.0.0.1',
      TOTP_ALGORITHM: 'SHA1',
      TOTP_DIGITS: 6,
      TOTP_PERIOD: 30,
      TOTP_WINDOW: 1,
      LOCKOUT_MAX_FAILURES: 5,
      LOCKOUT_SECONDS: 900,
      LOCKOUT_MAX_SECONDS: 86400,
      LOCKOUT_HARD_LIMIT: 20,
      PUBLIC_RATE_LIMIT: 120,
      AUTH_JWT_MAX_TTL_SECONDS: 86400,
      SESSION_SWEEP_INTERVAL_MS: 5000,
      SESSION_SWEEP_BATCH_SIZE: 1000,
    });
    expect(env.DATABASE_URL).toBeUndefined();
  });

  it('parses numbers from strings, so a string window can never widen the TOTP window', () => {
    expect(validateEnvironment({ TOTP_WINDOW: '0', TOTP_DIGITS: '8' })).toMatchObject({
      TOTP_WINDOW: 0,
      TOTP_DIGITS: 8,
    });
    expect(problemsOf({ TOTP_WINDOW: '10' })).toEqual([expect.stringMatching(/^TOTP_WINDOW: /)]);
  });

  it('names every bad setting at once', () => {
    const problems = problemsOf({
      PORT: 'abc',
      TOTP_ALGORITHM: 'md5',
      DATABASE_URL: 'postgres://x',
      AUTH_JWT_SECRET: 'short',
    });
    for (const setting of ['PORT', 'TOTP_ALGORITHM', 'DATABASE_URL', 'AUTH_JWT_SECRET']) {
      expect(problems.some((problem) => problem.startsWith(`${setting}: `))).toBe(true);
    }
  });

  it('treats an empty variable as not set', () => {
    expect(validateEnvironment({ PORT: '', DATABASE_URL: '', TOTP_ISSUER: '' })).toMatchObject({
      PORT: 3000,
      TOTP_ISSUER: 'twofa',
    });
  });

  it('refuses production without explicit keys', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toEqual([
      expect.stringMatching(/^TWOFA_ENCRYPTION_KEY: required when NODE_ENV=production/),
      expect.stringMatching(
        /^AUTH_JWT_SECRET: one of AUTH_JWT_SECRET, AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL is required/,
      ),
    ]);
    expect(
      problemsOf({
        NODE_ENV: 'production',
        TWOFA_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
        AUTH_JWT_SECRET: 'x'.repeat(32),
      }),
    ).toEqual([]);
  });

  it('refuses an issuer with a colon (it would break the otpauth label)', () => {
    expect(problemsOf({ TOTP_ISSUER: 'ACME:Co' })).toEqual([expect.stringMatching(/^TOTP_ISSUER: /)]);
  });

  it('refuses an issuer over 128 bytes once percent-encoded (14 CJK characters), which leaves no room for accounts', () => {
    expect(problemsOf({ TOTP_ISSUER: '認'.repeat(14) })).toEqual([]);
    expect(problemsOf({ TOTP_ISSUER: '認'.repeat(15) })).toEqual([
      expect.stringMatching(/^TOTP_ISSUER: at most 128 bytes once percent-encoded/),
    ]);
  });

  it('takes TRUST_PROXY as Fastify does (a flag, a hop count or addresses) and refuses anything else', () => {
    expect(trustProxyOf(validateEnvironment({}).TRUST_PROXY)).toBe(false);
    expect(trustProxyOf('true')).toBe(true);
    const twoHops = trustProxyOf('2') as (address: string, hop: number) => boolean;
    expect([0, 1, 2, 3].map((hop) => twoHops('10.0.0.1', hop))).toEqual([true, true, false, false]);
    expect(trustProxyOf('10.0.0.0/8, 127.0.0.1')).toBe('10.0.0.0/8, 127.0.0.1');
    expect(problemsOf({ TRUST_PROXY: 'yes' })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
    expect(problemsOf({ TRUST_PROXY: '10.0.0.0/8; rm -rf' })).toEqual([expect.stringMatching(/^TRUST_PROXY: /)]);
  });

  it('takes AUTH_JWT_MAX_TTL_SECONDS as whole seconds from a minute to a year', () => {
    expect(validateEnvironment({ AUTH_JWT_MAX_TTL_SECONDS: '3600' }).AUTH_JWT_MAX_TTL_SECONDS).toBe(3600);
    for (const bad of ['59', '31536001', '1.5', 'day', '-1']) {
      const problems = problemsOf({ AUTH_JWT_MAX_TTL_SECONDS: bad });
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((problem) => problem.startsWith('AUTH_JWT_MAX_TTL_SECONDS: '))).toBe(true);
    }
  });

  it('bounds the request and shutdown timeouts', () => {
    expect(validateEnvironment({})).toMatchObject({ REQUEST_TIMEOUT_MS: 10000, SHUTDOWN_TIMEOUT_MS: 10000 });
    expect(problemsOf({ REQUEST_TIMEOUT_MS: '50', SHUTDOWN_TIMEOUT_MS: '-1' })).toEqual([
      expect.stringMatching(/^REQUEST_TIMEOUT_MS: /),
      expect.stringMatching(/^SHUTDOWN_TIMEOUT_MS: /),
    ]);
  });

  it('takes WEB_CONCURRENCY as a worker count from 1 to 64, unset meaning one per core', () => {
    expect(validateEnvironment({}).WEB_CONCURRENCY).toBeUndefined();
    expect(validateEnvironment({ WEB_CONCURRENCY: '4' }).WEB_CONCURRENCY).toBe(4);
    for (const bad of ['0', '65', '1.5', 'many']) {
      const problems = problemsOf({ WEB_CONCURRENCY: bad });
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((problem) => problem.startsWith('WEB_CONCURRENCY: '))).toBe(true);
    }
  });

  it('takes QR_RENDER_THREADS from 1 to 64, by default 2 or the core count if smaller', () => {
    expect(validateEnvironment({}).QR_RENDER_THREADS).toBe(Math.min(2, availableParallelism()));
    expect(validateEnvironment({ QR_RENDER_THREADS: '1' }).QR_RENDER_THREADS).toBe(1);
    for (const bad of ['0', '65', '1.5', 'two']) {
      const problems = problemsOf({ QR_RENDER_THREADS: bad });
      expect(problems.length).toBeGreaterThan(0);
      expect(problems.every((problem) => problem.startsWith('QR_RENDER_THREADS: '))).toBe(true);
    }
  });

  it('takes the webhook settings with safe defaults: https only, public destinations only, 10 attempts over days', () => {
    expect(validateEnvironment({})).toMatchObject({
      WEBHOOK_ALLOW_HTTP: 'false',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false',
      WEBHOOK_POLL_INTERVAL_MS: 1000,
      WEBHOOK_MAX_ATTEMPTS: 10,
      WEBHOOK_RETRY_BASE_MS: 5000,
      WEBHOOK_RETRY_MAX_MS: 86400000,
      WEBHOOK_TIMEOUT_MS: 5000,
    });
    expect(validateEnvironment({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_POLL_INTERVAL_MS: '50' })).toMatchObject({
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_POLL_INTERVAL_MS: 50,
    });
    const problems = problemsOf({
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'yes',
      WEBHOOK_MAX_ATTEMPTS: '0',
      WEBHOOK_TIMEOUT_MS: '60000',
      WEBHOOK_POLL_INTERVAL_MS: 'often',
    });
    expect(new Set(problems.map((problem) => problem.split(':')[0]))).toEqual(
      new Set([
        'WEBHOOK_ALLOW_PRIVATE_NETWORKS',
        'WEBHOOK_POLL_INTERVAL_MS',
        'WEBHOOK_MAX_ATTEMPTS',
        'WEBHOOK_TIMEOUT_MS',
      ]),
    );
    expect(problemsOf({ WEBHOOK_RETRY_BASE_MS: '60000', WEBHOOK_RETRY_MAX_MS: '1000' })).toEqual([
      'WEBHOOK_RETRY_MAX_MS: must not be less than WEBHOOK_RETRY_BASE_MS',
    ]);
  });

  it('bounds the hard lock at 1 to 100 consecutive failures (NIST SP 800-63B: at most 100)', () => {
    expect(validateEnvironment({ LOCKOUT_HARD_LIMIT: '100' }).LOCKOUT_HARD_LIMIT).toBe(100);
    expect(problemsOf({ LOCKOUT_HARD_LIMIT: '0' })).toEqual([expect.stringMatching(/^LOCKOUT_HARD_LIMIT: /)]);
    expect(problemsOf({ LOCKOUT_HARD_LIMIT: '101' })).toEqual([expect.stringMatching(/^LOCKOUT_HARD_LIMIT: /)]);
    expect(problemsOf({ LOCKOUT_HARD_LIMIT: '2.5' })).toEqual([expect.stringMatching(/^LOCKOUT_HARD_LIMIT: /)]);
  });

  it('bounds the expiry sweep: at least 100 ms apart, 1 to 10000 sessions a sweep', () => {
    expect(validateEnvironment({ SESSION_SWEEP_INTERVAL_MS: '100', SESSION_SWEEP_BATCH_SIZE: '10000' })).toMatchObject({
      SESSION_SWEEP_INTERVAL_MS: 100,
      SESSION_SWEEP_BATCH_SIZE: 10000,
    });
    expect(problemsOf({ SESSION_SWEEP_INTERVAL_MS: '99', SESSION_SWEEP_BATCH_SIZE: '0' })).toEqual([
      expect.stringMatching(/^SESSION_SWEEP_INTERVAL_MS: /),
      expect.stringMatching(/^SESSION_SWEEP_BATCH_SIZE: /),
    ]);
    expect(problemsOf({ SESSION_SWEEP_BATCH_SIZE: '10001' })).toEqual([
      expect.stringMatching(/^SESSION_SWEEP_BATCH_SIZE: /),
    ]);
  });

  it('refuses a longest lock shorter than the first one', () => {
    expect(validateEnvironment({ LOCKOUT_SECONDS: '60', LOCKOUT_MAX_SECONDS: '60' }).LOCKOUT_MAX_SECONDS).toBe(60);
    expect(problemsOf({ LOCKOUT_SECONDS: '900', LOCKOUT_MAX_SECONDS: '600' })).toEqual([
      'LOCKOUT_MAX_SECONDS: must be at least LOCKOUT_SECONDS',
    ]);
    expect(problemsOf({ LOCKOUT_MAX_SECONDS: '0' })).toEqual([expect.stringMatching(/^LOCKOUT_MAX_SECONDS: /)]);
    expect(problemsOf({ LOCKOUT_MAX_SECONDS: '2592001' })).toEqual([expect.stringMatching(/^LOCKOUT_MAX_SECONDS: /)]);
  });
});
