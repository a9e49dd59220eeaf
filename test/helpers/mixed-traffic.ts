import { createConnection } from 'mysql2/promise';
import { oathtoolTotp, wrongCode } from './oathtool';
import { RunningApp } from './test-app';
import { sleep } from './time';

export interface Sample {
  kind: 'enrol' | 'backupCodes' | 'login' | 'wrongLogin' | 'read' | 'ready';
  /** Index of the instance asked. */
  instance: number;
  status: number;
  /** When the request was sent (epoch ms), and how long its answer took. */
  at: number;
  ms: number;
  body: {
    id?: string;
    result?: string;
    sessionId?: string;
    responseStatus?: { errorCode: string; message: string };
  } | null;
  /** The agent id an enrolment or login asked for. */
  agentId?: string;
  /** The code a login sent. */
  code?: string;
}

export interface TrafficUser {
  id: string;
  agentId: string;
  secret: string;
}

/**
 * Mixed traffic over several instances, a few requests in flight at a time, each one timed: enrolments,
 * backup-code regenerations, logins with right and wrong codes, config reads and /health/ready.
 */
export class Traffic {
  readonly samples: Sample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private enrolments = 0;

  constructor(
    private readonly instances: RunningApp[],
    private readonly adminToken: string,
    private readonly loginToken: string,
    private readonly users: TrafficUser[],
  ) {}

  /** Agent users enrolled through instance 0, for the traffic's logins. */
  static async enrolUsers(instance: RunningApp, adminToken: string, count: number): Promise<TrafficUser[]> {
    const users = [];
    for (let n = 0; n < count; n++) {
      const res = await fetch(`${instance.url}/globalapi/2faConfig`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ agentid: `user-${n}` }),
      });
      const config = (await res.json()) as { id: string; secretKey: string };
      users.push({ id: config.id, agentId: `user-${n}`, secret: config.secretKey });
    }
    return users;
  }

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
      // Each kind of request goes to every instance in turn (i % n alone would tie kinds to instances).
      const instance = (i + Math.floor(i / 6)) % this.instances.length;
      const base = this.instances[instance].url;
      const user = this.users[i % this.users.length];
      switch (i % 6) {
        case 0: {
          const agentId = `enrolled-${loop}-${this.enrolments++}`;
          await this.call(
            'enrol',
            instance,
            `${base}/globalapi/2faConfig`,
            this.adminToken,
            { agentid: agentId },
            agentId,
          );
          break;
        }
        case 1:
          await this.call(
            'backupCodes',
            instance,
            `${base}/globalapi/2faConfig/${user.id}/backupCodes`,
            this.adminToken,
          );
          break;
        case 2:
        case 3: {
          const kind = i % 6 === 2 ? 'login' : 'wrongLogin';
          const code = kind === 'login' ? oathtoolTotp(user.secret) : wrongCode(user.secret);
          const url = `${base}/loginapi/2fa:verify`;
          await this.call(kind, instance, url, this.loginToken, { agentid: user.agentId, code }, user.agentId, code);
          break;
        }
        case 4:
          await this.call('read', instance, `${base}/globalapi/2faConfig/${user.id}`, this.adminToken);
          break;
        default:
          await this.call('ready', instance, `${base}/health/ready`);
      }
    }
  }

  private async call(
    kind: Sample['kind'],
    instance: number,
    url: string,
    token?: string,
    body?: object,
    agentId?: string,
    code?: string,
  ): Promise<void> {
    const at = Date.now();
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
    this.samples.push({ kind, instance, status, at, ms: Date.now() - at, body: parsed, agentId, code });
  }
}

/** Statuses by kind, e.g. {"login 200": 12, "enrol 503": 3}, for readable failures and the log. */
export function tally(samples: Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[`${s.kind} ${s.status}`] = (counts[`${s.kind} ${s.status}`] ?? 0) + 1;
  return counts;
}

/**
 * Checks in the database that the traffic left nothing half-written and lost nothing acknowledged:
 * every config has its creation audit record and the other way round, every acknowledged enrolment and
 * session is stored, backup codes come in whole sets written with their audit record, there is one
 * session per `verify.success`, and no code succeeded twice.
 */
export async function expectNothingLostOrHalfWritten(
  databaseUrl: string,
  tenant: string,
  samples: Sample[],
): Promise<{ enrolments: number; logins: number }> {
  const connection = await createConnection(databaseUrl);
  try {
    const rows = async <T>(sql: string): Promise<T[]> => (await connection.query(sql))[0] as T[];

    expect(
      await rows(`SELECT c.id FROM two_factor_config c
        LEFT JOIN audit_event a ON a.config_id = c.id AND a.event = 'config.created' WHERE a.id IS NULL`),
    ).toEqual([]);
    expect(
      await rows(`SELECT a.config_id FROM audit_event a
        LEFT JOIN two_factor_config c ON c.id = a.config_id WHERE a.event = 'config.created' AND c.id IS NULL`),
    ).toEqual([]);
    const enrolled = new Set(
      (await rows<{ subject_id: string }>('SELECT subject_id FROM two_factor_config')).map((r) => r.subject_id),
    );
    const acknowledged = samples.filter((s) => s.kind === 'enrol' && s.status === 200);
    expect(acknowledged.filter((s) => !enrolled.has(s.agentId!))).toEqual([]);

    expect(
      await rows(`SELECT config_id, COUNT(*) AS n FROM backup_code GROUP BY config_id HAVING COUNT(*) <> 10`),
    ).toEqual([]);
    expect(
      await rows(`SELECT b.config_id FROM backup_code b WHERE NOT EXISTS (SELECT 1 FROM audit_event a
        WHERE a.config_id = b.config_id AND a.event = 'backup_codes.regenerated' AND a.created_at = b.created_at)`),
    ).toEqual([]);

    const sessions = await rows<{ user_id: string; n: number }>(
      `SELECT user_id, COUNT(*) AS n FROM two_factor_session WHERE tenant = '${tenant}' GROUP BY user_id`,
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
    const loggedIn = samples.filter((s) => s.kind === 'login' && s.body?.result === 'success');
    expect(loggedIn.filter((s) => !stored.has(s.body!.sessionId!))).toEqual([]);
    // No code succeeded twice.
    const accepted = loggedIn.map((s) => `${s.agentId} ${s.code}`);
    expect(accepted.filter((pair, index) => accepted.indexOf(pair) !== index)).toEqual([]);
    return { enrolments: acknowledged.length, logins: loggedIn.length };
  } finally {
    await connection.end();
  }
}
