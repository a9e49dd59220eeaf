import { expectEnvelope, sendRaw } from './helpers/http';
import { PARTNER } from './helpers/kinds';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';
import { mintToken } from './helpers/tokens';

/**
 * JSON bodies are UTF-8 (issue 10, item 7): a body whose Content-Type declares another charset used to
 * be read as UTF-8 anyway; it is 415 now. `charset=utf-8` in any case, and no charset, are accepted.
 */

const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const verifyBody = JSON.stringify({ secret: SECRET, token: '123456' });

describe.each(testDatabases())('JSON body charsets on $name', (database) => {
  const running = withApp(database, TOTP_SETTINGS);
  const post = (path: string, type: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    sendRaw(running().url, { method: 'POST', path, headers: { 'content-type': type, ...headers }, body });

  it.each([
    ['utf-16 (the body in UTF-16)', 'application/json; charset=utf-16', Buffer.from(verifyBody, 'utf16le')],
    ['UTF-16LE, quoted', 'application/json; charset="UTF-16LE"', Buffer.from(verifyBody, 'utf16le')],
    ['iso-8859-1', 'application/json; charset=iso-8859-1', Buffer.from(verifyBody, 'latin1')],
    ['windows-1252', 'application/json;charset=windows-1252', Buffer.from(verifyBody, 'latin1')],
    ['us-ascii', 'application/json; charset=us-ascii', Buffer.from(verifyBody, 'ascii')],
  ])('refuses a body declared %s with 415', async (_name, type, body) => {
    const res = await post('/verify/token', type, body);
    expectEnvelope(res, 415, 'UnsupportedMediaType');
    expect(res.body.responseStatus.message).toMatch(/UTF-8/);
  });

  it.each([
    ['no charset', 'application/json'],
    ['charset=utf-8', 'application/json; charset=utf-8'],
    ['charset=UTF-8', 'application/json;charset=UTF-8'],
    ['charset="Utf-8", quoted', 'application/json; charset="Utf-8"'],
    ['charset=utf8', 'application/json; charset=utf8'],
  ])('accepts a body with %s', async (_name, type) => {
    const res = await post('/verify/token', type, verifyBody);
    expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200, body: { valid: false } });
  });

  it('refuses a login declared utf-16 with 415 before it looks at the code', async () => {
    const token = await mintToken({ tenant: 'charset', sub: 'svc', scope: PARTNER.loginScope });
    const body = Buffer.from(JSON.stringify({ partneruserid: 'pu-1', code: '123456' }), 'utf16le');
    const res = await post(PARTNER.loginPath, 'application/json; charset=utf-16le', body, {
      authorization: `Bearer ${token}`,
    });
    expectEnvelope(res, 415, 'UnsupportedMediaType');
  });
});
