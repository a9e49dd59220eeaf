import { Global, Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { isSerializationFailure } from '../common/errors/database-errors';
import { Metrics } from '../common/metrics/metrics';

/** Work inside one transaction: everything it does goes through `manager`. */
export type TransactionWork<T> = (manager: EntityManager) => Promise<T>;

/** Opens one transaction for `work`; it commits when `work` resolves and rolls back when it throws. */
export type Transaction = <T>(work: TransactionWork<T>) => Promise<T>;

/**
 * The failures after which the database rolled the whole transaction back, so a rerun is safe: error
 * 1213 / SQLSTATE 40001 on any statement, COMMIT included. On one server that is an InnoDB deadlock; on
 * a Galera cluster also a certification failure at COMMIT and a write replicated from another node that
 * aborted this transaction (its next statement fails).
 */
export const isRerunnable = isSerializationFailure;

/**
 * Attempts of one unit, at most. In a race of 24 requests for one user over three Galera nodes, the
 * losers of one round conflict again on the failure count in the next (README.md, "Scaling out").
 */
export const ATTEMPTS = 10;
/**
 * Pause before rerun n: random in [0, min(CAP, BASE * 2^n)) ("full jitter"), so the requests that lost
 * one race spread out instead of meeting again. At most about 2 s in all.
 */
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 400;

export function backoffMs(attempt: number, random = Math.random()): number {
  return random * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
}

/**
 * The one way the services run transactions. A unit of work is everything a decision rests on: for a
 * login, the fresh read of the config, the TOTP check and the transaction that writes the outcome.
 * When the database rolls the transaction back for a reason a rerun fixes (`isRerunnable`), the whole
 * unit runs again, reads included, so the rerun decides on what is committed now.
 *
 * Out of attempts, the 1213 goes up and is answered 503 (common/errors/database-errors.ts), never 500.
 *
 * Why reruns are needed on one server too: the backup-code writes take gap locks on (config_id, code_hash), and
 * writes for *different* configs whose ids are neighbours in that index wait for each other's gaps.
 * Locking the config row first only orders writes of one config: 19 of 300 concurrent regenerations of
 * 60 configs were still a 500 with it alone, 0 with this rerun.
 */
@Injectable()
export class TransactionRunner {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
  ) {}

  /** One transaction, rerun whole when it is rolled back for a rerunnable reason. */
  run<T>(work: TransactionWork<T>): Promise<T> {
    return this.unit((transaction) => transaction(work));
  }

  /**
   * One statement that is atomic on its own, without BEGIN/COMMIT around it (two round trips fewer),
   * rerun like a transaction.
   */
  autocommit<T>(statement: TransactionWork<T>): Promise<T> {
    return this.unit(() => statement(this.dataSource.manager));
  }

  /**
   * A unit that reads before it writes: `unit` gets the function that opens its transaction and may
   * use it once. Reads outside that transaction go through the data source as usual.
   */
  async unit<T>(unit: (transaction: Transaction) => Promise<T>): Promise<T> {
    const transaction: Transaction = (work) => this.dataSource.transaction(work);
    for (let attempt = 1; ; attempt++) {
      try {
        return await unit(transaction);
      } catch (error) {
        if (!isRerunnable(error)) throw error;
        this.metrics.countRerun(attempt >= ATTEMPTS ? 'gave_up' : 'rerun');
        if (attempt >= ATTEMPTS) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, backoffMs(attempt)));
    }
  }
}

/** Provides the TransactionRunner to every module. */
@Global()
@Module({ providers: [TransactionRunner], exports: [TransactionRunner] })
export class DatabaseModule {}
