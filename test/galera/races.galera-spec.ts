import { AGENT } from '../helpers/kinds';
import { awaitFreshStep, oathtoolTotp, wrongCode } from '../helpers/oathtool';
import { rawDataSource } from '../helpers/test-app';
import { mintToken } from '../helpers/tokens';
import {
  Answer,
  CLUSTER_SETTINGS,
  conflictCount,
  describeOnGalera,
  Instances,
  percentile,
  report,
  send,
  startInstances,
  statuses,
} from './cluster';

/**
 * Issue 11: three instances, each on its own node of a three-node Galera cluster (multi-primary,
 * deploy/multi-primary/). Simultaneous requests for one user on different nodes conflict at COMMIT
 * (certification) or abort each other (brute-force abort): every attempt must still be answered as a
 * single database would answer it, counted and audited once, never a 5xx.
 */

jest.setTimeout(300_000);

const TENANT = 'galera-races';
const RACES = 20;
const RACERS = 24;

/** Wrong-code bursts: 15 at once per user, 10 users. */
const WRONG_USERS = 10;
const WRONG_CODES = 15;

describeOnGalera('races over three Galera nodes', () => {
  let cluster: Instances;
  let admin: string;
  let login: string;
  const apps = () => cluster.apps;

  beforeAll(async () => {
    // Replays refused in a race count as failures; the race tests must not lock their users.
    cluster = await startInstances({ ...CLUSTER_SETTINGS, LOCKOUT_MAX_FAILURES: '100' });
    admin = await mintToken({ tenant: TENANT, sub: 'admin', scope: AGENT.adminScope });
    login = await mintToken({ tenant: TENANT, sub: 'login-service', scope: AGENT.loginScope });
  });

  afterAll(async () => {
    await cluster?.close();
  });

  async function enrol(instance: number, agentid: string): Promise<{ id: string; secret: string }> {
    const answer = await send(apps(), instance, 'POST', AGENT.prefix, admin, { agentid });
    expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 200 });
    return { id: answer.body.id, secret: answer.body.secretKey };
  }

  /** RACERS identical login requests at once, instance i % 3 (one per node in turn). */
  function race(agentid: string, code: string): Promise<Answer[]> {
    return Promise.all(
      Array.from({ length: RACERS }, (_, i) => send(apps(), i % 3, 'POST', AGENT.loginPath, login, { agentid, code })),
    );
  }

  /** Exactly one success, every other answer a plain `fail` or a 429; returns the number of successes. */
  function expectOneWinner(answers: Answer[]): number {
    const wrong = answers.filter(
      (a) => !(a.status === 200 && ['success', 'fail'].includes(a.body?.result)) && a.status !== 429,
    );
    expect({ wrong, statuses: statuses(answers) }).toMatchObject({ wrong: [] });
    const successes = answers.filter((a) => a.body?.result === 'success').length;
    expect(successes).toBe(1);
    return successes;
  }

  async function auditCount(agentid: string, events: string[]): Promise<number> {
    const [row] = await rawDataSource(apps()[0]).query(
      `SELECT COUNT(*) AS n FROM audit_event WHERE tenant = ? AND subject_id = ? AND event IN (?)`,
      [TENANT, agentid, events],
    );
    return Number(row.n);
  }

  it('20 races of 24 requests with one TOTP code over three nodes: exactly one success each, no 5xx', async () => {
    const users = [];
    for (let n = 0; n < RACES; n++) users.push({ agentid: `totp-${n}`, ...(await enrol(n % 3, `totp-${n}`)) });
    const conflictsBefore = await conflictCount();
    const all: Answer[] = [];
    const winners: number[] = [];
    for (const user of users) {
      await awaitFreshStep();
      const answers = await race(user.agentid, oathtoolTotp(user.secret));
      winners.push(expectOneWinner(answers));
      all.push(...answers);
      // One audit row per attempt: the winner's verify.success, each loser's verify.replay.
      expect(await auditCount(user.agentid, ['verify.success', 'verify.replay', 'verify.fail', 'verify.locked'])).toBe(
        RACERS,
      );
    }
    report('TOTP races', {
      races: RACES,
      requests: all.length,
      successesPerRace: winners,
      statuses: statuses(all),
      conflictsAbsorbed: (await conflictCount()) - conflictsBefore,
      p50ms: percentile(all, 50),
      p99ms: percentile(all, 99),
    });
  });

  it('20 races of 24 requests with one backup code over three nodes: exactly one success each, no 5xx', async () => {
    const users = [];
    for (let n = 0; n < RACES; n++) {
      const agentid = `backup-${n}`;
      const user = await enrol(n % 3, agentid);
      await awaitFreshStep();
      const activated = await send(apps(), n % 3, 'POST', AGENT.loginPath, login, {
        agentid,
        code: oathtoolTotp(user.secret),
      });
      expect(activated.body).toMatchObject({ result: 'success' });
      const codes = await send(apps(), (n + 1) % 3, 'POST', `${AGENT.prefix}/${user.id}/backupCodes`, admin);
      expect(codes.status).toBe(200);
      users.push({ agentid, code: codes.body.codes[0] as string });
    }
    const conflictsBefore = await conflictCount();
    const all: Answer[] = [];
    const winners: number[] = [];
    for (const user of users) {
      const answers = await race(user.agentid, user.code);
      winners.push(expectOneWinner(answers));
      all.push(...answers);
      expect(await auditCount(user.agentid, ['backup_code.used'])).toBe(1);
    }
    report('backup-code races', {
      races: RACES,
      requests: all.length,
      successesPerRace: winners,
      statuses: statuses(all),
      conflictsAbsorbed: (await conflictCount()) - conflictsBefore,
    });
  });

  it('15 wrong codes at once over three nodes, for each of 10 users: each answered and audited, the lock engaged', async () => {
    // Its own users, locked after 5 failures (the default): the race instances allow 100.
    const lockout = await startInstances({ ...CLUSTER_SETTINGS, LOCKOUT_MAX_FAILURES: '5' });
    try {
      const users = [];
      for (let n = 0; n < WRONG_USERS; n++) {
        const answer = await send(lockout.apps, n % 3, 'POST', AGENT.prefix, admin, { agentid: `wrong-${n}` });
        users.push({ agentid: `wrong-${n}`, secret: answer.body.secretKey as string });
      }
      const all: Answer[] = [];
      await awaitFreshStep();
      await Promise.all(
        users.map(async (user) => {
          const code = wrongCode(user.secret);
          const answers = await Promise.all(
            Array.from({ length: WRONG_CODES }, (_, i) =>
              send(lockout.apps, i % 3, 'POST', AGENT.loginPath, login, { agentid: user.agentid, code }),
            ),
          );
          all.push(...answers);
        }),
      );
      const wrong = all.filter((a) => !(a.status === 200 && a.body?.result === 'fail') && a.status !== 429);
      expect({ wrong, statuses: statuses(all) }).toMatchObject({ wrong: [] });

      const audited: Record<string, number> = {};
      for (const user of users) {
        const [row] = await rawDataSource(lockout.apps[0]).query(
          `SELECT SUM(event IN ('verify.fail', 'verify.locked')) AS attempts, SUM(event = 'lockout.engaged') AS locks
           FROM audit_event WHERE tenant = ? AND subject_id = ?`,
          [TENANT, user.agentid],
        );
        audited[user.agentid] = Number(row.attempts);
        expect({ user: user.agentid, attempts: Number(row.attempts) }).toEqual({
          user: user.agentid,
          attempts: WRONG_CODES,
        });
        expect(Number(row.locks)).toBeGreaterThanOrEqual(1);
        // Locked: the right code is refused too.
        const right = await send(lockout.apps, 2, 'POST', AGENT.loginPath, login, {
          agentid: user.agentid,
          code: oathtoolTotp(user.secret),
        });
        expect(right.status).toBe(429);
      }
      report('wrong codes', {
        users: WRONG_USERS,
        requests: all.length,
        statuses: statuses(all),
        fails: all.filter((a) => a.body?.result === 'fail').length,
        auditedAttempts: Object.values(audited).reduce((sum, n) => sum + n, 0),
      });
    } finally {
      await lockout.close();
    }
  });

  it('measures 24 concurrent logins on one node and across the three (README.md, "Scaling out")', async () => {
    // 24 users with backup codes: each round logs all of them in at once with their next code, so no
    // two requests of a round touch the same rows. Rounds alternate between the two placements.
    const users = [];
    for (let n = 0; n < RACERS; n++) {
      const agentid = `latency-${n}`;
      const user = await enrol(n % 3, agentid);
      await awaitFreshStep();
      await send(apps(), n % 3, 'POST', AGENT.loginPath, login, { agentid, code: oathtoolTotp(user.secret) });
      const codes = await send(apps(), n % 3, 'POST', `${AGENT.prefix}/${user.id}/backupCodes`, admin);
      users.push({ agentid, codes: codes.body.codes as string[] });
    }
    const oneNode: Answer[] = [];
    const acrossNodes: Answer[] = [];
    for (let round = 0; round < 10; round++) {
      const across = round % 2 === 1;
      const answers = await Promise.all(
        users.map((user, i) =>
          send(apps(), across ? i % 3 : 0, 'POST', AGENT.loginPath, login, {
            agentid: user.agentid,
            code: user.codes[round],
          }),
        ),
      );
      expect(answers.filter((a) => a.body?.result !== 'success')).toEqual([]);
      (across ? acrossNodes : oneNode).push(...answers);
    }
    report('latency of 24 concurrent backup-code logins (ms)', {
      requests: oneNode.length + acrossNodes.length,
      oneNode: { p50: percentile(oneNode, 50), p95: percentile(oneNode, 95), max: percentile(oneNode, 100) },
      acrossNodes: {
        p50: percentile(acrossNodes, 50),
        p95: percentile(acrossNodes, 95),
        max: percentile(acrossNodes, 100),
      },
    });
  });

  it('80 enrolments on one node, each verified at once on another: 80 successes', async () => {
    // Every connection of the instances reads causally (wsrep_sync_wait at least 1).
    const [row] = await rawDataSource(apps()[1]).query('SELECT @@session.wsrep_sync_wait AS syncWait');
    expect(Number(row.syncWait) & 1).toBe(1);
    const answers: Answer[] = [];
    const enrolments: Answer[] = [];
    const enrolAndVerify = async (n: number) => {
      const agentid = `elsewhere-${n}`;
      const enrolled = await send(apps(), n % 3, 'POST', AGENT.prefix, admin, { agentid });
      enrolments.push(enrolled);
      const secret = enrolled.body?.secretKey as string;
      answers.push(
        await send(apps(), (n + 1) % 3, 'POST', AGENT.loginPath, login, { agentid, code: oathtoolTotp(secret) }),
      );
    };
    await awaitFreshStep();
    for (let n = 0; n < 80; n += 8) {
      if (n % 40 === 0) await awaitFreshStep();
      await Promise.all(Array.from({ length: 8 }, (_, i) => enrolAndVerify(n + i)));
    }
    const successes = answers.filter((a) => a.status === 200 && a.body?.result === 'success').length;
    report('enrol then verify on another node', {
      pairs: 80,
      successes,
      statuses: statuses(answers),
      enrolP50ms: percentile(enrolments, 50),
      verifyP50ms: percentile(answers, 50),
    });
    expect(successes).toBe(80);
  });
});
