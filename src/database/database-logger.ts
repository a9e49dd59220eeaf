import { Logger as NestLogger } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/**
 * TypeORM's own loggers print slow queries with their parameters (ciphertexts, code hashes, ids)
 * whatever the `logging` option says. This one says only that a statement was slow, and how slow.
 * Failed queries are not logged here: they reach the error filter, which logs what is safe.
 */
export class DatabaseLogger implements TypeOrmLogger {
  private readonly logger = new NestLogger('Database');

  logQuery(): void {}

  logQueryError(): void {}

  logQuerySlow(milliseconds: number, query: string): void {
    // The statement kind and table only: never the text after them, which may hold literals.
    const statement = query.trim().split(/\s+/).slice(0, 3).join(' ');
    this.logger.warn({ milliseconds, statement }, 'Slow database statement');
  }

  logSchemaBuild(): void {}

  logMigration(message: string): void {
    this.logger.log(message);
  }

  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.logger.warn(message);
  }
}
