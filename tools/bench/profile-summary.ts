/**
 * Top self-time functions of a V8 .cpuprofile (node --cpu-prof), aggregated by function + script, and
 * by package (node_modules/<pkg>, node: internals, the app's own dist/ files).
 *
 *   npx ts-node --transpile-only tools/bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile [--top 20]
 *   npx ts-node --transpile-only tools/bench/profile-summary.ts /tmp/prof          (every profile in the folder)
 *   ... --focus jwtVerify,findOne,transaction   (inclusive time under these function names)
 *   ... --callers writev                       (which callers a hot function's self time comes from)
 *   ... --from 3349488402 --to 3358420469   (only samples in that window: µs of CLOCK_MONOTONIC,
 *                                            which run.ts records per scenario in meta.profileWindows)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface SelfTimeEntry {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length);
  if (path.startsWith('node:')) return path;
  return relative(process.cwd(), path) || path;
}

function packageOf(url: string): string {
  if (url === '') return '(native / VM)';
  if (url.startsWith('node:')) return 'node: internals';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = path.slice(modules + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  return 'app (dist/)';
}

/** A time window in the profile's clock: microseconds of CLOCK_MONOTONIC, as `process.hrtime.bigint() / 1000n`. */
export interface TimeWindow {
  fromUs: number;
  toUs: number;
}

/** One window, or several (a scenario's measured slices, between which other loads ran). */
export type Windows = TimeWindow | TimeWindow[];

export function monotonicNowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/**
 * Self time per profile node, in microseconds, from samples × timeDeltas (hitCount as a fallback).
 * With a window, only the samples taken inside it count: V8 stamps samples with the same monotonic
 * clock as process.hrtime, so another process (the bench) can say when a load ran.
 */
function selfTimes(profile: CpuProfile, window?: Windows): Map<number, number> {
  const windows = window === undefined ? undefined : Array.isArray(window) ? window : [window];
  const self = new Map<number, number>();
  if (profile.samples && profile.timeDeltas && profile.samples.length === profile.timeDeltas.length) {
    // timeDeltas[i] is the time from sample i-1 to sample i; sample i lasts until sample i+1.
    let timestamp = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      timestamp += profile.timeDeltas[i];
      if (windows && !windows.some((w) => timestamp >= w.fromUs && timestamp <= w.toUs)) continue;
      const delta = profile.timeDeltas[i + 1] ?? 0;
      self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + Math.max(0, delta));
    }
    return self;
  }
  const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const perHit = (profile.endTime - profile.startTime) / totalHits;
  for (const node of profile.nodes) self.set(node.id, (node.hitCount ?? 0) * perHit);
  return self;
}

/** Shares are of busy time: `(idle)` (the event loop waiting) is counted apart. */
export function aggregate(
  profile: CpuProfile,
  window?: Windows,
): {
  byFunction: SelfTimeEntry[];
  byPackage: SelfTimeEntry[];
  totalMs: number;
  idleMs: number;
} {
  const self = selfTimes(profile, window);
  const byFunction = new Map<string, SelfTimeEntry>();
  const byPackage = new Map<string, SelfTimeEntry>();
  let total = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : shortUrl(url);
    const key = `${name}\u0000${where}`;
    const entry = byFunction.get(key) ?? { name, where, selfMs: 0, share: 0 };
    entry.selfMs += us / 1000;
    byFunction.set(key, entry);
    const pkg = packageOf(url);
    const pkgEntry = byPackage.get(pkg) ?? { name: pkg, where: '', selfMs: 0, share: 0 };
    pkgEntry.selfMs += us / 1000;
    byPackage.set(pkg, pkgEntry);
  }
  const finish = (entries: Iterable<SelfTimeEntry>): SelfTimeEntry[] =>
    [...entries]
      .map((entry) => ({ ...entry, share: total > 0 ? entry.selfMs / (total / 1000) : 0 }))
      .sort((a, b) => b.selfMs - a.selfMs);
  return {
    byFunction: finish(byFunction.values()),
    byPackage: finish(byPackage.values()),
    totalMs: total / 1000,
    idleMs: idle / 1000,
  };
}

/** A printable summary: the top N functions by self time and the split by package. */
/**
 * Inclusive time (self + callees) of the functions named in `names`, each sample counted once per
 * name however deep the recursion: "how much of the busy time is spent under jwtVerify".
 */
export function inclusive(profile: CpuProfile, names: string[], window?: Windows): Map<string, number> {
  const self = selfTimes(profile, window);
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const wanted = new Set(names);
  const result = new Map<string, number>(names.map((name) => [name, 0]));
  for (const [id, us] of self) {
    if (us === 0) continue;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)?.callFrame.functionName ?? '';
      if (wanted.has(name) && !seen.has(name)) {
        seen.add(name);
        result.set(name, (result.get(name) ?? 0) + us / 1000);
      }
    }
  }
  return result;
}

/** Who calls `name`: self time of `name` split by the calling function (one level up). */
export function callers(profile: CpuProfile, name: string, window?: Windows): SelfTimeEntry[] {
  const self = selfTimes(profile, window);
  const parent = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const result = new Map<string, SelfTimeEntry>();
  let total = 0;
  for (const node of profile.nodes) {
    if (node.callFrame.functionName !== name) continue;
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const caller = parent.get(node.id)?.callFrame;
    const key = caller
      ? `${caller.functionName || '(anonymous)'}  (${shortUrl(caller.url)}:${caller.lineNumber + 1})`
      : '(root)';
    const entry = result.get(key) ?? { name: key, where: '', selfMs: 0, share: 0 };
    entry.selfMs += us / 1000;
    result.set(key, entry);
  }
  return [...result.values()]
    .map((entry) => ({ ...entry, share: total > 0 ? entry.selfMs / (total / 1000) : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
}

/** Functions worth an inclusive figure on the login path (those absent from a profile show 0). */
export const DEFAULT_FOCUS = [
  'jwtVerify',
  'validate',
  'verifyLogin',
  'findOne',
  'transaction',
  'execute',
  'getQueryAndParameters',
  'query',
  'recordAudit',
  'createInTransaction',
  'decrypt',
  'verify',
  'hotp',
  'toDataURL',
  'writev',
];

export function summarise(file: string, top = 20, window?: Windows, focus: string[] = DEFAULT_FOCUS): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const { byFunction, byPackage, totalMs, idleMs } = aggregate(profile, window);
  const pct = (share: number): string => `${(share * 100).toFixed(1).padStart(5)}%`;
  const lines = [
    `busy ${(totalMs / 1000).toFixed(1)} s, idle ${(idleMs / 1000).toFixed(1)} s (shares are of busy time)`,
    '  self ms    share  function  (script:line)',
  ];
  for (const entry of byFunction.slice(0, top)) {
    lines.push(`${entry.selfMs.toFixed(0).padStart(8)}  ${pct(entry.share)}  ${entry.name}  (${entry.where})`);
  }
  lines.push('  by package (self time):');
  for (const entry of byPackage.slice(0, 12)) {
    lines.push(`${entry.selfMs.toFixed(0).padStart(8)}  ${pct(entry.share)}  ${entry.name}`);
  }
  if (focus.length > 0) {
    lines.push('  inclusive (self + callees), by function name:');
    const totals = [...inclusive(profile, focus, window)].filter(([, ms]) => ms > 0).sort((a, b) => b[1] - a[1]);
    for (const [name, ms] of totals) lines.push(`${ms.toFixed(0).padStart(8)}  ${pct(ms / totalMs)}  ${name}`);
  }
  return lines.join('\n');
}

function main(): void {
  const { values, positionals: paths } = parseArgs({
    allowPositionals: true,
    options: {
      top: { type: 'string', default: '20' },
      from: { type: 'string' },
      to: { type: 'string' },
      focus: { type: 'string' },
      callers: { type: 'string' },
    },
  });
  const top = Number(values.top);
  const focus = values.focus !== undefined ? values.focus.split(',').filter(Boolean) : DEFAULT_FOCUS;
  const window =
    values.from !== undefined || values.to !== undefined
      ? { fromUs: Number(values.from ?? 0), toUs: Number(values.to ?? Number.MAX_SAFE_INTEGER) }
      : undefined;
  if (paths.length === 0 || !Number.isInteger(top) || top <= 0) {
    process.stderr.write(
      'usage: ts-node --transpile-only tools/bench/profile-summary.ts <file.cpuprofile|dir> [--top N]\n',
    );
    process.exit(2);
  }
  for (const path of paths) {
    const files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((file) => file.endsWith('.cpuprofile'))
          .map((file) => join(path, file))
      : [path];
    for (const file of files) {
      if (values.callers !== undefined) {
        const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
        process.stdout.write(`${file}: callers of ${values.callers} (self time)\n`);
        for (const entry of callers(profile, values.callers, window).slice(0, top)) {
          process.stdout.write(
            `${entry.selfMs.toFixed(0).padStart(8)}  ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.name}\n`,
          );
        }
        continue;
      }
      process.stdout.write(`${file}\n${summarise(file, top, window, focus)}\n\n`);
    }
  }
}

if (require.main === module) main();
