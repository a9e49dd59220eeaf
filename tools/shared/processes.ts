/** Child processes of the bench, the soak and the e2e tests (the service, baseline servers), on loopback only. */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const HOST = '127.0.0.1';
/** USER_HZ: 100 on Linux (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * The settings of the service under the bench's or the soak's load: production mode, quiet logs, and
 * no per-address rate limit (all of the load comes from one loopback address; it would be 429s).
 */
export function serviceUnderLoadEnv(service: {
  port: number;
  jwtSecret: string;
  encryptionKey: string;
  dataDir: string;
  databaseUrl: string;
  lockoutMaxFailures: number;
  /** LOCKOUT_HARD_LIMIT; the service's default (20) when absent. */
  lockoutHardLimit?: number;
}): Record<string, string> {
  return {
    PORT: String(service.port),
    HOST,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    AUTH_JWT_SECRET: service.jwtSecret,
    TWOFA_ENCRYPTION_KEY: service.encryptionKey,
    DATA_DIR: service.dataDir,
    DATABASE_URL: service.databaseUrl,
    LOCKOUT_MAX_FAILURES: String(service.lockoutMaxFailures),
    ...(service.lockoutHardLimit !== undefined ? { LOCKOUT_HARD_LIMIT: String(service.lockoutHardLimit) } : {}),
    PUBLIC_RATE_LIMIT: '0',
  };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** `npm run build` when dist/main.js is missing or older than any file under src/. */
export function buildIfStale(root: string): void {
  const main = join(root, 'dist', 'main.js');
  const stale = !existsSync(main) || statSync(main).mtimeMs < newestMtime(join(root, 'src'));
  if (!stale) return;
  process.stderr.write('dist/main.js is missing or older than src/: npm run build\n');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

export interface Child {
  name: string;
  process: ChildProcess;
  port: number;
  url: string;
  /** Its exit code (null when a signal ended it), once it has exited. */
  exited: Promise<number | null>;
  /** The last OUTPUT_KEPT characters of its stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after 15 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Of each child's output, the tail kept in memory (for error messages and the tests' checks). */
const OUTPUT_KEPT = 64 * 1024;

const children = new Set<Child>();

/** Every child still running; the bench and the soak stop them on exit and on SIGINT. */
export function runningChildren(): Child[] {
  return [...children];
}

/**
 * Spawns `node ...args` with env (plus PATH and HOME, nothing else of this process's environment),
 * keeps the tail of its output (and writes all of it to `logFile` when given), and resolves once GET
 * `readyPath` answers 200. Rejects (with the output's tail) when the child exits first or does not get
 * ready in time.
 */
export async function startChild(options: {
  name: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  readyPath: string;
  logFile?: string;
  cwd: string;
  timeoutMs?: number;
}): Promise<Child> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const log = options.logFile ? createWriteStream(options.logFile) : undefined;
  if (log) {
    // Two sources, one file: neither may end it (stdout closing first made stderr's last words a
    // "write after end" crash when a child failed at start); the exit ends it.
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
  }
  let exitedWith: string | undefined;
  // 'close', not 'exit': by then its output has been read to the end.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code, signal) => {
      exitedWith = `exited with ${signal ?? code}`;
      children.delete(entry);
      log?.end();
      resolve(code);
    }),
  );
  const entry: Child = {
    name: options.name,
    process: child,
    port: options.port,
    url: `http://${HOST}:${options.port}`,
    exited,
    output: () => output,
    async stop() {
      if (exitedWith !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(entry);

  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitedWith !== undefined) {
      throw new Error(`${options.name} ${exitedWith} before it was ready:\n${output.slice(-4000)}`);
    }
    try {
      const response = await fetch(entry.url + options.readyPath, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return entry;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await entry.stop();
      throw new Error(`${options.name} not ready after ${timeoutMs} ms:\n${output.slice(-4000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The service from source (src/main.ts through ts-node, transpiled by swc) on `port`, ready once
 * GET /health/ready answers 200: as the e2e tests and scripts that need a process of its own start it.
 */
export function startServiceFromSource(options: {
  cwd: string;
  port: number;
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<Child> {
  return startChild({
    name: 'the service',
    args: ['-r', 'ts-node/register/transpile-only', 'src/main.ts'],
    cwd: options.cwd,
    port: options.port,
    readyPath: '/health/ready',
    timeoutMs: options.timeoutMs,
    env: { TS_NODE_SWC: 'true', PORT: String(options.port), ...options.env },
  });
}

/**
 * CPU time (user + system) a process and its children (the workers of the cluster mode) have used,
 * in ms, from /proc/<pid>/stat; undefined where there is no /proc. CPU per request is the steadier
 * figure on a shared machine: other work stretches the wall-clock numbers, much less the CPU each
 * request costs.
 */
export function cpuTimeMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = statOf(pid);
  if (own === undefined) return undefined;
  let total = own.cpuMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = statOf(Number(entry));
    if (stat?.parentPid === pid) total += stat.cpuMs;
  }
  return total;
}

/**
 * The part of cpuTimeMs spent on the main threads, i.e. the event loops (JavaScript, the HTTP parser):
 * not on worker threads, the libuv pool (zlib, crypto) or V8's helpers. What a request costs there
 * is what every other request waits for.
 */
export function eventLoopCpuTimeMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const own = statOf(pid, `/proc/${pid}/task/${pid}/stat`);
  if (own === undefined) return undefined;
  let total = own.cpuMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    if (statOf(Number(entry))?.parentPid === pid)
      total += statOf(Number(entry), `/proc/${entry}/task/${entry}/stat`)?.cpuMs ?? 0;
  }
  return total;
}

function statOf(pid: number, file = `/proc/${pid}/stat`): { parentPid: number; cpuMs: number } | undefined {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3: ppid is 4, utime and stime 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      parentPid: Number(fields[1]),
      cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}
