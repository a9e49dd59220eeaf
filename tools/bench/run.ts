/**
 * npm run bench [-- --users N --duration S --connections C --quick --only a,b --profile DIR]
 *
 * Starts the built service (dist/main.js) on loopback with a temporary SQLite database (or the
 * DATABASE_URL of the environment, mysql://...), seeds users with active configs, runs the scenarios
 * with autocannon and, right after each, the comparisons doing the same work (tools/bench/baselines.ts),
 * prints the tables and writes tools/bench/results/latest.json. See tools/bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BenchOptions, parseOptions, ScenarioName } from './args';
import { LoadResult, mergeSlices, Outcome, progress, runLoad, warmUp } from './load';
import { perRequest, readCounters, serverVersion, StatusCounters } from './mysql-status';
import { Baselines, combinePerRequest } from './baselines';
import { buildIfStale, freePort, runningChildren, serviceUnderLoadEnv, startChild } from '../shared/processes';
import { monotonicNowUs, summarise, TimeWindow } from './profile-summary';
import { formatTables, MixedFigures, row, ScenarioRow, writeReport } from './report';
import {
  enrolBodies,
  enrolOutcome,
  fixedSecretBodies,
  Generator,
  loginBody,
  loginOutcome,
  loginSuccessBodies,
  loginWrongBodies,
  validOutcome,
} from './scenarios';
import { ENROL_PATH, LOGIN_PATH, seedInDatabase, seedUsers } from './seed';
import { settleAfterSeeding } from './settle';
import type { SqlTrace } from './sql-trace';
import { signToken } from '../shared/tokens';
import { selfTest } from '../shared/totp';

const ROOT = resolve(__dirname, '../..');
const TENANT_PREFIX = 'bench';
/**
 * The service's lockout limit in the bench, and its hard limit too: far above what the login-wrong load
 * sends one user.
 */
const LOCKOUT_MAX_FAILURES = 100;
/** Connections of the enrolment load beside the logins in `mixed` (its rate is --mixed-enrol-rate). */
const MIXED_ENROL_CONNECTIONS = 4;

function randomChars(length: number): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

interface ScenarioMeta extends LoadResult {
  exhausted: number;
  sqlPerRequest?: Record<string, number>;
  window: TimeWindow;
  /** The measured slices of the service alone (the window also spans its comparisons' slices). */
  sliceWindows?: TimeWindow[];
  statementsPerRequest?: Record<string, number>;
  /** `mixed` only: its logins alone and its enrolment load (the fields above are its mixed logins). */
  mixed?: { figures: MixedFigures; aloneLogins: LoadResult; enrolments: LoadResult };
}

async function main(): Promise<void> {
  const options: BenchOptions = parseOptions(process.argv.slice(2));
  /** Slices of `durationS / rounds` seconds: one of the service and one of each comparison per round. */
  const sliceS = Math.max(1, Math.round(options.durationS / options.rounds));
  // What else ran on the machine: on a shared one the figures move with it.
  const loadAtStart = loadavg();
  const databaseUrl = process.env.DATABASE_URL;
  const isMysql = databaseUrl !== undefined && /^(mysql|mariadb):\/\//.test(databaseUrl);
  process.stderr.write(
    `twofa bench: ${options.users} users, ${options.durationS} s per scenario, ${options.connections} connections, ` +
      `${databaseUrl ? (isMysql ? 'MySQL/MariaDB' : databaseUrl) : 'temporary SQLite'}` +
      `${options.workers > 0 ? `, cluster of ${options.workers} workers` : ', one process'}${options.quick ? ' (quick)' : ''}\n`,
  );
  process.stderr.write(`TOTP: ${selfTest()}\n`);
  buildIfStale(ROOT);

  const work = mkdtempSync(join(tmpdir(), 'twofa-bench-'));
  const cleanUp = async (): Promise<void> => {
    await Promise.all(runningChildren().map((child) => child.stop()));
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping the service and baseline servers\n`);
      void cleanUp().finally(() => process.exit(130));
    });
  }

  try {
    const runId = `${Date.now().toString(36)}${randomChars(4).replace(/[^A-Za-z0-9]/g, 'x')}`;
    const tenant = `${TENANT_PREFIX}-${runId}`;
    const jwtSecret = randomChars(48);
    const encryptionKey = randomBytes(32);
    const token = await signToken(jwtSecret, {
      tenant,
      sub: 'bench-admin',
      scope: 'agent:admin agent:login',
      kind: 'agent',
      expiresIn: '6h',
    });
    const serviceDatabaseUrl = databaseUrl ?? `sqlite:${join(work, 'bench.sqlite')}`;
    const dataDir = join(work, 'data');
    mkdirSync(dataDir);

    // ---- the service -------------------------------------------------------------------------
    const port = await freePort();
    const traceFile = join(work, 'sql-trace.json');
    const nodeArgs = [
      ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(options.profileDir)}`] : []),
      ...(options.traceSql ? ['-r', 'ts-node/register/transpile-only', '-r', join(__dirname, 'sql-trace.ts')] : []),
      options.workers > 0 ? 'dist/cluster.js' : 'dist/main.js',
    ];
    if (options.profileDir) mkdirSync(resolve(options.profileDir), { recursive: true });
    const service = await startChild({
      name: 'service',
      args: nodeArgs,
      cwd: ROOT,
      port,
      readyPath: '/health/ready',
      logFile: join(work, 'service.log'),
      env: {
        ...serviceUnderLoadEnv({
          port,
          jwtSecret,
          encryptionKey: encryptionKey.toString('base64'),
          dataDir,
          databaseUrl: serviceDatabaseUrl,
          lockoutMaxFailures: LOCKOUT_MAX_FAILURES,
          lockoutHardLimit: LOCKOUT_MAX_FAILURES,
        }),
        ...(options.workers > 0 ? { WEB_CONCURRENCY: String(options.workers) } : {}),
        QR_RENDER_THREADS: String(options.qrThreads),
        ...(options.traceSql ? { BENCH_SQL_TRACE: traceFile } : {}),
      },
    });
    process.stderr.write(`service ready at ${service.url} (pid ${service.process.pid})\n`);

    const users = await seedUsers({
      baseUrl: service.url,
      token,
      tenant,
      count: options.users,
      databaseUrl: serviceDatabaseUrl,
      encryptionKey,
    });
    const loginScenarios = options.scenarios.some((name) => name === 'login-success' || name === 'login-wrong');
    const statementsTenant = `${tenant}-baseline`;
    const statementUsers =
      options.baselines && loginScenarios
        ? await seedInDatabase({
            tenant: statementsTenant,
            firstIndex: 0,
            count: options.users,
            databaseUrl: serviceDatabaseUrl,
            encryptionKey,
          })
        : [];
    progress(`settling: ${await settleAfterSeeding(serviceDatabaseUrl, isMysql)}`, true);
    const baselines = options.baselines
      ? await Baselines.start({
          root: ROOT,
          work,
          sliceS,
          warmupS: options.warmupS,
          connections: options.connections,
          // Every process of the service has a pool of its own.
          qrThreads: options.qrThreads * Math.max(1, options.workers),
          scenarios: options.scenarios,
          statements:
            statementUsers.length > 0
              ? {
                  databaseUrl: serviceDatabaseUrl,
                  tenant: statementsTenant,
                  users: statementUsers,
                  lockoutMaxFailures: LOCKOUT_MAX_FAILURES,
                }
              : undefined,
          mysqlUrl: isMysql ? databaseUrl : undefined,
        })
      : undefined;
    const auth = { authorization: `Bearer ${token}` };
    const results = new Map<ScenarioName, ScenarioMeta>();
    // Each enrol generator (warm-up, measured run) gets its own agent ids, so none answers 409.
    let enrolRound = 0;
    const nextEnrolBodies = (): Generator => enrolBodies(`${TENANT_PREFIX}-${runId}-${enrolRound++}`);

    const serviceRounds = new Map<ScenarioName, LoadResult[]>();

    const runScenario = async (
      name: ScenarioName,
      path: string,
      makeGenerator: () => Generator,
      classify: (status: number, body: string) => Outcome,
      headers: Record<string, string> = {},
    ): Promise<void> => {
      const load = { label: name, baseUrl: service.url, path, headers, classify, connections: options.connections };
      // Unmeasured first, the comparisons' warm-ups and then the service's, so the first round is as
      // tight as the others: the service has served only the seeding requests, and V8 has not optimised
      // the path yet (the first measured seconds cost twice the CPU per request without this).
      await baselines?.prepare(name, users);
      if (options.warmupS > 0) await warmUp({ ...load, nextBody: makeGenerator().nextBody }, options.warmupS);
      const generator = makeGenerator();
      const slices: LoadResult[] = [];
      const counters: Record<string, number>[] = [];
      const traces: Record<string, number>[] = [];
      const fromUs = monotonicNowUs();
      const sliceWindows: TimeWindow[] = [];
      const serviceSlice = async (round: number): Promise<void> => {
        const before: StatusCounters | undefined = isMysql ? await readCounters(databaseUrl) : undefined;
        const traceBefore = options.traceSql ? await readTrace(traceFile) : undefined;
        const sliceFromUs = monotonicNowUs();
        const result = await runLoad({
          ...load,
          label: options.rounds > 1 ? `${name} ${round + 1}` : name,
          nextBody: generator.nextBody,
          durationS: sliceS,
          pid: service.process.pid,
        });
        sliceWindows.push({ fromUs: sliceFromUs, toUs: monotonicNowUs() });
        slices.push(result);
        if (before && isMysql) counters.push(perRequest(before, await readCounters(databaseUrl), result.requests));
        if (traceBefore) traces.push(traceDiff(traceBefore, await readTrace(traceFile), result.requests));
      };
      for (let round = 0; round < options.rounds; round++) {
        // Side by side: the service and its comparisons take turns, the service first in even rounds and
        // last in odd ones, so neither side always runs just after the other.
        if (round % 2 === 1) await baselines?.measure(name, users, round);
        await serviceSlice(round);
        if (round % 2 === 0) await baselines?.measure(name, users, round);
      }
      await baselines?.finish(name);
      serviceRounds.set(name, slices);
      const meta: ScenarioMeta = {
        ...mergeSlices(slices),
        exhausted: generator.exhausted(),
        window: { fromUs, toUs: monotonicNowUs() },
        sliceWindows,
      };
      const statementsPerRequest = combinePerRequest(counters, slices);
      if (statementsPerRequest) meta.statementsPerRequest = statementsPerRequest;
      const sqlPerRequest = combinePerRequest(traces, slices);
      if (sqlPerRequest) meta.sqlPerRequest = sqlPerRequest;
      results.set(name, meta);
    };

    /**
     * Logins alone, then the same logins while enrolments (each renders a QR image) run at
     * --mixed-enrol-rate: what the costly enrolments do to the logins' latency, side by side.
     */
    const runMixed = async (): Promise<void> => {
      const generator = loginSuccessBodies(users, loginBody);
      const logins = {
        baseUrl: service.url,
        path: LOGIN_PATH,
        headers: auth,
        nextBody: generator.nextBody,
        classify: loginOutcome,
        connections: options.connections,
        ...(options.mixedLoginRate > 0 ? { rate: options.mixedLoginRate } : {}),
      };
      const enrolments = {
        baseUrl: service.url,
        path: ENROL_PATH,
        headers: auth,
        nextBody: nextEnrolBodies().nextBody,
        classify: enrolOutcome,
        connections: MIXED_ENROL_CONNECTIONS,
        rate: options.mixedEnrolRate,
      };
      if (options.warmupS > 0) {
        await warmUp({ ...logins, label: 'mixed: logins' }, options.warmupS);
        await warmUp({ ...enrolments, label: 'mixed: enrolments' }, options.warmupS);
      }
      const fromUs = monotonicNowUs();
      const durationS = options.durationS;
      const alone = await runLoad({ ...logins, label: 'mixed: logins alone', durationS });
      const [withEnrolments, enrolled] = await Promise.all([
        runLoad({ ...logins, label: 'mixed: logins + enrolments', durationS }),
        runLoad({ ...enrolments, label: 'mixed: enrolments', durationS, quiet: true }),
      ]);
      results.set('mixed', {
        ...withEnrolments,
        exhausted: generator.exhausted(),
        window: { fromUs, toUs: monotonicNowUs() },
        mixed: {
          aloneLogins: alone,
          enrolments: enrolled,
          figures: {
            loginRpsAlone: Number(alone.rps.toFixed(1)),
            loginP99Alone: alone.p99,
            loginRpsMixed: Number(withEnrolments.rps.toFixed(1)),
            loginP99Mixed: withEnrolments.p99,
            p99Ratio: Number((withEnrolments.p99 / Math.max(1, alone.p99)).toFixed(2)),
            enrolRps: Number(enrolled.rps.toFixed(1)),
            enrolP99: enrolled.p99,
          },
        },
      });
    };

    for (const name of options.scenarios) {
      switch (name) {
        case 'login-success':
          await runScenario(name, LOGIN_PATH, () => loginSuccessBodies(users, loginBody), loginOutcome, auth);
          break;
        case 'login-wrong':
          await runScenario(name, LOGIN_PATH, () => loginWrongBodies(users, loginBody), loginOutcome, auth);
          break;
        case 'verify-token':
          await runScenario(name, '/verify/token', fixedSecretBodies, validOutcome);
          break;
        case 'enrol-qr':
          await runScenario(name, ENROL_PATH, nextEnrolBodies, enrolOutcome, auth);
          break;
        case 'mixed':
          await runMixed();
          break;
      }
    }
    await service.stop();
    await baselines?.stop();
    if (options.traceSql) {
      const traceOut = join(dirname(resolve(ROOT, options.out)), 'sql-trace.json');
      writeFileSync(traceOut, `${JSON.stringify(await readTrace(traceFile), null, 2)}\n`);
      process.stderr.write(`SQL trace (counts, prepared kinds, sample texts): ${traceOut}\n`);
    }
    const profiles = options.profileDir ? listProfiles(resolve(options.profileDir)) : [];

    // ---- report ------------------------------------------------------------------------------
    const rows: ScenarioRow[] = options.scenarios.map((name) => {
      const measured = results.get(name)!;
      const comparisonRounds = baselines?.rounds.get(name) ?? [];
      const rounds = (serviceRounds.get(name) ?? []).map((service, i) => ({
        service,
        comparisons: comparisonRounds[i] ?? {},
      }));
      return row(name, measured, baselines?.measured.get(name) ?? {}, rounds, measured.mixed?.figures);
    });
    const report = {
      scenarios: rows,
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        cpu: { model: cpus()[0]?.model ?? 'unknown', count: cpus().length },
        db: isMysql
          ? `mysql ${await serverVersion(databaseUrl)}`
          : databaseUrl
            ? databaseUrl
            : 'sqlite (temporary file)',
        connections: options.connections,
        serviceProcesses: options.workers > 0 ? `cluster of ${options.workers} workers` : 'one process',
        duration: sliceS * options.rounds,
        rounds: options.rounds,
        sliceSeconds: sliceS,
        warmup: options.warmupS,
        users: options.users,
        quick: options.quick,
        commit: gitHead(),
        perScenario: Object.fromEntries(
          [...results].map(([name, meta]) => [
            name,
            {
              requests: meta.requests,
              cpuMsPerReq: meta.cpuMsPerReq,
              eventLoopCpuMsPerReq: meta.eventLoopCpuMsPerReq,
              successes: meta.successes,
              fails: meta.fails,
              exhaustedFreshCodes: meta.exhausted,
              statusCounts: meta.statusCounts,
              errors: meta.errors,
              timeouts: meta.timeouts,
              ...(meta.statementsPerRequest ? { mysqlStatementsPerRequest: meta.statementsPerRequest } : {}),
              ...(meta.sqlPerRequest ? { sqlPerRequest: meta.sqlPerRequest } : {}),
              ...(meta.mixed
                ? { loginsAlone: summary(meta.mixed.aloneLogins), enrolments: summary(meta.mixed.enrolments) }
                : {}),
            },
          ]),
        ),
        comparisons: {
          servers: {
            bareVerify: 'tools/bench/baseline-verify-server.ts: node:http + speakeasy.totp.verify, window 1',
            sameStatements:
              "tools/bench/baseline-db-server.ts: node:http + better-sqlite3 or mysql2 running the service's login " +
              'statements on its database (users of their own), nothing else',
            expressPeer: 'tools/bench/baseline-express-server.ts: express 4 + body-parser + speakeasy, window 6',
            qrLoop: "qrcode.toDataURL with the service's options, in a loop in the bench process",
            qrPool:
              "the service's QrCodeRenderer (piscina, as many threads as the service's QR_RENDER_THREADS) " +
              'in the bench process, as many images in flight as connections',
          },
          loads: Object.fromEntries(
            [...(baselines?.loads ?? [])].map(([label, r]) => [
              label,
              {
                ...summary(r),
                cpuMsPerReq: r.cpuMsPerReq,
                ...(r.statementsPerRequest ? { mysqlStatementsPerRequest: r.statementsPerRequest } : {}),
              },
            ]),
          ),
          order:
            "each scenario in rounds: a slice of the service and one of each comparison per round (service first in even rounds, last in odd ones), warm-ups before the first; each ratio is the median of the rounds' ratios",
        },
        ...(profiles.length > 0
          ? {
              cpuProfiles: profiles,
              profileWindows: Object.fromEntries(
                [...results].map(([name, meta]) => [name, meta.sliceWindows ?? meta.window]),
              ),
            }
          : {}),
        mixedEnrolRate: options.mixedEnrolRate,
        mixedLoginRate: options.mixedLoginRate,
        qrRenderThreads: options.qrThreads,
        loadAverage: { start: loadAtStart, end: loadavg() },
        notes: [
          'load generator, servers (and MariaDB) share the machine; ratio = service req/s / comparison req/s, ' +
            'cpuRatio = comparison CPU ms/req / service CPU ms/req',
        ],
      },
    };
    const outFile = resolve(ROOT, options.out);
    writeReport(outFile, report);
    process.stdout.write(`\n${formatTables(rows)}\n\n`);
    const load = (averages: number[]): string => averages.map((value) => value.toFixed(2)).join(' ');
    process.stdout.write(
      `load average (1, 5, 15 min) on ${cpus().length} cores: ${load(report.meta.loadAverage.start)} at the start, ` +
        `${load(report.meta.loadAverage.end)} at the end\n`,
    );
    for (const [name, meta] of results) {
      const extra = meta.exhausted > 0 ? `, ${meta.exhausted} sent after fresh codes ran out (replays)` : '';
      const statuses = Object.entries(meta.statusCounts)
        .map(([status, count]) => `${status}: ${count}`)
        .join(', ');
      process.stdout.write(`${name}: ${meta.successes} success / ${meta.fails} fail (HTTP ${statuses})${extra}\n`);
      if (meta.sqlPerRequest) {
        const sql = Object.entries(meta.sqlPerRequest)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', ');
        process.stdout.write(`  SQL per request: ${sql}\n`);
      }
      const counters = (perRequest: Record<string, number>): string =>
        Object.entries(perRequest)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', ');
      if (meta.statementsPerRequest) {
        process.stdout.write(
          `  server counters per request (global, approximate): ${counters(meta.statementsPerRequest)}\n`,
        );
      }
      const sameStatements = baselines?.statementsPerRequest(name);
      if (sameStatements) process.stdout.write(`  the same-statements server's: ${counters(sameStatements)}\n`);
    }
    const success = results.get('login-success');
    if (success && success.exhausted > 0) {
      // The scenario's rounds span its comparisons' slices too: new steps come with its wall time.
      const steps = (success.window.toUs - success.window.fromUs) / 1e6 / 30;
      process.stdout.write(
        `  login-success ran out of fresh codes (a user has 2 in the step after seeding, then 1 per 30 s step); ` +
          `use --users ${Math.ceil((success.requests / (2 + steps)) * 1.2)} or more to keep every request a fresh code.\n`,
      );
    }
    for (const profile of profiles) {
      for (const [name, meta] of results) {
        process.stdout.write(
          `\nCPU profile of the service during ${name} (${profile}):\n${summarise(profile, 15, meta.sliceWindows ?? meta.window)}\n`,
        );
      }
    }
    process.stdout.write(`\nwrote ${outFile}\n`);
  } finally {
    await cleanUp();
  }
}

async function readTrace(file: string): Promise<SqlTrace> {
  // The preload writes every 250 ms: wait for the last requests' statements to land.
  await new Promise((done) => setTimeout(done, 600));
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SqlTrace;
  } catch {
    return { statements: {}, prepares: 0 };
  }
}

/** Statements per request by kind, plus `total` and the better-sqlite3 `prepare()` calls. */
function traceDiff(before: SqlTrace, after: SqlTrace, requests: number): Record<string, number> {
  const per = (n: number): number => (requests > 0 ? Number((n / requests).toFixed(2)) : 0);
  const result: Record<string, number> = {};
  let total = 0;
  for (const [kind, n] of Object.entries(after.statements)) {
    const delta = n - (before.statements[kind] ?? 0);
    if (delta <= 0) continue;
    total += delta;
    result[kind] = per(delta);
  }
  result.total = per(total);
  result['prepare()'] = per(after.prepares - before.prepares);
  for (const [kind, n] of Object.entries(after.preparedKinds ?? {})) {
    const delta = n - (before.preparedKinds?.[kind] ?? 0);
    if (delta > 0) result[`prepare() ${kind}`] = per(delta);
  }
  result['new distinct SQL texts'] = per((after.distinctSql ?? 0) - (before.distinctSql ?? 0));
  return result;
}

function summary(result: LoadResult): Record<string, unknown> {
  const { rps, p50, p99, requests, successes, fails, statusCounts, cpuMsPerReq, eventLoopCpuMsPerReq } = result;
  return { rps, p50, p99, requests, successes, fails, statusCounts, cpuMsPerReq, eventLoopCpuMsPerReq };
}

function listProfiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => join(dir, file));
}

function gitHead(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
