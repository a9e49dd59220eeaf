import request from 'supertest';
import { expectEnvelope, expectStatus, fieldNames } from './helpers/http';
import { PARTNER } from './helpers/kinds';
import { oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { testDatabases } from './helpers/test-app';
import { mintToken } from './helpers/tokens';

/**
 * Backup codes are ASCII (issue 10, item 7): the normaliser used to upper-case with Unicode rules, so
 * `ſ` (long s) read as S and a real code typed with it logged in. Any non-ASCII character is a 400
 * naming the field (`code` at login, `callerCode` on reset), and the code it imitates stays unused.
 */

jest.setTimeout(60_000);

const TENANT = 'ascii-codes';
/** The long s upper-cases to S; a fullwidth letter or digit stays what it is but must be refused too. */
const longS = (code: string) => code.replace('S', 'ſ');
const fullwidthFirst = (code: string) => String.fromCharCode(code.charCodeAt(0) + 0xfee0) + code.slice(1);

describe.each(testDatabases())('non-ASCII backup codes on $name', (database) => {
  const running = withApp(database, { ...TOTP_SETTINGS, LOCKOUT_MAX_FAILURES: '5' });
  const http = () => request(running().url);
  const bearer = async (scope: string, extra: { sub?: string; kind?: 'partner' } = {}) =>
    `Bearer ${await mintToken({ tenant: TENANT, sub: extra.sub ?? `svc-${scope}`, scope, kind: extra.kind })}`;
  const login = async (userId: string, code: string) =>
    http()
      .post(PARTNER.loginPath)
      .set('Authorization', await bearer(PARTNER.loginScope))
      .send({ partneruserid: userId, code });
  const failuresAudited = async (userId: string) => {
    const res = await http()
      .get('/audit')
      .query({ subject: userId, event: 'verify.fail' })
      .set('Authorization', await bearer('audit:read'));
    return expectStatus(res, 200).body.total as number;
  };

  /** An active partner config with a set of backup codes of which at least one has an S in it. */
  async function activeUserWithAnS(userId: string): Promise<{ codes: string[]; withS: string }> {
    const admin = await bearer(PARTNER.adminScope);
    const created = expectStatus(
      await http().post(PARTNER.prefix).set('Authorization', admin).send({ partneruserid: userId }),
      200,
    );
    expect((await login(userId, oathtoolTotp(created.body.secretKey))).body).toMatchObject({ result: 'success' });
    // A set of 10 has no S about 4 % of the time: regenerate until one has.
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await http().post(`${PARTNER.prefix}/${created.body.id}/backupCodes`).set('Authorization', admin);
      const codes = expectStatus(res, 200).body.codes as string[];
      const withS = codes.find((code) => code.includes('S'));
      if (withS) return { codes, withS };
    }
    throw new Error('no backup code with an S in 20 sets');
  }

  it('answers 400 naming code for a real code spelt with ſ or a fullwidth character; the code stays unused', async () => {
    const userId = 'pu-long-s';
    const { codes, withS } = await activeUserWithAnS(userId);
    const another = codes.find((code) => code !== withS)!;
    for (const lookalike of [longS(withS), longS(withS).toLowerCase(), fullwidthFirst(another)]) {
      const res = await login(userId, lookalike);
      expectEnvelope(res, 400, 'ValidationError');
      expect({ lookalike, fields: fieldNames(res) }).toEqual({ lookalike, fields: ['code'] });
      expect(res.headers['cache-control']).toBe('no-store');
    }
    // Refused as malformed input, not as a wrong code: no failure was audited or counted.
    expect(await failuresAudited(userId)).toBe(0);
    expect((await login(userId, withS)).body).toEqual({
      result: 'success',
      method: 'backup',
      sessionId: expect.any(String),
    });
    expect((await login(userId, another)).body).toMatchObject({ result: 'success', method: 'backup' });
  });

  it('answers 400 naming callerCode for a reset whose callerCode is spelt with ſ; nothing is reset', async () => {
    const caller = 'pu-resetter';
    const { withS } = await activeUserWithAnS(caller);
    const target = 'pu-target';
    const admin = await bearer(PARTNER.adminScope);
    expectStatus(await http().post(PARTNER.prefix).set('Authorization', admin).send({ partneruserid: target }), 200);

    const reset = (callerCode: string) =>
      bearer('users:reset', { sub: caller, kind: 'partner' }).then((authorization) =>
        http()
          .put('/users/2fa/reset')
          .set('Authorization', authorization)
          .send({ targetUserId: target, callerCode, organisationId: TENANT }),
      );
    const refused = await reset(longS(withS));
    expectEnvelope(refused, 400, 'ValidationError');
    expect(fieldNames(refused)).toEqual(['callerCode']);
    const targetConfigs = await http().get(PARTNER.prefix).query({ partneruserid: target }).set('Authorization', admin);
    expect(expectStatus(targetConfigs, 200).body.total).toBe(1);
    // The code it imitated is still the caller's to spend.
    expectStatus(await reset(withS), 200);
  });
});
