import { setTimeout } from 'node:timers/promises';
import { SecretDecryptionError } from './crypto/secret-cipher';

/** A stored row with a sealed secret: a TOTP secret of two_factor_config, a webhook signing secret. */
export interface SealedRow {
  id: string;
  secretCiphertext: string;
}

/** Where re-sealing reads and writes one kind of sealed row. */
export interface SealedRowStore<Row extends SealedRow> {
  /** The rows it will read, for the progress. */
  count(): Promise<number>;
  /** Up to `limit` rows with ids after `afterId`, in id order ('' for the first page). */
  after(afterId: string, limit: number): Promise<Row[]>;
  /**
   * Writes `sealed` with one conditional UPDATE that matches only while the row still holds what was
   * read (its secret, and what the secret is bound to); returns whether it did.
   */
  replace(row: Row, sealed: string): Promise<boolean>;
}

export interface ResealOutcome {
  /** Rows read. */
  scanned: number;
  /** Rows whose secret was replaced. */
  resealed: number;
  /**
   * Rows changed or deleted between the read and the write (a rotation, a deletion): left as that change
   * made them. Also, where the store says so (keys:reencrypt), rows whose UPDATE lost a race.
   */
  changed: number;
  /** Rows left as they were because their secret does not open: which, under which key id, why. */
  unopenable: { id: string; keyId: string | null; reason: SecretDecryptionError['reason'] }[];
}

export interface ResealOptions {
  /** Rows per read; each row is then one conditional UPDATE. */
  batchSize?: number;
  /** Called after every batch, for a progress line; `finished` after the last one. */
  onProgress?: (outcome: ResealOutcome, total: number, finished: boolean) => void;
  /** A wait between two batches, to leave a busy database room. */
  pauseMs?: number;
}

/**
 * Re-seals stored secrets, the store's rows in id order, `batchSize` at a time. `reseal` gives a row's
 * new sealed secret, or null to leave the row as it is; a row whose secret does not open (`reseal`
 * throws SecretDecryptionError) is left as it is and reported. Each new secret is written by one
 * conditional UPDATE (SealedRowStore.replace), so a rotation or a deletion in between wins and the row
 * is counted as changed. Running it again is safe when `reseal` answers null for the form it produces,
 * or the store no longer reads such rows. Used by the upgrade that binds secrets to their version
 * (ResealSecrets1796000000000) and by `npm run keys:reencrypt` (src/keys/key-reencryption.ts).
 */
export async function resealSecrets<Row extends SealedRow>(
  rows: SealedRowStore<Row>,
  reseal: (row: Row) => string | null,
  { batchSize = 500, onProgress, pauseMs = 0 }: ResealOptions = {},
): Promise<ResealOutcome> {
  const total = await rows.count();
  const outcome: ResealOutcome = { scanned: 0, resealed: 0, changed: 0, unopenable: [] };
  for (let afterId = ''; ;) {
    const batch = await rows.after(afterId, batchSize);
    for (const row of batch) {
      let sealed: string | null;
      try {
        sealed = reseal(row);
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        outcome.unopenable.push({ id: row.id, keyId: error.keyId, reason: error.reason });
        continue;
      }
      if (sealed === null) continue;
      if (await rows.replace(row, sealed)) outcome.resealed++;
      else outcome.changed++;
    }
    outcome.scanned += batch.length;
    const finished = batch.length < batchSize;
    onProgress?.(outcome, total, finished);
    if (finished) return outcome;
    afterId = batch[batch.length - 1].id;
    if (pauseMs > 0) await setTimeout(pauseMs);
  }
}
