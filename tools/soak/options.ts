import { parseArgs } from 'node:util';
import { positiveInt } from '../shared/options';

export interface SoakOptions {
  /** Seconds of mixed traffic after the warm-up; the memory and error verdicts cover this span. */
  durationS: number;
  /** Seconds of the same traffic before the first RSS sample (JIT, pools and caches fill up first). */
  warmupS: number;
  /** Workers issuing requests at once (a race counts as one worker sending several). */
  concurrency: number;
  /** Users enrolled and activated before the traffic starts (more join through enrolments). */
  users: number;
  /** Seconds between progress lines and RSS samples. */
  intervalS: number;
  /** Where the JSON goes. */
  out: string;
}

const HELP = `npm run soak -- [options]
  --duration S      seconds of mixed traffic (default 60)
  --warmup S        seconds of traffic before the start RSS is taken (default 5)
  --concurrency C   concurrent workers over both instances (default 12)
  --users N         users enrolled and activated before the traffic (default 120)
  --interval S      seconds between progress lines / RSS samples (default 5)
  --out FILE        result JSON (default tools/soak/results/latest.json)
Environment: DATABASE_URL=mysql://user:pass@127.0.0.1:3306/db (loopback only): the soak creates
<db>_soak_<random> on that server and drops it at the end. Without it: one temporary SQLite file.`;

export function parseSoakOptions(argv: string[]): SoakOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      users: { type: 'string' },
      interval: { type: 'string' },
      out: { type: 'string', default: 'tools/soak/results/latest.json' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }
  return {
    durationS: positiveInt('duration', values.duration, 60),
    warmupS: positiveInt('warmup', values.warmup, 5),
    concurrency: positiveInt('concurrency', values.concurrency, 12),
    users: positiveInt('users', values.users, 120),
    intervalS: positiveInt('interval', values.interval, 5),
    out: values.out,
  };
}
