import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/epoch-ms.transformer';

/** A tenant's webhook endpoint: where its events go, which of them, and the secret they are signed with. */
@Entity('webhook_subscription')
@Index('ix_webhook_subscription_tenant_created', ['tenant', 'createdAt'])
export class WebhookSubscription {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  tenant!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  /** Space-separated event types, or null for every type. */
  @Column({ type: 'varchar', length: 512, nullable: true })
  events!: string | null;

  /** The signing secret sealed by SecretCipher, bound to this row's tenant and id. */
  @Column({ name: 'secret_ciphertext', type: 'varchar', length: 255 })
  secretCiphertext!: string;

  @Column({ name: 'created_by', type: 'varchar', length: 128, nullable: true })
  createdBy!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;
}
