import request from 'supertest';
import { expectEnvelope, expectStatus, fieldNames } from './helpers/http';
import { KINDS, PARTNER } from './helpers/kinds';
import { decodeQrDataUrl } from './helpers/qr';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { rawDataSource, testDatabases } from './helpers/test-app';
import { mintToken } from './helpers/tokens';

/**
 * The otpauth URI is at most 512 bytes once percent-encoded (issue 10, item 7): a 128-character account
 * and a 64-character issuer of CJK characters made a QR image cost 58 ms of CPU on a public route. Every
 * route that builds a URI answers 400 naming `account` or `issuer` past that, and stores nothing.
 */

jest.setTimeout(60_000);

const TENANT = 'otpauth';
const ISSUER = 'Limits E2E';
/** A CJK character is 3 bytes of UTF-8, 9 once percent-encoded. */
const cjk = (characters: number) => '認'.repeat(characters);
/** 128 characters, the longest account the DTOs take: 1152 bytes in the URI. */
const TOO_LONG = cjk(128);
/** 40 characters (360 bytes): the URI stays under 512 bytes with any algorithm's secret. */
const LONGEST_FITTING = cjk(40);

describe.each(testDatabases())('otpauth URI length on $name', (database) => {
  const running = withApp(database, { ...TOTP_SETTINGS, TOTP_ISSUER: ISSUER });
  const http = () => request(running().url);
  const bearer = async (scope: string, claims: { sub?: string; kind?: 'partner' } = {}) =>
    `Bearer ${await mintToken({ tenant: TENANT, sub: claims.sub ?? `svc-${scope}`, scope, kind: claims.kind })}`;

  describe('POST /2fa/secretkey', () => {
    it.each([
      ['account', 'an account of 128 CJK characters', { account: TOO_LONG }],
      ['issuer', 'an issuer of 64 CJK characters', { issuer: cjk(64) }],
      ['issuer', 'both that long (the issuer leaves no room)', { issuer: cjk(64), account: TOO_LONG }],
      ['account', 'an issuer of 20 and an account of 30 CJK characters', { issuer: cjk(20), account: cjk(30) }],
    ])('answers 400 naming %s for %s', async (field, _case, body) => {
      const res = await http().post('/2fa/secretkey').send(body);
      expectEnvelope(res, 400, 'ValidationError');
      expect(fieldNames(res)).toEqual([field]);
      expect(res.body.responseStatus.message).toMatch(/longer than 512 bytes/);
    });

    it('makes a URI of at most 512 bytes and its QR image for the longest account that fits', async () => {
      const res = expectStatus(await http().post('/2fa/secretkey').send({ account: LONGEST_FITTING }), 200);
      expect(res.body.otpauthUrl.length).toBeLessThanOrEqual(512);
      expect(decodeURIComponent(new URL(res.body.otpauthUrl).pathname)).toBe(`/${ISSUER}:${LONGEST_FITTING}`);
      expect(decodeQrDataUrl(res.body.qrcodeUrl)).toBe(res.body.otpauthUrl);
    });
  });

  describe.each(KINDS)('$prefix', (spec) => {
    const list = async (userId: string) =>
      expectStatus(
        await http()
          .get(spec.prefix)
          .query({ [spec.idField]: userId })
          .set('Authorization', await bearer(spec.adminScope)),
        200,
      ).body.total as number;

    it('answers 400 naming account for a 128-character CJK account, or a user id that long without one; nothing is stored', async () => {
      const admin = await bearer(spec.adminScope);
      for (const body of [
        { [spec.idField]: `${spec.kind}-long-account`, account: TOO_LONG },
        { [spec.idField]: cjk(60) },
      ]) {
        const res = await http().post(spec.prefix).set('Authorization', admin).send(body);
        expectEnvelope(res, 400, 'ValidationError');
        expect(fieldNames(res)).toEqual(['account']);
        expect(await list(String(body[spec.idField]))).toBe(0);
      }
      const fits = await http()
        .post(spec.prefix)
        .set('Authorization', admin)
        .send({ [spec.idField]: cjk(60), account: LONGEST_FITTING });
      expect(decodeQrDataUrl(expectStatus(fits, 200).body.qrcodeUrl)).toBe(fits.body.otpauthUrl);
    });

    it('refuses to rotate the secret of an older config whose account is too long, before anything is written', async () => {
      const admin = await bearer(spec.adminScope);
      const userId = `${spec.kind}-older-row`;
      const created = expectStatus(
        await http()
          .post(spec.prefix)
          .set('Authorization', admin)
          .send({ [spec.idField]: userId }),
        200,
      );
      // A row from before the limit: its account was accepted then.
      const dataSource = rawDataSource(running());
      await dataSource.query('UPDATE two_factor_config SET account = ? WHERE id = ?', [TOO_LONG, created.body.id]);
      const rowOf = async () =>
        (
          await dataSource.query<{ secret_ciphertext: string; updated_at: unknown }[]>(
            'SELECT secret_ciphertext, updated_at FROM two_factor_config WHERE id = ?',
            [created.body.id],
          )
        )[0];
      const before = await rowOf();

      const res = await http()
        .put(`${spec.prefix}/${created.body.id}`)
        .set('Authorization', admin)
        .send({ rotateSecret: true });
      expectEnvelope(res, 400, 'ValidationError');
      expect(fieldNames(res)).toEqual(['account']);
      expect(await rowOf()).toEqual(before);
    });
  });

  it('PUT /users/2fa/generate-key answers 400 naming account for a caller whose user id makes the URI too long', async () => {
    const caller = '鍵'.repeat(60);
    const res = await http()
      .put('/users/2fa/generate-key')
      .set('Authorization', await bearer('user', { sub: caller, kind: 'partner' }))
      .send({ organisationId: TENANT });
    expectEnvelope(res, 400, 'ValidationError');
    expect(fieldNames(res)).toEqual(['account']);
    const stored = await http()
      .get(PARTNER.prefix)
      .query({ partneruserid: caller })
      .set('Authorization', await bearer(PARTNER.adminScope));
    expect(expectStatus(stored, 200).body.total).toBe(0);
  });
});
