import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { TransactionRunner } from './transaction-runner';

const deadlock = () =>
  new QueryFailedError('INSERT ...', [], Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' }));

/** A data source whose transactions just call their work. */
const runner = () =>
  new TransactionRunner({
    transaction: (work: (manager: EntityManager) => Promise<unknown>) => work({} as EntityManager),
  } as unknown as DataSource);

describe(TransactionRunner.name, () => {
  it('runs a transaction again after a deadlock and returns its result', async () => {
    const work = jest.fn().mockRejectedValueOnce(deadlock()).mockResolvedValueOnce('done');
    await expect(runner().run(work)).resolves.toBe('done');
    expect(work).toHaveBeenCalledTimes(2);
  });

  it('reruns a whole unit, its reads before the transaction included', async () => {
    const read = jest.fn().mockResolvedValue('fresh');
    const write = jest.fn().mockRejectedValueOnce(deadlock()).mockResolvedValueOnce('written');
    const result = await runner().unit(async (transaction) => {
      await read();
      return transaction(write);
    });
    expect(result).toBe('written');
    expect(read).toHaveBeenCalledTimes(2);
    expect(write).toHaveBeenCalledTimes(2);
  });

  it('gives up after five deadlocks', async () => {
    const work = jest.fn().mockRejectedValue(deadlock());
    await expect(runner().run(work)).rejects.toThrow('Deadlock found');
    expect(work).toHaveBeenCalledTimes(5);
  });

  it('does not rerun on any other error', async () => {
    const work = jest.fn().mockRejectedValue(new Error('not found'));
    await expect(runner().run(work)).rejects.toThrow('not found');
    expect(work).toHaveBeenCalledTimes(1);
  });
});
