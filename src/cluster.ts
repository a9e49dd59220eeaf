import 'reflect-metadata';
import cluster, { Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { authConfig, cryptoConfig, databaseConfigFrom } from './config/app.config';
import { environment } from './config/environment';
import { buildDataSourceOptions } from './database/data-source-options';
import { describeMigrationsRun, openDatabase } from './database/open-database';
import { reportStartFailure } from './start-failure';

/** A worker that dies sooner than this after its start counts towards a crash loop. */
const EARLY_DEATH_MS = 10_000;
/** This many early deaths in a row: the workers cannot start (bad database, port taken); stop trying. */
const MAX_EARLY_DEATHS = 5;
const RESTART_DELAY_MS = 1_000;
/** After SIGTERM a worker exits by itself within SHUTDOWN_TIMEOUT_MS; past this much more it is killed. */
const STOP_GRACE_MS = 5_000;

function log(message: string): void {
  process.stderr.write(
    `${JSON.stringify({ level: 'info', time: Date.now(), service: 'twofa', cluster: 'primary', msg: message })}\n`,
  );
}

/**
 * `npm run start:cluster`: one full app per worker process (WEB_CONCURRENCY, default the core count),
 * all listening on the same port. All state that decides a login is in the database (conditional
 * UPDATEs, counts in rows), so the guarantees hold across workers as they do across instances.
 * What must happen once happens here, before any worker starts: the environment is validated, the
 * development keys are created, and migrations run.
 */
async function startPrimary(): Promise<void> {
  // Like ConfigModule in each worker: .env fills in what the real environment does not set.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const env = environment();
  const workers = env.WEB_CONCURRENCY ?? availableParallelism();

  // Calling the config factories creates DATA_DIR/dev-keys.json now, when keys are not configured,
  // so the workers read one file instead of racing to write it.
  authConfig();
  cryptoConfig();

  const { dataSource, ran } = await openDatabase(buildDataSourceOptions(databaseConfigFrom(env)));
  await dataSource.destroy();
  log(describeMigrationsRun(ran));

  let stopping = false;
  let earlyDeaths = 0;
  const startedAt = new Map<Worker, number>();
  const fork = (): void => {
    // A replacement scheduled before a SIGTERM arrived must not start during the shutdown.
    if (stopping) return;
    startedAt.set(cluster.fork(), Date.now());
  };

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? 0);
    startedAt.delete(worker);
    if (stopping) {
      // A worker that could not finish its requests in time exits 1, and so does the primary then
      // (one still starting simply ends on the SIGTERM).
      if (code !== 0 && signal !== 'SIGTERM') process.exitCode = 1;
      if (startedAt.size === 0) process.exit();
      return;
    }
    earlyDeaths = lived < EARLY_DEATH_MS ? earlyDeaths + 1 : 0;
    if (earlyDeaths >= MAX_EARLY_DEATHS) {
      log(
        `worker ${worker.process.pid} exited with ${signal ?? code}; ${earlyDeaths} workers died right after starting, giving up`,
      );
      stopping = true;
      for (const other of startedAt.keys()) other.process.kill('SIGTERM');
      process.exitCode = 1;
      if (startedAt.size === 0) process.exit(1);
      return;
    }
    log(`worker ${worker.process.pid} exited with ${signal ?? code}; starting a new one`);
    setTimeout(fork, RESTART_DELAY_MS);
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping ${startedAt.size} workers`);
    if (startedAt.size === 0) process.exit(0);
    // Each worker closes its server and finishes its requests on SIGTERM (Nest shutdown hooks).
    for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of startedAt.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, env.SHUTDOWN_TIMEOUT_MS + STOP_GRACE_MS).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  log(`starting ${workers} workers`);
  for (let i = 0; i < workers; i++) fork();
}

if (cluster.isPrimary) {
  startPrimary().catch((error: unknown) => {
    reportStartFailure('twofa cluster', error);
    process.exit(1);
  });
} else {
  // A worker is the single-process service; main.ts starts it on import.
  void import('./main');
}
