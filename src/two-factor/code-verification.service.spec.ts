import { DynamicModule, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { Metrics, MetricsCoreModule } from '../common/metrics/metrics';
import { cryptoConfig, lockoutConfig, sessionConfig, totpConfig } from '../config/app.config';
import { buildDataSourceOptions } from '../database/data-source-options';
import { DatabaseModule, TransactionWork } from '../database/transaction-runner';
import { CodeVerificationService } from './code-verification.service';
import { AuditEvent } from './entities/audit-event.entity';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { QrCodeRenderer } from './qr-code';
import { decodeBase32 } from './totp/base32';
import { TotpProvider } from './totp/totp.provider';
import { TotpParams } from './totp/totp.types';
import { TwoFactorConfigService } from './two-factor-config.service';
import { TwoFactorModule } from './two-factor.module';
import { Actor, Subject } from './two-factor.types';

/** The verification rules on an in-memory SQLite with the real migrations, at a time the test sets. */

class FakeClock extends Clock {
  /** A step boundary plus 10 s, so a step's code stays valid while the test does not advance. */
  time = 1_800_000_000_000 - (1_800_000_000_000 % 30_000) + 10_000;

  now(): number {
    return this.time;
  }

  advance(seconds: number): void {
    this.time += seconds * 1000;
  }
}

/** Locks at 3 (60 s), 6 (120 s) and 9 failures (200 s: 240 capped), a hard lock at 12. */
const LOCKOUT = { maxFailures: 3, lockSeconds: 60, maxLockSeconds: 200, hardLimit: 12 };
const PARAMS: TotpParams = { algorithm: 'SHA1', digits: 6, period: 30 };
const actor: Actor = { tenant: 'unit', actorId: 'spec', requestId: null };
const subject = (subjectId: string): Subject => ({ kind: 'agent', subjectId });

/** The settings the services read, as fixed values instead of the environment. */
function settingsModule(): DynamicModule {
  const values = [
    [totpConfig.KEY, { issuer: 'unit', defaults: PARAMS, window: 1 }],
    [lockoutConfig.KEY, LOCKOUT],
    // The expiry sweep never runs during these rules (an hour apart).
    [sessionConfig.KEY, { ttlSeconds: 3600, sweepIntervalMs: 3_600_000, sweepBatchSize: 1000 }],
    [cryptoConfig.KEY, { encryptionKeys: [randomBytes(32)] }],
  ] as const;
  @Module({})
  class Settings {}
  return {
    module: Settings,
    global: true,
    providers: values.map(([provide, useValue]) => ({ provide, useValue })),
    exports: values.map(([provide]) => provide),
  };
}

async function start() {
  const clock = new FakeClock();
  const moduleRef = await Test.createTestingModule({
    imports: [
      settingsModule(),
      TypeOrmModule.forRoot(buildDataSourceOptions({ kind: 'sqlite', file: ':memory:', timeoutMs: 1000 })),
      DatabaseModule,
      MetricsCoreModule,
      TwoFactorModule,
    ],
  })
    .overrideProvider(Clock)
    .useValue(clock)
    // QR images are not what these rules are about, and rendering one costs more than a whole login.
    .overrideProvider(QrCodeRenderer)
    .useValue({ toPngDataUrl: () => Promise.resolve('data:image/png;base64,') })
    .compile();
  // The integrity case logs an error line by design; the spec checks the audit row instead.
  moduleRef.useLogger(false);
  await moduleRef.init();
  const totp = moduleRef.get(TotpProvider);
  const admin = moduleRef.get(TwoFactorConfigService);
  const verification = moduleRef.get(CodeVerificationService);
  const dataSource = moduleRef.get(DataSource);

  return {
    clock,
    totp,
    verification,
    admin,
    dataSource,
    metrics: moduleRef.get(Metrics),
    close: () => moduleRef.close(),
    /** Enrols a user and returns their config id and key. */
    async enrol(subjectId: string) {
      const view = await admin.enrol(actor, subject(subjectId));
      return { id: view.id, key: decodeBase32(view.enrolment!.secretKey) };
    },
    /** The code of the step `offset` steps from now. */
    code(key: Buffer, offset = 0): string {
      return totp.codeAt(key, PARAMS, clock.now() + offset * PARAMS.period * 1000);
    },
    login(subjectId: string, code: string) {
      return verification.verifyLogin(actor, subject(subjectId), code);
    },
    row(id: string) {
      return dataSource.manager.findOneByOrFail(TwoFactorConfig, { id });
    },
    events(subjectId: string) {
      return dataSource.manager.find(AuditEvent, { where: { subjectId }, order: { createdAt: 'ASC' } });
    },
  };
}

/** The DomainError a call threw. */
async function refusal(call: Promise<unknown>): Promise<DomainError> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

const WRONG = '000000';

describe(CodeVerificationService.name, () => {
  // One app for the file: each test has users of its own, and the clock only moves forward.
  let t: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    t = await start();
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  /** Wrong codes until `count` failures, skipping a wrong code that happens to be valid now. */
  async function fail(subjectId: string, key: Buffer, count: number): Promise<void> {
    const wrong = [t.code(key, -1), t.code(key), t.code(key, 1)].includes(WRONG) ? '111111' : WRONG;
    for (let i = 0; i < count; i++) await expect(t.login(subjectId, wrong)).resolves.toEqual({ result: 'fail' });
  }

  it('accepts a current code once, activating the config; the same code again fails', async () => {
    const { id, key } = await t.enrol('once');
    await expect(t.login('once', t.code(key))).resolves.toMatchObject({ result: 'success', method: 'totp' });
    expect(await t.row(id)).toMatchObject({
      status: 'active',
      lastUsedStep: t.totp.currentStep(PARAMS, t.clock.now()),
    });
    await expect(t.login('once', t.code(key))).resolves.toEqual({ result: 'fail' });
    expect((await t.events('once')).map((event) => event.event)).toEqual(
      expect.arrayContaining(['config.created', 'verify.success', 'config.activated', 'verify.replay']),
    );
  });

  it('refuses an older step after a newer one was accepted, even inside the window', async () => {
    const { id, key } = await t.enrol('older');
    await expect(t.login('older', t.code(key, 1))).resolves.toMatchObject({ result: 'success' });
    await expect(t.login('older', t.code(key))).resolves.toEqual({ result: 'fail' });
    await expect(t.login('older', t.code(key, -1))).resolves.toEqual({ result: 'fail' });
    expect((await t.row(id)).lastUsedStep).toBe(t.totp.currentStep(PARAMS, t.clock.now()) + 1);
  });

  it('a lock engages at LOCKOUT_MAX_FAILURES, refuses even a right code, and expires with time', async () => {
    const { id, key } = await t.enrol('expiry');
    await fail('expiry', key, LOCKOUT.maxFailures);
    const locked = await refusal(t.login('expiry', t.code(key)));
    expect(locked).toMatchObject({ code: ErrorCode.TooManyAttempts, retryAfterSeconds: LOCKOUT.lockSeconds });

    t.clock.advance(LOCKOUT.lockSeconds - 1);
    expect((await refusal(t.login('expiry', t.code(key)))).retryAfterSeconds).toBe(1);

    t.clock.advance(1);
    await expect(t.login('expiry', t.code(key))).resolves.toMatchObject({ result: 'success' });
    expect(await t.row(id)).toMatchObject({ failedAttempts: 0, lockedUntil: null });
  });

  it('counts failures across locks: each lock lasts twice the one before, capped at LOCKOUT_MAX_SECONDS', async () => {
    const { id, key } = await t.enrol('escalation');
    for (const [failures, seconds] of [
      [3, 60],
      [6, 120],
      [9, 200],
    ]) {
      await fail('escalation', key, LOCKOUT.maxFailures);
      expect(await t.row(id)).toMatchObject({ failedAttempts: failures, lockedUntil: t.clock.now() + seconds * 1000 });
      expect((await refusal(t.login('escalation', t.code(key)))).retryAfterSeconds).toBe(seconds);
      t.clock.advance(seconds);
    }
    expect((await t.events('escalation')).filter((event) => event.event === 'lockout.engaged')).toHaveLength(3);
    // A right code after the last lock ends: a success resets the count.
    await expect(t.login('escalation', t.code(key))).resolves.toMatchObject({ result: 'success' });
    expect(await t.row(id)).toMatchObject({ failedAttempts: 0, lockedUntil: null });
    await fail('escalation', key, LOCKOUT.maxFailures - 1);
    expect(await t.row(id)).toMatchObject({ failedAttempts: LOCKOUT.maxFailures - 1, lockedUntil: null });
  });

  it('hard-locks at LOCKOUT_HARD_LIMIT: TOTP and backup codes answer 429 until an administrator unlocks', async () => {
    const { id, key } = await t.enrol('hard');
    await expect(t.login('hard', t.code(key))).resolves.toMatchObject({ result: 'success' });
    const [backupCode] = await t.admin.regenerateBackupCodes(actor, 'agent', id);
    for (let lock = 1; lock < LOCKOUT.hardLimit / LOCKOUT.maxFailures; lock++) {
      await fail('hard', key, LOCKOUT.maxFailures);
      t.clock.advance(LOCKOUT.maxLockSeconds);
    }
    await fail('hard', key, LOCKOUT.maxFailures);
    expect(await t.admin.get(actor, 'agent', id)).toMatchObject({
      hardLocked: true,
      consecutiveFailures: LOCKOUT.hardLimit,
      lockedUntil: null,
    });
    expect((await t.events('hard')).filter((event) => event.event === 'lockout.hard')).toHaveLength(1);

    t.clock.advance(30 * 86400);
    for (const code of [t.code(key), backupCode]) {
      expect(await refusal(t.login('hard', code))).toMatchObject({
        code: ErrorCode.TooManyAttempts,
        retryAfterSeconds: LOCKOUT.maxLockSeconds,
      });
    }
    expect((await t.row(id)).failedAttempts).toBe(LOCKOUT.hardLimit);

    const unlocked = await t.admin.update(actor, 'agent', id, { unlock: true });
    expect(unlocked).toMatchObject({ hardLocked: false, consecutiveFailures: 0 });
    await expect(t.login('hard', backupCode)).resolves.toMatchObject({ result: 'success', method: 'backup' });
    await expect(t.login('hard', t.code(key))).resolves.toMatchObject({ result: 'success', method: 'totp' });
  });

  it('rotation clears the spent step: the new secret is usable in the step the old one was spent in', async () => {
    const { id, key } = await t.enrol('rotated');
    await expect(t.login('rotated', t.code(key, 1))).resolves.toMatchObject({ result: 'success' });
    const rotated = await t.admin.update(actor, 'agent', id, { rotateSecret: true });
    expect(await t.row(id)).toMatchObject({ status: 'pending', lastUsedStep: null });
    const newKey = decodeBase32(rotated.enrolment!.secretKey);

    await expect(t.login('rotated', t.code(key, 1))).resolves.toEqual({ result: 'fail' });
    await expect(t.login('rotated', t.code(newKey))).resolves.toMatchObject({ result: 'success' });
  });

  it('an unknown user and a disabled config fail after the same TOTP work, counting nothing', async () => {
    const verify = jest.spyOn(t.totp, 'verify');
    await expect(t.login('nobody', '123456')).resolves.toEqual({ result: 'fail' });
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await t.events('nobody')).toEqual([expect.objectContaining({ event: 'verify.fail', configId: null })]);

    const { id, key } = await t.enrol('disabled');
    await t.admin.update(actor, 'agent', id, { enabled: false });
    verify.mockClear();
    await expect(t.login('disabled', t.code(key))).resolves.toEqual({ result: 'fail' });
    expect(verify).toHaveBeenCalledTimes(1);
    expect(await t.row(id)).toMatchObject({ status: 'disabled', failedAttempts: 0, lastUsedStep: null });
  });

  it("a secret that does not open (another row's ciphertext) fails like a wrong code: counted and audited with its key id", async () => {
    const { id, key } = await t.enrol('integrity');
    const other = await t.enrol('integrity-other');
    await t.dataSource.manager.update(
      TwoFactorConfig,
      { id },
      { secretCiphertext: (await t.row(other.id)).secretCiphertext },
    );
    for (const code of [t.code(key), t.code(other.key)]) {
      await expect(t.login('integrity', code)).resolves.toEqual({ result: 'fail' });
    }
    expect((await t.row(id)).failedAttempts).toBe(2);
    const events = (await t.events('integrity')).filter((event) => event.event === 'secret.integrity_error');
    expect(events).toEqual([
      expect.objectContaining({ configId: id, keyId: expect.stringMatching(/^[0-9a-f]{8}$/), outcome: 'failure' }),
      expect.objectContaining({ configId: id, outcome: 'failure' }),
    ]);
  });

  it('counts an attempt once in twofa_verify_total when the database makes the unit run again', async () => {
    const { key } = await t.enrol('rerun');
    const verifications = async (): Promise<Record<string, number>> => {
      const metric = await t.metrics.registry.getSingleMetric('twofa_verify_total')!.get();
      return Object.fromEntries(metric.values.map(({ labels, value }) => [`${labels.result} ${labels.method}`, value]));
    };
    const before = await verifications();
    // The first transaction does all its work, then is rolled back as a lost race at COMMIT would be.
    const transaction = t.dataSource.transaction.bind(t.dataSource) as (
      work: TransactionWork<unknown>,
    ) => Promise<unknown>;
    jest.spyOn(t.dataSource, 'transaction').mockImplementationOnce((work: unknown) =>
      transaction(async (manager) => {
        await (work as TransactionWork<unknown>)(manager);
        throw Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', sqlState: '40001' });
      }),
    );
    await expect(t.login('rerun', t.code(key))).resolves.toMatchObject({ result: 'success' });

    const after = await verifications();
    expect(after['success totp'] - (before['success totp'] ?? 0)).toBe(1);
    expect((await t.events('rerun')).filter((event) => event.event === 'verify.success')).toHaveLength(1);
  });
});
