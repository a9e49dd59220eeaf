/**
 * The comparisons beside each scenario. The baseline servers start once (idle until used). Each
 * scenario runs in rounds: in each, the service's slice and one slice of each comparison, one right
 * after the other (tools/bench/run.ts), so both sides of a ratio see the same background load on a
 * shared machine; warm-ups come before the first round. The same-statements server runs only around
 * its own scenario's rounds: on SQLite it opens the service's file with a WAL checkpoint worker of its
 * own, which checkpoints whatever is in the WAL, the service's writes too, while it runs (from before
 * the scenario's warm-up to its last round, so every round sees it alike).
 */
import { join } from 'node:path';
import { ScenarioName } from './args';
import { LoadResult, LoadSpec, mergeSlices, median, runLoad, warmUp } from './load';
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
  /** Seconds of each comparison's slice in a round. */
  sliceS: number;
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

/** A load on a comparison server: where it goes and what it sends. */
interface ComparisonLoad {
  server: ServerName;
  path: string;
  makeGenerator: () => Generator;
}

export class Baselines {
  /** What each comparison measured over all rounds, by scenario (set by `finish`). */
  readonly measured = new Map<ScenarioName, Partial<Record<ComparisonName, Measured>>>();
  /** What each comparison measured in each round, by scenario. */
  readonly rounds = new Map<ScenarioName, Partial<Record<ComparisonName, Measured>>[]>();
  /** The raw load results over all rounds, for the JSON (with MySQL's statement counters per request, where read). */
  readonly loads = new Map<string, LoadResult & { statementsPerRequest?: Record<string, number> }>();
  /** The slices of each load so far, and its MySQL counters per request with their request counts. */
  private readonly slices = new Map<string, { results: LoadResult[]; counters: Record<string, number>[] }>();
  /** Each load's generator, kept across rounds (the statements baseline's steps must keep growing). */
  private readonly generators = new Map<string, Generator>();
  /** Servers started for one scenario's rounds (the same-statements server). */
  private readonly scenarioServers = new Map<string, Child>();

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

  /**
   * Before a scenario's first round: starts the scenario's own servers (the same-statements server) and
   * warms up each comparison server, so that every round, the first too, is one slice after another.
   */
  async prepare(name: ScenarioName, users: BenchUser[]): Promise<void> {
    for (const load of this.loadsOf(name, users)) {
      const target = await this.target(name, load);
      if (target && this.settings.warmupS > 0) {
        await warmUp({ ...target.spec, label: loadLabel(load.server, name) }, this.settings.warmupS);
      }
    }
  }

  /** One round of the comparisons of one scenario's work, measured now. */
  async measure(name: ScenarioName, users: BenchUser[], round: number): Promise<void> {
    const results: Partial<Record<ComparisonName, Measured>> = {};
    for (const load of this.loadsOf(name, users)) results[load.server] = await this.slice(name, round, load);
    if (name === 'enrol-qr') {
      const { sliceS, qrThreads, connections } = this.settings;
      const loop = await measureQrLoop(sliceS);
      results.qrLoop = { rps: loop.opsPerSec, p50: loop.p50, p99: loop.p99, cpuMsPerReq: loop.cpuMsPerOp };
      const pool = await measureQrPool(sliceS, qrThreads, connections);
      results.qrPool = { rps: pool.opsPerSec, p50: pool.p50, p99: pool.p99, cpuMsPerReq: pool.cpuMsPerOp };
    }
    const present = Object.entries(results).filter(([, value]) => value !== undefined);
    const rounds = this.rounds.get(name) ?? [];
    rounds.push(Object.fromEntries(present));
    this.rounds.set(name, rounds);
  }

  /** After a scenario's last round: stops its own servers and puts the rounds together. */
  async finish(name: ScenarioName): Promise<void> {
    for (const [label, server] of this.scenarioServers) {
      if (label.endsWith(`(${name})`)) {
        await server.stop();
        this.scenarioServers.delete(label);
      }
    }
    const rounds = this.rounds.get(name) ?? [];
    const merged: Partial<Record<ComparisonName, Measured>> = {};
    for (const comparison of new Set(rounds.flatMap((r) => Object.keys(r) as ComparisonName[]))) {
      const label = loadLabel(comparison as ServerName, name);
      const slices = this.slices.get(label);
      if (slices) {
        const result = mergeSlices(slices.results);
        merged[comparison] = result;
        const statementsPerRequest = combinePerRequest(slices.counters, slices.results);
        this.loads.set(label, { ...result, ...(statementsPerRequest ? { statementsPerRequest } : {}) });
      } else {
        // The QR loop and pool: slices of equal length, so req/s is their mean.
        const measured = rounds.map((r) => r[comparison]).filter((m): m is Measured => m !== undefined);
        const rps = measured.reduce((total, m) => total + m.rps, 0) / measured.length;
        const cpu = measured.every((m) => m.cpuMsPerReq !== null)
          ? measured.reduce((total, m) => total + (m.cpuMsPerReq ?? 0) * m.rps, 0) / (rps * measured.length)
          : null;
        merged[comparison] = {
          rps,
          p50: median(measured.map((m) => m.p50 ?? 0)),
          p99: Math.max(...measured.map((m) => m.p99 ?? 0)),
          cpuMsPerReq: cpu === null ? null : Number(cpu.toFixed(3)),
        };
      }
    }
    this.measured.set(name, merged);
  }

  /** MySQL/MariaDB: the same-statements server's statement counters per request during `scenario`. */
  statementsPerRequest(scenario: ScenarioName): Record<string, number> | undefined {
    return this.loads.get(loadLabel('sameStatements', scenario))?.statementsPerRequest;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.servers.values(), ...this.scenarioServers.values()].map((server) => server.stop()));
  }

  /** The loads on comparison servers of a scenario (the QR loop and pool run in this process). */
  private loadsOf(name: ScenarioName, users: BenchUser[]): ComparisonLoad[] {
    const statementUsers = this.settings.statements?.users ?? [];
    switch (name) {
      case 'login-success':
      case 'login-wrong': {
        const success = name === 'login-success';
        return [
          { server: 'bareVerify', path: '/', makeGenerator: () => bareVerifyBodies(users, success) },
          {
            server: 'sameStatements',
            path: `/${name}`,
            makeGenerator: () => statementsBaselineBodies(statementUsers, success),
          },
        ];
      }
      case 'verify-token':
        return [
          { server: 'bareVerify', path: '/', makeGenerator: fixedSecretBodies },
          { server: 'expressPeer', path: '/verify/token', makeGenerator: fixedSecretBodies },
        ];
      case 'enrol-qr':
      case 'mixed':
        return [];
    }
  }

  /**
   * The server of a load (the scenario's own is started on first use) and its load spec, with one
   * generator kept across warm-up and rounds (the statements baseline's steps must keep growing).
   */
  private async target(
    scenario: ScenarioName,
    load: ComparisonLoad,
  ): Promise<{ server: Child; spec: Omit<LoadSpec, 'label' | 'durationS' | 'pid'> } | undefined> {
    const label = loadLabel(load.server, scenario);
    let server = this.servers.get(load.server) ?? this.scenarioServers.get(label);
    if (!server && load.server === 'sameStatements' && this.settings.statements) {
      server = await startServer(this.settings, load.server, scenario);
      this.scenarioServers.set(label, server);
    }
    if (!server) return undefined;
    let generator = this.generators.get(label);
    if (!generator) {
      generator = load.makeGenerator();
      this.generators.set(label, generator);
    }
    const classify = load.server === 'sameStatements' ? loginOutcome : validOutcome;
    return {
      server,
      spec: {
        baseUrl: server.url,
        path: load.path,
        nextBody: generator.nextBody,
        classify,
        connections: this.settings.connections,
      },
    };
  }

  /** One measured slice of a load, with MySQL's statement counters around it for the same-statements server. */
  private async slice(scenario: ScenarioName, round: number, load: ComparisonLoad): Promise<LoadResult | undefined> {
    const target = await this.target(scenario, load);
    if (!target) return undefined;
    const label = loadLabel(load.server, scenario);
    const mysqlUrl = load.server === 'sameStatements' ? this.settings.mysqlUrl : undefined;
    const before = mysqlUrl ? await readCounters(mysqlUrl) : undefined;
    const result = await runLoad({
      ...target.spec,
      label: `${label} ${round + 1}`,
      durationS: this.settings.sliceS,
      pid: target.server.process.pid,
    });
    const slices = this.slices.get(label) ?? { results: [], counters: [] };
    slices.results.push(result);
    if (mysqlUrl && before) slices.counters.push(perRequest(before, await readCounters(mysqlUrl), result.requests));
    this.slices.set(label, slices);
    return result;
  }
}

/** Counters per request of several slices, weighted by their requests; undefined when none were read. */
export function combinePerRequest(
  perSlice: Record<string, number>[],
  slices: { requests: number }[],
): Record<string, number> | undefined {
  if (perSlice.length === 0) return undefined;
  const requests = slices.reduce((total, slice) => total + slice.requests, 0);
  const combined: Record<string, number> = {};
  perSlice.forEach((counters, i) => {
    for (const [kind, value] of Object.entries(counters)) {
      combined[kind] = (combined[kind] ?? 0) + (value * slices[i].requests) / Math.max(1, requests);
    }
  });
  return Object.fromEntries(Object.entries(combined).map(([kind, value]) => [kind, Number(value.toFixed(2))]));
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
