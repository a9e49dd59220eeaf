import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, isSerializationFailure } from './database-errors';
import { errorResponseOf } from './error-envelope';

/** A server error as mysql2 reports it, wrapped by TypeORM as a failed query. */
function serverError(code: string, errno: number, sqlState: string, message: string): QueryFailedError {
  return new QueryFailedError('UPDATE ...', [], Object.assign(new Error(message), { code, errno, sqlState }));
}

const deadlock = () =>
  serverError('ER_LOCK_DEADLOCK', 1213, '40001', 'Deadlock found when trying to get lock; try restarting transaction');
const nodeNotReady = () =>
  serverError('ER_UNKNOWN_COM_ERROR', 1047, '08S01', 'WSREP has not yet prepared node for application use');

describe('database errors', () => {
  it('knows a lost race (deadlock or Galera certification failure) by its code or by SQLSTATE 40001', () => {
    expect(isSerializationFailure(deadlock())).toBe(true);
    expect(isSerializationFailure(serverError('ER_SOMETHING_NEW', 9999, '40001', 'serialization failure'))).toBe(true);
    // mysql2 also fails a COMMIT this way, as a plain Error carrying the codes.
    expect(isSerializationFailure(Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' }))).toBe(true);
  });

  it('does not take a duplicate key or a syntax error for a lost race', () => {
    expect(isSerializationFailure(serverError('ER_DUP_ENTRY', 1062, '23000', "Duplicate entry 'x'"))).toBe(false);
    expect(isSerializationFailure(serverError('ER_PARSE_ERROR', 1064, '42000', 'syntax'))).toBe(false);
    expect(isSerializationFailure(new Error('not found'))).toBe(false);
  });

  it.each([
    ['a Galera node that is not ready (1047)', nodeNotReady()],
    ['a commit the cluster could not take (1180)', serverError('ER_ERROR_DURING_COMMIT', 1180, 'HY000', 'Got error 6')],
    ['a read-only server (1290)', serverError('ER_OPTION_PREVENTS_STATEMENT', 1290, 'HY000', '--read-only')],
    ['a server in read-only mode (1836)', serverError('ER_READ_ONLY_MODE', 1836, 'HY000', 'Running in read-only mode')],
    ['a lock wait that timed out (1205)', serverError('ER_LOCK_WAIT_TIMEOUT', 1205, 'HY000', 'Lock wait timeout')],
    ['a lost race still lost after every rerun (1213)', deadlock()],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('answers 503 ServiceUnavailable for %s, never 500', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
    const response = errorResponseOf(error);
    expect({ status: response.status, code: response.body.responseStatus.errorCode }).toEqual({
      status: 503,
      code: 'ServiceUnavailable',
    });
    expect(response.unexpected).toBe(false);
  });

  it('leaves a bug a bug: a query the server refuses as wrong is a 500', () => {
    const error = serverError('ER_NO_SUCH_TABLE', 1146, '42S02', "Table 'x' doesn't exist");
    expect(isDatabaseUnavailable(error)).toBe(false);
    expect(errorResponseOf(error).status).toBe(500);
  });
});
