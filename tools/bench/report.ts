/** The result table and tools/bench/results/latest.json. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { median } from './load';

/** What a scenario is compared with: each is a server or loop doing part or all of the same work. */
export const COMPARISONS = {
  bareVerify: 'node:http + speakeasy',
  sameStatements: 'node:http + the same SQL',
  expressPeer: 'express + speakeasy',
  qrLoop: 'qrcode loop',
  qrPool: 'qrcode pool',
} as const;
export type ComparisonName = keyof typeof COMPARISONS;

export interface Measured {
  rps: number;
  p50?: number;
  p99?: number;
  cpuMsPerReq: number | null;
}

export interface Comparison {
  rps: number;
  p50: number | null;
  p99: number | null;
  cpuMsPerReq: number | null;
  /** The service's req/s ÷ this one's: the share of its throughput the service reaches. */
  ratio: number;
  /** This one's CPU per request ÷ the service's: the same share, in CPU instead of wall clock. */
  cpuRatio: number | null;
  /** `ratio` in each round (service and comparison measured side by side); `ratio` is their median. */
  roundRatios: number[];
  /** `cpuRatio` in each round; `cpuRatio` is their median. */
  roundCpuRatios: (number | null)[];
}

/** One round of a scenario: the service's slice and its comparisons' slices, run one after another. */
export interface Round {
  service: Measured;
  comparisons: Partial<Record<ComparisonName, Measured>>;
}

/** The `mixed` scenario: logins alone, then the same logins while enrolments (with QR images) run. */
export interface MixedFigures {
  loginRpsAlone: number;
  loginP99Alone: number;
  loginRpsMixed: number;
  loginP99Mixed: number;
  /** loginP99Mixed ÷ loginP99Alone (the target is at most 2). */
  p99Ratio: number;
  enrolRps: number;
  enrolP99: number;
}

export interface ScenarioRow {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  /** Service CPU per request (ms); steadier than req/s on a shared machine. */
  cpuMsPerReq: number | null;
  comparisons: Partial<Record<ComparisonName, Comparison>>;
  mixed?: MixedFigures;
}

export interface BenchReport {
  scenarios: ScenarioRow[];
  meta: Record<string, unknown>;
}

const round = (value: number, digits = 0): number => Number(value.toFixed(digits));
const share = (numerator: number | null | undefined, denominator: number | null | undefined): number | null =>
  numerator && denominator ? round(numerator / denominator, 3) : null;

const medianOf = (values: (number | null)[]): number | null => {
  const present = values.filter((value): value is number => value !== null);
  return present.length === values.length && present.length > 0 ? round(median(present), 3) : null;
};

/**
 * A scenario's row: what the service and each comparison measured over all rounds, and each ratio as
 * the median of the rounds' ratios (each taken between slices run one right after the other, so a
 * change in the machine's background load between rounds moves both sides of it).
 */
export function row(
  name: string,
  measured: Measured,
  baselines: Partial<Record<ComparisonName, Measured>>,
  rounds: Round[],
  mixed?: MixedFigures,
): ScenarioRow {
  const comparisons: Partial<Record<ComparisonName, Comparison>> = {};
  for (const [comparison, baseline] of Object.entries(baselines) as [ComparisonName, Measured][]) {
    const paired = rounds.filter((r) => r.comparisons[comparison] !== undefined);
    const roundRatios = paired.map((r) => share(r.service.rps, r.comparisons[comparison]?.rps) ?? 0);
    const roundCpuRatios = paired.map((r) => share(r.comparisons[comparison]?.cpuMsPerReq, r.service.cpuMsPerReq));
    comparisons[comparison] = {
      rps: round(baseline.rps, 1),
      p50: baseline.p50 ?? null,
      p99: baseline.p99 ?? null,
      cpuMsPerReq: baseline.cpuMsPerReq,
      ratio: medianOf(roundRatios) ?? 0,
      cpuRatio: medianOf(roundCpuRatios),
      roundRatios,
      roundCpuRatios,
    };
  }
  return {
    name,
    rps: round(measured.rps, 1),
    p50: measured.p50 ?? 0,
    p99: measured.p99 ?? 0,
    cpuMsPerReq: measured.cpuMsPerReq,
    comparisons,
    ...(mixed ? { mixed } : {}),
  };
}

const cell = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => line[i].length)));
  const format = (line: string[]): string =>
    `| ${line.map((value, i) => (i === 0 ? value.padEnd(widths[i]) : value.padStart(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [format(header), rule, ...body.map(format)].join('\n');
}

/**
 * Two tables: the service per scenario with one column per comparison ("ratio (cpu ratio)", higher is
 * better; for mixed, login p99 with enrolments ÷ alone, lower is better), then what each comparison
 * measured.
 */
export function formatTables(rows: ScenarioRow[]): string {
  const used = (Object.keys(COMPARISONS) as ComparisonName[]).filter((name) =>
    rows.some((r) => r.comparisons[name] !== undefined),
  );
  const withMixed = rows.some((r) => r.mixed !== undefined);
  const service = markdownTable(
    [
      'scenario',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU ms/req',
      ...used.map((name) => `÷ ${COMPARISONS[name]}`),
      ...(withMixed ? ['p99 ÷ alone'] : []),
    ],
    rows.map((r) => [
      r.name,
      cell(r.rps),
      cell(r.p50),
      cell(r.p99),
      cell(r.cpuMsPerReq, 3),
      ...used.map((name) => {
        const comparison = r.comparisons[name];
        return comparison ? `${cell(comparison.ratio, 3)} (${cell(comparison.cpuRatio, 3)})` : '';
      }),
      ...(withMixed ? [r.mixed ? cell(r.mixed.p99Ratio, 2) : ''] : []),
    ]),
  );
  const measuredBaselines = rows.flatMap((r) =>
    used.flatMap((name) => {
      const comparison = r.comparisons[name];
      return comparison
        ? [
            [
              `${COMPARISONS[name]} (${r.name})`,
              cell(comparison.rps),
              cell(comparison.p50),
              cell(comparison.p99),
              cell(comparison.cpuMsPerReq, 3),
            ],
          ]
        : [];
    }),
  );
  const baselines = markdownTable(['comparison', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req'], measuredBaselines);
  const mixed = rows
    .filter((r) => r.mixed)
    .map(({ mixed: m }) =>
      m
        ? `mixed: login p99 ${m.loginP99Alone} ms alone (${cell(m.loginRpsAlone)} req/s), ${m.loginP99Mixed} ms ` +
          `(${cell(m.loginRpsMixed)} req/s) while ${cell(m.enrolRps, 1)} enrolments/s ran (their p99 ${m.enrolP99} ms): ` +
          `${cell(m.p99Ratio, 2)}× (target ≤ 2)`
        : '',
    );
  const perRound = rows.flatMap((r) =>
    used.flatMap((name) => {
      const comparison = r.comparisons[name];
      return comparison && comparison.roundRatios.length > 1
        ? [
            `${r.name} ÷ ${COMPARISONS[name]} by round: ${comparison.roundRatios.map((x) => cell(x, 3)).join(' ')}` +
              ` (cpu ${comparison.roundCpuRatios.map((x) => cell(x, 3)).join(' ')})`,
          ]
        : [];
    }),
  );
  return [
    service,
    '',
    "ratio: service req/s ÷ the comparison's; (cpu ratio): its CPU ms/req ÷ the service's; each the median of the rounds'. Higher is better.",
    ...(perRound.length > 0 ? ['', ...perRound] : []),
    '',
    baselines,
    ...(mixed.length > 0 ? ['', ...mixed] : []),
  ].join('\n');
}

export function writeReport(file: string, report: BenchReport): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
