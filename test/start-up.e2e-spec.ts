import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../src/database/data-source-options';
import { freePort, startChild } from '../tools/shared/processes';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, testDatabases } from './helpers/test-app';

/**
 * Issue 12, the first hour: what `npm start` and `npm run migration:run` print, from the real entry
 * points (src/main.ts, scripts/migrate.ts) in child processes. The log is JSON from its first line and
 * says where the service listens, on which database and with which keys; a database that cannot be
 * opened stops the start after one attempt, in one line naming DATABASE_URL and the driver's reason.
 */

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..');
/** Nest's default retries took 9 × 3 s; a start that gives up after one attempt exits long before. */
const ONE_ATTEMPT_MS = 10_000;

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
  exitedAt: number;
}

/** Runs a TypeScript entry point to its exit (the service is killed if it starts after all). */
async function runToExit(script: string, args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', script, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TS_NODE_SWC: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(killer);
  return { code, stdout, stderr, exitedAt: Date.now() };
}

interface CountingServer {
  port: number;
  /** When each connection came. */
  connectedAt: number[];
  close(): Promise<void>;
}

/** A loopback TCP server that notes when each connection came and hands it to `handle`. */
async function listenCounting(handle: (socket: Socket) => void): Promise<CountingServer> {
  const connectedAt: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connectedAt.push(Date.now());
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    handle(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    connectedAt,
    async close() {
      server.close();
      for (const socket of sockets) socket.destroy();
      await once(server, 'close');
    },
  };
}

function serviceEnv(
  dataDir: string,
  databaseUrl: string,
  settings: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    TWOFA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    ...settings,
  };
}

/** The one line a failed start prints: JSON on stderr, nothing on stdout, no stack trace. */
function theFailureLine(finished: Finished): { level: number; msg: string } {
  expect(finished.code).toBe(1);
  expect(finished.stdout).toBe('');
  const lines = finished.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(finished.stderr).not.toMatch(/\n\s+at /);
  const line = JSON.parse(lines[0]) as { level: number; msg: string };
  expect(line.level).toBe(60);
  return line;
}

describe('a start on a database that cannot be opened', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'twofa-start-'));
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const mysqlUrl = process.env.TEST_MYSQL_URL;
  const withMariadb = mysqlUrl ? it : it.skip;

  withMariadb(
    'stops after one attempt when MariaDB refuses the password, naming DATABASE_URL and the reason',
    async () => {
      const server = new URL(mysqlUrl!);
      // A proxy to the real server counts the attempts.
      const proxy = await listenCounting((client) => {
        const upstream = connect(Number(server.port || 3306), server.hostname);
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.destroy());
      });
      try {
        const url = `mysql://${server.username}:not-the-password@127.0.0.1:${proxy.port}${server.pathname}`;
        const finished = await runToExit('src/main.ts', [], serviceEnv(dataDir, url));
        const line = theFailureLine(finished);
        expect(line.msg).toBe(
          `twofa failed to start: DATABASE_URL (mysql://${server.username}:***@127.0.0.1:${proxy.port}${server.pathname}): ` +
            `cannot connect: Access denied for user '${server.username}'@'127.0.0.1' (using password: YES) (ER_ACCESS_DENIED_ERROR)`,
        );
        expect(finished.stderr).not.toContain('not-the-password');
        expect(proxy.connectedAt).toHaveLength(1);
        expect(finished.exitedAt - proxy.connectedAt[0]).toBeLessThan(ONE_ATTEMPT_MS);
      } finally {
        await proxy.close();
      }
    },
  );

  it('stops after DATABASE_TIMEOUT_MS when the host accepts the connection and never answers', async () => {
    const silent = await listenCounting(() => undefined);
    try {
      const url = `mysql://twofa:secret@127.0.0.1:${silent.port}/twofa`;
      const finished = await runToExit('src/main.ts', [], serviceEnv(dataDir, url, { DATABASE_TIMEOUT_MS: '1000' }));
      const line = theFailureLine(finished);
      expect(line.msg).toBe(
        `twofa failed to start: DATABASE_URL (mysql://twofa:***@127.0.0.1:${silent.port}/twofa): cannot connect: connect ETIMEDOUT`,
      );
      expect(silent.connectedAt).toHaveLength(1);
      const afterFirstContact = finished.exitedAt - silent.connectedAt[0];
      expect(afterFirstContact).toBeGreaterThanOrEqual(1000);
      expect(afterFirstContact).toBeLessThan(ONE_ATTEMPT_MS);
    } finally {
      await silent.close();
    }
  });

  it('stops when nothing listens on the port, the password masked also where URL parsing refuses it', async () => {
    const port = await freePort();
    // The driver takes a # in a password as it is; `new URL` throws on it (and its error quotes the URL).
    const finished = await runToExit(
      'src/main.ts',
      [],
      serviceEnv(dataDir, `mysql://twofa:se#cret@127.0.0.1:${port}/twofa`),
    );
    expect(theFailureLine(finished).msg).toBe(
      `twofa failed to start: DATABASE_URL (mysql://twofa:***@127.0.0.1:${port}/twofa): cannot connect: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(finished.stderr).not.toContain('se#cret');
  });

  it('stops when the URL is of another kind, before connecting anywhere', async () => {
    const finished = await runToExit('src/main.ts', [], serviceEnv(dataDir, 'postgres://twofa:secret@127.0.0.1/twofa'));
    expect(theFailureLine(finished).msg).toBe(
      'twofa failed to start: invalid configuration: DATABASE_URL: DATABASE_URL must be sqlite:<file> or mysql://user:pass@host:3306/db',
    );
  });

  it('stops when the SQLite file cannot be created', async () => {
    const finished = await runToExit('src/main.ts', [], serviceEnv(dataDir, 'sqlite:/dev/null/twofa.sqlite'));
    expect(theFailureLine(finished).msg).toBe(
      "twofa failed to start: DATABASE_URL (sqlite:/dev/null/twofa.sqlite): cannot open the file: EEXIST: file already exists, mkdir '/dev/null'",
    );
  });
});

describe.each(testDatabases())('start-up log and migrations on $name', (database) => {
  let databaseUrl: string;
  let dataDir: string;

  beforeAll(async () => {
    databaseUrl = await database.create();
    dataDir = mkdtempSync(join(tmpdir(), 'twofa-start-'));
  });

  afterAll(async () => {
    if (databaseUrl) await database.drop(databaseUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('npm run migration:run names each migration it ran, then says there is nothing to run', async () => {
    const env = { DATA_DIR: dataDir, DATABASE_URL: databaseUrl };
    const first = await runToExit('scripts/migrate.ts', ['run'], env);
    expect(first.code).toBe(0);
    const names = MIGRATIONS.map((migration) => migration.name);
    expect(first.stdout.split('\n').filter((line) => line.startsWith('ran '))).toEqual(
      names.map((name) => `ran ${name}`),
    );
    expect(first.stdout).toContain(`done: ${names.length} ran, ${names.length} have run in all`);

    const second = await runToExit('scripts/migrate.ts', ['run'], env);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`nothing to run: all ${names.length} migrations had run`);

    const reverted = await runToExit('scripts/migrate.ts', ['revert'], env);
    expect(reverted.code).toBe(0);
    // Left reverted: the start below runs it again.
    expect(reverted.stdout).toMatch(new RegExp(`: reverted ${names[names.length - 1]}\n$`));
  });

  it('logs JSON from the first line, the migrations it ran, and where it listens, on what data, with which keys', async () => {
    const port = await freePort();
    // No keys configured: the development keys, as on a first `npm start`.
    const service = await startChild({
      name: 'the service',
      args: ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
      cwd: ROOT,
      port,
      readyPath: '/health/ready',
      timeoutMs: 240_000,
      env: {
        TS_NODE_SWC: 'true',
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
      },
    });
    try {
      const lines = service
        .output()
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines[0]).toMatchObject({ level: 30, context: 'NestFactory', msg: 'Starting Nest application...' });
      const names = MIGRATIONS.map((migration) => migration.name);
      expect(lines).toContainEqual(
        expect.objectContaining({ context: 'Database', msg: `Migrations: ran ${names[names.length - 1]}` }),
      );

      const url = `http://127.0.0.1:${port}`;
      const shown = new URL(databaseUrl);
      if (shown.password) shown.password = '***';
      const devKeys = join(dataDir, 'dev-keys.json');
      const listening = lines.find((line) => line.context === 'Start');
      expect(listening).toMatchObject({
        url,
        database: shown.toString(),
        devKeys,
        msg: `Listening on ${url} (Swagger UI ${url}/docs); database ${shown.toString()}; development keys in ${devKeys} (never for production)`,
      });
      if (shown.password) expect(service.output()).not.toContain(`:${new URL(databaseUrl).password}@`);
    } finally {
      await service.stop();
    }
  });
});
