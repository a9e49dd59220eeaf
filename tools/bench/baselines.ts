/**
 * The bare limits beside each scenario. The baseline servers start once (idle until used), and each
 * scenario's baseline runs right after the scenario itself, so both see the same background load on a
 * shared machine.
 */
import { join } from 'node:path';
import { ScenarioName } from './args';
import { LoadResult, Outcome, runLoad } from './load';
import { Child, freePort, startChild } from '../shared/processes';
import { LoopResult, measureQrLoop } from './qr-baseline';
import { bareVerifyBodies, dbBaselineBodies, fixedSecretBodies, Generator } from './scenarios';
import { BenchUser } from './seed';

const validOutcome = (status: number, body: string): Outcome =>
  status === 200 && body.includes('"valid":true') ? 'success' : status === 200 ? 'fail' : 'other';
const consumedOutcome = (status: number, body: string): Outcome =>
  status === 200 && body.includes('"consumed":true') ? 'success' : status === 200 ? 'fail' : 'other';

export interface BaselineSettings {
  root: string;
  work: string;
  durationS: number;
  connections: number;
  users: number;
  scenarios: ScenarioName[];
  /** Set on MySQL/MariaDB: the database of the SELECT + UPDATE baseline. */
  mysqlUrl?: string;
}

export class Baselines {
  readonly verify = new Map<ScenarioName, LoadResult>();
  dbLogin?: LoadResult;
  qr?: LoopResult;

  private constructor(
    private readonly settings: BaselineSettings,
    private readonly verifyServer?: Child,
    private readonly dbServer?: Child,
  ) {}

  static async start(settings: BaselineSettings): Promise<Baselines> {
    const wants = (name: ScenarioName): boolean => settings.scenarios.includes(name);
    let verifyServer: Child | undefined;
    let dbServer: Child | undefined;
    if (wants('login-success') || wants('login-wrong') || wants('verify-token')) {
      const port = await freePort();
      verifyServer = await startChild({
        name: 'baseline-verify-server',
        args: ['-r', 'ts-node/register/transpile-only', 'tools/bench/baseline-verify-server.ts'],
        cwd: settings.root,
        port,
        readyPath: '/',
        logFile: join(settings.work, 'baseline-verify.log'),
        env: { PORT: String(port) },
      });
    }
    if (settings.mysqlUrl && wants('login-success')) {
      const port = await freePort();
      dbServer = await startChild({
        name: 'baseline-db-server',
        args: ['-r', 'ts-node/register/transpile-only', 'tools/bench/baseline-db-server.ts'],
        cwd: settings.root,
        port,
        readyPath: '/',
        logFile: join(settings.work, 'baseline-db.log'),
        env: { PORT: String(port), DATABASE_URL: settings.mysqlUrl, BENCH_USERS: String(settings.users) },
        timeoutMs: 120_000,
      });
    }
    return new Baselines(settings, verifyServer, dbServer);
  }

  /** The bare limit of one scenario's work, measured now. */
  async measure(name: ScenarioName, users: BenchUser[]): Promise<void> {
    switch (name) {
      case 'login-success':
        this.verify.set(
          name,
          await this.load('baseline verify (valid)', this.verifyServer, bareVerifyBodies(users, true), validOutcome),
        );
        if (this.dbServer) {
          this.dbLogin = await this.load(
            'baseline mysql select+update',
            this.dbServer,
            dbBaselineBodies(this.settings.users),
            consumedOutcome,
          );
        }
        break;
      case 'login-wrong':
        this.verify.set(
          name,
          await this.load('baseline verify (wrong)', this.verifyServer, bareVerifyBodies(users, false), validOutcome),
        );
        break;
      case 'verify-token':
        this.verify.set(
          name,
          await this.load('baseline verify (fixed)', this.verifyServer, fixedSecretBodies(), validOutcome),
        );
        break;
      case 'enrol-qr':
        this.qr = await measureQrLoop(this.settings.durationS);
        break;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.verifyServer?.stop(), this.dbServer?.stop()]);
  }

  private load(
    label: string,
    server: Child | undefined,
    generator: Generator,
    classify: (status: number, body: string) => Outcome,
  ): Promise<LoadResult> {
    if (!server) throw new Error(`${label}: its server is not running`);
    return runLoad({
      label,
      baseUrl: server.url,
      path: '/',
      nextBody: generator.nextBody,
      classify,
      durationS: this.settings.durationS,
      connections: this.settings.connections,
      pid: server.process.pid,
    });
  }
}
