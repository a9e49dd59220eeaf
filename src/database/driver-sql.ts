import type { Database, Statement } from 'better-sqlite3';
import type { Pool, PoolConnection, QueryError, ResultSetHeader } from 'mysql2';
import { EntityManager, QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';
import type { BoundSql } from './named-sql';

/** A fixed statement sent to the driver itself: its rows, or the rows it changed. */
export interface DriverSql {
  rows<Row>(statement: BoundSql): Promise<Row[]>;
  changes(statement: BoundSql): Promise<number>;
}

/**
 * The statements of NamedSql and the audit writer, sent to the driver on the connection of `manager`:
 * its transaction's connection, or for the data source's manager the one SQLite connection or the
 * MySQL pool. TypeORM's `query` adds per statement two subscriber broadcasts, a logger call, a
 * QueryResult and three awaits: a login's statements on SQLite took 219 µs through it and 157 µs
 * without (median of a micro-benchmark; docs/performance.md, round 3). Transactions stay TypeORM's
 * (TransactionRunner opens them), and a failure is TypeORM's QueryFailedError around the driver's
 * error as before, so it is classified (rerun, 503) the same.
 */
export function driverSqlOf(manager: EntityManager): DriverSql {
  const queryRunner = manager.queryRunner;
  if (queryRunner?.isReleased) throw new QueryRunnerAlreadyReleasedError();
  const driver = manager.connection.driver as unknown as { databaseConnection?: Database; pool?: Pool };
  const type = manager.connection.options.type;
  if (type === 'better-sqlite3') {
    // One connection for the whole process: the transaction's statements run on it as TypeORM's would.
    return sqliteSql(driver.databaseConnection as Database);
  }
  if (type !== 'mysql') throw new Error(`No driver-level statements for a ${type} data source`);
  const options = manager.connection.options as { enableQueryTimeout?: boolean; maxQueryExecutionTime?: number };
  const timeout = options.enableQueryTimeout ? options.maxQueryExecutionTime : undefined;
  const logSlow = (milliseconds: number, text: string): void => {
    if (timeout !== undefined && milliseconds >= timeout) manager.connection.logger.logQuerySlow(milliseconds, text);
  };
  // A query runner connects on its first statement (TypeORM's connect() answers the open connection after that).
  const target = queryRunner
    ? () => queryRunner.connect() as Promise<PoolConnection>
    : () => {
        // Closed at shutdown; mysql2's own words, so it is answered as an unreachable database (503).
        if (!driver.pool) throw new Error('Pool is closed.');
        return driver.pool;
      };
  return mysqlSql(target, timeout, logSlow);
}

const preparedByDatabase = new WeakMap<Database, Map<string, Statement>>();

/** better-sqlite3 prepares each text once per connection; the login path's texts are fixed (NamedSql). */
function prepared(db: Database, text: string): Statement {
  let statements = preparedByDatabase.get(db);
  if (statements === undefined) {
    statements = new Map();
    preparedByDatabase.set(db, statements);
  }
  let statement = statements.get(text);
  if (statement === undefined) {
    statement = db.prepare(text);
    statements.set(text, statement);
  }
  return statement;
}

function sqliteSql(db: Database): DriverSql {
  const run = <T>(statement: BoundSql, execute: (prepared: Statement, values: unknown[]) => T): Promise<T> => {
    // better-sqlite3 cannot bind booleans; TypeORM's driver sends them as 0/1 too.
    const values = statement.values.map((value) => (typeof value === 'boolean' ? Number(value) : value));
    try {
      return Promise.resolve(execute(prepared(db, statement.text), values));
    } catch (error) {
      return Promise.reject(new QueryFailedError(statement.text, values, error as Error));
    }
  };
  return {
    rows: <Row>(statement: BoundSql) => run(statement, (prepared, values) => prepared.all(...values) as Row[]),
    changes: (statement: BoundSql) => run(statement, (prepared, values) => prepared.run(...values).changes),
  };
}

function mysqlSql(
  connection: () => Pool | PoolConnection | Promise<PoolConnection>,
  timeout: number | undefined,
  logSlow: (milliseconds: number, text: string) => void,
): DriverSql {
  // The text protocol, with the statement timeout TypeORM's driver sets (data-source-options.ts).
  const query = async <T>(statement: BoundSql): Promise<T> => {
    const target = await connection();
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
      target.query({ sql: statement.text, values: statement.values, timeout }, (error: QueryError | null, result) => {
        // As TypeORM's driver does: a statement that ran into the timeout leaves a warning naming its kind.
        logSlow(Date.now() - startedAt, statement.text);
        if (error) reject(new QueryFailedError(statement.text, statement.values, error));
        else resolve(result as T);
      });
    });
  };
  return {
    rows: <Row>(statement: BoundSql) => query<Row[]>(statement),
    changes: async (statement: BoundSql) => (await query<ResultSetHeader>(statement)).affectedRows,
  };
}
