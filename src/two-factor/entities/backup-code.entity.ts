import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/epoch-ms.transformer';
import { TwoFactorConfig } from './two-factor-config.entity';

/** A single-use backup code, stored only as a keyed hash (see BackupCodes). */
@Entity('backup_code')
@Index('uq_backup_code_hash', ['configId', 'codeHash'], { unique: true })
export class BackupCode {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'config_id', type: 'varchar', length: 36 })
  configId!: string;

  /** Declared for the foreign key only (codes go with their config); never loaded. */
  @ManyToOne(() => TwoFactorConfig, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'config_id', foreignKeyConstraintName: 'fk_backup_code_config' })
  config?: TwoFactorConfig;

  @Column({ name: 'code_hash', type: 'varchar', length: 64 })
  codeHash!: string;

  @Column({ name: 'used_at', type: 'bigint', nullable: true, transformer: epochMs })
  usedAt!: number | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;
}
