import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/epoch-ms.transformer';

export const SESSION_ORIGINS = ['login', 'api'] as const;
export type SessionOrigin = (typeof SESSION_ORIGINS)[number];

/** Seed 000's TwoFactorSession: a record that a user passed 2FA, with a public id to hand around. */
@Entity('two_factor_session')
@Index('ix_two_factor_session_tenant_created', ['tenant', 'createdAt'])
@Index('ix_two_factor_session_tenant_user', ['tenant', 'userId'])
@Index('ix_two_factor_session_expires', ['expiresAt'])
export class TwoFactorSession {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  tenant!: string;

  @PrimaryColumn({ name: 'public_id', type: 'varchar', length: 64 })
  publicId!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 128 })
  userId!: string;

  /** partner or agent when made by a login; null when posted by an admin. */
  @Column({ type: 'varchar', length: 16, nullable: true })
  kind!: string | null;

  /** `login`: made by a successful verification, its user_id never changes; `api`: posted to /TwoFactorSession. */
  @Column({ type: 'varchar', length: 8, default: 'login' })
  origin!: SessionOrigin;

  @Column({ type: 'boolean' })
  bool!: boolean;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: number;
}
