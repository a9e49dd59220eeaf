import { EntityManager, In, LessThanOrEqual } from 'typeorm';
import { sealedKeyIdSql } from '../two-factor/crypto/secret-cipher';
import type { SealedRowStore } from '../two-factor/secret-resealing';
import { DeliveryStatus, WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';

/** A claimed delivery with what sending it needs from its subscription. */
export interface ClaimedDelivery {
  id: string;
  tenant: string;
  subscriptionId: string;
  eventId: string;
  payload: string;
  /** Counting this one. */
  attempts: number;
  url: string;
  secretCiphertext: string;
}

/** A subscription's signing secret with what it is bound to. */
export type SealedSigningSecret = Pick<WebhookSubscription, 'id' | 'tenant' | 'secretCiphertext'>;

export interface Page<T> {
  items: T[];
  total: number;
}

/** How an attempt ended, for the row: a delivered one is done, a failed one is due again or `failed`. */
export type AttemptOutcome =
  | { status: 'delivered'; statusCode: number }
  | { status: 'pending' | 'failed'; nextAttemptAt: number | null; statusCode: number | null; error: string };

/** Every statement on the webhook tables, through the given manager (a transaction's, or the data source's). */
export class WebhookRepository {
  constructor(private readonly manager: EntityManager) {}

  /**
   * The tenant's subscriptions, read by a change's transaction before it writes their deliveries. On
   * MySQL/MariaDB the rows are share-locked: a DELETE /webhooks/{id} under way is waited for and then not
   * seen, and one that comes later waits for this transaction, so no delivery misses its subscription
   * (the foreign key would fail the change itself: a 500, and a lockout not counted). SQLite has one
   * writer at a time. (TypeORM's pessimistic_read says FOR SHARE, which MariaDB does not know.)
   */
  subscriptionsOf(tenant: string): Promise<Pick<WebhookSubscription, 'id' | 'events'>[]> {
    const shareLock = this.manager.connection.options.type === 'mysql' ? ' LOCK IN SHARE MODE' : '';
    return this.manager.query(`SELECT id, events FROM webhook_subscription WHERE tenant = ?${shareLock}`, [tenant]);
  }

  countSubscriptions(tenant: string): Promise<number> {
    return this.manager.count(WebhookSubscription, { where: { tenant } });
  }

  async insertSubscription(subscription: WebhookSubscription): Promise<void> {
    await this.manager.insert(WebhookSubscription, subscription);
  }

  /** The tenant is part of the lookup: another tenant's subscription does not exist. */
  findSubscription(tenant: string, id: string): Promise<WebhookSubscription | null> {
    return this.manager.findOne(WebhookSubscription, { where: { tenant, id } });
  }

  async listSubscriptions(tenant: string, page: number, perPage: number): Promise<Page<WebhookSubscription>> {
    const [items, total] = await this.manager.findAndCount(WebhookSubscription, {
      where: { tenant },
      order: { createdAt: 'ASC', id: 'ASC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
    return { items, total };
  }

  /** The subscription and its deliveries (the foreign key cascades too; this does not rely on it). */
  async deleteSubscription(id: string): Promise<void> {
    await this.manager.delete(WebhookDelivery, { subscriptionId: id });
    await this.manager.delete(WebhookSubscription, { id });
  }

  async insertDeliveries(deliveries: WebhookDelivery[]): Promise<void> {
    await this.manager.insert(WebhookDelivery, deliveries);
  }

  async listDeliveries(
    subscriptionId: string,
    status: DeliveryStatus | undefined,
    page: number,
    perPage: number,
  ): Promise<Page<WebhookDelivery>> {
    const [items, total] = await this.manager.findAndCount(WebhookDelivery, {
      where: { subscriptionId, ...(status !== undefined ? { status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: (page - 1) * perPage,
      take: perPage,
    });
    return { items, total };
  }

  /** Signing secrets per encryption key id. */
  async secretsPerKeyId(): Promise<{ keyId: string; rows: number }[]> {
    const rows = await this.manager.query<{ key_id: string; n: string | number }[]>(
      `SELECT ${sealedKeyIdSql('secret_ciphertext')} AS key_id, COUNT(*) AS n FROM webhook_subscription ` +
        `GROUP BY ${sealedKeyIdSql('secret_ciphertext')}`,
    );
    return rows.map((row) => ({ keyId: row.key_id, rows: Number(row.n) }));
  }

  /**
   * The signing secrets as re-sealing reads and writes them (resealSecrets), those sealed under another
   * key than `notUnderKeyId`. A replacement matches only while the subscription still exists with the
   * secret that was read.
   */
  sealedSigningSecrets(notUnderKeyId: string): SealedRowStore<SealedSigningSecret> {
    const notUnderKey = {
      where: `${sealedKeyIdSql('subscription.secret_ciphertext')} <> :keyId`,
      keyId: notUnderKeyId,
    };
    return {
      count: () =>
        this.manager
          .createQueryBuilder(WebhookSubscription, 'subscription')
          .where(notUnderKey.where, notUnderKey)
          .getCount(),
      after: (afterId, limit) =>
        this.manager
          .createQueryBuilder(WebhookSubscription, 'subscription')
          .select(['subscription.id', 'subscription.tenant', 'subscription.secretCiphertext'])
          .where('subscription.id > :afterId', { afterId })
          .andWhere(notUnderKey.where, notUnderKey)
          .orderBy('subscription.id')
          .limit(limit)
          .getMany(),
      replace: async (row, sealed) =>
        (
          await this.manager.update(
            WebhookSubscription,
            { id: row.id, secretCiphertext: row.secretCiphertext },
            { secretCiphertext: sealed },
          )
        ).affected === 1,
    };
  }

  countPending(): Promise<number> {
    return this.manager.count(WebhookDelivery, { where: { status: 'pending' } });
  }

  /** Ids of pending deliveries due at `now`, the longest waiting first. */
  async dueDeliveryIds(now: number, limit: number): Promise<string[]> {
    const rows = await this.manager.find(WebhookDelivery, {
      select: { id: true },
      where: { status: 'pending', nextAttemptAt: LessThanOrEqual(now) },
      order: { nextAttemptAt: 'ASC' },
      take: limit,
    });
    return rows.map((row) => row.id);
  }

  /**
   * Claims those of `ids` that are still due, for one attempt: one conditional UPDATE, so of several
   * instances that saw the same rows each row goes to exactly one (the others match nothing once its
   * `next_attempt_at` moved to the end of the claim). An instance that dies mid-attempt leaves the row
   * to be claimed again when the claim ends: at least once.
   */
  async claim(ids: string[], token: string, now: number, claimUntil: number): Promise<void> {
    await this.manager
      .createQueryBuilder()
      .update(WebhookDelivery)
      .set({ claimToken: token, nextAttemptAt: claimUntil, lastAttemptAt: now, attempts: () => 'attempts + 1' })
      .where({ id: In(ids), status: 'pending', nextAttemptAt: LessThanOrEqual(now) })
      .execute();
  }

  /** The deliveries among `ids` that `token` claimed, with their subscriptions' URL and secret. */
  claimed(ids: string[], token: string): Promise<ClaimedDelivery[]> {
    return this.manager
      .createQueryBuilder(WebhookDelivery, 'delivery')
      .innerJoin(WebhookSubscription, 'subscription', 'subscription.id = delivery.subscription_id')
      .select([
        'delivery.id AS id',
        'delivery.tenant AS tenant',
        'delivery.subscription_id AS subscriptionId',
        'delivery.event_id AS eventId',
        'delivery.payload AS payload',
        'delivery.attempts AS attempts',
        'subscription.url AS url',
        'subscription.secret_ciphertext AS secretCiphertext',
      ])
      .where('delivery.id IN (:...ids)', { ids })
      .andWhere('delivery.claim_token = :token', { token })
      .getRawMany<ClaimedDelivery>()
      .then((rows) => rows.map((row) => ({ ...row, attempts: Number(row.attempts) })));
  }

  /** Records the attempt, only while `token` still holds the claim; false when the claim was lost. */
  async finishAttempt(id: string, token: string, now: number, outcome: AttemptOutcome): Promise<boolean> {
    const changes: Partial<WebhookDelivery> =
      outcome.status === 'delivered'
        ? {
            status: 'delivered',
            nextAttemptAt: null,
            lastStatusCode: outcome.statusCode,
            lastError: null,
            deliveredAt: now,
          }
        : {
            status: outcome.status,
            nextAttemptAt: outcome.nextAttemptAt,
            lastStatusCode: outcome.statusCode,
            lastError: outcome.error,
          };
    const result = await this.manager.update(
      WebhookDelivery,
      { id, claimToken: token },
      { ...changes, claimToken: null },
    );
    return result.affected === 1;
  }
}
