import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { Metrics } from '../common/metrics/metrics';
import { totpConfig } from '../config/app.config';
import { Transaction, TransactionRunner } from '../database/transaction-runner';
import { AuditEntry, auditEntryOf, AuditEventName, recordAudit } from './audit-log';
import { ConfigSecrets } from './config-secrets';
import { BackupCodes } from './crypto/backup-codes';
import { SecretDecryptionError } from './crypto/secret-cipher';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { LOCK_EVENT_OF, LockoutPolicy } from './lockout-policy';
import { TwoFactorConfigRepository } from './two-factor-config.repository';
import { TwoFactorSessionService } from './two-factor-session.service';
import { TotpProvider } from './totp/totp.provider';
import { paramsOf } from './totp/totp.types';
import { Actor, LoginVerification, Subject } from './two-factor.types';

type Outcome<T> = { verified: true; method: 'totp' | 'backup'; value: T } | { verified: false };

/** What one attempt decided, with its twofa_verify_total labels. */
type Decision<T> =
  | { result: 'success'; method: 'totp' | 'backup'; value: T }
  | { result: 'fail' | 'replay'; method: 'totp' | 'backup' | 'none' }
  | { result: 'locked'; method: 'none'; retryAfterSeconds: number };

/** Runs inside the transaction that consumed the code, so what it writes exists exactly when the code was accepted. */
type OnVerified<T> = (manager: EntityManager, config: TwoFactorConfig, now: number) => Promise<T>;

/**
 * Checking a user's code: at login, and the caller's own code on a reset. Every decision is one
 * conditional UPDATE judged by its affected rows, so the rules hold across instances sharing a
 * database. A whole attempt (the fresh read of the config, the TOTP check, the transaction that writes
 * the outcome) is one unit of the TransactionRunner, rerun whole when the database asks for it.
 */
@Injectable()
export class CodeVerificationService {
  constructor(
    private readonly configs: TwoFactorConfigRepository,
    private readonly transactions: TransactionRunner,
    private readonly totp: TotpProvider,
    private readonly secrets: ConfigSecrets,
    private readonly backupCodes: BackupCodes,
    private readonly sessions: TwoFactorSessionService,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    @Inject(totpConfig.KEY) private readonly totpSettings: ConfigType<typeof totpConfig>,
    private readonly lockoutPolicy: LockoutPolicy,
  ) {}

  /**
   * Verification at login. Unknown user, disabled config, wrong code and replayed code all answer
   * `fail` after the same work; a locked or hard-locked config answers 429 even for a correct code. A
   * success makes a TwoFactorSession in the same transaction.
   */
  async verifyLogin(actor: Actor, subject: Subject, code: string): Promise<LoginVerification> {
    const outcome = await this.verifyCode(actor, subject, code, 'code', 'pending-or-active', (manager, _config, now) =>
      this.sessions.createInTransaction(manager, actor.tenant, subject.kind, subject.subjectId, now),
    );
    return outcome.verified
      ? { result: 'success', method: outcome.method, sessionId: outcome.value }
      : { result: 'fail' };
  }

  /**
   * Seed 004's reset. The caller's own code is checked first, like a login (replay, lockout, counted,
   * audited); every refusal of the caller is the same 403 naming callerCode, so a caller without an
   * accepted code learns nothing about the target. Only then, in the transaction that consumed the
   * caller's step, the target's config, backup codes and sessions go; an unknown target is a 404 after
   * that transaction commits, so the caller's step stays spent.
   */
  async resetOther(actor: Actor, caller: Subject, callerCode: string, target: Subject): Promise<void> {
    if (caller.kind === target.kind && caller.subjectId === target.subjectId) {
      throw DomainError.invalidField('targetUserId', 'Use the admin API to reset your own 2FA', 'SelfReset');
    }
    let outcome: Outcome<boolean>;
    try {
      outcome = await this.verifyCode(
        actor,
        caller,
        callerCode,
        'callerCode',
        'active',
        async (manager, _config, now) => {
          const targetConfig = await this.configs.findBySubject(actor.tenant, target, manager);
          if (!targetConfig || !(await this.configs.delete(manager, actor.tenant, targetConfig.id))) return false;
          await this.sessions.removeForUserInTransaction(manager, actor.tenant, target);
          await recordAudit(manager, now, auditEntryOf(actor, targetConfig, 'reset', 'success'));
          return true;
        },
      );
    } catch (error) {
      // A locked caller is refused like any other: the lock is the caller's, not news about the target.
      if (error instanceof DomainError && error.code === ErrorCode.TooManyAttempts) throw callerCodeRefused();
      throw error;
    }
    if (!outcome.verified) throw callerCodeRefused();
    if (!outcome.value) throw new DomainError(ErrorCode.NotFound, 'The target user has no 2FA config');
  }

  /**
   * The one code check behind login and reset. `usable` says which configs may take a code: a login
   * also takes a pending config's first code (it activates it), a reset only an active one's. Any other
   * user gets the dummy path: the same TOTP work, `verify.fail`, nothing counted.
   */
  private async verifyCode<T>(
    actor: Actor,
    subject: Subject,
    code: string,
    fieldName: string,
    usable: 'pending-or-active' | 'active',
    onVerified: OnVerified<T>,
  ): Promise<Outcome<T>> {
    const isTotpShaped = this.totp.isWellFormedCode(code, 6) || this.totp.isWellFormedCode(code, 8);
    const backupCode = isTotpShaped ? null : this.backupCodes.normalize(code);
    if (!isTotpShaped && backupCode === null) {
      throw DomainError.invalidField(
        fieldName,
        `${fieldName} must be a TOTP code (6 or 8 digits) or a backup code`,
        'InvalidCode',
      );
    }
    // Counted once the unit is over: a rerun unit (a lost race) decides again, and only its last run counts.
    const decision = await this.transactions.unit(async (transaction): Promise<Decision<T>> => {
      const now = this.clock.now();
      const config = await this.configs.findBySubject(actor.tenant, subject);

      if (!config || config.status === 'disabled' || (usable === 'active' && config.status !== 'active')) {
        this.dummyVerification(code, now);
        // A transaction around one INSERT is not needed for atomicity: it keeps the round trips close to
        // a wrong code's (BEGIN, write, COMMIT), so the answer's timing does not tell unknown users apart.
        await transaction((manager) =>
          recordAudit(manager, now, auditEntryOf(actor, config ?? { id: null, ...subject }, 'verify.fail', 'failure')),
        );
        return { result: 'fail', method: 'none' };
      }
      const retryAfter = this.lockoutPolicy.retryAfterSeconds(config, now);
      if (retryAfter !== null) {
        // One INSERT, atomic on its own; a locked config answers 429, so there is no timing to match.
        await this.transactions.autocommit((manager) =>
          recordAudit(manager, now, auditEntryOf(actor, config, 'verify.locked', 'failure')),
        );
        return { result: 'locked', method: 'none', retryAfterSeconds: retryAfter };
      }
      return backupCode === null
        ? this.verifyTotp(transaction, actor, config, code, now, onVerified)
        : this.verifyBackupCode(transaction, actor, config, backupCode, now, onVerified);
    });
    this.metrics.countVerification(decision.result, decision.method);
    if (decision.result === 'locked') {
      const message = 'Too many failed attempts; try again later';
      throw new DomainError(ErrorCode.TooManyAttempts, message, [], decision.retryAfterSeconds);
    }
    return decision.result === 'success'
      ? { verified: true, method: decision.method, value: decision.value }
      : { verified: false };
  }

  private async verifyTotp<T>(
    transaction: Transaction,
    actor: Actor,
    config: TwoFactorConfig,
    code: string,
    now: number,
    onVerified: OnVerified<T>,
  ): Promise<Decision<T>> {
    let key: Buffer;
    try {
      key = this.secrets.open(config);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      // A secret that does not open (a row copied or written back, a key no longer configured) is a
      // failure like a wrong code: counted, audited with the key id, logged once. Never a 500.
      this.secrets.reportUnopenable(config, error);
      return transaction((manager) =>
        this.recordFailure(manager, actor, config, 'fail', 'totp', 'secret.integrity_error', now, error.keyId),
      );
    }
    const match = this.totp.verify(key, code, paramsOf(config), this.totpSettings.window, now);
    if (!match) {
      return transaction((manager) => this.recordFailure(manager, actor, config, 'fail', 'totp', 'verify.fail', now));
    }

    return transaction(async (manager) => {
      // Consume the step: only if it is newer than every step used before, the config is usable and
      // not locked. Concurrent requests with the same code race here and exactly one matches the row.
      const consumed = await this.configs.consumeStep(manager, {
        id: config.id,
        step: match.step,
        now,
        secretVersion: config.secretVersion,
        hardLimit: this.lockoutPolicy.settings.hardLimit,
      });
      if (!consumed) return this.recordFailure(manager, actor, config, 'replay', 'totp', 'verify.replay', now);
      const entries = [auditEntryOf(actor, config, 'verify.success', 'success')];
      if (config.status === 'pending') entries.push(auditEntryOf(actor, config, 'config.activated', 'success'));
      await recordAudit(manager, now, ...entries);
      return { result: 'success', method: 'totp', value: await onVerified(manager, config, now) };
    });
  }

  private async verifyBackupCode<T>(
    transaction: Transaction,
    actor: Actor,
    config: TwoFactorConfig,
    normalizedCode: string,
    now: number,
    onVerified: OnVerified<T>,
  ): Promise<Decision<T>> {
    const hashes = this.backupCodes.lookupHashes(normalizedCode, config.id);
    return transaction(async (manager) => {
      const used =
        (await this.configs.claimForBackupCode(manager, {
          id: config.id,
          now,
          hardLimit: this.lockoutPolicy.settings.hardLimit,
        })) && (await this.configs.useBackupCode(manager, { configId: config.id, hashes, now }));
      if (!used) return this.recordFailure(manager, actor, config, 'fail', 'backup', 'verify.fail', now);
      await this.configs.clearFailures(manager, { id: config.id, now });
      await recordAudit(
        manager,
        now,
        auditEntryOf(actor, config, 'backup_code.used', 'success'),
        auditEntryOf(actor, config, 'verify.success', 'success'),
      );
      return { result: 'success', method: 'backup', value: await onVerified(manager, config, now) };
    });
  }

  /**
   * Counts a failure in the row: the lock is decided from the count in the database (LockoutPolicy), so
   * failures add up across instances and lock periods.
   */
  private async recordFailure(
    manager: EntityManager,
    actor: Actor,
    config: TwoFactorConfig,
    result: 'fail' | 'replay',
    method: 'totp' | 'backup',
    event: AuditEventName,
    now: number,
    keyId: string | null = null,
  ): Promise<Decision<never>> {
    const counted = await this.configs.countFailure(manager, { id: config.id, now }, this.lockoutPolicy);
    const entries: AuditEntry[] = [{ ...auditEntryOf(actor, config, event, 'failure'), keyId }];
    const lockEvent = LOCK_EVENT_OF[counted];
    if (lockEvent) entries.push(auditEntryOf(actor, config, lockEvent, 'failure'));
    await recordAudit(manager, now, ...entries);
    return { result, method };
  }

  private dummyVerification(code: string, now: number): void {
    const key = this.secrets.openDummy();
    const digits = code.length === 8 ? 8 : 6;
    this.totp.verify(
      key,
      this.totp.isWellFormedCode(code, digits) ? code : '0'.repeat(digits),
      { ...this.totpSettings.defaults, digits },
      this.totpSettings.window,
      now,
    );
  }
}

function callerCodeRefused(): DomainError {
  const message = 'callerCode was not accepted';
  return new DomainError(ErrorCode.Forbidden, message, [
    { errorCode: 'InvalidCode', fieldName: 'callerCode', message },
  ]);
}
