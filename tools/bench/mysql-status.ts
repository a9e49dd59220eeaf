/**
 * Statement counts on MySQL/MariaDB from SHOW GLOBAL STATUS, read before and after a scenario. Global:
 * other clients of the same server add to them, so the per-request figures are approximate.
 */
import { createConnection, RowDataPacket } from 'mysql2/promise';

const COUNTERS = [
  'Questions',
  'Com_select',
  'Com_insert',
  'Com_update',
  'Com_delete',
  'Com_begin',
  'Com_commit',
  'Com_rollback',
];

export type StatusCounters = Record<string, number>;

export async function readCounters(url: string): Promise<StatusCounters> {
  const connection = await createConnection(url);
  try {
    const [rows] = await connection.query<RowDataPacket[]>(
      `SHOW GLOBAL STATUS WHERE Variable_name IN (${COUNTERS.map(() => '?').join(',')})`,
      COUNTERS,
    );
    return Object.fromEntries(rows.map((row) => [row.Variable_name as string, Number(row.Value)]));
  } finally {
    await connection.end();
  }
}

/** Per request, with this bench's own SHOW STATUS statement taken out of Questions. */
export function perRequest(before: StatusCounters, after: StatusCounters, requests: number): Record<string, number> {
  const result: Record<string, number> = {};
  for (const name of COUNTERS) {
    const delta = (after[name] ?? 0) - (before[name] ?? 0) - (name === 'Questions' ? 1 : 0);
    result[name] = requests > 0 ? Number((delta / requests).toFixed(2)) : 0;
  }
  return result;
}

export async function serverVersion(url: string): Promise<string> {
  const connection = await createConnection(url);
  try {
    const [rows] = await connection.query<RowDataPacket[]>('SELECT VERSION() AS version');
    return String(rows[0].version);
  } finally {
    await connection.end();
  }
}
