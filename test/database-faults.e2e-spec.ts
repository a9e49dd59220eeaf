import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { oathtoolTotp, wrongCode } from './helpers/oathtool';
import { freePort } from '../tools/shared/processes';
import { TOTP_SETTINGS } from './helpers/suite';
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

interface Sample {
  kind: 'enrol' | 'backupCodes' | 'login' | 'wrongLogin' | 'read' | 'ready';
  status: number;
  ms: number;
  body: {
    id?: string;
    result?: string;
    sessionId?: string;
    responseStatus?: { errorCode: string; message: string };
  } | null;
  /** The agent id an enrolment asked for. */
  agentId?: string;
}

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

/** Mixed traffic over both instances, a few requests in flight at a time, each one timed. */
class Traffic {
  readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private enrolments = 0;

  constructor(
    private readonly instances: RunningApp[],
    private readonly adminToken: string,
    private readonly loginToken: string,
    private readonly users: { id: string; agentId: string; secret: string }[],
  ) {}

  start(concurrency = 6): void {
    this.running = true;
    this.loops = Array.from({ length: concurrency }, (_, loop) => this.loop(loop));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Runs for a while and returns what was answered meanwhile. */
  async during(ms: number, concurrency?: number): Promise<Sample[]> {
    const from = this.samples.length;
    this.start(concurrency);
    await sleep(ms);
    await this.stop();
    return this.samples.slice(from);
  }

  private async loop(loop: number): Promise<void> {
    for (let i = loop; this.running; i++) {
      const base = this.instances[i % this.instances.length].url;
      const user = this.users[i % this.users.length];
      switch (i % 6) {
        case 0: {
          const agentId = `enrolled-${loop}-${this.enrolments++}`;
          await this.call('enrol', `${base}/globalapi/2faConfig`, this.adminToken, { agentid: agentId }, agentId);
          break;
        }
        case 1:
          await this.call('backupCodes', `${base}/globalapi/2faConfig/${user.id}/backupCodes`, this.adminToken);
          break;
        case 2:
          await this.call('login', `${base}/loginapi/2fa:verify`, this.loginToken, {
            agentid: user.agentId,
            code: oathtoolTotp(user.secret),
          });
          break;
        case 3:
          await this.call('wrongLogin', `${base}/loginapi/2fa:verify`, this.loginToken, {
            agentid: user.agentId,
            code: wrongCode(user.secret),
          });
          break;
        case 4:
          await this.call('read', `${base}/globalapi/2faConfig/${user.id}`, this.adminToken);
          break;
        default:
          await this.call('ready', `${base}/health/ready`);
      }
    }
  }

  private async call(kind: Sample['kind'], url: string, token?: string, body?: object, agentId?: string) {
    const started = Date.now();
    let status = 0;
    let parsed: Sample['body'] = null;
    try {
      const res = await fetch(url, {
        method: body || kind === 'backupCodes' ? 'POST' : 'GET',
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        // Far beyond every timeout of the service: reaching it means the service hung.
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      parsed = (await res.json()) as Sample['body'];
    } catch {
      // No answer at all (refused, reset or the 30 s client timeout): recorded as status 0.
    }
    this.samples.push({ kind, status, ms: Date.now() - started, body: parsed, agentId });
  }
}

/** Statuses by kind, e.g. {"login 200": 12, "enrol 503": 3}, for readable failures and the log. */
function tally(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[`${s.kind} ${s.status}`] = (counts[`${s.kind} ${s.status}`] ?? 0) + 1;
  return counts;
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
    const users = [];
    for (let n = 0; n < USERS; n++) {
      const res = await fetch(`${instances[0].url}/globalapi/2faConfig`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agentid: `user-${n}` }),
      });
      const config = (await res.json()) as { id: string; secretKey: string };
      users.push({ id: config.id, agentId: `user-${n}`, secret: config.secretKey });
    }
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
    const connection = await createConnection(db.databaseUrl);
    try {
      const rows = async <T>(sql: string): Promise<T[]> => (await connection.query(sql))[0] as T[];

      // Every config has its creation audit record, and every creation record its config.
      expect(
        await rows(`SELECT c.id FROM two_factor_config c
          LEFT JOIN audit_event a ON a.config_id = c.id AND a.event = 'config.created' WHERE a.id IS NULL`),
      ).toEqual([]);
      expect(
        await rows(`SELECT a.config_id FROM audit_event a
          LEFT JOIN two_factor_config c ON c.id = a.config_id WHERE a.event = 'config.created' AND c.id IS NULL`),
      ).toEqual([]);
      // An acknowledged enrolment was kept.
      const enrolled = new Set(
        (await rows<{ subject_id: string }>('SELECT subject_id FROM two_factor_config')).map((r) => r.subject_id),
      );
      const acknowledged = all.filter((s) => s.kind === 'enrol' && s.status === 200);
      expect(acknowledged.filter((s) => !enrolled.has(s.agentId!))).toEqual([]);

      // Backup codes come in whole sets of 10, written with the audit record of their regeneration.
      expect(
        await rows(`SELECT config_id, COUNT(*) AS n FROM backup_code GROUP BY config_id HAVING COUNT(*) <> 10`),
      ).toEqual([]);
      expect(
        await rows(`SELECT b.config_id FROM backup_code b WHERE NOT EXISTS (SELECT 1 FROM audit_event a
          WHERE a.config_id = b.config_id AND a.event = 'backup_codes.regenerated' AND a.created_at = b.created_at)`),
      ).toEqual([]);

      // One session per successful login, each with its verify.success record; every acknowledged session exists.
      const sessions = await rows<{ user_id: string; n: number }>(
        `SELECT user_id, COUNT(*) AS n FROM two_factor_session WHERE tenant = '${TENANT}' GROUP BY user_id`,
      );
      const successes = await rows<{ subject_id: string; n: number }>(
        `SELECT subject_id, COUNT(*) AS n FROM audit_event WHERE event = 'verify.success' GROUP BY subject_id`,
      );
      const asMap = (list: { key: string; n: number }[]) => Object.fromEntries(list.map((r) => [r.key, Number(r.n)]));
      expect(asMap(sessions.map((r) => ({ key: r.user_id, n: r.n })))).toEqual(
        asMap(successes.map((r) => ({ key: r.subject_id, n: r.n }))),
      );
      const stored = new Set(
        (await rows<{ public_id: string }>('SELECT public_id FROM two_factor_session')).map((r) => r.public_id),
      );
      const loggedIn = all.filter((s) => s.kind === 'login' && s.body?.result === 'success');
      expect(loggedIn.filter((s) => !stored.has(s.body!.sessionId!))).toEqual([]);
      figures.push(
        `${all.length} requests in all (${JSON.stringify(tally(all))}); ${acknowledged.length} acknowledged ` +
          `enrolments and ${loggedIn.length} logins all stored, no half-written row`,
      );
    } finally {
      await connection.end();
    }
  });
});
