import { SignJWT } from 'jose';
import { JwtVerifier } from './jwt-verifier';

const SECRET = 'a-test-secret-of-at-least-32-characters!';

const MAX_TTL_SECONDS = 3600;

function verifier(): JwtVerifier {
  return new JwtVerifier({
    key: { kind: 'secret', secret: SECRET },
    issuer: undefined,
    audience: undefined,
    maxTtlSeconds: MAX_TTL_SECONDS,
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function sign(claims: Record<string, unknown>, exp: number, secret = SECRET): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('caller')
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(secret));
}

describe('JwtVerifier, verified tokens remembered', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a token it verified before with the same principal', async () => {
    const jwt = verifier();
    const token = await sign({ tenant: 'acme', scope: 'agent:login' }, Math.floor(Date.now() / 1000) + 600);
    const first = await jwt.verify(`Bearer ${token}`);
    expect(await jwt.verify(`Bearer ${token}`)).toBe(first);
    expect(first).toMatchObject({ sub: 'caller', tenant: 'acme' });
  });

  it('refuses a remembered token once its exp has passed', async () => {
    const jwt = verifier();
    const now = Date.now();
    const token = await sign({ tenant: 'acme' }, Math.floor(now / 1000) + 5);
    await jwt.verify(`Bearer ${token}`);
    // Only the clock moves (Date for this cache and for jose); promises and crypto callbacks run as usual.
    jest.useFakeTimers({ now: now + 6_000, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'setTimeout'] });
    await expect(jwt.verify(`Bearer ${token}`)).rejects.toMatchObject({ message: 'The token has expired' });
  });

  it('remembers only tokens that verified: a bad signature stays refused', async () => {
    const jwt = verifier();
    const forged = await sign(
      { tenant: 'acme' },
      Math.floor(Date.now() / 1000) + 600,
      'another-secret-of-32-characters-or-more',
    );
    await expect(jwt.verify(`Bearer ${forged}`)).rejects.toMatchObject({ message: 'The token is not valid' });
    await expect(jwt.verify(`Bearer ${forged}`)).rejects.toMatchObject({ message: 'The token is not valid' });
  });
});

describe('JwtVerifier, AUTH_JWT_MAX_TTL_SECONDS', () => {
  it('refuses a token whose exp lies further ahead than the maximum, every time (it is never remembered)', async () => {
    const jwt = verifier();
    for (const exp of [nowSeconds() + MAX_TTL_SECONDS + 5, 32503680000 /* the year 3000 */]) {
      const token = await sign({ tenant: 'acme' }, exp);
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(jwt.verify(`Bearer ${token}`)).rejects.toMatchObject({
          message: 'The token expires too far ahead (more than AUTH_JWT_MAX_TTL_SECONDS)',
        });
      }
    }
  });

  it('accepts a token that expires within the maximum', async () => {
    const token = await sign({ tenant: 'acme' }, nowSeconds() + MAX_TTL_SECONDS - 5);
    await expect(verifier().verify(`Bearer ${token}`)).resolves.toMatchObject({ tenant: 'acme' });
  });
});
