/**
 * Lints the OpenAPI document as clients get it (the service's /docs-json, scripts/served-openapi.ts) with
 * Redocly CLI (redocly.yaml: `recommended`) and Spectral (.spectral.yaml: `spectral:oas`).
 * Fails on any error, and on any warning that docs/openapi-lint.md does not list with its reason (or a
 * listed warning that no longer occurs, so the list stays true).
 *
 *   npm run lint:openapi
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servedOpenApiDocument } from './served-openapi';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const ACCEPTED_WARNINGS = 'docs/openapi-lint.md';

type Linter = 'Redocly' | 'Spectral';

interface Problem {
  linter: Linter;
  severity: 'error' | 'warning' | 'info' | 'hint';
  rule: string;
  /** JSON pointer into the document, e.g. `#/paths/~1health~1live/get/responses`. */
  where: string;
  message: string;
}

/**
 * Runs a linter's CLI and returns the JSON report it wrote to `outputPath`, or else to stdout (both exit
 * non-zero when they find errors; the verdict is made here, from the problems).
 */
function runJson(command: string, args: string[], outputPath?: string): unknown {
  const result = spawnSync(join(BIN, command), args, {
    cwd: ROOT,
    encoding: 'utf8',
    // No telemetry and no update check: CI has no network but the npm registry.
    env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
  });
  if (result.error) throw result.error;
  const report = outputPath ? (existsSync(outputPath) ? readFileSync(outputPath, 'utf8') : '') : result.stdout;
  try {
    return JSON.parse(report);
  } catch {
    throw new Error(`${command} wrote no JSON report (exit ${result.status}):\n${result.stdout}${result.stderr}`);
  }
}

function pointer(path: (string | number)[]): string {
  return `#/${path.map((segment) => String(segment).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
}

function redoclyProblems(documentPath: string): Problem[] {
  const output = runJson('redocly', ['lint', '--config', 'redocly.yaml', '--format=json', documentPath]) as {
    problems: { ruleId: string; severity: 'error' | 'warn'; message: string; location: { pointer: string }[] }[];
  };
  return output.problems.map((problem) => ({
    linter: 'Redocly',
    severity: problem.severity === 'warn' ? 'warning' : problem.severity,
    rule: problem.ruleId,
    where: problem.location[0]?.pointer ?? '#',
    message: problem.message,
  }));
}

const SPECTRAL_SEVERITIES = ['error', 'warning', 'info', 'hint'] as const;

function spectralProblems(documentPath: string): Problem[] {
  const reportPath = `${documentPath}.spectral.json`;
  const args = ['lint', '--ruleset', '.spectral.yaml', '--format', 'json', '--output', reportPath, documentPath];
  const output = runJson('spectral', args, reportPath) as {
    code: string;
    severity: number;
    message: string;
    path: (string | number)[];
  }[];
  return output.map((problem) => ({
    linter: 'Spectral',
    severity: SPECTRAL_SEVERITIES[problem.severity],
    rule: problem.code,
    where: pointer(problem.path),
    message: problem.message,
  }));
}

/** The rows `| Redocly | `rule` | `pointer` | reason |` of docs/openapi-lint.md. */
function acceptedWarnings(): Set<string> {
  const rows = readFileSync(join(ROOT, ACCEPTED_WARNINGS), 'utf8').matchAll(
    /^\| (Redocly|Spectral) \| `([^`]+)` \| `([^`]+)` \| .+\|$/gm,
  );
  return new Set([...rows].map(([, linter, rule, where]) => `${linter} ${rule} ${where}`));
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'twofa-openapi-lint-'));
  let problems: Problem[];
  try {
    const documentPath = join(workDir, 'openapi.json');
    writeFileSync(documentPath, JSON.stringify(await servedOpenApiDocument(ROOT), null, 2));
    process.stdout.write('GET /docs-json: linting with Redocly CLI (redocly.yaml) and Spectral (.spectral.yaml)\n');
    problems = [...redoclyProblems(documentPath), ...spectralProblems(documentPath)];
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const accepted = acceptedWarnings();
  const seen = new Set<string>();
  let failures = 0;
  for (const linter of ['Redocly', 'Spectral'] as const) {
    const own = problems.filter((problem) => problem.linter === linter);
    const count = (severity: Problem['severity']) => own.filter((problem) => problem.severity === severity).length;
    process.stdout.write(
      `\n${linter}: ${count('error')} errors, ${count('warning')} warnings, ${count('info') + count('hint')} infos/hints\n`,
    );
    for (const problem of own) {
      const key = `${linter} ${problem.rule} ${problem.where}`;
      seen.add(key);
      const listed = problem.severity !== 'error' && accepted.has(key);
      if (problem.severity === 'error' || (problem.severity === 'warning' && !listed)) failures++;
      const verdict =
        problem.severity === 'error'
          ? 'ERROR'
          : listed
            ? `listed in ${ACCEPTED_WARNINGS}`
            : problem.severity === 'warning'
              ? 'NOT LISTED'
              : problem.severity;
      process.stdout.write(
        `  ${problem.severity} ${problem.rule} at ${problem.where}: ${problem.message} [${verdict}]\n`,
      );
    }
  }
  const stale = [...accepted].filter((key) => !seen.has(key));
  for (const key of stale)
    process.stdout.write(`\n${ACCEPTED_WARNINGS} lists a warning that no longer occurs: ${key}\n`);
  if (failures > 0 || stale.length > 0) {
    process.stdout.write(
      `\nlint:openapi FAILED: ${failures} errors or unlisted warnings, ${stale.length} stale entries in ${ACCEPTED_WARNINGS}\n`,
    );
    process.exitCode = 1;
  } else {
    process.stdout.write('\nlint:openapi: no errors; every warning is listed with its reason\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`lint:openapi: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
