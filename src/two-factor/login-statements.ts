import type { EntityManager } from 'typeorm';
import type { TotpAlgorithm, TotpDigits, TotpPeriod } from './totp/totp.types';
import type { SubjectKind, TwoFactorConfig, TwoFactorStatus } from './entities/two-factor-config.entity';

/*
 * The statements on the login path, as fixed SQL texts with bound parameters. TypeORM's query builder
 * costs more CPU than the statement itself, and on SQLite it inlines numbers (timestamps, steps) into
 * the text, so better-sqlite3 prepared every statement again; a fixed text is prepared once and then
 * found in the statement cache. The texts are plain SQL that SQLite and MySQL/MariaDB read alike: no
 * quoting (none of these names is reserved in either), `?` placeholders, no dialect functions.
 */

const CONFIG_COLUMNS =
  'id, tenant, kind, subject_id, account, secret_ciphertext, algorithm, digits, period, status, ' +
  'last_used_step, failed_attempts, locked_until, created_at, updated_at, activated_at';

const SELECT_CONFIG_BY_SUBJECT = `SELECT ${CONFIG_COLUMNS} FROM two_factor_config WHERE tenant = ? AND kind = ? AND subject_id = ?`;

/**
 * Consumes a TOTP step: only a step newer than every step used before, on a usable config that is not
 * locked, checked against the secret that is still stored (no rotation in between). Parameters:
 * step, now (activated_at), now (updated_at), id, now (lock), step, sealed secret.
 */
export const CONSUME_STEP =
  "UPDATE two_factor_config SET last_used_step = ?, failed_attempts = 0, locked_until = NULL, status = 'active', " +
  'activated_at = COALESCE(activated_at, ?), updated_at = ? ' +
  "WHERE id = ? AND status IN ('pending', 'active') AND (locked_until IS NULL OR locked_until <= ?) " +
  'AND (last_used_step IS NULL OR last_used_step < ?) AND secret_ciphertext = ?';

/** Counts a failure that stays below the limit. Parameters: now, id, maxFailures. */
export const COUNT_FAILURE =
  'UPDATE two_factor_config SET failed_attempts = failed_attempts + 1, updated_at = ? ' +
  'WHERE id = ? AND failed_attempts + 1 < ?';

/** The failure that reaches the limit: lock, and start the count again. Parameters: lockUntil, now, id, maxFailures. */
export const LOCK_AFTER_FAILURE =
  'UPDATE two_factor_config SET locked_until = ?, failed_attempts = 0, updated_at = ? ' +
  'WHERE id = ? AND failed_attempts + 1 >= ?';

/** Row shape of CONFIG_COLUMNS; mysql2 returns BIGINT columns as strings, better-sqlite3 as numbers. */
interface ConfigRow {
  id: string;
  tenant: string;
  kind: SubjectKind;
  subject_id: string;
  account: string;
  secret_ciphertext: string;
  algorithm: TotpAlgorithm;
  digits: number | string;
  period: number | string;
  status: TwoFactorStatus;
  last_used_step: number | string | null;
  failed_attempts: number | string;
  locked_until: number | string | null;
  created_at: number | string;
  updated_at: number | string;
  activated_at: number | string | null;
}

const numberOrNull = (value: number | string | null): number | null => (value === null ? null : Number(value));

function configOfRow(row: ConfigRow): TwoFactorConfig {
  return {
    id: row.id,
    tenant: row.tenant,
    kind: row.kind,
    subjectId: row.subject_id,
    account: row.account,
    secretCiphertext: row.secret_ciphertext,
    algorithm: row.algorithm,
    digits: Number(row.digits) as TotpDigits,
    period: Number(row.period) as TotpPeriod,
    status: row.status,
    lastUsedStep: numberOrNull(row.last_used_step),
    failedAttempts: Number(row.failed_attempts),
    lockedUntil: numberOrNull(row.locked_until),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    activatedAt: numberOrNull(row.activated_at),
  };
}

/** The config of (tenant, kind, subject id), through the manager's connection (its transaction, if any). */
export async function findConfigBySubject(
  manager: EntityManager,
  tenant: string,
  kind: SubjectKind,
  subjectId: string,
): Promise<TwoFactorConfig | null> {
  const rows = await manager.query<ConfigRow[]>(SELECT_CONFIG_BY_SUBJECT, [tenant, kind, subjectId]);
  return rows.length === 0 ? null : configOfRow(rows[0]);
}

/**
 * Runs an UPDATE/DELETE inside a transaction and returns the rows it matched (the structured result
 * carries them on both drivers; the plain one is the last insert id on SQLite).
 */
export async function affectedRows(manager: EntityManager, sql: string, parameters: unknown[]): Promise<number> {
  if (!manager.queryRunner) throw new Error('affectedRows needs a transaction manager');
  const result = await manager.queryRunner.query(sql, parameters, true);
  return result.affected ?? 0;
}
