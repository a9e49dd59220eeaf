import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { isServing, nodeStateOf } from '../database/galera-node';

/**
 * Ready only on a database node that may serve: on a Galera node that is ready and Synced. A node cut
 * off from the majority still answers `SELECT 1` (the ping check passes) while every query on a table
 * fails with error 1047, so readiness asks the node itself. SQLite and servers without Galera are up.
 */
@Injectable()
export class DatabaseNodeIndicator {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(timeoutMs: number): Promise<HealthIndicatorResult<'databaseNode'>> {
    const indicator = this.indicators.check('databaseNode');
    if (this.dataSource.options.type !== 'mysql') return indicator.up();
    let timer: NodeJS.Timeout | undefined;
    try {
      const state = await Promise.race([
        nodeStateOf((sql) => this.dataSource.query(sql)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (!state.galera) return indicator.up({ galera: false });
      const details = { galera: true, state: state.localStateComment, wsrepReady: state.ready };
      return isServing(state) ? indicator.up(details) : indicator.down(details);
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : 'the node does not answer' });
    } finally {
      clearTimeout(timer);
    }
  }
}
