import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { Metrics, MetricsCoreModule } from '../common/metrics/metrics';
import { sessionConfig } from '../config/app.config';
import { buildDataSourceOptions } from '../database/data-source-options';
import { DatabaseModule } from '../database/transaction-runner';
import { TwoFactorSession } from './entities/two-factor-session.entity';
import { SessionExpirySweeper } from './session-expiry.sweeper';
import { TwoFactorSessionService } from './two-factor-session.service';
import { Actor } from './two-factor.types';

/** The expiry sweep on an in-memory SQLite with the real migrations, at a time the test sets. */

class FakeClock extends Clock {
  time = 1_800_000_000_000;

  now(): number {
    return this.time;
  }
}

const TTL_SECONDS = 60;
const actor: Actor = { tenant: 'unit', actorId: 'spec', requestId: null };

async function start(settings: { sweepIntervalMs: number; sweepBatchSize: number }) {
  const clock = new FakeClock();
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(buildDataSourceOptions({ kind: 'sqlite', file: ':memory:', timeoutMs: 1000 })),
      DatabaseModule,
      MetricsCoreModule,
    ],
    providers: [
      TwoFactorSessionService,
      SessionExpirySweeper,
      { provide: Clock, useValue: clock },
      { provide: sessionConfig.KEY, useValue: { ttlSeconds: TTL_SECONDS, ...settings } },
    ],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const sessions = moduleRef.get(TwoFactorSessionService);
  const dataSource = moduleRef.get(DataSource);
  return {
    clock,
    sessions,
    sweeper: moduleRef.get(SessionExpirySweeper),
    close: () => moduleRef.close(),
    /** `count` sessions made now (posted ones and logins'), expiring TTL_SECONDS from now. */
    async make(count: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        ids.push(
          i % 2 === 0
            ? (await sessions.create(actor, { userId: `user-${i}`, bool: true })).publicId
            : await dataSource.transaction((manager) =>
                sessions.createInTransaction(manager, actor.tenant, 'agent', `agent-${i}`, clock.now()),
              ),
        );
      }
      return ids;
    },
    /** Every stored row, expired or not. */
    async storedIds(): Promise<string[]> {
      return (await dataSource.manager.find(TwoFactorSession)).map((session) => session.publicId).sort();
    },
    async removedByMetric(): Promise<number> {
      const metric = await moduleRef
        .get(Metrics)
        .registry.getSingleMetric('twofa_sessions_expired_removed_total')!
        .get();
      return metric.values.reduce((sum, { value }) => sum + value, 0);
    },
  };
}

describe(SessionExpirySweeper.name, () => {
  it('removes at most SESSION_SWEEP_BATCH_SIZE expired sessions a sweep, oldest first, and never a live one', async () => {
    // An hour between ticks: only the sweeps this test calls run.
    const t = await start({ sweepIntervalMs: 3_600_000, sweepBatchSize: 3 });
    try {
      const oldest = await t.make(2);
      t.clock.time += 1000;
      const older = await t.make(3);
      t.clock.time += (TTL_SECONDS - 2) * 1000;
      const live = await t.make(2);
      expect(await t.sweeper.sweep()).toBe(0);

      // The oldest expire at their expires_at, as they already read as absent then.
      t.clock.time += 1000;
      await expect(t.sessions.get(actor, oldest[0])).rejects.toMatchObject({ code: 'NotFound' });
      expect(await t.sweeper.sweep()).toBe(2);
      expect(await t.storedIds()).toEqual([...older, ...live].sort());

      t.clock.time += 1000;
      expect(await t.sweeper.sweep()).toBe(3);
      expect(await t.sweeper.sweep()).toBe(0);
      expect(await t.storedIds()).toEqual([...live].sort());
      expect(await t.removedByMetric()).toBe(5);

      t.clock.time += TTL_SECONDS * 1000;
      const later = await t.make(1);
      expect(await t.sweeper.sweep()).toBe(2);
      expect(await t.storedIds()).toEqual(later);
    } finally {
      await t.close();
    }
  });

  it('stops after a bounded batch when more are due, and takes the rest in later sweeps', async () => {
    const t = await start({ sweepIntervalMs: 3_600_000, sweepBatchSize: 4 });
    try {
      await t.make(10);
      t.clock.time += TTL_SECONDS * 1000;
      expect([await t.sweeper.sweep(), await t.sweeper.sweep(), await t.sweeper.sweep()]).toEqual([4, 4, 2]);
      expect(await t.storedIds()).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('sweeps by itself every SESSION_SWEEP_INTERVAL_MS once the app has started, and stops with it', async () => {
    const t = await start({ sweepIntervalMs: 100, sweepBatchSize: 2 });
    const sweep = jest.spyOn(t.sweeper, 'sweep');
    try {
      await t.make(5);
      t.clock.time += TTL_SECONDS * 1000;
      for (let waited = 0; (await t.storedIds()).length > 0 && waited < 30_000; waited += 50) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await t.storedIds()).toEqual([]);
      expect(sweep.mock.calls.length).toBeGreaterThanOrEqual(3);
    } finally {
      await t.close();
    }
    const calls = sweep.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sweep.mock.calls.length).toBe(calls);
  });
});
