import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/epoch-ms.transformer';
import type { TotpAlgorithm, TotpDigits, TotpPeriod } from '../totp/totp.types';

export type SubjectKind = 'partner' | 'agent';
export type TwoFactorStatus = 'pending' | 'active' | 'disabled';

/** One user's TOTP factor: partner users and agents alike, unique per tenant + kind + subject. */
@Entity('two_factor_config')
@Index('uq_two_factor_config_subject', ['tenant', 'kind', 'subjectId'], { unique: true })
@Index('ix_two_factor_config_tenant_status', ['tenant', 'kind', 'status'])
export class TwoFactorConfig {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant!: string;

  @Column({ type: 'varchar', length: 16 })
  kind!: SubjectKind;

  @Column({ name: 'subject_id', type: 'varchar', length: 128 })
  subjectId!: string;

  /** The account name shown in the authenticator app (defaults to the subject id). */
  @Column({ type: 'varchar', length: 128 })
  account!: string;

  /** AES-256-GCM sealed secret, bound to this row's id, secret version and owner (see ConfigSecrets). */
  @Column({ name: 'secret_ciphertext', type: 'varchar', length: 255 })
  secretCiphertext!: string;

  /** 1 for the first secret, one more on every rotation; part of the sealed secret's associated data. */
  @Column({ name: 'secret_version', type: 'int', default: 1 })
  secretVersion!: number;

  @Column({ type: 'varchar', length: 8 })
  algorithm!: TotpAlgorithm;

  @Column({ type: 'int' })
  digits!: TotpDigits;

  @Column({ type: 'int' })
  period!: TotpPeriod;

  @Column({ type: 'varchar', length: 16 })
  status!: TwoFactorStatus;

  /** High-water mark of accepted time steps: this step and every earlier one are spent. */
  @Column({ name: 'last_used_step', type: 'int', nullable: true })
  lastUsedStep!: number | null;

  @Column({ name: 'failed_attempts', type: 'int', default: 0 })
  failedAttempts!: number;

  @Column({ name: 'locked_until', type: 'bigint', nullable: true, transformer: epochMs })
  lockedUntil!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;

  @Column({ name: 'activated_at', type: 'bigint', nullable: true, transformer: epochMs })
  activatedAt!: number | null;
}
