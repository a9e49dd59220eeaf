import request from 'supertest';
import { expectEnvelope, expectStatus } from './helpers/http';
import { Kind, KINDS } from './helpers/kinds';
import { awaitFreshStep, oathtoolTotp, wrongCode } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { RunningApp, testDatabases } from './helpers/test-app';
import { nowSeconds, sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';

/**
 * The patient attacker (issue 10): a lock every LOCKOUT_MAX_FAILURES consecutive failures, each twice as
 * long as the one before up to LOCKOUT_MAX_SECONDS, the count kept across locks, and a hard lock at
 * LOCKOUT_HARD_LIMIT that only an administrator's unlock ends. Short settings, real time: locks at 2
 * failures (2 s) and 4 (4 s capped at 3 s), a hard lock at 6.
 */
const SETTINGS = {
  ...TOTP_SETTINGS,
  LOCKOUT_MAX_FAILURES: '2',
  LOCKOUT_SECONDS: '2',
  LOCKOUT_MAX_SECONDS: '3',
  LOCKOUT_HARD_LIMIT: '6',
};
const TENANT = 'lockout';

jest.setTimeout(60_000);

function apiOf(running: () => RunningApp, kind: Kind) {
  const http = () => request(running().url);
  const bearer = async (scope: string) => `Bearer ${await mintToken({ tenant: TENANT, sub: 'svc', scope })}`;
  return {
    async enrolActive(userId: string) {
      const enrol = await http()
        .post(kind.prefix)
        .set('Authorization', await bearer(kind.adminScope))
        .send({ [kind.idField]: userId })
        .expect(200);
      const secret = enrol.body.secretKey as string;
      await awaitFreshStep();
      const first = await this.login(userId, oathtoolTotp(secret));
      expect(first.body).toMatchObject({ result: 'success' });
      const codes = await http()
        .post(`${kind.prefix}/${enrol.body.id}/backupCodes`)
        .set('Authorization', await bearer(kind.adminScope))
        .expect(200);
      return { id: enrol.body.id as string, secret, backupCodes: codes.body.codes as string[] };
    },
    async login(userId: string, code: string) {
      return http()
        .post(kind.loginPath)
        .set('Authorization', await bearer(kind.loginScope))
        .send({ [kind.idField]: userId, code });
    },
    async view(id: string) {
      const res = await http()
        .get(`${kind.prefix}/${id}`)
        .set('Authorization', await bearer(kind.adminScope))
        .expect(200);
      return res.body as { lockedUntil: string | null; hardLocked: boolean; consecutiveFailures: number };
    },
    async unlock(id: string) {
      const res = await http()
        .put(`${kind.prefix}/${id}`)
        .set('Authorization', await bearer(kind.adminScope))
        .send({ unlock: true })
        .expect(200);
      return res.body as { lockedUntil: string | null; hardLocked: boolean; consecutiveFailures: number };
    },
    async audit(userId: string, event: string) {
      const res = await http()
        .get('/audit')
        .query({ subject: userId, event })
        .set('Authorization', await bearer('audit:read'))
        .expect(200);
      return res.body.total as number;
    },
  };
}

describe.each(testDatabases())('escalating lock and hard lock on $name', (database) => {
  const running = withApp(database, SETTINGS);

  it.each(KINDS)(
    '$kind: a lock of 2 s, then one of 3 s (4 s capped), the count kept across them, then a hard lock until unlocked',
    async (kind) => {
      const api = apiOf(running, kind);
      const userId = `patient-${kind.kind}`;
      const config = await api.enrolActive(userId);
      const wrong = () => api.login(userId, wrongCode(config.secret));
      /** A right TOTP code is refused with 429 TooManyAttempts; returns its Retry-After. */
      const refusedRightCode = async () => {
        const res = await api.login(userId, oathtoolTotp(config.secret));
        expectEnvelope(res, 429, 'TooManyAttempts');
        return Number(res.headers['retry-after']);
      };

      for (const [failures, seconds] of [
        [2, 2],
        [4, 3],
      ]) {
        expect(expectStatus(await wrong(), 200).body).toEqual({ result: 'fail' });
        const before = Date.now();
        expect(expectStatus(await wrong(), 200).body).toEqual({ result: 'fail' });
        const after = Date.now();
        const view = await api.view(config.id);
        expect(view).toMatchObject({ consecutiveFailures: failures, hardLocked: false });
        const lockedUntil = Date.parse(view.lockedUntil!);
        expect(lockedUntil - before).toBeGreaterThanOrEqual(seconds * 1000);
        expect(lockedUntil - after).toBeLessThanOrEqual(seconds * 1000);
        const retryAfter = await refusedRightCode();
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(seconds);
        await sleep(lockedUntil - Date.now() + 100);
      }
      // The lock ended, the count did not: two more failures reach LOCKOUT_HARD_LIMIT.
      expect((await api.view(config.id)).consecutiveFailures).toBe(4);
      for (let i = 0; i < 2; i++) expect(expectStatus(await wrong(), 200).body).toEqual({ result: 'fail' });
      expect(await api.view(config.id)).toMatchObject({ consecutiveFailures: 6, hardLocked: true, lockedUntil: null });
      expect(await api.audit(userId, 'lockout.engaged')).toBe(2);
      expect(await api.audit(userId, 'lockout.hard')).toBe(1);

      // Longer than any lock: still refused (Retry-After: LOCKOUT_MAX_SECONDS), for TOTP, backup and wrong
      // codes alike, and nothing more is counted.
      await sleep(3100);
      expect(await refusedRightCode()).toBe(3);
      expectEnvelope(await api.login(userId, config.backupCodes[0]), 429, 'TooManyAttempts');
      expectEnvelope(await wrong(), 429, 'TooManyAttempts');
      expect((await api.view(config.id)).consecutiveFailures).toBe(6);

      expect(await api.unlock(config.id)).toMatchObject({
        hardLocked: false,
        consecutiveFailures: 0,
        lockedUntil: null,
      });
      expect((await api.login(userId, config.backupCodes[0])).body).toMatchObject({
        result: 'success',
        method: 'backup',
      });
      await awaitFreshStep();
      expect((await api.login(userId, oathtoolTotp(config.secret, { at: nowSeconds() + 30 }))).body).toMatchObject({
        result: 'success',
        method: 'totp',
      });
    },
  );
});
