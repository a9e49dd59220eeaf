import { QueryFailedError } from 'typeorm';
import { retryOnDeadlock } from './deadlock-retry';

const deadlock = () =>
  new QueryFailedError('INSERT ...', [], Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' }));

describe('retryOnDeadlock', () => {
  it('runs the transaction again after a deadlock and returns its result', async () => {
    const transaction = jest.fn().mockRejectedValueOnce(deadlock()).mockResolvedValueOnce('done');
    await expect(retryOnDeadlock(transaction)).resolves.toBe('done');
    expect(transaction).toHaveBeenCalledTimes(2);
  });

  it('gives up after five deadlocks', async () => {
    const transaction = jest.fn().mockRejectedValue(deadlock());
    await expect(retryOnDeadlock(transaction)).rejects.toThrow('Deadlock found');
    expect(transaction).toHaveBeenCalledTimes(5);
  });

  it('does not rerun on any other error', async () => {
    const transaction = jest.fn().mockRejectedValue(new Error('not found'));
    await expect(retryOnDeadlock(transaction)).rejects.toThrow('not found');
    expect(transaction).toHaveBeenCalledTimes(1);
  });
});
