import { EventEmitter } from 'node:events';
import { CAUSAL_READS_SQL, isServing, nodeStateOf, withCausalReads } from './galera-node';

/** Answers the two SHOW statements of nodeStateOf as a server with these variables would. */
function server(variables: Record<string, string>, status: Record<string, string>) {
  return (sql: string) => {
    const source = sql.startsWith('SHOW GLOBAL VARIABLES') ? variables : status;
    return Promise.resolve(
      Object.entries(source)
        .filter(([name]) => sql.includes(`'${name}'`))
        .map(([Variable_name, Value]) => ({ Variable_name, Value })),
    );
  };
}

describe('Galera node state', () => {
  it('serves on a Synced, ready node', async () => {
    const state = await nodeStateOf(
      server({ wsrep_on: 'ON' }, { wsrep_ready: 'ON', wsrep_local_state: '4', wsrep_local_state_comment: 'Synced' }),
    );
    expect(state).toEqual({ galera: true, ready: true, localState: 4, localStateComment: 'Synced' });
    expect(isServing(state)).toBe(true);
  });

  it.each([
    [
      'cut off from the majority',
      { wsrep_ready: 'OFF', wsrep_local_state: '0', wsrep_local_state_comment: 'Initialized' },
    ],
    [
      'joined but still catching up',
      { wsrep_ready: 'ON', wsrep_local_state: '3', wsrep_local_state_comment: 'Joined' },
    ],
    [
      'giving a snapshot to a joiner',
      { wsrep_ready: 'ON', wsrep_local_state: '2', wsrep_local_state_comment: 'Donor/Desynced' },
    ],
  ])('does not serve on a node %s', async (_case, status) => {
    expect(isServing(await nodeStateOf(server({ wsrep_on: 'ON' }, status)))).toBe(false);
  });

  it('serves on a MariaDB without Galera (wsrep_on OFF, wsrep_ready OFF) and on MySQL (no wsrep at all)', async () => {
    const mariadb = await nodeStateOf(server({ wsrep_on: 'OFF' }, { wsrep_ready: 'OFF' }));
    const mysql = await nodeStateOf(server({}, {}));
    expect([mariadb, mysql]).toEqual([{ galera: false }, { galera: false }]);
    expect(isServing(mariadb) && isServing(mysql)).toBe(true);
  });
});

describe(withCausalReads.name, () => {
  /** A mysql2 stand-in: createPool returns a pool that opens one connection answering with `error`. */
  function driver(error: (Error & { code?: string }) | null) {
    const statements: string[] = [];
    const pool = new EventEmitter();
    const mysql2 = {
      createPool: () => pool,
      createConnection: () => 'kept',
    };
    const connection = {
      query: (sql: string, callback: (error: Error | null) => void) => {
        statements.push(sql);
        callback(error);
      },
    };
    return { mysql2, statements, open: () => pool.emit('connection', connection) };
  }

  it('sets causal reads on every connection the pool opens, and keeps the rest of the driver', () => {
    const { mysql2, statements, open } = driver(null);
    const wrapped = withCausalReads(mysql2 as never, () => undefined) as unknown as typeof mysql2;
    wrapped.createPool();
    open();
    open();
    expect(statements).toEqual([CAUSAL_READS_SQL, CAUSAL_READS_SQL]);
    expect(wrapped.createConnection()).toBe('kept');
  });

  it('ignores MySQL refusing the wsrep variables (1193) and reports any other error', () => {
    const reported: Error[] = [];
    const mysql = driver(
      Object.assign(new Error("Unknown system variable 'wsrep_on'"), { code: 'ER_UNKNOWN_SYSTEM_VARIABLE' }),
    );
    (
      withCausalReads(mysql.mysql2 as never, (error) => reported.push(error)) as never as typeof mysql.mysql2
    ).createPool();
    mysql.open();
    expect(reported).toEqual([]);

    const lost = driver(Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' }));
    (
      withCausalReads(lost.mysql2 as never, (error) => reported.push(error)) as never as typeof lost.mysql2
    ).createPool();
    lost.open();
    expect(reported.map((error) => error.message)).toEqual(['Connection lost']);
  });
});
