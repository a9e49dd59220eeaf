/**
 * The comparisons beside each scenario. The baseline servers start once (idle until used), and each
 * scenario's comparisons run right after the scenario itself, after the same kind of warm-up, so
 * both see the same background load on a shared machine. The same-statements server runs only around
 * its own loads: on SQLite it opens the service's file with a WAL checkpoint worker of its own, which
 * would otherwise work on the service's writes while the service is measured.
 */
import { join } from 'node:path';
import { ScenarioName } from './args';
import { LoadResult, Outcome, runLoad, warmUp } from './load';
import { Child, freePort, startChild } from '../shared/processes';
import { perRequest, readCounters } from './mysql-status';
import { measureQrLoop, measureQrPool } from './qr-baseline';
import { ComparisonName, Measured } from './report';
import {
  bareVerifyBodies,
  fixedSecretBodies,
  Generator,
  loginOutcome,
  statementsBaselineBodies,
  validOutcome,
} from './scenarios';
import { BenchUser } from './seed';

export interface BaselineSettings {
  root: string;
  work: string;
  durationS: number;
  warmupS: number;
  connections: number;
  /** The service's QR rendering threads (QR_RENDER_THREADS in each process): the QR pool has as many. */
  qrThreads: number;
  scenarios: ScenarioName[];
  /** The service's database and the users the same-statements server logs in (a tenant of their own). */
  statements?: { databaseUrl: string; tenant: string; users: BenchUser[]; lockoutMaxFailures: number };
  /** Set on MySQL/MariaDB: the server whose statement counters are read around the same-statements loads. */
  mysqlUrl?: string;
}

type ServerName = 'bareVerify' | 'sameStatements' | 'expressPeer';

const SERVER_FILES: Record<ServerName, string> = {
  bareVerify: 'tools/bench/baseline-verify-server.ts',
  sameStatements: 'tools/bench/baseline-db-server.ts',
  expressPeer: 'tools/bench/baseline-express-server.ts',
};

/** Which servers a scenario is compared with (enrol-qr's QR loop and pool run in this process). */
const SERVERS_OF: Record<ScenarioName, ServerName[]> = {
  'login-success': ['bareVerify', 'sameStatements'],
  'login-wrong': ['bareVerify', 'sameStatements'],
  'verify-token': ['bareVerify', 'expressPeer'],
  'enrol-qr': [],
  mixed: [],
};

const loadLabel = (server: ServerName, scenario: ScenarioName): string => `${server} (${scenario})`;

export class Baselines {
  /** What each comparison measured, by scenario. */
  readonly measured = new Map<ScenarioName, Partial<Record<ComparisonName, Measured>>>();
  /** The raw load results, for the JSON (with MySQL's statement counters per request, where read). */
  readonly loads = new Map<string, LoadResult & { statementsPerRequest?: Record<string, number> }>();

  private constructor(
    private readonly settings: BaselineSettings,
    private readonly servers: Map<ServerName, Child>,
  ) {}

  static async start(settings: BaselineSettings): Promise<Baselines> {
    const wanted = new Set(settings.scenarios.flatMap((name) => SERVERS_OF[name]));
    wanted.delete('sameStatements');
    const servers = new Map<ServerName, Child>();
    for (const name of wanted) servers.set(name, await startServer(settings, name));
    return new Baselines(settings, servers);
  }

  /** The comparisons of one scenario's work, measured now. */
  async measure(name: ScenarioName, users: BenchUser[]): Promise<void> {
    const results: Partial<Record<ComparisonName, Measured>> = {};
    const statementUsers = this.settings.statements?.users ?? [];
    switch (name) {
      case 'login-success':
        results.bareVerify = await this.load(name, 'bareVerify', '/', bareVerifyBodies(users, true), validOutcome);
        results.sameStatements = await this.load(
          name,
          'sameStatements',
          '/login-success',
          statementsBaselineBodies(statementUsers, true),
          loginOutcome,
        );
        break;
      case 'login-wrong':
        results.bareVerify = await this.load(name, 'bareVerify', '/', bareVerifyBodies(users, false), validOutcome);
        results.sameStatements = await this.load(
          name,
          'sameStatements',
          '/login-wrong',
          statementsBaselineBodies(statementUsers, false),
          loginOutcome,
        );
        break;
      case 'verify-token':
        results.bareVerify = await this.load(name, 'bareVerify', '/', fixedSecretBodies(), validOutcome);
        results.expressPeer = await this.load(name, 'expressPeer', '/verify/token', fixedSecretBodies(), validOutcome);
        break;
      case 'enrol-qr': {
        const loop = await measureQrLoop(this.settings.durationS);
        results.qrLoop = { rps: loop.opsPerSec, p50: loop.p50, p99: loop.p99, cpuMsPerReq: loop.cpuMsPerOp };
        const { durationS, qrThreads, connections } = this.settings;
        const pool = await measureQrPool(durationS, qrThreads, connections);
        results.qrPool = { rps: pool.opsPerSec, p50: pool.p50, p99: pool.p99, cpuMsPerReq: pool.cpuMsPerOp };
        break;
      }
      case 'mixed':
        break;
    }
    const present = Object.entries(results).filter(([, value]) => value !== undefined);
    this.measured.set(name, Object.fromEntries(present));
  }

  /** MySQL/MariaDB: the same-statements server's statement counters per request during `scenario`. */
  statementsPerRequest(scenario: ScenarioName): Record<string, number> | undefined {
    return this.loads.get(loadLabel('sameStatements', scenario))?.statementsPerRequest;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((server) => server.stop()));
  }

  /** Warm-up and measured run with one generator (the statements baseline's steps must keep growing). */
  private async load(
    scenario: ScenarioName,
    serverName: ServerName,
    path: string,
    generator: Generator,
    classify: (status: number, body: string) => Outcome,
  ): Promise<LoadResult | undefined> {
    const startedForThisLoad =
      serverName === 'sameStatements' && this.settings.statements
        ? await startServer(this.settings, serverName, scenario)
        : undefined;
    const server = startedForThisLoad ?? this.servers.get(serverName);
    if (!server) return undefined;
    try {
      return await this.measureOn(server, scenario, serverName, path, generator, classify);
    } finally {
      await startedForThisLoad?.stop();
    }
  }

  private async measureOn(
    server: Child,
    scenario: ScenarioName,
    serverName: ServerName,
    path: string,
    generator: Generator,
    classify: (status: number, body: string) => Outcome,
  ): Promise<LoadResult> {
    const label = loadLabel(serverName, scenario);
    const common = {
      baseUrl: server.url,
      path,
      nextBody: generator.nextBody,
      classify,
      connections: this.settings.connections,
    };
    if (this.settings.warmupS > 0) await warmUp({ ...common, label }, this.settings.warmupS);
    const mysqlUrl = serverName === 'sameStatements' ? this.settings.mysqlUrl : undefined;
    const before = mysqlUrl ? await readCounters(mysqlUrl) : undefined;
    const result = await runLoad({
      ...common,
      label,
      durationS: this.settings.durationS,
      pid: server.process.pid,
    });
    this.loads.set(label, {
      ...result,
      ...(mysqlUrl && before
        ? { statementsPerRequest: perRequest(before, await readCounters(mysqlUrl), result.requests) }
        : {}),
    });
    return result;
  }
}

/** Attempts at starting a baseline server: another process may take the free port before it listens. */
const START_ATTEMPTS = 3;

async function startServer(settings: BaselineSettings, name: ServerName, scenario?: ScenarioName): Promise<Child> {
  const statements = name === 'sameStatements' ? settings.statements : undefined;
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startChild({
        name: `baseline ${name}`,
        args: ['-r', 'ts-node/register/transpile-only', SERVER_FILES[name]],
        cwd: settings.root,
        port,
        readyPath: '/',
        logFile: join(settings.work, `baseline-${name}${scenario ? `-${scenario}` : ''}.log`),
        env: {
          PORT: String(port),
          ...(statements
            ? {
                DATABASE_URL: statements.databaseUrl,
                BASELINE_TENANT: statements.tenant,
                LOCKOUT_MAX_FAILURES: String(statements.lockoutMaxFailures),
              }
            : {}),
        },
      });
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !String(error).includes('EADDRINUSE')) throw error;
    }
  }
}
