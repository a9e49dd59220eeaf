import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { totpConfig } from '../config/app.config';
import { TransactionRunner } from '../database/transaction-runner';
import { auditEntryOf, AuditEventName, recordAudit } from './audit-log';
import { ConfigSecrets } from './config-secrets';
import { BackupCodes } from './crypto/backup-codes';
import { SecretDecryptionError } from './crypto/secret-cipher';
import { TwoFactorConfig } from './entities/two-factor-config.entity';
import { LockoutPolicy } from './lockout-policy';
import { QrCodeRenderer } from './qr-code';
import { TwoFactorConfigRepository } from './two-factor-config.repository';
import { TwoFactorSessionService } from './two-factor-session.service';
import { isUniqueViolation } from './unique-violation';
import { encodeBase32 } from './totp/base32';
import { InvalidOtpauthLabelError } from './totp/totp.errors';
import { TotpProvider } from './totp/totp.provider';
import { KEY_BYTES, paramsOf } from './totp/totp.types';
import { Actor, ConfigChange, ConfigListQuery, ConfigView, Enrolment, Subject } from './two-factor.types';

/**
 * The administration of per-user 2FA configs, for partner users and agents alike: enrolment, reading,
 * rotation, disabling, unlocking, deletion and backup codes, each change audited in its transaction.
 * Verification at login lives in CodeVerificationService.
 */
@Injectable()
export class TwoFactorConfigService {
  constructor(
    private readonly configs: TwoFactorConfigRepository,
    private readonly transactions: TransactionRunner,
    private readonly totp: TotpProvider,
    private readonly secrets: ConfigSecrets,
    private readonly backupCodes: BackupCodes,
    private readonly qrCodes: QrCodeRenderer,
    private readonly sessions: TwoFactorSessionService,
    private readonly clock: Clock,
    private readonly lockoutPolicy: LockoutPolicy,
    @Inject(totpConfig.KEY) private readonly totpSettings: ConfigType<typeof totpConfig>,
  ) {}

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
      secretVersion: 1,
      ...params,
      status: 'pending',
      lastUsedStep: null,
      failedAttempts: 0,
      lockedUntil: null,
      createdAt: now,
      updatedAt: now,
      activatedAt: null,
    };
    config.secretCiphertext = this.secrets.seal(config, key);
    const enrolment = await this.enrolmentOf(config, key);
    try {
      await this.transactions.run(async (manager) => {
        await this.configs.insert(manager, config);
        await recordAudit(manager, now, auditEntryOf(actor, config, 'config.created', 'success'));
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return this.samePendingEnrolment(actor, subject, config.account);
    }
    return this.viewOf(config, 0, enrolment);
  }

  /**
   * A create for a user who already has a config. While that config is pending with the same account,
   * the create answers it (its secret, URI and QR, as a read does): a client whose first create got no
   * answer, or a 503 after a commit that went through (a cluster stalled past DATABASE_TIMEOUT_MS), may
   * simply send the create again. Two creates at once get the same config. Anything else is a 409.
   */
  private async samePendingEnrolment(actor: Actor, subject: Subject, account: string): Promise<ConfigView> {
    const existing = await this.configs.findBySubject(actor.tenant, subject);
    if (existing?.status !== 'pending' || existing.account !== account) {
      throw new DomainError(ErrorCode.Conflict, 'This user already has a 2FA config');
    }
    const [remaining] = await this.configs.backupCodesRemaining([existing.id]);
    return this.viewOf(existing, remaining, await this.enrolmentOf(existing));
  }

  async get(actor: Actor, kind: Subject['kind'], id: string): Promise<ConfigView> {
    const config = await this.findOwned(actor, kind, id);
    const [remaining] = await this.configs.backupCodesRemaining([config.id]);
    return this.viewOf(config, remaining, config.status === 'pending' ? await this.enrolmentOf(config) : undefined);
  }

  async list(
    actor: Actor,
    kind: Subject['kind'],
    query: ConfigListQuery,
  ): Promise<{ items: ConfigView[]; total: number }> {
    const [configs, total] = await this.configs.list({
      tenant: actor.tenant,
      kind,
      subjectId: query.subjectId,
      status: query.status,
      offset: (query.page - 1) * query.perPage,
      limit: query.perPage,
    });
    const remaining = await this.configs.backupCodesRemaining(configs.map((config) => config.id));
    return { items: configs.map((config, index) => this.viewOf(config, remaining[index])), total };
  }

  async update(actor: Actor, kind: Subject['kind'], id: string, change: ConfigChange): Promise<ConfigView> {
    const now = this.clock.now();
    let newKey: Buffer | undefined;
    const config = await this.transactions.run(async (manager) => {
      const current = await this.findOwned(actor, kind, id, manager);
      const updates: Partial<TwoFactorConfig> = {};
      const events: AuditEventName[] = [];
      if (change.rotateSecret) {
        newKey = this.totp.generateKey(KEY_BYTES[current.algorithm]);
        // An account too long for an otpauth URI (an older row) is refused before anything is written.
        this.otpauthUrlOf(current, newKey);
        const secretVersion = current.secretVersion + 1;
        Object.assign(updates, {
          secretVersion,
          secretCiphertext: this.secrets.seal({ ...current, secretVersion }, newKey),
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
        // A rotation is sealed for the version after the one read: it lands only if no other came first.
        const where = change.rotateSecret
          ? { id: current.id, secretVersion: current.secretVersion }
          : { id: current.id };
        if (!(await this.configs.update(manager, where, updates))) {
          throw new DomainError(ErrorCode.Conflict, 'The config was rotated at the same time; read it again');
        }
        // Sessions record a pass of this factor: they do not outlive its secret or its being enabled.
        if (change.rotateSecret || updates.status === 'disabled') {
          await this.sessions.removeForUserInTransaction(manager, actor.tenant, current);
        }
        await recordAudit(manager, now, ...events.map((event) => auditEntryOf(actor, current, event, 'success')));
      }
      return { ...current, ...updates };
    });
    const [remaining] = await this.configs.backupCodesRemaining([config.id]);
    const enrolment = config.status === 'pending' ? await this.enrolmentOf(config, newKey) : undefined;
    return this.viewOf(config, remaining, enrolment);
  }

  async remove(actor: Actor, kind: Subject['kind'], id: string): Promise<void> {
    await this.transactions.run(async (manager) => {
      const config = await this.findOwned(actor, kind, id, manager);
      await this.configs.delete(manager, actor.tenant, config.id);
      await this.sessions.removeForUserInTransaction(manager, actor.tenant, config);
      await recordAudit(manager, this.clock.now(), auditEntryOf(actor, config, 'config.deleted', 'success'));
    });
  }

  /** A new set of backup codes, replacing every earlier one. The plain codes exist only in this answer. */
  async regenerateBackupCodes(actor: Actor, kind: Subject['kind'], id: string): Promise<string[]> {
    const codes = this.backupCodes.generateSet();
    const now = this.clock.now();
    await this.transactions.run(async (manager) => {
      const config = await this.findOwned(actor, kind, id, manager);
      const hashes = codes.map((code) => this.backupCodes.hash(this.backupCodes.normalize(code)!, config.id));
      await this.configs.replaceBackupCodes(manager, config.id, hashes, now);
      await recordAudit(manager, now, auditEntryOf(actor, config, 'backup_codes.regenerated', 'success'));
    });
    return codes;
  }

  /**
   * A caller's new pending config (seed 001's generate-key): created, or re-keyed while pending;
   * refused while active (409) or disabled by an administrator (403).
   */
  async generateKeyFor(actor: Actor, subject: Subject): Promise<string> {
    const existing = await this.configs.findBySubject(actor.tenant, subject);
    if (existing?.status === 'active') throw new DomainError(ErrorCode.Conflict, 'Your 2FA is already active');
    // A config an administrator disabled stays disabled: self-service must not undo that.
    if (existing?.status === 'disabled')
      throw new DomainError(ErrorCode.Forbidden, 'Your 2FA was disabled by an administrator');
    const view = existing
      ? await this.update(actor, subject.kind, existing.id, { rotateSecret: true })
      : await this.enrol(actor, subject);
    return view.enrolment!.otpauthUrl;
  }

  private async findOwned(
    actor: Actor,
    kind: Subject['kind'],
    id: string,
    manager?: EntityManager,
  ): Promise<TwoFactorConfig> {
    const config = await this.configs.findOwned(actor.tenant, kind, id, manager);
    if (!config) throw new DomainError(ErrorCode.NotFound, '2FA config not found');
    return config;
  }

  /** What a pending config shows; nothing when its stored secret does not open (logged: rotate it). */
  private async enrolmentOf(config: TwoFactorConfig, key?: Buffer): Promise<Enrolment | undefined> {
    let secret = key;
    try {
      secret ??= this.secrets.open(config);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      this.secrets.reportUnopenable(config, error);
      return undefined;
    }
    const otpauthUrl = this.otpauthUrlOf(config, secret);
    return { secretKey: encodeBase32(secret), otpauthUrl, qrcodeUrl: await this.qrCodes.toPngDataUrl(otpauthUrl) };
  }

  private otpauthUrlOf(config: TwoFactorConfig, secret: Buffer): string {
    try {
      return this.totp.otpauthUri({
        issuer: this.totpSettings.issuer,
        account: config.account,
        key: secret,
        params: paramsOf(config),
      });
    } catch (error) {
      if (error instanceof InvalidOtpauthLabelError)
        throw DomainError.invalidField('account', `${error.message}; name an account`);
      throw error;
    }
  }

  private viewOf(config: TwoFactorConfig, backupCodesRemaining: number, enrolment?: Enrolment): ConfigView {
    return {
      id: config.id,
      subjectId: config.subjectId,
      status: config.status,
      createdAt: config.createdAt,
      activatedAt: config.activatedAt,
      lockedUntil: config.lockedUntil !== null && config.lockedUntil > this.clock.now() ? config.lockedUntil : null,
      hardLocked: this.lockoutPolicy.isHardLocked(config),
      consecutiveFailures: config.failedAttempts,
      backupCodesRemaining,
      ...(enrolment ? { enrolment } : {}),
    };
  }
}
