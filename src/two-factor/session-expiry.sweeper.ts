import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { BackgroundLoop } from '../common/background-loop';
import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics/metrics';
import { sessionConfig } from '../config/app.config';
import { TwoFactorSessionService } from './two-factor-session.service';

/**
 * Removes expired TwoFactorSession rows in the background (they already read as absent everywhere):
 * every SESSION_SWEEP_INTERVAL_MS each instance deletes at most SESSION_SWEEP_BATCH_SIZE of them in one
 * DELETE that matches only rows expired at its own time, so instances sweeping at once remove different
 * rows or wait for each other's row locks, and a lost race is rerun by the TransactionRunner. Never on
 * the request path; its timer does not keep the process alive; it stops, letting a sweep in flight
 * finish, before the database closes.
 */
@Injectable()
export class SessionExpirySweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionExpirySweeper.name);
  private readonly loop = new BackgroundLoop(this.logger, {
    failed: 'Removing expired sessions failed; retrying',
    recovered: 'Removing expired sessions works again',
  });

  constructor(
    private readonly sessions: TwoFactorSessionService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    @Inject(sessionConfig.KEY) private readonly config: ConfigType<typeof sessionConfig>,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.sweepIntervalMs;
    this.loop.start(() => this.sweep().then(() => interval), interval);
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** One batch: how many expired sessions it removed (0 while the database is away; the next tries again). */
  sweep(): Promise<number> {
    return this.loop.guarded(async () => {
      const removed = await this.sessions.removeExpired(this.clock.now(), this.config.sweepBatchSize);
      if (removed > 0) {
        this.metrics.countExpiredSessionsRemoved(removed);
        this.logger.debug(`Removed ${removed} expired sessions (at most ${this.config.sweepBatchSize} a sweep)`);
      }
      return removed;
    }, 0);
  }
}
