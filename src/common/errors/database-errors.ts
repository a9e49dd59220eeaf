/** Driver error codes that mean "the database cannot be reached", not "the query is wrong". */
const UNAVAILABLE_CODES = new Set([
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

const UNAVAILABLE_MESSAGES =
  /Pool is closed|Queue limit reached|connect ETIMEDOUT|Connection lost|Can't add new command when connection is in closed state/i;

/** Fail closed and say so: a database fault becomes a 503, never a 500 and never a "success". */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let current = error as { code?: unknown; driverError?: unknown; cause?: unknown; message?: unknown } | null,
      depth = 0;
    current && depth < 4;
    depth++
  ) {
    if (typeof current.code === 'string' && UNAVAILABLE_CODES.has(current.code)) return true;
    if (typeof current.message === 'string' && UNAVAILABLE_MESSAGES.test(current.message)) return true;
    current = current.driverError ?? current.cause ?? null;
  }
  return false;
}
