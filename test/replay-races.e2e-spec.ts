import request from 'supertest';
import { judgedFetch } from './helpers/http';
import { Kind, KINDS } from './helpers/kinds';
import { awaitFreshStep, oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS } from './helpers/suite';
import { rawDataSource, RunningApp, startApp, testDatabases } from './helpers/test-app';
import { mintToken } from './helpers/tokens';

/**
 * docs/api.md "Verification at login": of N simultaneous requests with the same valid code exactly one
 * succeeds, also with two instances of the service on one database (the two-session test of
 * CVE-2024-5658).
 */

// testTimeout in jest.config.js is a global option, ignored inside `projects`.
jest.setTimeout(60_000);

const N = 20;
const USERS = 5;
const TENANT = 'race';
/** High enough that the refused replays of one round never lock the user for the next round. */
const SETTINGS = {
  ...TOTP_SETTINGS,
  TOTP_ISSUER: 'twofa',
  LOCKOUT_MAX_FAILURES: '100',
  LOCKOUT_HARD_LIMIT: '100',
  LOCKOUT_SECONDS: '900',
};

interface Outcome {
  instance: number;
  status: number;
  body: { result?: string; method?: string; sessionId?: string; responseStatus?: { errorCode: string } };
}

describe.each(testDatabases())('replay races on $name', (database) => {
  let databaseUrl: string;
  const instances: RunningApp[] = [];
  const figures = { sent: 0, successes: 0, refused: 0, tooMany: 0, rounds: 0 };

  beforeAll(async () => {
    databaseUrl = await database.create();
    // Two instances of the service on one database (both read the same process.env settings).
    instances.push(await startApp(databaseUrl, SETTINGS));
    instances.push(await startApp(databaseUrl, SETTINGS));
  });

  afterAll(async () => {
    console.log(
      `[replay-races] ${database.name}: ${instances.length} instances on one database, ${figures.rounds} races of ${N} ` +
        `simultaneous requests, ${figures.sent} requests sent, ${figures.successes} successes ` +
        `(${figures.refused} fail, ${figures.tooMany} 429)`,
    );
    for (const running of instances) await running.close();
    if (databaseUrl) await database.drop(databaseUrl);
  });

  /** Fires N identical login requests at once, alternating between the instances. */
  async function race(spec: Kind, userId: string, code: string): Promise<Outcome[]> {
    const token = await mintToken({ tenant: TENANT, sub: 'login-service', scope: spec.loginScope });
    const body = JSON.stringify({ [spec.idField]: userId, code });
    const outcomes = await Promise.all(
      Array.from({ length: N }, async (_, i): Promise<Outcome> => {
        const instance = i % instances.length;
        const res = await judgedFetch(`${instances[instance].url}${spec.loginPath}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        });
        return { instance, status: res.status, body: (await res.json()) as Outcome['body'] };
      }),
    );
    const successes = outcomes.filter((outcome) => outcome.status === 200 && outcome.body.result === 'success');
    figures.rounds++;
    figures.sent += outcomes.length;
    figures.successes += successes.length;
    figures.refused += outcomes.filter((outcome) => outcome.status === 200 && outcome.body.result === 'fail').length;
    figures.tooMany += outcomes.filter((outcome) => outcome.status === 429).length;

    // Every other answer is a plain refusal: a fail, or 429 (refused replays count as failures). No 5xx.
    for (const outcome of outcomes) {
      if (outcome.status === 200) {
        expect(['success', 'fail']).toContain(outcome.body.result);
        if (outcome.body.result === 'fail') expect(outcome.body).toEqual({ result: 'fail' });
      } else {
        expect({ status: outcome.status, body: outcome.body }).toMatchObject({
          status: 429,
          body: { responseStatus: { errorCode: 'TooManyAttempts' } },
        });
      }
    }
    return outcomes;
  }

  const adminOf = (spec: Kind) => async () =>
    `Bearer ${await mintToken({ tenant: TENANT, sub: 'admin', scope: spec.adminScope })}`;

  async function enrol(spec: Kind, userId: string) {
    const res = await request(instances[0].url)
      .post(spec.prefix)
      .set('Authorization', await adminOf(spec)())
      .send({ [spec.idField]: userId })
      .expect(200);
    return { id: res.body.id as string, secret: res.body.secretKey as string };
  }

  async function sessionsOf(userId: string): Promise<number> {
    const rows = await rawDataSource(instances[0]).query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM two_factor_session WHERE tenant = ? AND user_id = ?',
      [TENANT, userId],
    );
    return Number(rows[0].n);
  }

  it('serves both instances from the one database', async () => {
    expect(instances).toHaveLength(2);
    const spec = KINDS[0];
    const { id } = await enrol(spec, 'visible-on-both');
    const seen = await request(instances[1].url)
      .get(`${spec.prefix}/${id}`)
      .set('Authorization', await adminOf(spec)())
      .expect(200);
    expect(seen.body).toMatchObject({ id, partneruserid: 'visible-on-both' });
  });

  describe.each(KINDS)('$kind', (spec) => {
    it(`of ${N} simultaneous logins with one TOTP code exactly one succeeds, for each of ${USERS} users`, async () => {
      for (let u = 0; u < USERS; u++) {
        const userId = `race-${spec.kind}-${u}`;
        const { id, secret } = await enrol(spec, userId);
        await awaitFreshStep();
        const at = Math.floor(Date.now() / 1000);

        // The first code of a pending config (its activation), then the next step's code on the active one.
        for (const [round, code] of [oathtoolTotp(secret, { at }), oathtoolTotp(secret, { at: at + 30 })].entries()) {
          const outcomes = await race(spec, userId, code);
          const successes = outcomes.filter((outcome) => outcome.body.result === 'success');
          expect({ user: userId, round, successes: successes.length }).toEqual({ user: userId, round, successes: 1 });
          expect(successes[0].body).toMatchObject({ method: 'totp', sessionId: expect.any(String) });
        }
        // Exactly the two accepted logins left a session behind; the config is active.
        expect(await sessionsOf(userId)).toBe(2);
        const view = await request(instances[1].url)
          .get(`${spec.prefix}/${id}`)
          .set('Authorization', await adminOf(spec)())
          .expect(200);
        expect(view.body.status).toBe('active');
      }
    });

    it(`of ${N} simultaneous logins with one backup code exactly one succeeds`, async () => {
      const userId = `race-backup-${spec.kind}`;
      const { id, secret } = await enrol(spec, userId);
      await awaitFreshStep();
      const activated = await race(spec, userId, oathtoolTotp(secret));
      expect(activated.filter((outcome) => outcome.body.result === 'success')).toHaveLength(1);
      const codes = (
        await request(instances[1].url)
          .post(`${spec.prefix}/${id}/backupCodes`)
          .set('Authorization', await adminOf(spec)())
          .expect(200)
      ).body.codes as string[];

      for (const code of codes.slice(0, 2)) {
        const outcomes = await race(spec, userId, code);
        const successes = outcomes.filter((outcome) => outcome.body.result === 'success');
        expect(successes).toHaveLength(1);
        expect(successes[0].body).toMatchObject({ method: 'backup' });
      }
      const view = await request(instances[0].url)
        .get(`${spec.prefix}/${id}`)
        .set('Authorization', await adminOf(spec)())
        .expect(200);
      expect(view.body.backupCodesRemaining).toBe(8);
      expect(await sessionsOf(userId)).toBe(3);
    });

    it(`${N} simultaneous backup-code regenerations of one config all succeed and leave one whole set`, async () => {
      const userId = `race-regenerate-${spec.kind}`;
      const { id, secret } = await enrol(spec, userId);
      await awaitFreshStep();
      expect((await race(spec, userId, oathtoolTotp(secret))).some((o) => o.body.result === 'success')).toBe(true);
      const authorization = await adminOf(spec)();
      // On InnoDB these deadlocked (500s) until a regeneration took the config row's lock first.
      const answers = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          judgedFetch(`${instances[i % instances.length].url}${spec.prefix}/${id}/backupCodes`, {
            method: 'POST',
            headers: { authorization },
          }).then(async (res) => ({ status: res.status, body: (await res.json()) as { codes?: string[] } })),
        ),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(N).fill(200));
      const view = await request(instances[0].url).get(`${spec.prefix}/${id}`).set('Authorization', authorization);
      expect(view.body.backupCodesRemaining).toBe(10);
      // The set that remains is one of the sets handed out: its codes log in, the others' do not.
      const loginToken = await mintToken({ tenant: TENANT, sub: 'login-service', scope: spec.loginScope });
      const results: string[] = [];
      for (const answer of answers) {
        const login = await request(instances[1].url)
          .post(spec.loginPath)
          .set('Authorization', `Bearer ${loginToken}`)
          .send({ [spec.idField]: userId, code: answer.body.codes![0] });
        results.push(login.body.result as string);
      }
      expect(results.filter((result) => result === 'success').length).toBe(1);
    });
  });
});
