/**
 * The soak's own database: a fresh MySQL/MariaDB database on a loopback server (created, then dropped),
 * or a temporary SQLite file. Also the read-only queries of the cross-check after the run.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions } from 'typeorm';

export interface SoakDatabase {
  /** What the service instances get as DATABASE_URL. */
  url: string;
  /** For the output: "mariadb twofa_test_soak_1a2b3c4d" or "sqlite /tmp/.../soak.sqlite". */
  description: string;
  /** Runs a SELECT with `?` placeholders (both drivers take them) on a connection of its own. */
  query<Row>(sql: string, params: unknown[]): Promise<Row[]>;
  drop(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]', '::1']);

function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** DATABASE_URL=mysql://... → `<its database>_soak_<random>` on the same server; refuses non-loopback hosts. */
export async function createMysqlDatabase(serverUrl: string): Promise<SoakDatabase> {
  const url = new URL(serverUrl.replace(/^mariadb:/, 'mysql:'));
  if (!isLoopback(url.hostname)) {
    throw new Error(`the soak runs on loopback only; DATABASE_URL names host ${url.hostname}`);
  }
  // The base name keeps the server's grants working: CI's user may create twofa_test_* databases.
  const base = url.pathname.slice(1) || 'twofa';
  const name = `${base}_soak_${randomBytes(4).toString('hex')}`;
  const admin = await createConnection(url.toString());
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  const soakUrl = url.toString();
  return {
    url: soakUrl,
    description: `mysql/mariadb ${name} on ${url.host}`,
    query: (sql, params) => queryOnce({ type: 'mysql', url: soakUrl }, sql, params),
    async drop() {
      const connection = await createConnection(serverUrl.replace(/^mariadb:/, 'mysql:'));
      try {
        await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await connection.end();
      }
    },
  };
}

/** One SQLite file in `dir` (the caller removes dir); both instances open it. */
export function sqliteDatabase(dir: string): SoakDatabase {
  const file = join(dir, 'soak.sqlite');
  return {
    url: `sqlite:${file}`,
    description: `sqlite ${file}`,
    query: (sql, params) => queryOnce({ type: 'better-sqlite3', database: file, readonly: true }, sql, params),
    drop: () => Promise.resolve(),
  };
}

/** TypeORM only as a driver-neutral query runner here: no entities, no migrations. */
async function queryOnce<Row>(options: DataSourceOptions, sql: string, params: unknown[]): Promise<Row[]> {
  const dataSource = await new DataSource(options).initialize();
  try {
    return await dataSource.query<Row[]>(sql, params);
  } finally {
    await dataSource.destroy();
  }
}
