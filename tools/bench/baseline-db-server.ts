/**
 * The fair limit of a login: a bare node:http server that runs the service's own login statements, in
 * the same transactions, on the service's database, and nothing else (no TOTP, no crypto, no framework).
 * SQLite through better-sqlite3 with the service's connection setup (pragmas, BEGIN IMMEDIATE), MySQL/
 * MariaDB through a mysql2 pool with the service's pool options, text protocol like TypeORM's driver.
 * The statement texts come from where the service keeps them (see `statements` below), so they cannot
 * drift apart. It logs in the users of its own tenant (BASELINE_TENANT), seeded by the bench.
 *
 *   POST /login-success {"agentid", "step"}: SELECT the config; BEGIN; the UPDATE that consumes the step;
 *     on success INSERT the verify.success audit event and the session; on a replay count the failure
 *     (and lock at the limit) and INSERT verify.replay; COMMIT.
 *   POST /login-wrong {"agentid"}: SELECT; BEGIN; count the failure (and lock at the limit); INSERT
 *     verify.fail (and lockout.engaged or lockout.hard); COMMIT.
 *
 *   PORT=4001 DATABASE_URL=sqlite:/tmp/x.sqlite BASELINE_TENANT=bench-x-baseline \
 *     node -r ts-node/register/transpile-only tools/bench/baseline-db-server.ts
 */
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { createPool, Pool, PoolConnection, ResultSetHeader } from 'mysql2/promise';
import { databaseConfigFrom, DatabaseConfig } from '../../src/config/app.config';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { validateEnvironment } from '../../src/config/environment';
import { AuditEntry, AuditEventName, auditInsert } from '../../src/two-factor/audit-log';
import { LOCK_EVENT_OF, LockoutPolicy } from '../../src/two-factor/lockout-policy';
import { failureStatements, LOGIN_STATEMENTS } from '../../src/two-factor/two-factor-config.repository';
import { INSERT_LOGIN_SESSION } from '../../src/two-factor/two-factor-session.service';

/** A statement as the service sends it: its text and positional values. */
interface Bound {
  text: string;
  values: unknown[];
}

/** The login statements of the service, bound for one request. */
const statements = {
  selectBySubject: (tenant: string, subjectId: string): Bound =>
    LOGIN_STATEMENTS.SELECT_BY_SUBJECT.bind({ tenant, kind: 'agent', subjectId }),
  consumeStep: (parameters: {
    id: string;
    step: number;
    now: number;
    secretVersion: number;
    hardLimit: number;
  }): Bound => LOGIN_STATEMENTS.CONSUME_STEP.bind(parameters),
  failure: (parameters: { id: string; now: number }, policy: LockoutPolicy) => failureStatements(parameters, policy),
  audit: (now: number, entries: AuditEntry[]): Bound => auditInsert(now, entries),
  session: (parameters: { tenant: string; userId: string; publicId: string; createdAt: number; expiresAt: number }) =>
    INSERT_LOGIN_SESSION.bind({ ...parameters, kind: 'agent' }),
};

/** The one connection a transaction runs on: each statement returns its rows, or the rows it changed. */
interface Connection {
  select: <Row>(statement: Bound) => Promise<Row[]>;
  change: (statement: Bound) => Promise<number>;
}

interface LoginDatabase {
  select: <Row>(statement: Bound) => Promise<Row[]>;
  /** BEGIN (IMMEDIATE on SQLite), `work`, COMMIT; ROLLBACK when it throws. */
  transaction<T>(work: (connection: Connection) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** better-sqlite3 on the service's file, set up by the service's own prepareDatabase; statements prepared once. */
function openSqlite(config: Extract<DatabaseConfig, { kind: 'sqlite' }>): LoginDatabase {
  const options = buildDataSourceOptions(config) as { prepareDatabase?: (db: Database.Database) => void };
  const db = new Database(config.file, { timeout: config.timeoutMs });
  db.pragma('journal_mode = WAL');
  options.prepareDatabase?.(db);
  const prepared = new Map<string, Database.Statement>();
  const statementOf = (text: string): Database.Statement => {
    let statement = prepared.get(text);
    if (!statement) {
      statement = db.prepare(text);
      prepared.set(text, statement);
    }
    return statement;
  };
  const connection: Connection = {
    select: <Row>(statement: Bound) => Promise.resolve(statementOf(statement.text).all(...statement.values) as Row[]),
    change: (statement: Bound) => Promise.resolve(statementOf(statement.text).run(...statement.values).changes),
  };
  return {
    select: connection.select,
    async transaction(work) {
      // The text TypeORM sends; the service's prepareDatabase makes it BEGIN IMMEDIATE.
      statementOf('BEGIN TRANSACTION').run();
      try {
        const result = await work(connection);
        statementOf('COMMIT').run();
        return result;
      } catch (error) {
        statementOf('ROLLBACK').run();
        throw error;
      }
    },
    close: () => Promise.resolve(void db.close()),
  };
}

/** A mysql2 pool with the service's pool settings; `query` (text protocol) as TypeORM's driver sends. */
function openMysql(config: Extract<DatabaseConfig, { kind: 'mysql' }>): LoginDatabase {
  const options = buildDataSourceOptions(config) as { extra?: Record<string, unknown> };
  const pool: Pool = createPool({
    uri: config.url,
    charset: 'utf8mb4',
    timezone: 'Z',
    connectTimeout: config.timeoutMs,
    connectionLimit: config.poolSize,
    // TypeORM's defaults for these.
    supportBigNumbers: true,
    bigNumberStrings: true,
    ...options.extra,
  });
  const on = (target: Pool | PoolConnection): Connection => ({
    select: async <Row>(statement: Bound) => (await target.query(statement.text, statement.values))[0] as Row[],
    change: async (statement: Bound) =>
      (await target.query<ResultSetHeader>(statement.text, statement.values))[0].affectedRows,
  });
  return {
    select: on(pool).select,
    async transaction(work) {
      const connection = await pool.getConnection();
      try {
        await connection.query('START TRANSACTION');
        try {
          const result = await work(on(connection));
          await connection.query('COMMIT');
          return result;
        } catch (error) {
          await connection.query('ROLLBACK');
          throw error;
        }
      } finally {
        connection.release();
      }
    },
    close: () => pool.end(),
  };
}

/** The columns of SELECT_BY_SUBJECT this server reads (it selects them as the entity's property names). */
interface ConfigRow {
  id: string;
  secretVersion: number;
}

function main(): void {
  // The service's own settings and defaults (DATABASE_*, LOCKOUT_*, SESSION_TTL_SECONDS).
  const settings = validateEnvironment(process.env);
  const config = databaseConfigFrom(settings);
  const database = config.kind === 'sqlite' ? openSqlite(config) : openMysql(config);
  const tenant = process.env.BASELINE_TENANT ?? 'bench-baseline';
  const policy = new LockoutPolicy({
    maxFailures: settings.LOCKOUT_MAX_FAILURES,
    lockSeconds: settings.LOCKOUT_SECONDS,
    maxLockSeconds: settings.LOCKOUT_MAX_SECONDS,
    hardLimit: settings.LOCKOUT_HARD_LIMIT,
  });
  const sessionTtlMs = settings.SESSION_TTL_SECONDS * 1000;
  const audit = (row: ConfigRow, subjectId: string, event: AuditEventName): AuditEntry => ({
    tenant,
    event,
    outcome: event === 'verify.success' ? 'success' : 'failure',
    actor: 'bench-admin',
    subjectKind: 'agent',
    subjectId,
    configId: row.id,
    requestId: randomUUID(),
  });

  /** The service's failure path: count, lock at the limits, audit; inside the caller's transaction. */
  const recordFailure = async (
    connection: Connection,
    row: ConfigRow,
    subjectId: string,
    event: AuditEventName,
    now: number,
  ): Promise<void> => {
    const entries = [audit(row, subjectId, event)];
    for (const { statement, outcome } of statements.failure({ id: row.id, now }, policy)) {
      if ((await connection.change(statement)) === 0) continue;
      const lockEvent = LOCK_EVENT_OF[outcome];
      if (lockEvent) entries.push(audit(row, subjectId, lockEvent));
      break;
    }
    await connection.change(statements.audit(now, entries));
  };

  const login = async (path: string, body: { agentid: string; step?: number }): Promise<string | null> => {
    const now = Date.now();
    const [row] = await database.select<ConfigRow>(statements.selectBySubject(tenant, body.agentid));
    if (!row) return null;
    if (path === '/login-wrong') {
      await database.transaction((connection) => recordFailure(connection, row, body.agentid, 'verify.fail', now));
      return '{"result":"fail"}';
    }
    return database.transaction(async (connection) => {
      const step = Number(body.step);
      const consumed =
        (await connection.change(
          statements.consumeStep({
            id: row.id,
            step,
            now,
            secretVersion: row.secretVersion,
            hardLimit: policy.settings.hardLimit,
          }),
        )) === 1;
      if (!consumed) {
        await recordFailure(connection, row, body.agentid, 'verify.replay', now);
        return '{"result":"fail"}';
      }
      await connection.change(statements.audit(now, [audit(row, body.agentid, 'verify.success')]));
      // 30 random characters like the service's public ids (a random key into the same unique index).
      const publicId = randomBytes(15).toString('hex');
      await connection.change(
        statements.session({ tenant, userId: body.agentid, publicId, createdAt: now, expiresAt: now + sessionTtlMs }),
      );
      return JSON.stringify({ result: 'success', method: 'totp', sessionId: publicId });
    });
  };

  const reply = (response: ServerResponse, status: number, body: string): void => {
    response.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method === 'GET') return reply(response, 200, '{"status":"ok"}');
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: { agentid: string; step?: number };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { agentid: string; step?: number };
      } catch {
        return reply(response, 400, '{"error":"bad request"}');
      }
      login(request.url ?? '', body).then(
        (answer) => (answer === null ? reply(response, 404, '{"error":"no such user"}') : reply(response, 200, answer)),
        (error: unknown) => {
          process.stderr.write(`${String(error)}\n`);
          reply(response, 500, '{"error":"internal"}');
        },
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(process.env.PORT ?? 4001), '127.0.0.1');

  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void database.close().finally(() => process.exit(0));
  });
}

main();
