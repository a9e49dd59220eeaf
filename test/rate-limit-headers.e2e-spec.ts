import request from 'supertest';
import { expectStatus } from './helpers/http';
import { TOTP_SETTINGS } from './helpers/suite';
import { rawDataSource, RunningApp, startApp, testDatabases } from './helpers/test-app';
import { sleep } from './helpers/time';

/**
 * docs/api.md: public routes are limited per client address (PUBLIC_RATE_LIMIT a minute, 429 with
 * Retry-After); the count is kept in the database, so two instances share one budget. Every response
 * carries helmet's security headers.
 */

jest.setTimeout(60_000);

const LIMIT = 4;

/** The limiter counts in fixed one-minute windows: start a sequence well inside one. */
async function awaitRoomInWindow(neededMs = 8000): Promise<void> {
  const leftMs = 60_000 - (Date.now() % 60_000);
  if (leftMs < neededMs) await sleep(leftMs + 50);
}

describe.each(testDatabases())('public rate limit and security headers on $name', (database) => {
  let databaseUrl: string;
  const instances: RunningApp[] = [];

  beforeAll(async () => {
    databaseUrl = await database.create();
    // Two instances on one database; the second believes one proxy hop (X-Forwarded-For).
    const settings = { ...TOTP_SETTINGS, PUBLIC_RATE_LIMIT: String(LIMIT) };
    // (startApp settings stay in process.env: name TRUST_PROXY for both.)
    instances.push(await startApp(databaseUrl, { ...settings, TRUST_PROXY: 'false' }));
    instances.push(await startApp(databaseUrl, { ...settings, TRUST_PROXY: '1' }));
  });

  afterAll(async () => {
    for (const running of instances) await running.close();
    if (databaseUrl) await database.drop(databaseUrl);
  });

  const backupCode = (instance: number, forwardedFor?: string) => {
    const call = request(instances[instance].url).post('/2fa/codes');
    return forwardedFor ? call.set('X-Forwarded-For', forwardedFor) : call;
  };

  it('counts one address across both instances and answers 429 with Retry-After past the limit', async () => {
    await awaitRoomInWindow();
    const remaining: string[] = [];
    for (let i = 0; i < LIMIT; i++) {
      const res = expectStatus(await backupCode(i % 2), 200);
      expect(res.headers['x-ratelimit-limit']).toBe(String(LIMIT));
      remaining.push(res.headers['x-ratelimit-remaining']);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);

    for (const instance of [0, 1]) {
      const limited = expectStatus(await backupCode(instance), 429);
      expect(limited.body).toEqual({
        responseStatus: {
          errorCode: 'TooManyAttempts',
          message: 'Too many requests from this address; try again later',
          errors: [],
        },
      });
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers['x-request-id']).toBeTruthy();
    }
    // Other public routes share the address's budget.
    expectStatus(await request(instances[0].url).get('/generate/secret'), 429);
  });

  it('gives each forwarded client address its own budget only where TRUST_PROXY says so', async () => {
    await awaitRoomInWindow();
    // Spend this window's budget of the loopback address.
    for (let i = 0; i <= LIMIT && (await backupCode(0)).status !== 429; i++);
    // The first instance trusts no proxy: a forged X-Forwarded-For does not buy a new budget.
    expectStatus(await backupCode(0, '198.51.100.1'), 429);
    // The second believes one hop: each forwarded client counts on its own.
    for (let i = 0; i < LIMIT; i++) expectStatus(await backupCode(1, '203.0.113.7'), 200);
    expectStatus(await backupCode(1, '203.0.113.7'), 429);
    expectStatus(await backupCode(1, '203.0.113.8'), 200);
  });

  it('counts an IPv6 client by its /64, and an IPv4-mapped address as the IPv4 address it carries', async () => {
    await awaitRoomInWindow();
    // A host picks its addresses from the /64 its line was given: a new one must not buy a new budget.
    for (let i = 1; i <= LIMIT; i++) expectStatus(await backupCode(1, `2001:db8:7:1::${i}`), 200);
    expectStatus(await backupCode(1, '2001:db8:7:1:ffff:ffff:ffff:ffff'), 429);
    expectStatus(await backupCode(1, '2001:0DB8:0007:0001:0:0:0:abcd'), 429);
    expectStatus(await backupCode(1, '2001:db8:7:2::1'), 200);
    for (let i = 0; i < LIMIT; i++) expectStatus(await backupCode(1, '198.51.100.9'), 200);
    expectStatus(await backupCode(1, '::ffff:198.51.100.9'), 429);
  });

  it('ignores an X-Forwarded-For entry that is not an IP address: never a 500, never stored, counted against the hop that sent it', async () => {
    await awaitRoomInWindow();
    const hitsOf = async (address: string): Promise<number> => {
      const rows = await rawDataSource(instances[1]).query<{ bucket: string; hits: number }[]>(
        'SELECT bucket, hits FROM rate_limit_bucket',
      );
      return Number(rows.find((row) => row.bucket.startsWith(`public:${address}|`))?.hits ?? 0);
    };
    // With TRUST_PROXY the forwarded entry is believed; 200 characters used to be a 500 on MariaDB (too
    // long for the key column). None of these is an address: each counts against loopback, the sender.
    for (const forwardedFor of ['x'.repeat(200), "203.0.113.7' OR 1=1", '203.0.113.7:8080', 'unknown']) {
      const before = await hitsOf('127.0.0.1');
      const res = await backupCode(1, forwardedFor);
      expect({ forwardedFor, answered: [200, 429].includes(res.status) }).toEqual({ forwardedFor, answered: true });
      expect(await hitsOf('127.0.0.1')).toBe(before + 1);
    }
    const buckets = await rawDataSource(instances[1]).query<{ bucket: string }[]>(
      'SELECT bucket FROM rate_limit_bucket',
    );
    for (const { bucket } of buckets) expect(bucket).toMatch(/^public:[0-9a-f.:]+(\/64)?\|\d+$/);
  });

  it('does not limit the health checks or the authenticated routes', async () => {
    for (let i = 0; i < LIMIT + 2; i++) expectStatus(await request(instances[0].url).get('/health/ready'), 200);
    // Authenticated routes answer 401 without a token, never 429.
    expectStatus(await request(instances[0].url).post('/loginapi/2fa:verify').send({}), 401);
  });

  it('keeps one row per client and window, at most the current and the previous window', async () => {
    const rows = await rawDataSource(instances[0]).query<{ bucket: string; hits: number }[]>(
      'SELECT bucket, hits FROM rate_limit_bucket',
    );
    const windows = new Set(rows.map((row) => row.bucket.split('|')[1]));
    expect(windows.size).toBeLessThanOrEqual(2);
    expect(rows.every((row) => Number(row.hits) >= 1)).toBe(true);
  });

  it('sends the security headers on API routes, errors and Swagger UI', async () => {
    for (const res of [
      await request(instances[0].url).get('/health/live'),
      await request(instances[0].url).get('/no/such/route'),
      await request(instances[0].url).get('/docs'),
    ]) {
      expect(res.headers).toMatchObject({
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'SAMEORIGIN',
        'strict-transport-security': expect.stringContaining('max-age='),
        'referrer-policy': 'no-referrer',
        'content-security-policy': expect.stringContaining("default-src 'self'"),
      });
      expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    }
  });
});
