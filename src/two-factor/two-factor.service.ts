import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, EntityManager, In, IsNull } from 'typeorm';
import { Clock } from '../common/clock';
import { Metrics } from '../common/metrics/metrics';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { lockoutConfig, totpConfig } from '../config/app.config';
import { AuditEntry, AuditEventName, recordAudit } from './audit-log';
import { BackupCodes } from './crypto/backup-codes';
import { SecretCipher } from './crypto/secret-cipher';
import { retryOnDeadlock } from './deadlock-retry';
import { BackupCode } from './entities/backup-code.entity';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { QrCodeRenderer } from './qr-code';
import { TwoFactorSessionService } from './two-factor-session.service';
import { isUniqueViolation } from './unique-violation';
import { affectedRows, CONSUME_STEP, COUNT_FAILURE, findConfigBySubject, LOCK_AFTER_FAILURE } from './login-statements';
import { encodeBase32 } from './totp/base32';
import { InvalidOtpauthLabelError } from './totp/totp.errors';
import { TotpProvider } from './totp/totp.provider';
import { TotpAlgorithm, TotpParams } from './totp/totp.types';
import {
  Actor,
  ConfigChange,
  ConfigListQuery,
  ConfigView,
  Enrolment,
  LoginVerification,
  Subject,
} from './two-factor.types';

type CodeOutcome<T> = { verified: true; method: 'totp' | 'backup'; value: T } | { verified: false };

/** RFC 6238 §5.1: keys as long as the HMAC output. */
const KEY_BYTES: Record<TotpAlgorithm, number> = { SHA1: 20, SHA256: 32, SHA512: 64 };
const DUMMY_ASSOCIATED_DATA = 'twofa|dummy';

function associatedDataOf(config: Pick<TwoFactorConfig, 'tenant' | 'kind' | 'subjectId'>): string {
  return `${config.tenant}|${config.kind}|${config.subjectId}`;
}

/**
 * The per-user 2FA rules for partner users and agents alike: enrolment, verification at login with
 * replay protection and lockout, rotation, backup codes. Every state change that decides a login is
 * one conditional UPDATE judged by its affected rows, so the rules hold across instances sharing a
 * database; every change is audited in its own transaction.
 */
@Injectable()
export class TwoFactorService {
  /** Verified against when the user is unknown, so an unknown user costs what a wrong code costs. */
  private readonly dummySealedSecret: string;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly totp: TotpProvider,
    private readonly cipher: SecretCipher,
    private readonly backupCodes: BackupCodes,
    private readonly qrCodes: QrCodeRenderer,
    private readonly clock: Clock,
    private readonly sessions: TwoFactorSessionService,
    private readonly metrics: Metrics,
    @Inject(totpConfig.KEY) private readonly totpSettings: ConfigType<typeof totpConfig>,
    @Inject(lockoutConfig.KEY) private readonly lockout: ConfigType<typeof lockoutConfig>,
  ) {
    this.dummySealedSecret = cipher.encrypt(randomBytes(KEY_BYTES.SHA1), DUMMY_ASSOCIATED_DATA);
  }

  async enrol(actor: Actor, subject: Subject, account?: string): Promise<ConfigView> {
    const params = this.totpSettings.defaults;
    const key = this.totp.generateKey(KEY_BYTES[params.algorithm]);
    const now = this.clock.now();
    const config: TwoFactorConfig = {
      id: randomUUID(),
      tenant: actor.tenant,
      kind: subject.kind,
      subjectId: subject.subjectId,
      account: account ?? subject.subjectId,
      secretCiphertext: '',
      ...params,
      status: 'pending',
      lastUsedStep: null,
      failedAttempts: 0,
      lockedUntil: null,
      createdAt: now,
      updatedAt: now,
      activatedAt: null,
    };
    config.secretCiphertext = this.cipher.encrypt(key, associatedDataOf(config));
    const enrolment = await this.enrolmentOf(config, key);
    try {
      await this.dataSource.transaction(async (manager) => {
        await manager.insert(TwoFactorConfig, config);
        await recordAudit(manager, now, this.auditEntry(actor, config, 'config.created', 'success'));
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError(ErrorCode.Conflict, 'This user already has a 2FA config');
      }
      throw error;
    }
    return this.viewOf(config, 0, enrolment);
  }

  async get(actor: Actor, kind: Subject['kind'], id: string): Promise<ConfigView> {
    const config = await this.findOwned(this.dataSource.manager, actor.tenant, kind, id);
    const [remaining] = await this.backupCodesRemaining([config.id]);
    return this.viewOf(config, remaining, config.status === 'pending' ? await this.enrolmentOf(config) : undefined);
  }

  async list(
    actor: Actor,
    kind: Subject['kind'],
    query: ConfigListQuery,
  ): Promise<{ items: ConfigView[]; total: number }> {
    const [configs, total] = await this.dataSource.manager.findAndCount(TwoFactorConfig, {
      where: {
        tenant: actor.tenant,
        kind,
        ...(query.subjectId !== undefined ? { subjectId: query.subjectId } : {}),
        ...(query.status !== undefined ? { status: query.status } : {}),
      },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: (query.page - 1) * query.perPage,
      take: query.perPage,
    });
    const remaining = await this.backupCodesRemaining(configs.map((config) => config.id));
    return { items: configs.map((config, index) => this.viewOf(config, remaining[index])), total };
  }

  async update(actor: Actor, kind: Subject['kind'], id: string, change: ConfigChange): Promise<ConfigView> {
    const now = this.clock.now();
    let newKey: Buffer | undefined;
    const config = await this.dataSource.transaction(async (manager) => {
      const current = await this.findOwned(manager, actor.tenant, kind, id);
      const updates: Partial<TwoFactorConfig> = {};
      const events: AuditEventName[] = [];
      if (change.rotateSecret) {
        newKey = this.totp.generateKey(KEY_BYTES[current.algorithm]);
        Object.assign(updates, {
          secretCiphertext: this.cipher.encrypt(newKey, associatedDataOf(current)),
          status: 'pending',
          activatedAt: null,
          // The spent steps were steps of the old secret; the new one has none yet.
          lastUsedStep: null,
        });
        events.push('config.rotated');
      }
      if (change.enabled === false && current.status !== 'disabled') {
        updates.status = 'disabled';
        events.push('config.disabled');
      } else if (change.enabled === true && current.status === 'disabled' && !change.rotateSecret) {
        updates.status = current.activatedAt === null ? 'pending' : 'active';
        events.push('config.enabled');
      }
      if (change.unlock) {
        Object.assign(updates, { failedAttempts: 0, lockedUntil: null });
        events.push('config.unlocked');
      }
      if (events.length > 0) {
        updates.updatedAt = now;
        await manager.update(TwoFactorConfig, { id: current.id }, updates);
        await recordAudit(manager, now, ...events.map((event) => this.auditEntry(actor, current, event, 'success')));
      }
      return { ...current, ...updates };
    });
    const [remaining] = await this.backupCodesRemaining([config.id]);
    const enrolment = config.status === 'pending' ? await this.enrolmentOf(config, newKey) : undefined;
    return this.viewOf(config, remaining, enrolment);
  }

  async remove(actor: Actor, kind: Subject['kind'], id: string): Promise<void> {
    await retryOnDeadlock(() =>
      this.dataSource.transaction(async (manager) => {
        const config = await this.findOwned(manager, actor.tenant, kind, id);
        await manager.delete(BackupCode, { configId: config.id });
        await manager.delete(TwoFactorConfig, { id: config.id });
        await recordAudit(manager, this.clock.now(), this.auditEntry(actor, config, 'config.deleted', 'success'));
      }),
    );
  }

  /** A new set of backup codes, replacing every earlier one. The plain codes exist only in this answer. */
  async regenerateBackupCodes(actor: Actor, kind: Subject['kind'], id: string): Promise<string[]> {
    const codes = this.backupCodes.generateSet();
    const now = this.clock.now();
    await retryOnDeadlock(() =>
      this.dataSource.transaction(async (manager) => {
        const config = await this.findOwned(manager, actor.tenant, kind, id);
        // Take the config row's lock before touching its codes: two regenerations at once otherwise
        // deadlocked on InnoDB (each held gap locks from its DELETE that the other's INSERT needed).
        await manager.update(TwoFactorConfig, { id: config.id }, { updatedAt: now });
        await manager.delete(BackupCode, { configId: config.id });
        await manager.insert(
          BackupCode,
          codes.map((code) => ({
            id: randomUUID(),
            configId: config.id,
            codeHash: this.backupCodes.hash(this.backupCodes.normalize(code)!, config.id),
            usedAt: null,
            createdAt: now,
          })),
        );
        await recordAudit(manager, now, this.auditEntry(actor, config, 'backup_codes.regenerated', 'success'));
      }),
    );
    return codes;
  }

  /**
   * Verification at login. Unknown user, disabled config, wrong code and replayed code all answer
   * `fail` after the same work; a locked config answers 429 even for a correct code. A success makes
   * a TwoFactorSession in the same transaction.
   */
  async verifyLogin(actor: Actor, subject: Subject, code: string): Promise<LoginVerification> {
    const outcome = await this.verifyCode(actor, subject, code, 'code', (manager, _config, now) =>
      this.sessions.createInTransaction(manager, actor.tenant, subject.kind, subject.subjectId, now),
    );
    return outcome.verified
      ? { result: 'success', method: outcome.method, sessionId: outcome.value }
      : { result: 'fail' };
  }

  /**
   * Seed 004's reset: the caller proves their own active 2FA with a code (checked like a login:
   * replay, lockout), and in the same transaction the target's config, backup codes and sessions go.
   */
  async resetOther(actor: Actor, caller: Subject, callerCode: string, target: Subject): Promise<void> {
    if (caller.kind === target.kind && caller.subjectId === target.subjectId) {
      throw DomainError.invalidField('targetUserId', 'Use the admin API to reset your own 2FA', 'SelfReset');
    }
    const targetConfig = await this.findBySubject(actor.tenant, target);
    if (!targetConfig) throw new DomainError(ErrorCode.NotFound, 'The target user has no 2FA config');
    const callerConfig = await this.findBySubject(actor.tenant, caller);
    if (callerConfig?.status !== 'active') {
      throw this.callerCodeRefused('A reset needs your own active 2FA');
    }
    const outcome = await this.verifyCode(actor, caller, callerCode, 'callerCode', async (manager, _config, now) => {
      await manager.delete(BackupCode, { configId: targetConfig.id });
      const removed = await manager.delete(TwoFactorConfig, { id: targetConfig.id, tenant: actor.tenant });
      if (removed.affected !== 1) throw new DomainError(ErrorCode.NotFound, 'The target user has no 2FA config');
      await this.sessions.removeForUserInTransaction(manager, actor.tenant, target);
      await recordAudit(manager, now, this.auditEntry(actor, targetConfig, 'reset', 'success'));
    });
    if (!outcome.verified) throw this.callerCodeRefused('callerCode is not valid');
  }

  /**
   * A caller's new pending config (seed 001's generate-key): created, or re-keyed while pending;
   * refused while active (409) or disabled by an administrator (403).
   */
  async generateKeyFor(actor: Actor, subject: Subject): Promise<string> {
    const existing = await this.findBySubject(actor.tenant, subject);
    if (existing?.status === 'active') throw new DomainError(ErrorCode.Conflict, 'Your 2FA is already active');
    // A config an administrator disabled stays disabled: self-service must not undo that.
    if (existing?.status === 'disabled')
      throw new DomainError(ErrorCode.Forbidden, 'Your 2FA was disabled by an administrator');
    const view = existing
      ? await this.update(actor, subject.kind, existing.id, { rotateSecret: true })
      : await this.enrol(actor, subject);
    return view.enrolment!.otpauthUrl;
  }

  /**
   * The one code check behind login and reset. `onVerified` runs inside the transaction that
   * consumed the code, so what it writes exists exactly when the code was accepted.
   */
  private async verifyCode<T>(
    actor: Actor,
    subject: Subject,
    code: string,
    fieldName: string,
    onVerified: (manager: EntityManager, config: TwoFactorConfig, now: number) => Promise<T>,
  ): Promise<CodeOutcome<T>> {
    const isTotpShaped = this.totp.isWellFormedCode(code, 6) || this.totp.isWellFormedCode(code, 8);
    const backupCode = isTotpShaped ? null : this.backupCodes.normalize(code);
    if (!isTotpShaped && backupCode === null) {
      throw DomainError.invalidField(
        fieldName,
        `${fieldName} must be a TOTP code (6 or 8 digits) or a backup code`,
        'InvalidCode',
      );
    }
    const now = this.clock.now();
    const config = await this.findBySubject(actor.tenant, subject);

    if (!config || config.status === 'disabled') {
      this.dummyVerification(code, now);
      // A transaction around one INSERT is not needed for atomicity: it keeps the round trips close to
      // a wrong code's (BEGIN, write, COMMIT), so the answer's timing does not tell unknown users apart.
      await this.dataSource.transaction((manager) =>
        recordAudit(manager, now, this.auditEntry(actor, config ?? { id: null, ...subject }, 'verify.fail', 'failure')),
      );
      this.metrics.countVerification('fail', 'none');
      return { verified: false };
    }
    if (config.lockedUntil !== null && config.lockedUntil > now) {
      // One INSERT, atomic on its own; a locked config answers 429, so there is no timing to match.
      await recordAudit(this.dataSource.manager, now, this.auditEntry(actor, config, 'verify.locked', 'failure'));
      this.metrics.countVerification('locked', 'none');
      throw this.lockedError(config.lockedUntil, now);
    }
    return backupCode === null
      ? this.verifyTotp(actor, config, code, now, onVerified)
      : this.verifyBackupCode(actor, config, backupCode, now, onVerified);
  }

  private async verifyTotp<T>(
    actor: Actor,
    config: TwoFactorConfig,
    code: string,
    now: number,
    onVerified: (manager: EntityManager, config: TwoFactorConfig, now: number) => Promise<T>,
  ): Promise<CodeOutcome<T>> {
    const key = this.cipher.decrypt(config.secretCiphertext, associatedDataOf(config));
    const match = this.totp.verify(key, code, this.paramsOf(config), this.totpSettings.window, now);
    if (!match) {
      this.metrics.countVerification('fail', 'totp');
      return this.dataSource.transaction((manager) => this.recordFailure(manager, actor, config, 'verify.fail', now));
    }

    return this.dataSource.transaction(async (manager) => {
      // Consume the step: only if it is newer than every step used before, the config is usable and
      // not locked. Concurrent requests with the same code race here and exactly one matches the row.
      const consumed = await affectedRows(manager, CONSUME_STEP, [
        match.step,
        now,
        now,
        config.id,
        now,
        match.step,
        config.secretCiphertext,
      ]);
      if (consumed !== 1) {
        this.metrics.countVerification('replay', 'totp');
        return this.recordFailure(manager, actor, config, 'verify.replay', now);
      }
      const entries = [this.auditEntry(actor, config, 'verify.success', 'success')];
      if (config.status === 'pending') entries.push(this.auditEntry(actor, config, 'config.activated', 'success'));
      await recordAudit(manager, now, ...entries);
      const value = await onVerified(manager, config, now);
      this.metrics.countVerification('success', 'totp');
      return { verified: true, method: 'totp', value };
    });
  }

  private async verifyBackupCode<T>(
    actor: Actor,
    config: TwoFactorConfig,
    normalizedCode: string,
    now: number,
    onVerified: (manager: EntityManager, config: TwoFactorConfig, now: number) => Promise<T>,
  ): Promise<CodeOutcome<T>> {
    const hashes = this.backupCodes.lookupHashes(normalizedCode, config.id);
    return this.dataSource.transaction(async (manager) => {
      // The config row first (as every other verification path does), so concurrent requests queue on
      // it instead of deadlocking between backup_code and two_factor_config on InnoDB; this also
      // re-checks, under that lock, that the config is active and not locked.
      const usable = await manager
        .createQueryBuilder()
        .update(TwoFactorConfig)
        .set({ updatedAt: now })
        .where('id = :id', { id: config.id })
        .andWhere("status = 'active'")
        .andWhere('(locked_until IS NULL OR locked_until <= :now)', { now })
        .execute();
      // Single use, decided by the database: the first request to match the unused row wins.
      const used =
        usable.affected === 1
          ? await manager
              .createQueryBuilder()
              .update(BackupCode)
              .set({ usedAt: now })
              .where('config_id = :configId', { configId: config.id })
              .andWhere('code_hash IN (:...hashes)', { hashes })
              .andWhere('used_at IS NULL')
              .execute()
          : usable;
      if (usable.affected !== 1 || used.affected !== 1) {
        this.metrics.countVerification('fail', 'backup');
        return this.recordFailure(manager, actor, config, 'verify.fail', now);
      }
      await manager.update(TwoFactorConfig, { id: config.id }, { failedAttempts: 0, updatedAt: now });
      await recordAudit(
        manager,
        now,
        this.auditEntry(actor, config, 'backup_code.used', 'success'),
        this.auditEntry(actor, config, 'verify.success', 'success'),
      );
      const value = await onVerified(manager, config, now);
      this.metrics.countVerification('success', 'backup');
      return { verified: true, method: 'backup', value };
    });
  }

  /**
   * Counts a failure in the row (the lock is decided from the count in the database, so failures add
   * up across instances); reaching the limit locks the config and starts the count again.
   */
  private async recordFailure(
    manager: EntityManager,
    actor: Actor,
    config: TwoFactorConfig,
    event: AuditEventName,
    now: number,
  ): Promise<{ verified: false }> {
    const lockUntil = now + this.lockout.lockSeconds * 1000;
    const { maxFailures } = this.lockout;
    // Below the limit one UPDATE counts the failure. Only when it matches nothing, the failure reaches
    // the limit: the second locks. The first one locked the row (InnoDB; on SQLite the write lock), so
    // the second sees the count the first judged, and the answer needs no re-read.
    const locked =
      (await affectedRows(manager, COUNT_FAILURE, [now, config.id, maxFailures])) === 0 &&
      (await affectedRows(manager, LOCK_AFTER_FAILURE, [lockUntil, now, config.id, maxFailures])) === 1;
    const entries = [this.auditEntry(actor, config, event, 'failure')];
    if (locked) entries.push(this.auditEntry(actor, config, 'lockout.engaged', 'failure'));
    await recordAudit(manager, now, ...entries);
    return { verified: false };
  }

  private dummyVerification(code: string, now: number): void {
    const key = this.cipher.decrypt(this.dummySealedSecret, DUMMY_ASSOCIATED_DATA);
    const digits = code.length === 8 ? 8 : 6;
    this.totp.verify(
      key,
      this.totp.isWellFormedCode(code, digits) ? code : '0'.repeat(digits),
      { ...this.totpSettings.defaults, digits },
      this.totpSettings.window,
      now,
    );
  }

  private callerCodeRefused(message: string): DomainError {
    return new DomainError(ErrorCode.Forbidden, message, [
      { errorCode: 'InvalidCode', fieldName: 'callerCode', message },
    ]);
  }

  private lockedError(lockedUntil: number, now: number): DomainError {
    return new DomainError(
      ErrorCode.TooManyAttempts,
      'Too many failed attempts; try again later',
      [],
      Math.max(1, Math.ceil((lockedUntil - now) / 1000)),
    );
  }

  private findBySubject(tenant: string, subject: Subject): Promise<TwoFactorConfig | null> {
    return findConfigBySubject(this.dataSource.manager, tenant, subject.kind, subject.subjectId);
  }

  private async findOwned(
    manager: EntityManager,
    tenant: string,
    kind: Subject['kind'],
    id: string,
  ): Promise<TwoFactorConfig> {
    // The tenant is part of every lookup: another tenant's config simply does not exist (404).
    const config = await manager.findOne(TwoFactorConfig, { where: { id, tenant, kind } });
    if (!config) throw new DomainError(ErrorCode.NotFound, '2FA config not found');
    return config;
  }

  private async backupCodesRemaining(configIds: string[]): Promise<number[]> {
    if (configIds.length === 0) return [];
    const rows = await this.dataSource.manager
      .createQueryBuilder(BackupCode, 'code')
      .select('code.configId', 'configId')
      .addSelect('COUNT(*)', 'remaining')
      .where({ configId: In(configIds), usedAt: IsNull() })
      .groupBy('code.configId')
      .getRawMany<{ configId: string; remaining: string | number }>();
    const byConfig = new Map(rows.map((row) => [row.configId, Number(row.remaining)]));
    return configIds.map((id) => byConfig.get(id) ?? 0);
  }

  private async enrolmentOf(config: TwoFactorConfig, key?: Buffer): Promise<Enrolment> {
    const secret = key ?? this.cipher.decrypt(config.secretCiphertext, associatedDataOf(config));
    let otpauthUrl: string;
    try {
      otpauthUrl = this.totp.otpauthUri({
        issuer: this.totpSettings.issuer,
        account: config.account,
        key: secret,
        params: this.paramsOf(config),
      });
    } catch (error) {
      if (error instanceof InvalidOtpauthLabelError)
        throw DomainError.invalidField('account', `${error.message}; name an account`);
      throw error;
    }
    return { secretKey: encodeBase32(secret), otpauthUrl, qrcodeUrl: await this.qrCodes.toPngDataUrl(otpauthUrl) };
  }

  private paramsOf(config: TwoFactorConfig): TotpParams {
    return { algorithm: config.algorithm, digits: config.digits, period: config.period };
  }

  private viewOf(config: TwoFactorConfig, backupCodesRemaining: number, enrolment?: Enrolment): ConfigView {
    return {
      id: config.id,
      subjectId: config.subjectId,
      status: config.status,
      createdAt: config.createdAt,
      activatedAt: config.activatedAt,
      lockedUntil: config.lockedUntil !== null && config.lockedUntil > this.clock.now() ? config.lockedUntil : null,
      backupCodesRemaining,
      ...(enrolment ? { enrolment } : {}),
    };
  }

  private auditEntry(
    actor: Actor,
    config: { id: string | null; kind: string; subjectId: string },
    event: AuditEventName,
    outcome: AuditEntry['outcome'],
  ): AuditEntry {
    return {
      tenant: actor.tenant,
      event,
      outcome,
      actor: actor.actorId,
      subjectKind: config.kind,
      subjectId: config.subjectId,
      configId: config.id,
      requestId: actor.requestId,
    };
  }
}
