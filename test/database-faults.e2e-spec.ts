import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../tools/shared/processes';
import { TOTP_SETTINGS } from './helpers/suite';
import { expectNothingLostOrHalfWritten, Sample, tally, Traffic } from './helpers/mixed-traffic';
import { mariadbDatabase, RunningApp, startApp } from './helpers/test-app';
import { sleep } from './helpers/time';
import { mintToken } from './helpers/tokens';

/**
 * Issue 5: the database goes away while requests flow. The service answers 503 ServiceUnavailable
 * within its configured timeouts (no 500, no hang, no crash), says so on /health/ready, recovers
 * in the same processes when the database is back, and leaves nothing half-written.
 *
 * It runs on a MariaDB of its own (scripts/ci/start-mariadb.sh on a free port), frozen with SIGSTOP
 * (a database that does not answer) and killed with SIGKILL (a crash), so the shared test server
 * is never touched. Needs mariadbd: runs where TEST_MYSQL_URL is set (CI).
 */

jest.setTimeout(180_000);

const REQUEST_TIMEOUT_MS = 3000;
const SETTINGS = {
  ...TOTP_SETTINGS,
  REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  DATABASE_TIMEOUT_MS: '1500',
  DATABASE_POOL_SIZE: '4',
  LOCKOUT_MAX_FAILURES: '100',
  LOCKOUT_HARD_LIMIT: '100',
  LOG_LEVEL: 'error',
};
/** A reply later than this is a hang: the request timeout plus generous room for a loaded CI machine. */
const HANG_MS = REQUEST_TIMEOUT_MS + 4000;
const TENANT = 'faults';
const ROOT = join(__dirname, '..');
const USERS = 6;

/** A private MariaDB instance, driven through the CI scripts. */
class PrivateMariaDb {
  /** A fresh database of the test user on this server, the one the apps use. */
  databaseUrl = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateMariaDb> {
    const db = new PrivateMariaDb(mkdtempSync('/tmp/twofa-faults-'), await freePort());
    db.run('start-mariadb.sh');
    db.databaseUrl = await mariadbDatabase(`mysql://twofa:twofa@127.0.0.1:${db.port}/twofa_test`).create();
    return db;
  }

  run(script: 'start-mariadb.sh' | 'stop-mariadb.sh'): void {
    execFileSync('bash', [join(ROOT, 'scripts/ci', script)], {
      env: { ...process.env, MARIADB_DIR: this.dir, MARIADB_PORT: String(this.port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void {
    process.kill(Number(readFileSync(join(this.dir, 'mysqld.pid'), 'utf8').trim()), signal);
  }

  remove(): void {
    try {
      this.signal('SIGCONT');
    } catch {
      // not running
    }
    this.run('stop-mariadb.sh');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** What every answer must be, whatever the database does: an expected status, in time, never a 500. */
function expectWellBehaved(samples: Sample[]): void {
  const expected: Record<Sample['kind'], number[]> = {
    enrol: [200, 503],
    backupCodes: [200, 503],
    login: [200, 503],
    wrongLogin: [200, 429, 503],
    read: [200, 503],
    ready: [200, 503],
  };
  const wrong = samples.filter((s) => !expected[s.kind].includes(s.status) || s.ms > HANG_MS);
  expect({ wrong: wrong.slice(0, 5), counts: tally(samples) }).toMatchObject({ wrong: [] });
  for (const s of samples.filter((sample) => sample.status === 503 && sample.kind !== 'ready')) {
    expect(s.body?.responseStatus?.errorCode).toBe('ServiceUnavailable');
  }
}

async function awaitReady(instances: RunningApp[], withinMs = 60_000): Promise<number> {
  const started = Date.now();
  for (const running of instances) {
    while ((await fetch(`${running.url}/health/ready`)).status !== 200) {
      if (Date.now() - started > withinMs) throw new Error(`not ready within ${withinMs} ms`);
      await sleep(200);
    }
  }
  return Date.now() - started;
}

const describeWithMariaDb = process.env.TEST_MYSQL_URL ? describe : describe.skip;

describeWithMariaDb('database faults on a MariaDB of its own', () => {
  let db: PrivateMariaDb;
  const instances: RunningApp[] = [];
  let traffic: Traffic;
  const figures: string[] = [];

  beforeAll(async () => {
    db = await PrivateMariaDb.start();
    instances.push(await startApp(db.databaseUrl, SETTINGS), await startApp(db.databaseUrl, SETTINGS));

    const adminToken = await mintToken({ tenant: TENANT, sub: 'admin', scope: 'agent:admin' });
    const loginToken = await mintToken({ tenant: TENANT, sub: 'login-service', scope: 'agent:login' });
    const users = await Traffic.enrolUsers(instances[0], adminToken, USERS);
    traffic = new Traffic(instances, adminToken, loginToken, users);
  });

  afterAll(async () => {
    console.log(`[database-faults] ${figures.join('; ')}`);
    await traffic?.stop();
    for (const running of instances) await running.close();
    db?.remove();
  });

  it('serves mixed traffic while the database is up', async () => {
    const samples = await traffic.during(1500);
    expectWellBehaved(samples);
    expect(samples.filter((s) => s.status === 503)).toEqual([]);
    expect(samples.filter((s) => s.kind === 'login' && s.body?.result === 'success').length).toBeGreaterThan(0);
    figures.push(`up: ${samples.length} requests, no 503`);
  });

  it('answers 503 within the request timeout while the database does not answer (SIGSTOP), then recovers', async () => {
    traffic.start();
    await sleep(300);
    db.signal('SIGSTOP');
    await sleep(REQUEST_TIMEOUT_MS * 2);
    const ready = await fetch(`${instances[1].url}/health/ready`);
    expect(ready.status).toBe(503);
    db.signal('SIGCONT');
    await traffic.stop();
    const samples = traffic.samples.slice(-200);
    expectWellBehaved(traffic.samples);
    expect(samples.filter((s) => s.status === 503).length).toBeGreaterThan(0);

    const recoveredInMs = await awaitReady(instances);
    const after = await traffic.during(1500);
    expectWellBehaved(after);
    expect(after.filter((s) => s.status === 503)).toEqual([]);
    figures.push(
      `frozen: ${samples.filter((s) => s.status === 503).length} of the last ${samples.length} answers 503, ` +
        `slowest ${Math.max(...samples.map((s) => s.ms))} ms, ready again after ${recoveredInMs} ms`,
    );
  });

  it('answers 503 when the database crashes (SIGKILL) mid-traffic, and the same processes recover on restart', async () => {
    const from = traffic.samples.length;
    traffic.start();
    await sleep(500);
    db.signal('SIGKILL');
    await sleep(2000);
    for (const running of instances) {
      const ready = await fetch(`${running.url}/health/ready`);
      expect(ready.status).toBe(503);
    }
    await traffic.stop();
    const down = traffic.samples.slice(from);
    expectWellBehaved(down);
    expect(down.filter((s) => s.status === 503).length).toBeGreaterThan(0);

    db.run('start-mariadb.sh');
    const recoveredInMs = await awaitReady(instances);
    const after = await traffic.during(2000);
    expectWellBehaved(after);
    expect(after.filter((s) => s.status === 503)).toEqual([]);
    expect(after.filter((s) => s.status === 200).length).toBeGreaterThan(0);
    figures.push(
      `crashed: ${down.filter((s) => s.status === 503).length} of ${down.length} answers 503, ` +
        `slowest ${Math.max(...down.map((s) => s.ms))} ms, ready after restart in ${recoveredInMs} ms`,
    );
  });

  it('left nothing half-written: each enrolment, backup-code set and login has all its rows or none', async () => {
    const all = traffic.samples;
    const kept = await expectNothingLostOrHalfWritten(db.databaseUrl, TENANT, all);
    figures.push(
      `${all.length} requests in all (${JSON.stringify(tally(all))}); ${kept.enrolments} acknowledged ` +
        `enrolments and ${kept.logins} logins all stored, no half-written row`,
    );
  });
});
