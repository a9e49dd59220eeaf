import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { errorResponseOf } from '../common/errors/error-envelope';
import { Metrics } from '../common/metrics/metrics';
import { ATTEMPTS, backoffMs, TransactionRunner } from './transaction-runner';

const deadlock = () =>
  new QueryFailedError(
    'INSERT ...',
    [],
    Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', errno: 1213, sqlState: '40001' }),
  );
/** How Galera fails a COMMIT that lost certification: the same error, on COMMIT. */
const certificationFailure = () =>
  new QueryFailedError(
    'COMMIT',
    [],
    Object.assign(new Error('Deadlock found when trying to get lock; try restarting transaction'), {
      code: 'ER_LOCK_DEADLOCK',
      errno: 1213,
      sqlState: '40001',
    }),
  );

let metrics: Metrics;
/** A data source whose transactions just call their work. */
const runner = () =>
  new TransactionRunner(
    {
      transaction: (work: (manager: EntityManager) => Promise<unknown>) => work({} as EntityManager),
    } as unknown as DataSource,
    metrics,
  );
/** twofa_transaction_reruns_total by result. */
async function reruns(): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('twofa_transaction_reruns_total')!.get();
  return Object.fromEntries(metric.values.map((value) => [String(value.labels.result), value.value]));
}

describe(TransactionRunner.name, () => {
  beforeEach(() => {
    metrics = new Metrics();
  });

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

  it('reruns a unit whose COMMIT failed Galera certification', async () => {
    const work = jest.fn().mockRejectedValueOnce(certificationFailure()).mockResolvedValueOnce('committed');
    await expect(runner().run(work)).resolves.toBe('committed');
    expect(work).toHaveBeenCalledTimes(2);
  });

  it(`gives up after ${ATTEMPTS} lost races, and the last one is answered 503, not 500`, async () => {
    const work = jest.fn().mockRejectedValue(deadlock());
    const error: unknown = await runner()
      .run(work)
      .catch((thrown: unknown) => thrown);
    expect(work).toHaveBeenCalledTimes(ATTEMPTS);
    expect(errorResponseOf(error).status).toBe(503);
    expect(await reruns()).toEqual({ rerun: ATTEMPTS - 1, gave_up: 1 });
  });

  it('waits a random, growing, capped pause before each rerun', () => {
    expect([1, 2, 3, 10].map((attempt) => backoffMs(attempt, 1))).toEqual([20, 40, 80, 400]);
    expect(backoffMs(3, 0)).toBe(0);
  });

  it('does not rerun on any other error', async () => {
    const work = jest.fn().mockRejectedValue(new Error('not found'));
    await expect(runner().run(work)).rejects.toThrow('not found');
    expect(work).toHaveBeenCalledTimes(1);
  });
});
