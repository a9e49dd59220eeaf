/**
 * Lets the database finish the seeding's writes before anything is measured. The bench writes tens of
 * thousands of rows just before the first scenario; left alone, SQLite's checkpointer copies that WAL
 * into the database file, and InnoDB's page cleaner flushes those pages, during the first measured
 * seconds (round 2's first runs: login-success at a third of the same logins measured later in the run).
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { createConnection, RowDataPacket } from 'mysql2/promise';
import { progress } from './load';

/** SQLite: every WAL page copied into the file and the WAL truncated (the service is idle meanwhile). */
function checkpointSqlite(file: string): string {
  const walBytes = existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
  const db = new Database(file, { timeout: 30_000 });
  try {
    // The service's own checkpoint worker may hold the checkpoint lock for a moment: retry until done.
    for (let attempt = 1; ; attempt++) {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number }[];
      const wal = `${(walBytes / 2 ** 20).toFixed(1)} MiB WAL`;
      if (result.busy === 0) return `${wal} checkpointed and truncated`;
      if (attempt >= 20) return `${wal}: checkpoint still busy after ${attempt} attempts (${result.log} frames left)`;
    }
  } finally {
    db.close();
  }
}

/** InnoDB pages the seeding dirtied: flushed by the page cleaner, or at most `maxS` seconds of waiting. */
const DIRTY_SAMPLE_MS = 1000;

async function flushedInnodb(url: string, maxS: number): Promise<string> {
  const connection = await createConnection(url);
  const dirtyPages = async (): Promise<number> => {
    const [rows] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
    return Number(rows[0]?.Value ?? 0);
  };
  try {
    const first = await dirtyPages();
    let last = first;
    let flat = 0;
    const started = Date.now();
    // Other clients of a shared server keep dirtying pages: wait until the count stops falling (three
    // samples in a row without a 5 % drop), not for 0.
    while (Date.now() - started < maxS * 1000 && last > 0 && flat < 3) {
      await new Promise((done) => setTimeout(done, DIRTY_SAMPLE_MS));
      const now = await dirtyPages();
      progress(`settling: ${now} dirty InnoDB pages (${first} after seeding)`);
      flat = now > last * 0.95 ? flat + 1 : 0;
      last = now;
    }
    return `InnoDB dirty pages ${first} -> ${last} in ${((Date.now() - started) / 1000).toFixed(0)} s`;
  } finally {
    await connection.end();
  }
}

export async function settleAfterSeeding(databaseUrl: string, isMysql: boolean): Promise<string> {
  if (isMysql) return flushedInnodb(databaseUrl, 60);
  return checkpointSqlite(databaseUrl.replace(/^sqlite:/, ''));
}
