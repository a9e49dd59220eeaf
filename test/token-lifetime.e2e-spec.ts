import request from 'supertest';
import { expectEnvelope, expectStatus } from './helpers/http';
import { AGENT } from './helpers/kinds';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';
import { nowSeconds } from './helpers/time';
import { mintToken } from './helpers/tokens';

/**
 * AUTH_JWT_MAX_TTL_SECONDS (issue 10, item 7): a token whose exp lies further ahead than that is 401,
 * however well it is signed; the verifier remembers verified tokens, so it is asked twice.
 */

const YEAR_3000 = 32503680000;
const claims = { tenant: 'ttl', sub: 'admin', scope: AGENT.adminScope };

describe.each(testDatabases())('token lifetime on $name', (database) => {
  describe('with the default maximum of a day', () => {
    // Empty is unset: the other app's setting stays in process.env (startApp) and must not leak here.
    const running = withApp(database, { ...TOTP_SETTINGS, AUTH_JWT_MAX_TTL_SECONDS: '' });
    const list = (token: string) => request(running().url).get(AGENT.prefix).set('Authorization', `Bearer ${token}`);

    it('refuses a token with exp in the year 3000, every time', async () => {
      const token = await mintToken({ ...claims, expiresIn: YEAR_3000 });
      for (let attempt = 0; attempt < 2; attempt++) {
        const res = await list(token);
        expectEnvelope(res, 401, 'Unauthorized');
        expect(res.body.responseStatus.message).toMatch(/AUTH_JWT_MAX_TTL_SECONDS/);
      }
    });

    it('accepts a token that expires within a day, and refuses one a minute beyond', async () => {
      expectStatus(await list(await mintToken({ ...claims, expiresIn: nowSeconds() + 86400 - 60 })), 200);
      expectEnvelope(
        await list(await mintToken({ ...claims, expiresIn: nowSeconds() + 86400 + 60 })),
        401,
        'Unauthorized',
      );
    });
  });

  describe('with AUTH_JWT_MAX_TTL_SECONDS=600', () => {
    const running = withApp(database, { ...TOTP_SETTINGS, AUTH_JWT_MAX_TTL_SECONDS: '600' });
    const list = (token: string) => request(running().url).get(AGENT.prefix).set('Authorization', `Bearer ${token}`);

    it('refuses an hour-long token and accepts a five-minute one', async () => {
      expectEnvelope(await list(await mintToken({ ...claims, expiresIn: '1h' })), 401, 'Unauthorized');
      expectStatus(await list(await mintToken({ ...claims, expiresIn: '5m' })), 200);
    });
  });
});
