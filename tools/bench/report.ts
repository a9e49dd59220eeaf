/** The result table and tools/bench/results/latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ScenarioRow {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  baselineRps: number | null;
  /** rps / baselineRps: the share of the bare limit the service reaches. */
  ratio: number | null;
  /** Service CPU per request (ms), and the bare limit's; steadier than req/s on a shared machine. */
  cpuMsPerReq: number | null;
  baselineCpuMsPerReq: number | null;
  /** baselineCpuMsPerReq / cpuMsPerReq: the same share, measured in CPU instead of wall clock. */
  cpuRatio: number | null;
  /** MySQL only, login-success: the bare SELECT + conditional UPDATE server. */
  dbBaselineRps?: number | null;
  dbRatio?: number | null;
  dbBaselineCpuMsPerReq?: number | null;
  dbCpuRatio?: number | null;
}

export interface BenchReport {
  scenarios: ScenarioRow[];
  meta: Record<string, unknown>;
}

export interface Measured {
  rps: number;
  p50?: number;
  p99?: number;
  cpuMsPerReq: number | null;
}

const round = (value: number, digits = 0): number => Number(value.toFixed(digits));
const share = (bare: number | null | undefined, service: number | null | undefined): number | null =>
  bare && service ? round(bare / service, 3) : null;

export function row(name: string, measured: Measured, baseline: Measured | null, db?: Measured | null): ScenarioRow {
  const result: ScenarioRow = {
    name,
    rps: round(measured.rps, 1),
    p50: measured.p50 ?? 0,
    p99: measured.p99 ?? 0,
    baselineRps: baseline ? round(baseline.rps, 1) : null,
    ratio: baseline ? share(measured.rps, baseline.rps) : null,
    cpuMsPerReq: measured.cpuMsPerReq,
    baselineCpuMsPerReq: baseline?.cpuMsPerReq ?? null,
    cpuRatio: share(baseline?.cpuMsPerReq, measured.cpuMsPerReq),
  };
  if (db !== undefined) {
    result.dbBaselineRps = db ? round(db.rps, 1) : null;
    result.dbRatio = db ? share(measured.rps, db.rps) : null;
    result.dbBaselineCpuMsPerReq = db?.cpuMsPerReq ?? null;
    result.dbCpuRatio = share(db?.cpuMsPerReq, measured.cpuMsPerReq);
  }
  return result;
}

export function formatTable(rows: ScenarioRow[]): string {
  const withDb = rows.some((r) => r.dbBaselineRps !== undefined);
  const header = [
    'scenario',
    'req/s',
    'p50 ms',
    'p99 ms',
    'baseline req/s',
    'ratio',
    'CPU ms/req',
    'base CPU ms/req',
    'cpu ratio',
    ...(withDb ? ['db baseline req/s', 'db ratio', 'db base CPU ms/req', 'db cpu ratio'] : []),
  ];
  const cell = (value: number | null | undefined, digits = 0): string =>
    value === null || value === undefined ? '-' : value.toFixed(digits);
  const body = rows.map((r) => [
    r.name,
    cell(r.rps),
    cell(r.p50),
    cell(r.p99),
    cell(r.baselineRps),
    cell(r.ratio, 3),
    cell(r.cpuMsPerReq, 3),
    cell(r.baselineCpuMsPerReq, 3),
    cell(r.cpuRatio, 3),
    ...(withDb
      ? [cell(r.dbBaselineRps), cell(r.dbRatio, 3), cell(r.dbBaselineCpuMsPerReq, 3), cell(r.dbCpuRatio, 3)]
      : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i].length)));
  const format = (line: string[]): string =>
    `| ${line.map((value, i) => (i === 0 ? value.padEnd(widths[i]) : value.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [format(header), rule, ...body.map(format)].join('\n');
}

export function writeReport(file: string, report: BenchReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
