import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/epoch-ms.transformer';

/**
 * Requests one client address made in one fixed window. Kept in the database, not in process memory,
 * so every instance behind a load balancer counts against the same limit.
 */
@Entity('rate_limit_bucket')
@Index('ix_rate_limit_bucket_expires', ['expiresAt'])
export class RateLimitBucket {
  /** `<client address>|<window number>`. */
  @PrimaryColumn({ type: 'varchar', length: 128 })
  bucket!: string;

  @Column({ type: 'integer' })
  hits!: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMs })
  expiresAt!: number;
}
