/** A `SHOW ...` statement's rows, as both TypeORM's `query` and mysql2 return them. */
type ShowRows = { Variable_name: string; Value: string }[];

export type NodeState =
  { galera: false } | { galera: true; ready: boolean; localState: number; localStateComment: string };

/** wsrep_local_state 4: the node has applied everything the cluster committed and takes part in it. */
const SYNCED = 4;

/**
 * What the server says about itself as a Galera node. `wsrep_on` decides: a plain MariaDB has the wsrep
 * status variables too (wsrep_ready OFF), and MySQL has none of them, so both are "not Galera". SHOW
 * statements (unlike queries on tables) still work on a node that is not ready, so this never fails
 * because of the state it reports.
 */
export async function nodeStateOf(query: (sql: string) => Promise<unknown>): Promise<NodeState> {
  const [wsrepOn] = (await query("SHOW GLOBAL VARIABLES LIKE 'wsrep_on'")) as ShowRows;
  if (wsrepOn?.Value !== 'ON') return { galera: false };
  const status = new Map(
    (
      (await query(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state', 'wsrep_local_state_comment')",
      )) as ShowRows
    ).map((row) => [row.Variable_name.toLowerCase(), row.Value]),
  );
  return {
    galera: true,
    ready: status.get('wsrep_ready') === 'ON',
    localState: Number(status.get('wsrep_local_state') ?? 0),
    localStateComment: status.get('wsrep_local_state_comment') ?? 'unknown',
  };
}

/**
 * A node that may serve the application: any server without Galera, or a Galera node that is ready and
 * Synced. A node that lost the majority, or joined and is still catching up, answers queries on tables
 * with error 1047 (common/errors/database-errors.ts) while `SELECT 1` still works.
 */
export function isServing(state: NodeState): boolean {
  return !state.galera || (state.ready && state.localState === SYNCED);
}

/**
 * Run on every new connection: on a Galera node, reads wait until the node has applied every write the
 * cluster committed before them (wsrep_sync_wait bit 1), so a read on one node sees what another node
 * just acknowledged; bits an operator set globally are kept. Where wsrep is off it sets the value the
 * session has anyway, so a plain MariaDB is unchanged; MySQL has no such variables and refuses the
 * statement (1193, ignored).
 */
export const CAUSAL_READS_SQL =
  'SET SESSION wsrep_sync_wait = IF(@@global.wsrep_on, @@global.wsrep_sync_wait | 1, @@global.wsrep_sync_wait)';

interface PooledConnection {
  query(sql: string, callback: (error: (Error & { code?: string }) | null) => void): unknown;
}

interface Mysql2Module {
  createPool(options: never): { on(event: 'connection', listener: (connection: PooledConnection) => void): unknown };
}

/**
 * mysql2 as TypeORM's `driver`, with CAUSAL_READS_SQL on each connection its pool opens. The pool emits
 * `connection` before it hands the connection out, and a connection runs its statements in order, so the
 * setting is in place before the first statement of the app.
 */
export function withCausalReads<T extends Mysql2Module>(mysql2: T, onError: (error: Error) => void): T {
  return {
    ...mysql2,
    createPool(options: never) {
      const pool = mysql2.createPool(options);
      pool.on('connection', (connection) => {
        connection.query(CAUSAL_READS_SQL, (error) => {
          if (error && error.code !== 'ER_UNKNOWN_SYSTEM_VARIABLE') onError(error);
        });
      });
      return pool;
    },
  };
}
