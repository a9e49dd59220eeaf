/**
 * npm run bench [-- --users N --duration S --connections C --quick --only a,b --profile DIR]
 *
 * Starts the built service (dist/main.js) on loopback with a temporary SQLite database (or the
 * DATABASE_URL of the environment, mysql://...), seeds users with active configs, runs the four
 * scenarios with autocannon, measures the bare limits beside them (a node:http + speakeasy verify server,
 * a qrcode.toDataURL loop, and on MySQL a node:http + mysql2 SELECT/UPDATE server), prints a table and
 * writes tools/bench/results/latest.json. See tools/bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BenchOptions, parseOptions, ScenarioName } from './args';
import { LoadResult, Outcome, runLoad } from './load';
import { perRequest, readCounters, serverVersion, StatusCounters } from './mysql-status';
import { Baselines } from './baselines';
import { buildIfStale, freePort, runningChildren, serviceUnderLoadEnv, startChild } from '../shared/processes';
import { monotonicNowUs, summarise, TimeWindow } from './profile-summary';
import { formatTable, row, ScenarioRow, writeReport } from './report';
import {
  enrolBodies,
  fixedSecretBodies,
  Generator,
  loginBody,
  loginSuccessBodies,
  loginWrongBodies,
} from './scenarios';
import { ENROL_PATH, LOGIN_PATH, seedUsers } from './seed';
import type { SqlTrace } from './sql-trace';
import { signToken } from '../shared/tokens';
import { selfTest } from '../shared/totp';

const ROOT = resolve(__dirname, '../..');
const TENANT_PREFIX = 'bench';

const loginOutcome = (status: number, body: string): Outcome =>
  status === 200 && body.includes('"result":"success"')
    ? 'success'
    : status === 200 && body.includes('"result":"fail"')
      ? 'fail'
      : 'other';
const validOutcome = (status: number, body: string): Outcome =>
  status === 200 && body.includes('"valid":true') ? 'success' : status === 200 ? 'fail' : 'other';
const enrolOutcome = (status: number): Outcome => (status === 200 ? 'success' : status === 409 ? 'fail' : 'other');

function randomChars(length: number): string {
  return randomBytes(length).toString('base64url').slice(0, length);
}

interface ScenarioMeta extends LoadResult {
  exhausted: number;
  sqlPerRequest?: Record<string, number>;
  window: TimeWindow;
  statementsPerRequest?: Record<string, number>;
}

async function main(): Promise<void> {
  const options: BenchOptions = parseOptions(process.argv.slice(2));
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
          lockoutMaxFailures: 100,
        }),
        ...(options.workers > 0 ? { WEB_CONCURRENCY: String(options.workers) } : {}),
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
    const baselines = options.baselines
      ? await Baselines.start({
          root: ROOT,
          work,
          durationS: options.durationS,
          connections: options.connections,
          users: options.users,
          scenarios: options.scenarios,
          mysqlUrl: isMysql ? databaseUrl : undefined,
        })
      : undefined;
    const auth = { authorization: `Bearer ${token}` };
    const results = new Map<ScenarioName, ScenarioMeta>();
    // Each enrol generator (warm-up, measured run) gets its own agent ids, so none answers 409.
    let enrolRound = 0;

    const runScenario = async (
      name: ScenarioName,
      path: string,
      makeGenerator: () => Generator,
      classify: (status: number, body: string) => Outcome,
      headers: Record<string, string> = {},
    ): Promise<void> => {
      // Unmeasured first: the service has served only the seeding requests, and V8 has not optimised
      // the path yet (the first measured seconds cost twice the CPU per request without this).
      if (options.warmupS > 0) {
        await runLoad({
          label: `${name} (warm-up)`,
          baseUrl: service.url,
          path,
          headers,
          nextBody: makeGenerator().nextBody,
          classify,
          durationS: options.warmupS,
          connections: options.connections,
        });
      }
      const generator = makeGenerator();
      const before: StatusCounters | undefined = isMysql ? await readCounters(databaseUrl) : undefined;
      const traceBefore = options.traceSql ? await readTrace(traceFile) : undefined;
      const fromUs = monotonicNowUs();
      const result = await runLoad({
        label: name,
        baseUrl: service.url,
        path,
        headers,
        nextBody: generator.nextBody,
        classify,
        durationS: options.durationS,
        connections: options.connections,
        pid: service.process.pid,
      });
      const meta: ScenarioMeta = {
        ...result,
        exhausted: generator.exhausted(),
        window: { fromUs, toUs: monotonicNowUs() },
      };
      if (before && isMysql)
        meta.statementsPerRequest = perRequest(before, await readCounters(databaseUrl), result.requests);
      if (traceBefore) meta.sqlPerRequest = traceDiff(traceBefore, await readTrace(traceFile), result.requests);
      results.set(name, meta);
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
          await runScenario(
            name,
            ENROL_PATH,
            () => enrolBodies(`${TENANT_PREFIX}-${runId}-${enrolRound++}`),
            enrolOutcome,
            auth,
          );
          break;
      }
      // The bare limit right after, under the same background load.
      await baselines?.measure(name, users);
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
    const rows: ScenarioRow[] = [];
    for (const name of options.scenarios) {
      const measured = results.get(name)!;
      const qr = baselines?.qr;
      const baseline =
        name === 'enrol-qr'
          ? qr
            ? { rps: qr.opsPerSec, cpuMsPerReq: qr.cpuMsPerOp }
            : null
          : (baselines?.verify.get(name) ?? null);
      const db = isMysql && name === 'login-success' ? (baselines?.dbLogin ?? null) : undefined;
      rows.push(row(name, measured, baseline, db));
    }
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
        duration: options.durationS,
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
              successes: meta.successes,
              fails: meta.fails,
              exhaustedFreshCodes: meta.exhausted,
              statusCounts: meta.statusCounts,
              errors: meta.errors,
              timeouts: meta.timeouts,
              ...(meta.statementsPerRequest ? { mysqlStatementsPerRequest: meta.statementsPerRequest } : {}),
              ...(meta.sqlPerRequest ? { sqlPerRequest: meta.sqlPerRequest } : {}),
            },
          ]),
        ),
        baselines: {
          verifyServer: Object.fromEntries(
            [...(baselines?.verify ?? [])].map(([name, r]) => [
              name,
              { rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, cpuMsPerReq: r.cpuMsPerReq },
            ]),
          ),
          qrcodeLoop: baselines?.qr ?? null,
          mysqlSelectUpdate: baselines?.dbLogin
            ? {
                rps: baselines.dbLogin.rps,
                p50: baselines.dbLogin.p50,
                p99: baselines.dbLogin.p99,
                consumed: baselines.dbLogin.successes,
                cpuMsPerReq: baselines.dbLogin.cpuMsPerReq,
              }
            : null,
          order: 'each baseline runs right after its scenario (same background load)',
        },
        ...(profiles.length > 0
          ? {
              cpuProfiles: profiles,
              profileWindows: Object.fromEntries([...results].map(([name, meta]) => [name, meta.window])),
            }
          : {}),
        notes: [
          'baselines: verify-server = node:http + speakeasy.totp.verify (same body shape per scenario), ' +
            'enrol-qr = qrcode.toDataURL loop in one process (ops/s), mysql = node:http + mysql2 SELECT + conditional UPDATE',
          'load generator and server share the machine; ratios are the share of the bare limit reached',
        ],
      },
    };
    const outFile = resolve(ROOT, options.out);
    writeReport(outFile, report);
    process.stdout.write(`\n${formatTable(rows)}\n`);
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
      if (meta.statementsPerRequest) {
        const com = Object.entries(meta.statementsPerRequest)
          .map(([kind, n]) => `${kind} ${n}`)
          .join(', ');
        process.stdout.write(`  server counters per request (global, approximate): ${com}\n`);
      }
    }
    const success = results.get('login-success');
    if (success && success.exhausted > 0) {
      process.stdout.write(
        `  login-success ran out of fresh codes (a user has 2 in the step after seeding, then 1 per 30 s step); ` +
          `use --users ${Math.ceil((success.requests / (2 + options.durationS / 30)) * 1.2)} or more to keep every request a fresh code.\n`,
      );
    }
    for (const profile of profiles) {
      for (const [name, meta] of results) {
        process.stdout.write(
          `\nCPU profile of the service during ${name} (${profile}):\n${summarise(profile, 15, meta.window)}\n`,
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
