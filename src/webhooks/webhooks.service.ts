import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Actor } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { webhookConfig } from '../config/app.config';
import { TransactionRunner } from '../database/transaction-runner';
import { auditEntryOf, recordAudit } from '../two-factor/audit-log';
import { SecretCipher } from '../two-factor/crypto/secret-cipher';
import { DeliveryStatus, WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { checkDestination, DestinationRefusedError, HostResolver } from './webhook-destination';
import { TEST_EVENT_TYPE, WebhookEventType, WebhookPayload } from './webhook-events';
import { pendingDelivery } from './webhook-outbox';
import { newSigningSecret } from './webhook-secret';
import { Page, WebhookRepository } from './webhook.repository';

/**
 * Each subscription gets a copy of every event it wants, written in the transaction of the change
 * (logins included), so the number per tenant is bounded. Two creations at the same moment may both
 * pass the count: a soft bound, which is all the fan-out needs.
 */
export const MAX_SUBSCRIPTIONS_PER_TENANT = 10;

/** Subscriptions of one tenant and their deliveries. Entities never leave this service. */
export interface SubscriptionView {
  id: string;
  url: string;
  /** null: every event type, including types added later. */
  events: WebhookEventType[] | null;
  createdAt: number;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  lastAttemptAt: number | null;
  /** Null once delivered or failed. */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

@Injectable()
export class WebhooksService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly cipher: SecretCipher,
    private readonly resolver: HostResolver,
    private readonly clock: Clock,
    @Inject(webhookConfig.KEY) private readonly config: ConfigType<typeof webhookConfig>,
  ) {}

  /** A new subscription; its signing secret is in this answer only. */
  async create(
    actor: Actor,
    url: string,
    events: WebhookEventType[] | undefined,
  ): Promise<{ subscription: SubscriptionView; secret: string }> {
    try {
      await checkDestination(url, this.config, this.resolver);
    } catch (error) {
      if (error instanceof DestinationRefusedError) throw DomainError.invalidField('url', error.message, error.reason);
      throw error;
    }
    const now = this.clock.now();
    const subscription: WebhookSubscription = {
      id: randomUUID(),
      tenant: actor.tenant,
      url,
      events: events === undefined ? null : [...events].sort().join(' '),
      secretCiphertext: '',
      createdBy: actor.actorId,
      createdAt: now,
    };
    const { secret, sealed } = newSigningSecret(this.cipher, subscription);
    subscription.secretCiphertext = sealed;
    await this.transactions.run(async (manager) => {
      const repository = new WebhookRepository(manager);
      if ((await repository.countSubscriptions(actor.tenant)) >= MAX_SUBSCRIPTIONS_PER_TENANT) {
        throw new DomainError(
          ErrorCode.Conflict,
          `A tenant has at most ${MAX_SUBSCRIPTIONS_PER_TENANT} webhook subscriptions; delete one first`,
        );
      }
      await repository.insertSubscription(subscription);
      await recordAudit(manager, now, auditOf(actor, subscription.id, 'webhook.created'));
    });
    return { subscription: viewOf(subscription), secret };
  }

  async list(actor: Actor, page: number, perPage: number): Promise<Page<SubscriptionView>> {
    const { items, total } = await this.repository().listSubscriptions(actor.tenant, page, perPage);
    return { items: items.map(viewOf), total };
  }

  async get(actor: Actor, id: string): Promise<SubscriptionView> {
    return viewOf(await this.findOwned(this.repository(), actor, id));
  }

  /** The subscription and every delivery of it, sent or not. */
  async remove(actor: Actor, id: string): Promise<void> {
    await this.transactions.run(async (manager) => {
      const repository = new WebhookRepository(manager);
      await this.findOwned(repository, actor, id);
      await repository.deleteSubscription(id);
      await recordAudit(manager, this.clock.now(), auditOf(actor, id, 'webhook.deleted'));
    });
  }

  /** Queues a `webhook.test` event for this subscription alone; the worker sends it like any other. */
  async sendTest(actor: Actor, id: string): Promise<{ eventId: string; deliveryId: string }> {
    const repository = this.repository();
    const subscription = await this.findOwned(repository, actor, id);
    const now = this.clock.now();
    const payload: WebhookPayload = {
      type: TEST_EVENT_TYPE,
      timestamp: new Date(now).toISOString(),
      data: {
        tenant: actor.tenant,
        subjectKind: null,
        subjectId: null,
        configId: null,
        actor: actor.actorId,
        requestId: actor.requestId,
        subscriptionId: subscription.id,
      },
    };
    const delivery = pendingDelivery(
      subscription.id,
      actor.tenant,
      randomUUID(),
      TEST_EVENT_TYPE,
      JSON.stringify(payload),
      now,
    );
    await repository.insertDeliveries([delivery]);
    return { eventId: delivery.eventId, deliveryId: delivery.id };
  }

  async deliveries(
    actor: Actor,
    id: string,
    query: { status?: DeliveryStatus; page: number; perPage: number },
  ): Promise<Page<DeliveryView>> {
    const repository = this.repository();
    await this.findOwned(repository, actor, id);
    const { items, total } = await repository.listDeliveries(id, query.status, query.page, query.perPage);
    return { items: items.map(deliveryViewOf), total };
  }

  private repository(): WebhookRepository {
    return new WebhookRepository(this.dataSource.manager);
  }

  private async findOwned(repository: WebhookRepository, actor: Actor, id: string): Promise<WebhookSubscription> {
    const subscription = await repository.findSubscription(actor.tenant, id);
    if (!subscription) throw new DomainError(ErrorCode.NotFound, 'Webhook subscription not found');
    return subscription;
  }
}

/** Subscriptions are audited as subjects of their own kind, by id. */
function auditOf(actor: Actor, subscriptionId: string, event: 'webhook.created' | 'webhook.deleted') {
  return auditEntryOf(actor, { id: null, kind: 'webhook', subjectId: subscriptionId }, event, 'success');
}

function viewOf(subscription: WebhookSubscription): SubscriptionView {
  return {
    id: subscription.id,
    url: subscription.url,
    events: subscription.events === null ? null : (subscription.events.split(' ') as WebhookEventType[]),
    createdAt: subscription.createdAt,
  };
}

function deliveryViewOf(delivery: WebhookDelivery): DeliveryView {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    event: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    createdAt: delivery.createdAt,
    lastAttemptAt: delivery.lastAttemptAt,
    nextAttemptAt: delivery.status === 'pending' ? delivery.nextAttemptAt : null,
    deliveredAt: delivery.deliveredAt,
  };
}
