/** The soak's summary on stdout and its JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Duplicate, RaceKind, RaceTally } from './ledger';
import { Problem, RouteTally } from './client';
import { CrossCheck } from './cross-check';
import { MemoryVerdict } from './memory';
import { SoakOptions } from './options';

export interface SoakReport {
  date: string;
  database: string;
  options: SoakOptions;
  wallClockS: number;
  /** Everything sent, seeding and warm-up included: the error and duplicate verdicts cover all of it. */
  requests: number;
  /** Sent after the warm-up, over measuredS. */
  measuredRequests: number;
  measuredS: number;
  requestsPerInstance: number[];
  routes: Record<string, RouteTally>;
  actions: Record<string, number>;
  races: Partial<Record<RaceKind, RaceTally>>;
  users: number;
  loginSuccesses: number;
  serverErrors: { count: number; samples: Problem[] };
  unexpected: { count: number; samples: Problem[] };
  duplicates: Duplicate[];
  crossCheck: CrossCheck;
  memory: { instance: string; pid: number | undefined; verdict: MemoryVerdict | null; samples: unknown[] }[];
  /** Why the soak failed; empty when it passed. */
  failures: string[];
}

export function writeReport(file: string, report: SoakReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}

export function printSummary(report: SoakReport): void {
  const lines: string[] = [''];
  const rps = report.measuredS > 0 ? report.measuredRequests / report.measuredS : 0;
  lines.push(
    `requests: ${report.requests} in all (${report.requestsPerInstance.join(' / ')} per instance), ` +
      `${report.measuredRequests} in the ${report.measuredS} s after the warm-up (${rps.toFixed(0)} req/s)`,
  );
  lines.push(
    '',
    `${'route'.padEnd(44)} ${'requests'.padStart(8)}  ${'mean ms'.padStart(7)}  ${'max ms'.padStart(7)}  statuses`,
  );
  for (const [route, tally] of Object.entries(report.routes).sort(([a], [b]) => a.localeCompare(b))) {
    const count = Object.values(tally.statuses).reduce((sum, n) => sum + n, 0);
    const statuses = Object.entries(tally.statuses)
      .map(([status, n]) => `${status}: ${n}`)
      .join(', ');
    lines.push(
      `${route.padEnd(44)} ${String(count).padStart(8)}  ${(tally.totalMs / count).toFixed(1).padStart(7)}  ` +
        `${tally.maxMs.toFixed(0).padStart(7)}  ${statuses}`,
    );
  }
  lines.push(
    '',
    `actions: ${Object.entries(report.actions)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ')}`,
  );
  lines.push(`users: ${report.users}, successful logins: ${report.loginSuccesses}`);
  for (const [kind, race] of Object.entries(report.races)) {
    lines.push(
      `races (${kind}): ${race.run} run, ${race.oneWinner} with exactly one winner, ${race.noWinner} with none, ` +
        `${race.severalWinners} with several; wins by instance ${race.winsByInstance.join(' / ')}`,
    );
  }
  const check = report.crossCheck;
  lines.push(
    `database: ${check.auditVerifySuccesses} verify.success and ${check.auditBackupCodesUsed} backup_code.used audit ` +
      `events, ${check.loginSessions} login sessions (${check.expectedLoginSessions} expected), ` +
      `for ${check.clientSuccesses} successes seen ` +
      `(${check.clientBackupSuccesses} by backup code); ${check.duplicatesInAudit.length} credentials accepted twice`,
  );
  lines.push(
    '',
    `server errors: ${report.serverErrors.count}   duplicate successes: ${report.duplicates.length}   ` +
      `unexpected answers: ${report.unexpected.count}`,
  );
  for (const problem of [...report.serverErrors.samples, ...report.unexpected.samples].slice(0, 10)) {
    lines.push(
      `  ${problem.route} on ${problem.instance} → ${problem.status} (${problem.requestId}): ${problem.detail}`,
    );
  }
  for (const duplicate of report.duplicates.slice(0, 10)) {
    lines.push(
      `  duplicate: ${duplicate.credential} accepted ${duplicate.successes}× (${duplicate.requestIds.join(', ')})`,
    );
  }
  lines.push('', 'RSS (MiB)   start   end    max   bound  steady');
  for (const { instance, verdict } of report.memory) {
    lines.push(
      verdict
        ? `instance ${instance}  ${verdict.startMiB.toFixed(1).padStart(6)} ${verdict.endMiB.toFixed(1).padStart(6)} ` +
            `${verdict.maxMiB.toFixed(1).padStart(6)}  +${verdict.boundMiB.toFixed(0).padStart(4)}  ${verdict.steady ? 'yes' : 'NO'}`
        : `instance ${instance}  no figures (no /proc?)`,
    );
  }
  lines.push('', report.failures.length === 0 ? 'soak PASSED' : `soak FAILED: ${report.failures.join('; ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
