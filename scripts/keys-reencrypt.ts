/**
 * Re-seals every stored TOTP secret and webhook signing secret under the first key of
 * TWOFA_ENCRYPTION_KEYS, while the service runs, then reports what is stored under which key
 * (README, "Key rotation"). Reads the settings as the service does (.env, then the environment).
 *
 *   npm run keys:reencrypt [-- --batch-size 500] [--pause-ms 0]
 *
 * Progress on stderr, the report on stdout. Exit codes: 0 nothing is left under an old key; 2 secrets
 * are left under an old key (run it again); 3 some secrets do not open; 4 only backup codes are left
 * under an old key (regenerate them); 1 it could not run (settings, database).
 */
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { cryptoConfig, databaseConfigFrom } from '../src/config/app.config';
import { environment } from '../src/config/environment';
import { buildDataSourceOptions } from '../src/database/data-source-options';
import {
  KeyReencryptionReport,
  reencryptUnderFirstKey,
  RESEALED_KINDS,
  ResealedKind,
  VERDICT_EXIT_CODES,
  verdictOf,
} from '../src/keys/key-reencryption';
import { SecretCipher } from '../src/two-factor/crypto/secret-cipher';
import type { ResealOutcome } from '../src/two-factor/secret-resealing';

const USAGE =
  'usage: npm run keys:reencrypt [-- --batch-size N] [--pause-ms M]\n' +
  '  N rows per read (1 to 10000, default 500); M ms to wait between batches (0 to 60000, default 0)';

/** How each stored row is named in the lines about one of them. */
const ROW_NAMES: Record<ResealedKind, string> = { totp_secret: 'config', webhook_secret: 'webhook subscription' };

/** Rows that do not open, listed by id up to this many per kind (the rest are counted). */
const UNOPENABLE_LISTED = 20;

async function main(): Promise<number> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { values } = parseArgs({
    options: { 'batch-size': { type: 'string', default: '500' }, 'pause-ms': { type: 'string', default: '0' } },
  });
  const batchSize = Number(values['batch-size']);
  const pauseMs = Number(values['pause-ms']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error(USAGE);
  if (!Number.isInteger(pauseMs) || pauseMs < 0 || pauseMs > 60_000) throw new Error(USAGE);

  const env = environment();
  const cipher = new SecretCipher(cryptoConfig());
  const dataSource = new DataSource({ ...buildDataSourceOptions(databaseConfigFrom(env)), migrationsRun: false });
  await dataSource.initialize();
  try {
    if (await dataSource.showMigrations()) {
      throw new Error(
        'The database has migrations this version has not run yet: start the service of this version once ' +
          '(it runs them), or npm run migration:run, then run keys:reencrypt again',
      );
    }
    const [first, ...others] = cipher.keyIds;
    process.stderr.write(
      `Re-sealing under key 1 of TWOFA_ENCRYPTION_KEYS (key id ${first}; old keys: ${others.join(', ') || 'none'}), ` +
        `${batchSize} rows per batch\n`,
    );
    const started = Date.now();
    const report = await reencryptUnderFirstKey(dataSource, cipher, {
      batchSize,
      pauseMs,
      onProgress: progressPrinter(),
    });
    process.stdout.write(formatReport(report, Date.now() - started));
    return VERDICT_EXIT_CODES[verdictOf(report)];
  } finally {
    await dataSource.destroy();
  }
}

/**
 * A bar redrawn in place on a terminal; elsewhere (a log, a pipe) a line per batch, at most one a
 * second, and the last one of each kind.
 */
function progressPrinter(): (kind: ResealedKind, outcome: ResealOutcome, total: number, finished: boolean) => void {
  const terminal = process.stderr.isTTY;
  let lastLineAt = 0;
  return (kind, outcome, total, finished) => {
    // Rows rotated before the run reached them are under the new key already and not read: done is done.
    const share = finished || total === 0 ? 1 : Math.min(outcome.scanned / total, 1);
    const width = 30;
    const filled = Math.round(share * width);
    const line =
      `${kind.padEnd(14)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ` +
      `${outcome.scanned}/${total} read, ${outcome.resealed} re-sealed, ${outcome.changed} changed meanwhile, ` +
      `${outcome.unopenable.length} do not open`;
    if (terminal) {
      process.stderr.write(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
    } else if (finished || Date.now() - lastLineAt >= 1000) {
      process.stderr.write(`${line}\n`);
      lastLineAt = Date.now();
    }
  };
}

function formatReport(report: KeyReencryptionReport, elapsedMs: number): string {
  const lines: string[] = [];
  const table = (rows: (string | number)[][]) => {
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => String(row[column]).length)));
    for (const row of rows) {
      lines.push(
        row
          .map((cell, column) =>
            typeof cell === 'number' ? String(cell).padStart(widths[column]) : cell.padEnd(widths[column]),
          )
          .join('  ')
          .trimEnd(),
      );
    }
  };
  lines.push(`keys:reencrypt: first key ${report.keyIds[0]}, ${(elapsedMs / 1000).toFixed(1)} s`, '');
  lines.push('this run:');
  table([
    ['secret', 'read', 're-sealed', 'changed meanwhile', 'do not open'],
    ...RESEALED_KINDS.map((kind) => {
      const pass = report.passes[kind];
      return [kind, pass.scanned, pass.resealed, pass.changed, pass.unopenable.length];
    }),
  ]);
  for (const kind of RESEALED_KINDS) {
    const unopenable = report.passes[kind].unopenable;
    for (const row of unopenable.slice(0, UNOPENABLE_LISTED)) {
      lines.push(`  does not open: ${ROW_NAMES[kind]} ${row.id} (key id ${row.keyId ?? 'none'}: ${row.reason})`);
    }
    if (unopenable.length > UNOPENABLE_LISTED) {
      lines.push(`  ... and ${unopenable.length - UNOPENABLE_LISTED} more ${kind} rows that do not open`);
    }
  }
  lines.push('', 'stored rows per key id (as /metrics twofa_encrypted_rows counts them; key 1 encrypts):');
  table([['secret', 'key_id', 'key', 'rows'], ...report.rows.map((row) => [row.secret, row.keyId, row.key, row.rows])]);
  lines.push(
    '',
    `configs with unused backup codes under an old key: ${report.configsWithOldBackupCodes}` +
      (report.configsWithOldBackupCodes === 0
        ? ''
        : '. Backup codes are stored only as keyed hashes and cannot be moved to the new key: have them ' +
          'regenerated (POST .../2faConfig/{id}/backupCodes) before the old key is removed, or they stop ' +
          'working then (TOTP codes are not affected).'),
  );
  const verdict = verdictOf(report);
  const meaning: Record<typeof verdict, string> = {
    done: 'nothing is stored under an old key: the old keys can be removed from TWOFA_ENCRYPTION_KEYS',
    'rows-left':
      'secrets are still under an old key (changed while this ran, or written by an instance that does not ' +
      'have the new key first): make sure every instance runs with the new key first, and run keys:reencrypt again',
    unopenable:
      'some secrets do not open (see above): a key they need is missing from TWOFA_ENCRYPTION_KEYS, or the row ' +
      'is damaged; keep the old keys until this is resolved',
    'backup-codes-left': 'every secret is under the first key; only backup codes are left under an old key (see above)',
  };
  lines.push('', `result: ${verdict} (exit ${VERDICT_EXIT_CODES[verdict]}): ${meaning[verdict]}`, '');
  return lines.join('\n');
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`keys:reencrypt: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
