import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { epochMs } from '../../database/epoch-ms.transformer';
import { WebhookSubscription } from './webhook-subscription.entity';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/**
 * The outbox: one event for one subscription, written in the transaction of the change it reports and
 * sent by the delivery worker until a 2xx (`delivered`) or the last attempt (`failed`).
 */
@Entity('webhook_delivery')
@Index('ix_webhook_delivery_due', ['status', 'nextAttemptAt'])
@Index('ix_webhook_delivery_subscription_created', ['subscriptionId', 'createdAt'])
export class WebhookDelivery {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'subscription_id', type: 'varchar', length: 36 })
  subscriptionId!: string;

  /** Declared for the foreign key only (deliveries go with their subscription); never loaded. */
  @ManyToOne(() => WebhookSubscription, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'subscription_id', foreignKeyConstraintName: 'fk_webhook_delivery_subscription' })
  subscription?: WebhookSubscription;

  @Column({ type: 'varchar', length: 64 })
  tenant!: string;

  /** The `webhook-id` header: one id per event, the same for every attempt (the receiver's idempotency key). */
  @Column({ name: 'event_id', type: 'varchar', length: 36 })
  eventId!: string;

  @Column({ name: 'event_type', type: 'varchar', length: 48 })
  eventType!: string;

  /** The JSON body exactly as signed and sent. */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: DeliveryStatus;

  @Column({ type: 'int' })
  attempts!: number;

  /** When the worker may next try; while an attempt runs, the end of its claim. Null once finished. */
  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextAttemptAt!: number | null;

  /** Set by the worker that claimed the delivery; only that worker may record the attempt's outcome. */
  @Column({ name: 'claim_token', type: 'varchar', length: 36, nullable: true })
  claimToken!: string | null;

  @Column({ name: 'last_attempt_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastAttemptAt!: number | null;

  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode!: number | null;

  /** Why the last attempt failed, with at most 1 KiB of the receiver's answer. */
  @Column({ name: 'last_error', type: 'varchar', length: 1200, nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'delivered_at', type: 'bigint', nullable: true, transformer: epochMs })
  deliveredAt!: number | null;
}
