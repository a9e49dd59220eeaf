import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { affectedRows, BoundSql, NamedSql } from '../database/named-sql';
import { BACKUP_CODE_KEY_ID_SQL } from './crypto/backup-codes';
import { sealedKeyIdSql } from './crypto/secret-cipher';
import { BackupCode } from './entities/backup-code.entity';
import { SubjectKind, TwoFactorConfig, TwoFactorStatus } from './entities/two-factor-config.entity';
import type { SealedSecret } from './config-secrets';
import type { SealedRowStore } from './secret-resealing';
import type { FailureCounted, LockoutPolicy } from './lockout-policy';
import type { Subject } from './two-factor.types';

/**
 * Every column of TwoFactorConfig by property. Typed against the entity, so a property added there
 * fails to compile here; the spec beside this file compares the names with the entity's metadata.
 */
export const CONFIG_COLUMNS = {
  id: 'id',
  tenant: 'tenant',
  kind: 'kind',
  subjectId: 'subject_id',
  account: 'account',
  secretCiphertext: 'secret_ciphertext',
  secretVersion: 'secret_version',
  algorithm: 'algorithm',
  digits: 'digits',
  period: 'period',
  status: 'status',
  lastUsedStep: 'last_used_step',
  failedAttempts: 'failed_attempts',
  lockedUntil: 'locked_until',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  activatedAt: 'activated_at',
} as const satisfies Record<keyof TwoFactorConfig, string>;

/** The numeric properties: mysql2 returns BIGINT columns as strings, better-sqlite3 as numbers. */
export const NUMERIC_CONFIG_PROPERTIES = [
  'secretVersion',
  'digits',
  'period',
  'lastUsedStep',
  'failedAttempts',
  'lockedUntil',
  'createdAt',
  'updatedAt',
  'activatedAt',
] as const satisfies readonly (keyof TwoFactorConfig)[];

const SELECTED_COLUMNS = Object.entries(CONFIG_COLUMNS)
  .map(([property, column]) => (property === column ? column : `${column} AS ${property}`))
  .join(', ');

/*
 * The statements of the login path: fixed texts, compiled once (NamedSql), measured to matter
 * (docs/performance.md). No quoting: none of these names is reserved in SQLite or MySQL/MariaDB.
 */
const SELECT_BY_SUBJECT = new NamedSql<{ tenant: string; kind: SubjectKind; subjectId: string }>(
  `SELECT ${SELECTED_COLUMNS} FROM two_factor_config WHERE tenant = :tenant AND kind = :kind AND subject_id = :subjectId`,
);

/**
 * Consumes a TOTP step: only a step newer than every step used before, on a usable config that is not
 * locked or hard-locked, and only while it holds the secret the code was checked against (its version:
 * a rotation in between wins).
 */
const CONSUME_STEP = new NamedSql<{
  id: string;
  step: number;
  now: number;
  secretVersion: number;
  hardLimit: number;
}>(
  "UPDATE two_factor_config SET last_used_step = :step, failed_attempts = 0, locked_until = NULL, status = 'active', " +
    'activated_at = COALESCE(activated_at, :now), updated_at = :now ' +
    "WHERE id = :id AND status IN ('pending', 'active') AND (locked_until IS NULL OR locked_until <= :now) " +
    'AND failed_attempts < :hardLimit AND (last_used_step IS NULL OR last_used_step < :step) ' +
    'AND secret_version = :secretVersion',
);

/*
 * A failure is counted by the first of these three that matches (each takes the row lock, so the next
 * judges the same count): most failures only count; every maxFailures-th engages a lock; the one that
 * reaches hardLimit hard-locks. A config already at hardLimit matches none: its count stays there.
 * locked_until is assigned before failed_attempts because MySQL evaluates SET left to right with the
 * values already assigned, SQLite with the old ones; so written, both read the old count.
 */
const COUNT_FAILURE = new NamedSql<{ id: string; now: number; maxFailures: number; hardLimit: number }>(
  'UPDATE two_factor_config SET failed_attempts = failed_attempts + 1, updated_at = :now ' +
    'WHERE id = :id AND failed_attempts + 1 < :hardLimit AND (failed_attempts + 1) % :maxFailures <> 0',
);

/**
 * Lock n (at n x maxFailures failures) lasts lockSeconds x 2^(n-1), capped at maxLockSeconds from the
 * count cappedFrom on (LockoutPolicy). The division is exact here, so it is the same on both databases.
 */
const LOCK_AFTER_FAILURE = new NamedSql<{
  id: string;
  now: number;
  maxFailures: number;
  hardLimit: number;
  lockSeconds: number;
  maxLockSeconds: number;
  cappedFrom: number;
}>(
  'UPDATE two_factor_config SET locked_until = :now + 1000 * CASE WHEN failed_attempts + 1 >= :cappedFrom ' +
    'THEN :maxLockSeconds ELSE :lockSeconds * (1 << ((failed_attempts + 1) / :maxFailures - 1)) END, ' +
    'failed_attempts = failed_attempts + 1, updated_at = :now ' +
    'WHERE id = :id AND failed_attempts + 1 < :hardLimit AND (failed_attempts + 1) % :maxFailures = 0',
);

/** The failure that reaches hardLimit: no more codes until an administrator unlocks. */
const HARD_LOCK_AFTER_FAILURE = new NamedSql<{ id: string; now: number; hardLimit: number }>(
  'UPDATE two_factor_config SET locked_until = NULL, failed_attempts = failed_attempts + 1, updated_at = :now ' +
    'WHERE id = :id AND failed_attempts + 1 = :hardLimit',
);

/**
 * Takes the config row's lock for a backup-code login, and checks under it that the config is active
 * and neither locked nor hard-locked. Every verification path locks the config row first, so concurrent requests queue on
 * it instead of deadlocking between backup_code and two_factor_config on InnoDB.
 */
const CLAIM_FOR_BACKUP_CODE = new NamedSql<{ id: string; now: number; hardLimit: number }>(
  'UPDATE two_factor_config SET updated_at = :now ' +
    "WHERE id = :id AND status = 'active' AND (locked_until IS NULL OR locked_until <= :now) " +
    'AND failed_attempts < :hardLimit',
);

/** Single use, decided by the database: the first request to match the unused row wins. */
const USE_BACKUP_CODE = new NamedSql<{ configId: string; hashes: string[]; now: number }>(
  'UPDATE backup_code SET used_at = :now WHERE config_id = :configId AND code_hash IN (:hashes) AND used_at IS NULL',
);

const CLEAR_FAILURES = new NamedSql<{ id: string; now: number }>(
  'UPDATE two_factor_config SET failed_attempts = 0, updated_at = :now WHERE id = :id',
);

const SEALED_SECRET_COLUMNS =
  'id, tenant, kind, subject_id AS subjectId, secret_ciphertext AS secretCiphertext, secret_version AS secretVersion';

/** A page of stored secrets, by id: what re-sealing reads. */
const SELECT_SECRETS_AFTER = new NamedSql<{ afterId: string; limit: number }>(
  `SELECT ${SEALED_SECRET_COLUMNS} FROM two_factor_config WHERE id > :afterId ORDER BY id LIMIT :limit`,
);

/** The same, only the secrets sealed under another key than `keyId`: what re-encryption reads. */
const SELECT_SECRETS_NOT_UNDER_KEY_AFTER = new NamedSql<{ afterId: string; keyId: string; limit: number }>(
  `SELECT ${SEALED_SECRET_COLUMNS} FROM two_factor_config ` +
    `WHERE id > :afterId AND ${sealedKeyIdSql('secret_ciphertext')} <> :keyId ORDER BY id LIMIT :limit`,
);

const COUNT_SECRETS_NOT_UNDER_KEY = new NamedSql<{ keyId: string }>(
  `SELECT COUNT(*) AS n FROM two_factor_config WHERE ${sealedKeyIdSql('secret_ciphertext')} <> :keyId`,
);

/**
 * Replaces a sealed secret only while the row still holds the one that was read, at the version it was
 * read at (the associated data binds it; a rotation changes both).
 */
const REPLACE_SECRET = new NamedSql<{ id: string; secretVersion: number; from: string; to: string }>(
  'UPDATE two_factor_config SET secret_ciphertext = :to ' +
    'WHERE id = :id AND secret_version = :secretVersion AND secret_ciphertext = :from',
);

/** Configs with an unused backup code hashed under another key than `keyId`. */
const COUNT_CONFIGS_WITH_CODES_NOT_UNDER_KEY = new NamedSql<{ keyId: string }>(
  `SELECT COUNT(DISTINCT config_id) AS n FROM backup_code WHERE used_at IS NULL AND ${BACKUP_CODE_KEY_ID_SQL} <> :keyId`,
);

/**
 * The statements that count one failure, in order, each with what it did when it matched: the first
 * that matches decides, and when none does the config was already hard-locked.
 */
export function failureStatements(
  parameters: { id: string; now: number },
  policy: LockoutPolicy,
): { statement: BoundSql; outcome: Exclude<FailureCounted, 'already-hard-locked'> }[] {
  const limits = { ...parameters, maxFailures: policy.settings.maxFailures, hardLimit: policy.settings.hardLimit };
  return [
    { statement: COUNT_FAILURE.bind(limits), outcome: 'counted' },
    {
      statement: LOCK_AFTER_FAILURE.bind({ ...limits, ...policy.settings, cappedFrom: policy.cappedFrom }),
      outcome: 'locked',
    },
    { statement: HARD_LOCK_AFTER_FAILURE.bind(limits), outcome: 'hard-locked' },
  ];
}

/** The fixed statements, for the spec that runs each against the migrated schema. */
export const LOGIN_STATEMENTS = {
  SELECT_BY_SUBJECT,
  CONSUME_STEP,
  COUNT_FAILURE,
  LOCK_AFTER_FAILURE,
  HARD_LOCK_AFTER_FAILURE,
  CLAIM_FOR_BACKUP_CODE,
  USE_BACKUP_CODE,
  CLEAR_FAILURES,
  SELECT_SECRETS_AFTER,
  SELECT_SECRETS_NOT_UNDER_KEY_AFTER,
  COUNT_SECRETS_NOT_UNDER_KEY,
  REPLACE_SECRET,
  COUNT_CONFIGS_WITH_CODES_NOT_UNDER_KEY,
};

export interface ConfigListFilter {
  tenant: string;
  kind: SubjectKind;
  subjectId?: string;
  status?: TwoFactorStatus;
  offset: number;
  limit: number;
}

/**
 * Every statement on two_factor_config and backup_code. The login path is raw SQL with named
 * parameters (above); the admin use cases use TypeORM. Writes take the manager of the caller's
 * transaction; reads default to the data source.
 */
@Injectable()
export class TwoFactorConfigRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async findBySubject(
    tenant: string,
    subject: Subject,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<TwoFactorConfig | null> {
    const rows = await SELECT_BY_SUBJECT.select<Record<string, unknown>>(manager, {
      tenant,
      kind: subject.kind,
      subjectId: subject.subjectId,
    });
    return rows.length === 0 ? null : configOfRow(rows[0]);
  }

  async consumeStep(
    manager: EntityManager,
    parameters: { id: string; step: number; now: number; secretVersion: number; hardLimit: number },
  ): Promise<boolean> {
    return (await CONSUME_STEP.affectedRows(manager, parameters)) === 1;
  }

  /** Counts a failure under the lockout policy and says what it did. */
  async countFailure(
    manager: EntityManager,
    parameters: { id: string; now: number },
    policy: LockoutPolicy,
  ): Promise<FailureCounted> {
    for (const { statement, outcome } of failureStatements(parameters, policy)) {
      if ((await affectedRows(manager, statement)) === 1) return outcome;
    }
    return 'already-hard-locked';
  }

  async claimForBackupCode(
    manager: EntityManager,
    parameters: { id: string; now: number; hardLimit: number },
  ): Promise<boolean> {
    return (await CLAIM_FOR_BACKUP_CODE.affectedRows(manager, parameters)) === 1;
  }

  async useBackupCode(
    manager: EntityManager,
    parameters: { configId: string; hashes: string[]; now: number },
  ): Promise<boolean> {
    return (await USE_BACKUP_CODE.affectedRows(manager, parameters)) === 1;
  }

  async clearFailures(manager: EntityManager, parameters: { id: string; now: number }): Promise<void> {
    await CLEAR_FAILURES.affectedRows(manager, parameters);
  }

  async insert(manager: EntityManager, config: TwoFactorConfig): Promise<void> {
    await manager.insert(TwoFactorConfig, config);
  }

  /** The tenant is part of every lookup: another tenant's config simply does not exist. */
  findOwned(
    tenant: string,
    kind: SubjectKind,
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<TwoFactorConfig | null> {
    return manager.findOne(TwoFactorConfig, { where: { id, tenant, kind } });
  }

  list(filter: ConfigListFilter): Promise<[TwoFactorConfig[], number]> {
    return this.dataSource.manager.findAndCount(TwoFactorConfig, {
      where: {
        tenant: filter.tenant,
        kind: filter.kind,
        ...(filter.subjectId !== undefined ? { subjectId: filter.subjectId } : {}),
        ...(filter.status !== undefined ? { status: filter.status } : {}),
      },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: filter.offset,
      take: filter.limit,
    });
  }

  /**
   * Changes a config; with `secretVersion`, only while the row is at that version (a rotation checks
   * that no other rotation came first). Returns whether the row was changed.
   */
  async update(
    manager: EntityManager,
    where: { id: string; secretVersion?: number },
    changes: Partial<TwoFactorConfig>,
  ): Promise<boolean> {
    return (await manager.update(TwoFactorConfig, where, changes)).affected === 1;
  }

  /**
   * The stored TOTP secrets as re-sealing reads and writes them, through `manager` (a query runner's:
   * each replacement is a statement of its own); with `notUnderKeyId`, only those sealed under another key.
   */
  sealedSecrets(manager: EntityManager, notUnderKeyId?: string): SealedRowStore<SealedSecret> {
    return {
      count: async () =>
        notUnderKeyId === undefined
          ? this.countAll(manager)
          : countOf(await COUNT_SECRETS_NOT_UNDER_KEY.select(manager, { keyId: notUnderKeyId })),
      after: (afterId, limit) =>
        notUnderKeyId === undefined
          ? SELECT_SECRETS_AFTER.select<SealedSecret>(manager, { afterId, limit })
          : SELECT_SECRETS_NOT_UNDER_KEY_AFTER.select<SealedSecret>(manager, { afterId, keyId: notUnderKeyId, limit }),
      replace: async (row, sealed) =>
        (await REPLACE_SECRET.affectedRows(manager, {
          id: row.id,
          secretVersion: row.secretVersion,
          from: row.secretCiphertext,
          to: sealed,
        })) === 1,
    };
  }

  async countAll(manager: EntityManager = this.dataSource.manager): Promise<number> {
    return manager.count(TwoFactorConfig);
  }

  /** Configs with an unused backup code hashed under another key than `keyId` (used codes do not matter). */
  async countConfigsWithBackupCodesNotUnder(keyId: string): Promise<number> {
    return countOf(await COUNT_CONFIGS_WITH_CODES_NOT_UNDER_KEY.select(this.dataSource.manager, { keyId }));
  }

  /** Deletes a config of the tenant and its backup codes; returns whether the config was there. */
  async delete(manager: EntityManager, tenant: string, id: string): Promise<boolean> {
    await manager.delete(BackupCode, { configId: id });
    const removed = await manager.delete(TwoFactorConfig, { id, tenant });
    return removed.affected === 1;
  }

  /** Replaces every backup code of a config with the given hashes. */
  async replaceBackupCodes(manager: EntityManager, configId: string, codeHashes: string[], now: number): Promise<void> {
    // Take the config row's lock before touching its codes: two regenerations at once otherwise
    // deadlocked on InnoDB (each held gap locks from its DELETE that the other's INSERT needed).
    await manager.update(TwoFactorConfig, { id: configId }, { updatedAt: now });
    await manager.delete(BackupCode, { configId });
    await manager.insert(
      BackupCode,
      codeHashes.map((codeHash) => ({ id: randomUUID(), configId, codeHash, usedAt: null, createdAt: now })),
    );
  }

  /** TOTP secrets and unused backup codes per key id (each a scan of its table). */
  async rowsPerKeyId(): Promise<{ secret: 'totp_secret' | 'backup_code'; keyId: string; rows: number }[]> {
    const secrets = await this.dataSource.query<{ key_id: string; n: string | number }[]>(
      `SELECT ${sealedKeyIdSql('secret_ciphertext')} AS key_id, COUNT(*) AS n FROM two_factor_config ` +
        `GROUP BY ${sealedKeyIdSql('secret_ciphertext')}`,
    );
    const codes = await this.dataSource.query<{ key_id: string; n: string | number }[]>(
      `SELECT ${BACKUP_CODE_KEY_ID_SQL} AS key_id, COUNT(*) AS n FROM backup_code WHERE used_at IS NULL ` +
        `GROUP BY ${BACKUP_CODE_KEY_ID_SQL}`,
    );
    return [
      ...secrets.map((row) => ({ secret: 'totp_secret' as const, keyId: row.key_id, rows: Number(row.n) })),
      ...codes.map((row) => ({ secret: 'backup_code' as const, keyId: row.key_id, rows: Number(row.n) })),
    ];
  }

  /** Unused backup codes per config, in the order of `configIds`. */
  backupCodesRemaining(configIds: string[], manager: EntityManager = this.dataSource.manager): Promise<number[]> {
    return countUnusedBackupCodes(manager, configIds);
  }
}

/**
 * Unused backup codes per config, in the order of `configIds`, through `manager` (a transaction's, so
 * the audit writer can count them for the webhook outbox without a repository instance).
 */
export async function countUnusedBackupCodes(manager: EntityManager, configIds: string[]): Promise<number[]> {
  if (configIds.length === 0) return [];
  const rows = await manager
    .createQueryBuilder(BackupCode, 'code')
    .select('code.configId', 'configId')
    .addSelect('COUNT(*)', 'remaining')
    .where({ configId: In(configIds), usedAt: IsNull() })
    .groupBy('code.configId')
    .getRawMany<{ configId: string; remaining: string | number }>();
  const byConfig = new Map(rows.map((row) => [row.configId, Number(row.remaining)]));
  return configIds.map((id) => byConfig.get(id) ?? 0);
}

/** The `n` of a `SELECT COUNT(*) AS n` (a string from mysql2, a number from better-sqlite3). */
function countOf(rows: unknown[]): number {
  return Number((rows[0] as { n: number | string }).n);
}

function configOfRow(row: Record<string, unknown>): TwoFactorConfig {
  const config = { ...row } as Record<string, unknown>;
  for (const property of NUMERIC_CONFIG_PROPERTIES) {
    const value = row[property];
    config[property] = value === null ? null : Number(value);
  }
  return config as unknown as TwoFactorConfig;
}
