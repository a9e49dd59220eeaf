/** One fixed-duration, fixed-concurrency load run with autocannon, a per-second progress line and body-level counts. */
import autocannon from 'autocannon';
import { cpuTimeMs, eventLoopCpuTimeMs } from '../shared/processes';

export type Outcome = 'success' | 'fail' | 'other';

export interface LoadSpec {
  /** Shown in the progress line. */
  label: string;
  baseUrl: string;
  path: string;
  headers?: Record<string, string>;
  /** The body of the next request; called once per request. */
  nextBody: () => string;
  /** Sorts a response into success/fail by its body (e.g. `"result":"success"`). */
  classify?: (status: number, body: string) => Outcome;
  durationS: number;
  connections: number;
  /** Requests per second over all connections together; default: as fast as the server answers. */
  rate?: number;
  /** No progress lines (a load beside another that prints its own). */
  quiet?: boolean;
  /** The server's pid: its CPU time over the run gives CPU ms per request. */
  pid?: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  durationS: number;
  statusCounts: Record<string, number>;
  successes: number;
  fails: number;
  errors: number;
  timeouts: number;
  /** Server CPU (user + system) per answered request, ms; null without /proc or a pid. */
  cpuMsPerReq: number | null;
  /** The part of it on the server's event loop (main thread), ms; null without /proc or a pid. */
  eventLoopCpuMsPerReq: number | null;
}

const isTty = process.stderr.isTTY;

export function progress(line: string, final = false): void {
  if (isTty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
  else process.stderr.write(`${line}\n`);
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  let successes = 0;
  let fails = 0;
  const classify = spec.classify;
  const request: autocannon.Request = {
    method: 'POST',
    path: spec.path,
    headers: { 'content-type': 'application/json', ...spec.headers },
    setupRequest: (req) => ({ ...req, body: spec.nextBody() }),
    ...(classify
      ? {
          onResponse: (status: number, body: string) => {
            const outcome = classify(status, body);
            if (outcome === 'success') successes++;
            else if (outcome === 'fail') fails++;
          },
        }
      : {}),
  };

  let settle: (error: Error | null, result: autocannon.Result) => void = () => undefined;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    settle = (error, result) => (error ? reject(error) : resolve(result));
  });
  const instance = autocannon(
    {
      url: spec.baseUrl,
      connections: spec.connections,
      duration: spec.durationS,
      ...(spec.rate ? { overallRate: spec.rate } : {}),
      requests: [request],
      // Latency of every answer, whatever its status (a 429 still costs what it costs).
      excludeErrorStats: false,
    },
    (error, result) => settle(error as Error | null, result),
  );

  const cpuBefore = cpuTimeMs(spec.pid);
  const loopCpuBefore = eventLoopCpuTimeMs(spec.pid);
  let thisSecond = 0;
  let elapsed = 0;
  instance.on('response', () => {
    thisSecond++;
  });
  const timer = setInterval(() => {
    elapsed++;
    const counts = classify ? `  success ${successes}  fail ${fails}` : '';
    if (!spec.quiet) {
      progress(
        `  ${spec.label.padEnd(26)} ${String(elapsed).padStart(3)}/${spec.durationS} s  ${String(thisSecond).padStart(6)} req/s${counts}`,
      );
    }
    thisSecond = 0;
  }, 1000);

  const result = await finished.finally(() => clearInterval(timer));

  const statusCounts: Record<string, number> = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[status] = stat.count ?? 0;
  const requests = result.requests.total;
  const rps = requests / result.duration;
  const cpuAfter = cpuTimeMs(spec.pid);
  const cpuMsPerReq =
    cpuBefore !== undefined && cpuAfter !== undefined && requests > 0
      ? Number(((cpuAfter - cpuBefore) / requests).toFixed(3))
      : null;
  const loopCpuAfter = eventLoopCpuTimeMs(spec.pid);
  const eventLoopCpuMsPerReq =
    loopCpuBefore !== undefined && loopCpuAfter !== undefined && requests > 0
      ? Number(((loopCpuAfter - loopCpuBefore) / requests).toFixed(3))
      : null;
  progress(
    `  ${spec.label.padEnd(26)} done: ${rps.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms` +
      (cpuMsPerReq !== null ? `, ${cpuMsPerReq} ms CPU/req (event loop ${eventLoopCpuMsPerReq})` : '') +
      (classify ? `, success ${successes}, fail ${fails}` : '') +
      (result.errors ? `, ${result.errors} errors` : ''),
    true,
  );
  return {
    rps,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    durationS: result.duration,
    statusCounts,
    successes,
    fails,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMsPerReq,
    eventLoopCpuMsPerReq,
  };
}

/** At most this many warm-up slices per load. */
const MAX_WARMUP_SLICES = 4;

/**
 * Unmeasured load until the server is warm: slices of `sliceS` seconds, at least two, until a slice is
 * no more than 10 % faster than the one before (V8 has optimised the path), at most MAX_WARMUP_SLICES.
 * A fixed warm-up was not enough on a busy machine: one slice there served a few dozen requests, and the
 * measured run that followed still paid for compiling the path (the service far more than the small
 * baseline servers, so the ratios leaned against it).
 */
export async function warmUp(spec: Omit<LoadSpec, 'durationS' | 'pid'>, sliceS: number): Promise<void> {
  let previousRps = 0;
  for (let slice = 1; slice <= MAX_WARMUP_SLICES; slice++) {
    const { rps } = await runLoad({ ...spec, label: `${spec.label} warm-up ${slice}`, durationS: sliceS });
    if (slice > 1 && rps <= previousRps * 1.1) return;
    previousRps = rps;
  }
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * The slices of one load (the rounds of a scenario) as one result: counts and durations added up, CPU
 * per request over all requests, p50 the median of the slices' and p99 the worst slice's (percentiles
 * of separate runs cannot be merged exactly).
 */
export function mergeSlices(slices: LoadResult[]): LoadResult {
  const sum = (pick: (slice: LoadResult) => number): number => slices.reduce((total, slice) => total + pick(slice), 0);
  const requests = sum((slice) => slice.requests);
  const durationS = sum((slice) => slice.durationS);
  const perRequest = (pick: (slice: LoadResult) => number | null): number | null =>
    slices.every((slice) => pick(slice) !== null) && requests > 0
      ? Number((sum((slice) => (pick(slice) ?? 0) * slice.requests) / requests).toFixed(3))
      : null;
  const statusCounts: Record<string, number> = {};
  for (const slice of slices) {
    for (const [status, count] of Object.entries(slice.statusCounts))
      statusCounts[status] = (statusCounts[status] ?? 0) + count;
  }
  return {
    rps: durationS > 0 ? requests / durationS : 0,
    p50: median(slices.map((slice) => slice.p50)),
    p99: Math.max(...slices.map((slice) => slice.p99)),
    requests,
    durationS,
    statusCounts,
    successes: sum((slice) => slice.successes),
    fails: sum((slice) => slice.fails),
    errors: sum((slice) => slice.errors),
    timeouts: sum((slice) => slice.timeouts),
    cpuMsPerReq: perRequest((slice) => slice.cpuMsPerReq),
    eventLoopCpuMsPerReq: perRequest((slice) => slice.eventLoopCpuMsPerReq),
  };
}
