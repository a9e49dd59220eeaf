import { DataSource, EntityManager } from 'typeorm';
import { isSerializationFailure } from '../common/errors/database-errors';
import { ConfigSecrets, SealedSecret } from '../two-factor/config-secrets';
import { SecretCipher } from '../two-factor/crypto/secret-cipher';
import { ResealOutcome, resealSecrets, SealedRow, SealedRowStore } from '../two-factor/secret-resealing';
import { TwoFactorConfigRepository } from '../two-factor/two-factor-config.repository';
import { SealedSigningSecret, WebhookRepository } from '../webhooks/webhook.repository';
import { resealSigningSecret } from '../webhooks/webhook-secret';

/** What is stored per encryption key, named as /metrics names it (twofa_encrypted_rows{secret}). */
export const STORED_KINDS = ['totp_secret', 'backup_code', 'webhook_secret'] as const;
export type StoredKind = (typeof STORED_KINDS)[number];

/** The kinds re-encryption moves to the first key; backup codes are hashes and cannot be re-keyed. */
export type ResealedKind = Exclude<StoredKind, 'backup_code'>;
export const RESEALED_KINDS: readonly ResealedKind[] = ['totp_secret', 'webhook_secret'];

/** One kind's rows not under the first key, and how one of them is sealed again under it. */
export interface ReencryptionPass<Row extends SealedRow> {
  rows: SealedRowStore<Row>;
  reseal(row: Row): string;
}

export interface ReencryptionPasses {
  totp_secret: ReencryptionPass<SealedSecret>;
  webhook_secret: ReencryptionPass<SealedSigningSecret>;
}

/**
 * The passes of a re-encryption through `manager` (a query runner's: every replacement is a statement of
 * its own, so nothing holds a row lock longer than one UPDATE). Each reads only the rows sealed under
 * another key than the first, so a rerun picks up what is left and touches nothing else.
 */
export function reencryptionPasses(manager: EntityManager, cipher: SecretCipher): ReencryptionPasses {
  const secrets = new ConfigSecrets(cipher);
  return {
    totp_secret: {
      rows: lostRacesLeftToNextRun(
        new TwoFactorConfigRepository(manager.connection).sealedSecrets(manager, cipher.primaryKeyId),
      ),
      reseal: (row) => secrets.seal(row, secrets.open(row)),
    },
    webhook_secret: {
      rows: lostRacesLeftToNextRun(new WebhookRepository(manager).sealedSigningSecrets(cipher.primaryKeyId)),
      reseal: (row) => resealSigningSecret(cipher, row),
    },
  };
}

/**
 * A replacement that lost a race (a deadlock, or on Galera a certification conflict with a change made on
 * another node) counts as changed meanwhile, and the row is left to the next run: each replacement here
 * is a statement of its own, so the failure undid nothing else. Only here: the upgrade that re-seals in
 * a migration (ResealSecrets1796000000000) must stop instead, or it would be recorded as done with the
 * row still in the form the service no longer opens.
 */
function lostRacesLeftToNextRun<Row extends SealedRow>(store: SealedRowStore<Row>): SealedRowStore<Row> {
  return {
    ...store,
    replace: async (row, sealed) => {
      try {
        return await store.replace(row, sealed);
      } catch (error) {
        if (isSerializationFailure(error)) return false;
        throw error;
      }
    },
  };
}

/** Stored rows under one key id: `key` is its place in TWOFA_ENCRYPTION_KEYS ("1" encrypts) or "unlisted". */
export interface RowsUnderKey {
  secret: StoredKind;
  keyId: string;
  key: string;
  rows: number;
}

export interface KeyReencryptionReport {
  /** The configured key ids in order; the first encrypts. */
  keyIds: string[];
  /** What each pass did. */
  passes: Record<ResealedKind, ResealOutcome>;
  /**
   * The stored rows per kind and key id once the passes ended, counted as /metrics counts them (unused
   * backup codes only); every configured key appears, with 0 when nothing is under it.
   */
  rows: RowsUnderKey[];
  /** Configs with unused backup codes hashed under another key than the first. */
  configsWithOldBackupCodes: number;
}

/**
 * How a run ended, worst first, with the exit code of `npm run keys:reencrypt`:
 * - `unopenable` (3): some secrets do not open (a key missing from the list, a damaged row); rerunning
 *   does not help;
 * - `rows-left` (2): secrets are still under an old key (changed while read, or written meanwhile by an
 *   instance that does not have the new key first): run it again;
 * - `backup-codes-left` (4): every secret is under the first key, but some configs still have backup codes
 *   under an old key: regenerate them before the old key goes, or they stop working;
 * - `done` (0): nothing is under an old key: it can be removed.
 * Exit code 1 is a run that could not finish (settings, database).
 */
export const VERDICT_EXIT_CODES = { done: 0, 'rows-left': 2, unopenable: 3, 'backup-codes-left': 4 } as const;
export type ReencryptionVerdict = keyof typeof VERDICT_EXIT_CODES;

export function verdictOf(report: KeyReencryptionReport): ReencryptionVerdict {
  const primaryKeyId = report.keyIds[0];
  if (RESEALED_KINDS.some((kind) => report.passes[kind].unopenable.length > 0)) return 'unopenable';
  const left = (kind: StoredKind) =>
    report.rows.some((row) => row.secret === kind && row.keyId !== primaryKeyId && row.rows > 0);
  if (RESEALED_KINDS.some(left)) return 'rows-left';
  return report.configsWithOldBackupCodes > 0 ? 'backup-codes-left' : 'done';
}

export interface ReencryptionOptions {
  batchSize?: number;
  /** A wait between two batches. */
  pauseMs?: number;
  /** Called after every batch of a pass. */
  onProgress?: (kind: ResealedKind, outcome: ResealOutcome, total: number, finished: boolean) => void;
}

/**
 * Re-seals every stored TOTP secret and webhook signing secret that is not under the first key of
 * TWOFA_ENCRYPTION_KEYS, while the service runs: a row changed meanwhile is left to that change (and
 * to the next run), never overwritten (resealSecrets). Then counts what is under which key.
 */
export async function reencryptUnderFirstKey(
  dataSource: DataSource,
  cipher: SecretCipher,
  { batchSize, pauseMs, onProgress }: ReencryptionOptions = {},
): Promise<KeyReencryptionReport> {
  const queryRunner = dataSource.createQueryRunner();
  const passes = {} as Record<ResealedKind, ResealOutcome>;
  try {
    const planned = reencryptionPasses(queryRunner.manager, cipher);
    for (const kind of RESEALED_KINDS) {
      const pass: ReencryptionPass<SealedRow> = planned[kind];
      passes[kind] = await resealSecrets(pass.rows, (row) => pass.reseal(row), {
        batchSize,
        pauseMs,
        onProgress: (outcome, total, finished) => onProgress?.(kind, outcome, total, finished),
      });
    }
  } finally {
    await queryRunner.release();
  }
  const configs = new TwoFactorConfigRepository(dataSource);
  const counted = [
    ...(await configs.rowsPerKeyId()),
    ...(await new WebhookRepository(dataSource.manager).secretsPerKeyId()).map((usage) => ({
      ...usage,
      secret: 'webhook_secret' as const,
    })),
  ];
  const rows: RowsUnderKey[] = [];
  for (const secret of STORED_KINDS) {
    const ofKind = counted.filter((usage) => usage.secret === secret);
    const keyIds = [...new Set([...cipher.keyIds, ...ofKind.map((usage) => usage.keyId)])];
    for (const keyId of keyIds) {
      const n = ofKind.find((usage) => usage.keyId === keyId)?.rows ?? 0;
      rows.push({ secret, keyId, key: cipher.keyPlaceOf(keyId), rows: n });
    }
  }
  return {
    keyIds: cipher.keyIds,
    passes,
    rows,
    configsWithOldBackupCodes: await configs.countConfigsWithBackupCodesNotUnder(cipher.primaryKeyId),
  };
}
