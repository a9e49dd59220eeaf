/**
 * npm run soak [-- --duration S --warmup S --concurrency C --users N --interval S --out FILE]
 *
 * A bounded soak on loopback: two instances of the built service (dist/main.js) on one database (a
 * fresh one on the MySQL/MariaDB server of DATABASE_URL, or one temporary SQLite file), mixed traffic
 * over both for --duration seconds (tools/soak/traffic.ts), then a cross-check of the logins against the
 * database. Fails (exit 1) on any server error (5xx, connection error), any duplicate success of one
 * code, any unexpected answer, or an RSS that did not stay steady. Writes tools/soak/results/latest.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { buildIfStale, Child, freePort, runningChildren, serviceUnderLoadEnv, startChild } from '../shared/processes';
import { selfTest } from '../shared/totp';
import { signToken } from '../shared/tokens';
import { SoakClient } from './client';
import { crossCheck } from './cross-check';
import { createMysqlDatabase, SoakDatabase, sqliteDatabase } from './database';
import { Ledger } from './ledger';
import { RssTrack } from './memory';
import { parseSoakOptions } from './options';
import { printSummary, SoakReport, writeReport } from './report';
import { LOCKOUT_MAX_FAILURES, Traffic } from './traffic';

const ROOT = resolve(__dirname, '../..');
const INSTANCE_NAMES = ['a', 'b'];
const ALL_SCOPES = 'partner:admin partner:login agent:admin agent:login sessions:admin audit:read';
/** Beyond warm-up + duration: start-up, seeding, the cross-check and shutdown all fit well within it. */
const DEADLINE_MARGIN_S = 180;
const SEED_CONCURRENCY = 8;

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const options = parseSoakOptions(process.argv.slice(2));
  const runStarted = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'twofa-soak-'));
  let database: SoakDatabase | undefined;
  const stopEverything = async (): Promise<void> => {
    await Promise.all(runningChildren().map((child) => child.stop()));
    await database?.drop().catch((error: unknown) => say(`could not drop the soak database: ${String(error)}`));
    database = undefined;
    rmSync(work, { recursive: true, force: true });
  };
  const deadlineS = options.warmupS + options.durationS + DEADLINE_MARGIN_S;
  const hardDeadline = setTimeout(() => {
    say(`\nsoak: hard deadline of ${deadlineS} s passed; stopping`);
    void stopEverything().finally(() => process.exit(3));
  }, deadlineS * 1000);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`\n${signal}: stopping the instances`);
      void stopEverything().finally(() => process.exit(130));
    });
  }

  try {
    say(`TOTP: ${selfTest()}`);
    buildIfStale(ROOT);
    const databaseUrl = process.env.DATABASE_URL;
    if (databaseUrl && !/^(mysql|mariadb):\/\//.test(databaseUrl)) {
      throw new Error('DATABASE_URL must be mysql://... (or mariadb://) on a loopback host, or unset for SQLite');
    }
    database = databaseUrl ? await createMysqlDatabase(databaseUrl) : sqliteDatabase(work);
    say(
      `twofa soak: 2 instances on ${database.description}, ${options.warmupS} s warm-up + ${options.durationS} s, ` +
        `${options.concurrency} workers`,
    );

    const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const tenant = `soak-${runId}`;
    const jwtSecret = randomBytes(36).toString('base64url');
    const encryptionKey = randomBytes(32).toString('base64');
    const resultsDir = dirname(resolve(ROOT, options.out));
    mkdirSync(resultsDir, { recursive: true });
    // One after the other: the first one's migrations create the schema the second one finds.
    const instances: Child[] = [];
    for (const name of INSTANCE_NAMES) {
      const port = await freePort();
      const dataDir = join(work, `data-${name}`);
      mkdirSync(dataDir);
      const child = await startChild({
        name: `instance ${name}`,
        args: ['dist/main.js'],
        cwd: ROOT,
        port,
        readyPath: '/health/ready',
        logFile: join(resultsDir, `instance-${name}.log`),
        env: serviceUnderLoadEnv({
          port,
          jwtSecret,
          encryptionKey,
          dataDir,
          databaseUrl: database.url,
          lockoutMaxFailures: LOCKOUT_MAX_FAILURES,
        }),
      });
      say(`instance ${name} ready at ${child.url} (pid ${child.process.pid})`);
      instances.push(child);
    }

    const token = await signToken(jwtSecret, { tenant, sub: 'soak-driver', scope: ALL_SCOPES, expiresIn: '6h' });
    const client = new SoakClient(
      instances.map((child) => child.url),
      `soak-${runId}`,
    );
    const ledger = new Ledger(instances.length);
    const traffic = new Traffic(client, ledger, token, runId);
    const memory = instances.map((child) => new RssTrack(child.process.pid));

    const seeded = Date.now();
    let seeds = options.users;
    await Promise.all(
      Array.from({ length: SEED_CONCURRENCY }, async () => {
        while (seeds-- > 0) await traffic.seedUser();
      }),
    );
    say(`seeded ${options.users} active users in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    // ---- traffic: warm-up, then the measured span ------------------------------------------------
    const trafficStarted = Date.now();
    const elapsedS = (): number => (Date.now() - trafficStarted) / 1000 - options.warmupS;
    const endAt = trafficStarted + (options.warmupS + options.durationS) * 1000;
    for (const track of memory) track.sample(elapsedS());
    const workers = Array.from({ length: options.concurrency }, () => traffic.worker(() => Date.now() >= endAt));

    let measuredFromRequests = 0;
    const warmupTimer = setTimeout(() => {
      for (const track of memory) track.markStart(0);
      measuredFromRequests = client.requests;
      say(
        `warm-up done: start RSS ${memory.map((track, i) => `${INSTANCE_NAMES[i]} ${track.samples.at(-1)?.mib} MiB`).join(', ')}`,
      );
    }, options.warmupS * 1000);
    let lastRequests = 0;
    let lastAt = Date.now();
    const progressTimer = setInterval(() => {
      const now = Date.now();
      const rss = memory.map((track, i) => `${INSTANCE_NAMES[i]} ${track.sample(elapsedS()) ?? '?'} MiB`).join(', ');
      const rps = ((client.requests - lastRequests) * 1000) / (now - lastAt);
      lastRequests = client.requests;
      lastAt = now;
      say(
        `  ${elapsedS().toFixed(0).padStart(4)} s  ${String(client.requests).padStart(7)} requests  ${rps.toFixed(0).padStart(5)} req/s  ` +
          `server errors ${client.serverErrors.count}  unexpected ${client.unexpected.count}  ` +
          `duplicates ${ledger.duplicates().length}  users ${traffic.pool.users.length}  RSS ${rss}`,
      );
    }, options.intervalS * 1000);

    await Promise.all(workers);
    clearInterval(progressTimer);
    clearTimeout(warmupTimer);
    const measuredS = (Date.now() - trafficStarted) / 1000 - options.warmupS;
    for (const track of memory) track.sample(elapsedS());

    const check = await crossCheck(database, tenant, ledger);
    for (const child of instances) await child.stop();

    const report: SoakReport = {
      date: new Date().toISOString(),
      database: database.description,
      options,
      wallClockS: Number(((Date.now() - runStarted) / 1000).toFixed(1)),
      requests: client.requests,
      measuredRequests: client.requests - measuredFromRequests,
      measuredS: Number(measuredS.toFixed(1)),
      requestsPerInstance: client.perInstance,
      routes: Object.fromEntries(client.routes),
      actions: Object.fromEntries(traffic.actionsRun),
      races: Object.fromEntries(ledger.races),
      users: traffic.pool.users.length,
      loginSuccesses: ledger.successCount(),
      serverErrors: { count: client.serverErrors.count, samples: client.serverErrors.samples },
      unexpected: { count: client.unexpected.count, samples: client.unexpected.samples },
      duplicates: ledger.duplicates(),
      crossCheck: check,
      memory: memory.map((track, i) => ({
        instance: INSTANCE_NAMES[i],
        pid: track.pid,
        verdict: track.verdict(),
        samples: track.samples,
      })),
      failures: [],
    };
    report.failures = verdictOf(report);
    const outFile = resolve(ROOT, options.out);
    writeReport(outFile, report);
    printSummary(report);
    say(`wrote ${outFile} (instance logs beside it)`);
    return report.failures.length === 0 ? 0 : 1;
  } finally {
    clearTimeout(hardDeadline);
    await stopEverything();
  }
}

function verdictOf(report: SoakReport): string[] {
  const failures: string[] = [];
  if (report.serverErrors.count > 0) failures.push(`${report.serverErrors.count} server errors`);
  if (report.duplicates.length > 0) failures.push(`${report.duplicates.length} codes succeeded more than once`);
  if (report.unexpected.count > 0) failures.push(`${report.unexpected.count} unexpected answers`);
  failures.push(...report.crossCheck.problems);
  for (const { instance, verdict } of report.memory) {
    if (verdict === null) failures.push(`no RSS figures for instance ${instance}`);
    else if (!verdict.steady) {
      failures.push(
        `instance ${instance}: RSS ${verdict.startMiB} → ${verdict.endMiB} MiB, more than ${verdict.boundMiB} MiB of growth`,
      );
    }
  }
  return failures;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`\nsoak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(2);
  },
);
