/** Driver error codes that mean "the database cannot be reached", not "the query is wrong". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'POOL_CLOSED',
  'SQLITE_BUSY',
  // The extended codes of a busy database (e.g. a stale read snapshot when another process wrote).
  'SQLITE_BUSY_SNAPSHOT',
  'SQLITE_BUSY_TIMEOUT',
  'SQLITE_BUSY_RECOVERY',
  'SQLITE_CANTOPEN',
]);

const UNREACHABLE_MESSAGES =
  /Pool is closed|Queue limit reached|connect ETIMEDOUT|Connection lost|Can't add new command when connection is in closed state/i;

/**
 * Errors of a server that is up but cannot serve this statement now (deploy/README.md):
 * - 1047 ER_UNKNOWN_COM_ERROR: a Galera node that is not ready ("WSREP has not yet prepared node for
 *   application use"): it lost the majority (non-primary), or joined and has not caught up yet;
 * - 1180 ER_ERROR_DURING_COMMIT: the commit could not be replicated (the node lost its cluster at COMMIT);
 * - 1290 ER_OPTION_PREVENTS_STATEMENT and 1836 ER_READ_ONLY_MODE: a read-only server (a replica, or a
 *   primary that was demoted) refuses writes until the failover completes;
 * - 1205 ER_LOCK_WAIT_TIMEOUT: a lock held too long, e.g. by a transaction stalled with its cluster.
 */
const NOT_READY_CODES = new Set([
  'ER_UNKNOWN_COM_ERROR',
  'ER_ERROR_DURING_COMMIT',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  'ER_LOCK_WAIT_TIMEOUT',
]);

/** The error and the errors it wraps (TypeORM's driverError, an Error's cause), outermost first. */
function* chainOf(error: unknown): Generator<{ code?: unknown; sqlState?: unknown; message?: unknown }> {
  let current = error as {
    code?: unknown;
    sqlState?: unknown;
    message?: unknown;
    driverError?: unknown;
    cause?: unknown;
  };
  for (let depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    yield current;
    current = (current.driverError ?? current.cause) as typeof current;
  }
}

/**
 * The transaction lost a race and the database rolled it back whole: an InnoDB deadlock, or on Galera a
 * certification failure at COMMIT or a write replicated from another node that aborted it (the next
 * statement fails). All are ER_LOCK_DEADLOCK, errno 1213, SQLSTATE 40001 ("try restarting transaction");
 * the answer is to run the whole unit of work again with a fresh read.
 */
export function isSerializationFailure(error: unknown): boolean {
  for (const link of chainOf(error)) {
    if (link.code === 'ER_LOCK_DEADLOCK' || link.sqlState === '40001') return true;
  }
  return false;
}

/** The database cannot be reached, or the node reached cannot serve now (not ready, read-only). */
function isUnreachableOrNotReady(error: unknown): boolean {
  for (const link of chainOf(error)) {
    if (typeof link.code === 'string' && (UNREACHABLE_CODES.has(link.code) || NOT_READY_CODES.has(link.code))) {
      return true;
    }
    if (typeof link.message === 'string' && UNREACHABLE_MESSAGES.test(link.message)) return true;
  }
  return false;
}

/**
 * Fail closed and say so: a database fault becomes a 503, never a 500 and never a "success". That is a
 * database that cannot be reached or does not answer, a node that is not ready, and a lost race still
 * lost after the unit of work was rerun as often as it may be.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return isUnreachableOrNotReady(error) || isSerializationFailure(error);
}
