import type { ThrottlerStorage } from '@nestjs/throttler';
import { DataSource } from 'typeorm';
import { Clock } from '../clock';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * @nestjs/throttler's storage, kept in the database so that every instance counts against one limit
 * (its default storage is process memory: N instances would allow N times the limit).
 *
 * Fixed windows of `ttl`: one row per client and window, counted by one upsert. A client over the
 * limit is refused until its window ends (the guard's blockDuration is not used).
 */
export class DatabaseThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const now = this.clock.now();
    const window = Math.floor(now / ttl);
    const expiresAt = (window + 1) * ttl;
    const hits = await this.countHit(`${key}|${window}`, expiresAt);
    // A client's first request of a window also sweeps the windows that have ended, so the table
    // holds about one row per client active in the last window.
    if (hits === 1) await this.dataSource.query('DELETE FROM rate_limit_bucket WHERE expires_at <= ?', [now]);
    const secondsLeft = Math.max(1, Math.ceil((expiresAt - now) / 1000));
    const isBlocked = hits > limit;
    return { totalHits: hits, timeToExpire: secondsLeft, isBlocked, timeToBlockExpire: isBlocked ? secondsLeft : 0 };
  }

  /** Adds one hit to the bucket in one statement and returns its count (atomic across instances). */
  private async countHit(bucket: string, expiresAt: number): Promise<number> {
    if (this.dataSource.options.type === 'mysql') {
      // LAST_INSERT_ID(expr) hands the new count back in the OK packet: no second round trip.
      const result = await this.dataSource.query<{ insertId: number }>(
        'INSERT INTO rate_limit_bucket (bucket, hits, expires_at) VALUES (?, LAST_INSERT_ID(1), ?) ' +
          'ON DUPLICATE KEY UPDATE hits = LAST_INSERT_ID(hits + 1)',
        [bucket, expiresAt],
      );
      return Number(result.insertId);
    }
    const rows = await this.dataSource.query<{ hits: number }[]>(
      'INSERT INTO rate_limit_bucket (bucket, hits, expires_at) VALUES (?, 1, ?) ' +
        'ON CONFLICT (bucket) DO UPDATE SET hits = hits + 1 RETURNING hits',
      [bucket, expiresAt],
    );
    return Number(rows[0].hits);
  }
}
