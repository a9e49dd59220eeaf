import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_QR_RENDER_THREADS } from '../../src/config/environment';
import { positiveInt } from '../shared/options';

export const SCENARIO_NAMES = ['login-success', 'login-wrong', 'verify-token', 'enrol-qr', 'mixed'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface BenchOptions {
  users: number;
  durationS: number;
  /**
   * Rounds per scenario: the service and its comparisons take turns in slices of durationS / rounds
   * seconds, so each ratio is measured side by side once per round (tools/bench/README.md).
   */
  rounds: number;
  /** Seconds of each unmeasured warm-up slice before a measured run (load.ts warmUp). */
  warmupS: number;
  connections: number;
  quick: boolean;
  scenarios: ScenarioName[];
  baselines: boolean;
  /** Run the service under `node --cpu-prof` and write the profile here. */
  profileDir?: string;
  /** Run the service with tools/bench/sql-trace.ts preloaded and report SQL statements per request. */
  traceSql: boolean;
  /** Enrolments per second (all connections together) that run beside the logins of `mixed`. */
  mixedEnrolRate: number;
  /** Logins per second of `mixed` (all connections together); 0: as fast as the connections go. */
  mixedLoginRate: number;
  /** Worker processes: 0 runs dist/main.js (one process), N runs dist/cluster.js with WEB_CONCURRENCY=N. */
  workers: number;
  /** QR_RENDER_THREADS of the service (each process), and the threads of the QR pool comparison. */
  qrThreads: number;
  /** Where the JSON goes (default tools/bench/results/latest.json). */
  out: string;
}

const HELP = `npm run bench -- [options]
  --users N          users seeded with an active config (default 30000; --quick 3000): 50 through
                     the API, the rest written into the database (see tools/bench/README.md)
  --duration S       measured seconds per scenario and per comparison (default 12; --quick 2)
  --rounds N         the measured seconds in N slices: the service and its comparisons take turns, one
                     slice each per round, and each ratio is the median of the rounds' (default 3; --quick 1)
  --warmup S         unmeasured slices of S seconds of the same load before each scenario and comparison,
                     until its req/s stops rising (2 to 4 slices; default 3; --quick 1; 0: none)
  --connections C    concurrent connections (default 50; --quick 10)
  --quick            CI mode: 1 s warm-up slices + 2 s in one round, 3000 users, 10 connections
  --only a,b         scenarios to run (${SCENARIO_NAMES.join(', ')})
  --no-baselines     skip the comparisons (the baseline servers, the QR loop and pool)
  --mixed-enrol-rate N  enrolments per second beside the logins of the mixed scenario (default 20)
  --mixed-login-rate N  logins per second of the mixed scenario (default 0: as fast as --connections go;
                     a rate the service keeps up with measures what enrolments do to a login, not a queue)
  --profile DIR      run the service under node --cpu-prof, profiles written to DIR
  --trace-sql        count the service's SQL statements per request (preloads tools/bench/sql-trace.ts)
  --cluster          run the service as npm run start:cluster (dist/cluster.js), one worker per core,
                     instead of one process; --workers N sets the count (implies --cluster)
  --qr-threads N     the service's QR_RENDER_THREADS and the QR pool comparison's threads
                     (default ${DEFAULT_QR_RENDER_THREADS}: the service's default on this machine)
  --out FILE         result JSON (default tools/bench/results/latest.json)
Environment: DATABASE_URL=mysql://... benchmarks that database instead of a temporary SQLite file.`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      'no-baselines': { type: 'boolean', default: false },
      'mixed-enrol-rate': { type: 'string' },
      'mixed-login-rate': { type: 'string' },
      profile: { type: 'string' },
      'trace-sql': { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      workers: { type: 'string' },
      'qr-threads': { type: 'string' },
      out: { type: 'string', default: 'tools/bench/results/latest.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const scenarios = values.only
    ? values.only.split(',').map((name) => {
        if (!(SCENARIO_NAMES as readonly string[]).includes(name)) throw new Error(`unknown scenario ${name}`);
        return name as ScenarioName;
      })
    : [...SCENARIO_NAMES];
  return {
    users: positiveInt('users', values.users, quick ? 3000 : 30000),
    durationS: positiveInt('duration', values.duration, quick ? 2 : 12),
    rounds: positiveInt('rounds', values.rounds, quick ? 1 : 3),
    warmupS: values.warmup === '0' ? 0 : positiveInt('warmup', values.warmup, quick ? 1 : 3),
    connections: positiveInt('connections', values.connections, quick ? 10 : 50),
    quick,
    scenarios,
    baselines: !values['no-baselines'],
    mixedEnrolRate: positiveInt('mixed-enrol-rate', values['mixed-enrol-rate'], 20),
    mixedLoginRate:
      values['mixed-login-rate'] === '0' ? 0 : positiveInt('mixed-login-rate', values['mixed-login-rate'], 0),
    profileDir: values.profile,
    traceSql: values['trace-sql'],
    workers: values.cluster || values.workers !== undefined ? positiveInt('workers', values.workers, cpus().length) : 0,
    qrThreads: positiveInt('qr-threads', values['qr-threads'], DEFAULT_QR_RENDER_THREADS),
    out: values.out,
  };
}
