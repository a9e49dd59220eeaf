import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import { Child, freePort, startServiceFromSource } from '../tools/shared/processes';
import { decodeQrDataUrl } from './helpers/qr';
import { TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, testDatabases } from './helpers/test-app';
import { sleep } from './helpers/time';

/**
 * Issue 5: on SIGTERM the service stops accepting connections, lets in-flight requests finish (their
 * database work included), closes the database pool and exits 0; a request that never finishes does
 * not hold the process past SHUTDOWN_TIMEOUT_MS. The real entry point (src/main.ts) in a child process.
 */

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..');
const VERIFY = {
  path: '/2fa/code:verify',
  body: JSON.stringify({ secretKey: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', code: '123456' }),
};
/** Makes a secret and its QR image, which a worker thread renders. */
const SECRET_KEY = { path: '/2fa/secretkey', body: JSON.stringify({ account: 'shutdown' }) };

/** The real entry point, built from source by ts-node, on a free port; its data directory goes when it exits. */
async function startService(databaseUrl: string, settings: Record<string, string>): Promise<Child> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'twofa-shutdown-'));
  const service = await startServiceFromSource({
    cwd: ROOT,
    port,
    timeoutMs: 90_000,
    env: {
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      TWOFA_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      ...settings,
    },
  }).catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  void service.exited.then(() => rmSync(dataDir, { recursive: true, force: true }));
  return service;
}

/** A request whose body arrives in two parts: it is in flight until the second part is sent. */
async function startSlowRequest(
  port: number,
  { path, body }: { path: string; body: string } = VERIFY,
): Promise<{ socket: Socket; finish: () => Promise<string> }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let response = '';
  socket.on('data', (chunk: Buffer) => (response += chunk.toString()));
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
  );
  // Until the server has parsed the headers, the connection counts as idle and closing drops it.
  await sleep(500);
  return {
    socket,
    async finish() {
      socket.write(body.slice(10));
      await once(socket, 'close');
      return response;
    },
  };
}

async function refusesConnections(port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return false;
  } catch {
    return true;
  } finally {
    socket.destroy();
  }
}

describe.each(testDatabases())('graceful shutdown on $name', (database) => {
  let databaseUrl: string;

  beforeAll(async () => {
    databaseUrl = await database.create();
  });

  afterAll(async () => {
    if (databaseUrl) await database.drop(databaseUrl);
  });

  /** MariaDB counts connections dropped without a goodbye (COM_QUIT) in Aborted_clients. */
  async function abortedClients(): Promise<number | null> {
    if (database.name !== 'mariadb') return null;
    const connection = await createConnection(databaseUrl);
    const [rows] = await connection.query("SHOW GLOBAL STATUS LIKE 'Aborted_clients'");
    await connection.end();
    return Number((rows as { Value: string }[])[0].Value);
  }

  it('finishes the in-flight requests, refuses new connections, closes the pools and exits 0 on SIGTERM', async () => {
    const service = await startService(databaseUrl, { SHUTDOWN_TIMEOUT_MS: '20000' });
    const abortedBefore = await abortedClients();
    const inFlight = await startSlowRequest(service.port);
    const enrolment = await startSlowRequest(service.port, SECRET_KEY);

    service.process.kill('SIGTERM');
    await sleep(1000);
    expect(await refusesConnections(service.port)).toBe(true);
    expect(service.process.exitCode).toBeNull();

    // The rest of the body: the request is answered as usual (its rate-limit count uses the database).
    const response = await inFlight.finish();
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain('{"result":"fail"}');
    // The QR rendering threads are stopped only after the HTTP server: the enrolment gets its image.
    const enrolled = await enrolment.finish();
    expect(enrolled).toMatch(/^HTTP\/1\.1 200 /);
    const made = JSON.parse(enrolled.slice(enrolled.indexOf('\r\n\r\n') + 4)) as {
      otpauthUrl: string;
      qrcodeUrl: string;
    };
    expect(decodeQrDataUrl(made.qrcodeUrl)).toBe(made.otpauthUrl);
    expect(await service.exited).toBe(0);
    expect(service.output()).toContain('SIGTERM: finishing in-flight requests');
    // The pool said goodbye to the server instead of dropping its connections.
    expect(await abortedClients()).toBe(abortedBefore);
  });

  // The deadline does not depend on the database: once is enough.
  const onSqlite = database.name === 'sqlite' ? it : it.skip;

  onSqlite('exits 1 once SHUTDOWN_TIMEOUT_MS has passed when a request never finishes', async () => {
    const service = await startService(databaseUrl, { SHUTDOWN_TIMEOUT_MS: '1500', REQUEST_TIMEOUT_MS: '60000' });
    const inFlight = await startSlowRequest(service.port);
    const signalledAt = Date.now();
    service.process.kill('SIGTERM');
    expect(await service.exited).toBe(1);
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1400);
    expect(service.output()).toContain('did not finish within 1500 ms');
    inFlight.socket.destroy();
  });
});
