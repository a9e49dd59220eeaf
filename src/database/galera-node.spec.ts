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
  /** A mysql2 stand-in wrapped by withCausalReads: its pool opens connections that answer with `error`. */
  function wrappedDriver(error: (Error & { code?: string }) | null, onError: (error: Error) => void = () => {}) {
    const statements: string[] = [];
    const pool = new EventEmitter();
    const mysql2 = { createPool: () => pool, createConnection: () => 'kept' };
    const connection = {
      query: (sql: string, callback: (error: Error | null) => void) => {
        statements.push(sql);
        callback(error);
      },
    };
    const driver = withCausalReads(mysql2 as never, onError) as typeof mysql2;
    return { driver, statements, open: () => pool.emit('connection', connection) };
  }

  it('sets causal reads on every connection the pool opens, and keeps the rest of the driver', () => {
    const { driver, statements, open } = wrappedDriver(null);
    driver.createPool();
    open();
    open();
    expect(statements).toEqual([CAUSAL_READS_SQL, CAUSAL_READS_SQL]);
    expect(driver.createConnection()).toBe('kept');
  });

  it('ignores MySQL refusing the wsrep variables (1193) and reports any other error', () => {
    const reported: Error[] = [];
    const report = (error: Error) => reported.push(error);
    const unknown = Object.assign(new Error("Unknown system variable 'wsrep_on'"), {
      code: 'ER_UNKNOWN_SYSTEM_VARIABLE',
    });
    const lost = Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' });
    for (const error of [unknown, lost]) {
      const { driver, open } = wrappedDriver(error, report);
      driver.createPool();
      open();
    }
    expect(reported.map((error) => error.message)).toEqual(['Connection lost']);
  });
});
