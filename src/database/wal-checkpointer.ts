import { Worker } from 'node:worker_threads';

const CHECKPOINT_INTERVAL_MS = 200;

/**
 * Left to itself, SQLite checkpoints the WAL inside the commit that crosses 1000 pages, and with
 * synchronous=NORMAL a checkpoint fsyncs: on the request path that blocked the event loop for about
 * 0.1 ms per login on average (a commit took ~150 µs with checkpoints, ~60 µs without). Checkpointing
 * from a worker thread moves the copying and the fsyncs off the event loop. A PASSIVE checkpoint never
 * waits for readers or writers, so it never holds up a request; one that finds the database busy is
 * simply retried on the next tick.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy (another process's checkpoint) or closing: the next tick tries again
  }
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Pages the WAL may reach before a commit checkpoints on the request path: only if the worker fell behind. */
export const REQUEST_PATH_CHECKPOINT_PAGES = 20_000;

interface ClosableDatabase {
  close(): unknown;
}

/** Starts checkpointing `file` from a worker thread; it stops when `db` (TypeORM's connection) closes. */
export function checkpointInBackground(db: ClosableDatabase, file: string, busyTimeoutMs: number): void {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driverPath: require.resolve('better-sqlite3'),
      file,
      busyTimeoutMs,
      intervalMs: CHECKPOINT_INTERVAL_MS,
    },
  });
  // Never what keeps the process alive; should it die, the request path's autocheckpoint bounds the WAL.
  worker.unref();
  worker.on('error', (error) => process.stderr.write(`WAL checkpoint worker stopped: ${error.message}\n`));
  const close = db.close.bind(db);
  db.close = () => {
    worker.postMessage('stop');
    return close();
  };
}
