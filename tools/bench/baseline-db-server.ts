/**
 * The database's bare limit for a login verify: node:http + a mysql2 pool, per request one SELECT of a row
 * by (tenant, kind, subject_id) and one conditional `UPDATE ... WHERE id=? AND last_used_step < ?`
 * (the replay guard), autocommit, nothing else. Works on a scratch table `bench_baseline` that it
 * creates (and fills with BENCH_USERS rows) in the DATABASE_URL database and drops on SIGTERM.
 *
 * Request body: `{"subject": "<subject id>", "step": <number>}`; response `{"consumed": true|false}`.
 *
 *   PORT=4001 DATABASE_URL=mysql://... BENCH_USERS=2000 node -r ts-node/register/transpile-only tools/bench/baseline-db-server.ts
 */
import { createServer } from 'node:http';
import { createPool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { BASELINE_TABLE, BASELINE_TENANT, baselineSubject } from './baseline-db-protocol';

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 4001);
  const users = Number(process.env.BENCH_USERS ?? 2000);
  const poolSize = Number(process.env.DATABASE_POOL_SIZE ?? 10);
  const pool = createPool({ uri: process.env.DATABASE_URL, connectionLimit: poolSize, enableKeepAlive: true });

  await pool.query(`DROP TABLE IF EXISTS ${BASELINE_TABLE}`);
  await pool.query(
    `CREATE TABLE ${BASELINE_TABLE} (
       id VARCHAR(36) NOT NULL PRIMARY KEY,
       tenant VARCHAR(64) NOT NULL,
       kind VARCHAR(16) NOT NULL,
       subject_id VARCHAR(128) NOT NULL,
       secret_ciphertext VARCHAR(255) NOT NULL,
       last_used_step BIGINT NULL,
       failed_attempts INT NOT NULL DEFAULT 0,
       updated_at BIGINT NOT NULL,
       UNIQUE KEY ux_bench_baseline_subject (tenant, kind, subject_id)
     ) ENGINE=InnoDB CHARACTER SET utf8mb4`,
  );
  for (let start = 0; start < users; start += 500) {
    const rows = [];
    for (let index = start; index < Math.min(users, start + 500); index++) {
      rows.push([
        `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
        BASELINE_TENANT,
        'agent',
        baselineSubject(index),
        'v1:'.padEnd(120, 'x'),
        null,
        0,
        Date.now(),
      ]);
    }
    await pool.query(
      `INSERT INTO ${BASELINE_TABLE} (id, tenant, kind, subject_id, secret_ciphertext, last_used_step, failed_attempts, updated_at) VALUES ?`,
      [rows],
    );
  }

  const verify = async (subject: string, step: number): Promise<boolean> => {
    const [rows] = await pool.execute<RowDataPacket[]>(
      `SELECT id, secret_ciphertext, last_used_step, failed_attempts FROM ${BASELINE_TABLE} WHERE tenant = ? AND kind = ? AND subject_id = ? LIMIT 1`,
      [BASELINE_TENANT, 'agent', subject],
    );
    if (rows.length === 0) return false;
    const [result] = await pool.execute<ResultSetHeader>(
      `UPDATE ${BASELINE_TABLE} SET last_used_step = ?, failed_attempts = 0, updated_at = ? WHERE id = ? AND (last_used_step IS NULL OR last_used_step < ?)`,
      [step, Date.now(), rows[0].id as string, step],
    );
    return result.affectedRows === 1;
  };

  const server = createServer((request, response) => {
    if (request.method === 'GET') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok"}');
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: { subject: string; step: number };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { subject: string; step: number };
      } catch {
        response.writeHead(400).end();
        return;
      }
      verify(body.subject, body.step).then(
        (consumed) => response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ consumed })),
        (error: unknown) => {
          process.stderr.write(`${String(error)}\n`);
          response.writeHead(500).end();
        },
      );
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1');

  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void pool
      .query(`DROP TABLE IF EXISTS ${BASELINE_TABLE}`)
      .then(() => pool.end())
      .finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`baseline-db-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
