import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { OpenAPIObject } from '@nestjs/swagger';
import { buildOpenApiDocument } from '../../src/app.openapi';
import { createApp } from '../../src/app.setup';
import { databaseConfigFrom } from '../../src/config/app.config';
import { validateEnvironment } from '../../src/config/environment';
import { buildDataSourceOptions } from '../../src/database/data-source-options';
import { judgeAnswersBy } from './http';
import { OpenApiConformance } from './openapi-conformance';
import { TEST_JWT_SECRET } from './tokens';

/** Where the suites always imported it from; defined in tokens.ts. */
export { TEST_JWT_SECRET };

/** A database the e2e suites run on: SQLite always, MariaDB when TEST_MYSQL_URL is set. */
export interface TestDatabase {
  name: 'sqlite' | 'mariadb';
  /** Creates an empty database of this kind and returns its DATABASE_URL. */
  create(): Promise<string>;
  drop(url: string): Promise<void>;
}

const sqlite: TestDatabase = {
  name: 'sqlite',
  create: () => Promise.resolve(`sqlite:${join(mkdtempSync(join(tmpdir(), 'twofa-e2e-')), 'twofa.sqlite')}`),
  drop: (url) => Promise.resolve(rmSync(join(url.slice('sqlite:'.length), '..'), { recursive: true, force: true })),
};

/**
 * Databases made on the MySQL/MariaDB server of `baseUrl` (a user allowed to create them), with the
 * given character set (a server's default may be another).
 */
export function mariadbDatabase(baseUrl: string, characterSet = 'CHARACTER SET utf8mb4'): TestDatabase {
  return {
    name: 'mariadb',
    // Each suite gets a database of its own, so suites never see each other's rows.
    async create() {
      const url = new URL(baseUrl);
      const name = `${url.pathname.slice(1)}_${randomBytes(4).toString('hex')}`;
      const connection = await createConnection(baseUrl);
      await connection.query(`CREATE DATABASE \`${name}\` ${characterSet}`);
      await connection.end();
      url.pathname = `/${name}`;
      return url.toString();
    },
    async drop(dbUrl) {
      const connection = await createConnection(baseUrl);
      await connection.query(`DROP DATABASE IF EXISTS \`${new URL(dbUrl).pathname.slice(1)}\``);
      await connection.end();
    },
  };
}

export function testDatabases(): TestDatabase[] {
  const mysqlUrl = process.env.TEST_MYSQL_URL;
  return mysqlUrl ? [sqlite, mariadbDatabase(mysqlUrl)] : [sqlite];
}

export const TEST_ENCRYPTION_KEY = randomBytes(32).toString('base64');

export interface RunningApp {
  app: NestFastifyApplication;
  /** Base URL of the listening server, for supertest and raw HTTP. */
  url: string;
  databaseUrl: string;
  close(): Promise<void>;
}

/**
 * Starts the real app (the same createApp as main.ts) on a free loopback port with the given
 * database and settings. Settings go through process.env, exactly as in production.
 */
export async function startApp(databaseUrl: string, settings: Record<string, string> = {}): Promise<RunningApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofa-data-'));
  Object.assign(process.env, {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    TWOFA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...settings,
  });
  const app = await createApp();
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  judgeAnswersBy(url, new OpenApiConformance(buildOpenApiDocument(app)));
  return {
    app,
    url,
    databaseUrl,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Judges the answers of a service running as a process of its own by the document that service serves. */
export async function judgeAnswersOfProcess(url: string): Promise<void> {
  const document = (await (await fetch(`${url}/docs-json`)).json()) as OpenAPIObject;
  judgeAnswersBy(url, new OpenApiConformance(document));
}

/** A DataSource on the app's database, for tests that inspect the raw stored rows. */
export function rawDataSource(running: RunningApp): DataSource {
  return running.app.get(DataSource);
}

/**
 * Runs `work` on `databaseUrl` migrated by `migrations` only (the schema an earlier release left), e.g.
 * to write rows as that release wrote them before the app upgrades them.
 */
export async function withSchemaOf<T>(
  databaseUrl: string,
  migrations: DataSourceOptions['migrations'],
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource({
    ...buildDataSourceOptions(databaseConfigFrom(validateEnvironment({ DATABASE_URL: databaseUrl }))),
    migrations,
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations();
    return await work(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
