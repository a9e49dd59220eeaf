import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import type { AuditEntry } from '../two-factor/audit-log';
import { WebhookDelivery } from './entities/webhook-delivery.entity';
import { WebhookSubscription } from './entities/webhook-subscription.entity';
import { WebhookRepository } from './webhook.repository';
import {
  LOW_BACKUP_CODES,
  subscribesTo,
  WEBHOOK_EVENT_TYPES,
  WebhookEventType,
  WebhookPayload,
} from './webhook-events';

/** The audit events that are webhook events of the same name. */
const REPORTED_AUDIT_EVENTS: ReadonlySet<string> = new Set<string>(WEBHOOK_EVENT_TYPES);

/** What the outbox needs to know of the core's state, read through the change's own transaction. */
export interface OutboxFacts {
  unusedBackupCodes(configId: string): Promise<number>;
}

/**
 * Writes the outbox rows for the audit entries that are webhook events: one delivery per event and
 * subscription that wants it, through the caller's manager, so a delivery exists exactly when the
 * change it reports was committed. Entries that are no webhook event (every plain login) cost nothing.
 */
export async function enqueueWebhookEvents(
  manager: EntityManager,
  now: number,
  entries: readonly AuditEntry[],
  facts: OutboxFacts,
): Promise<void> {
  const reported = entries.filter((entry) => REPORTED_AUDIT_EVENTS.has(entry.event));
  if (reported.length === 0) return;
  const repository = new WebhookRepository(manager);
  const deliveries: WebhookDelivery[] = [];
  const subscriptionsByTenant = new Map<string, Pick<WebhookSubscription, 'id' | 'events'>[]>();
  for (const entry of reported) {
    let subscriptions = subscriptionsByTenant.get(entry.tenant);
    if (subscriptions === undefined) {
      subscriptions = await repository.subscriptionsOf(entry.tenant);
      subscriptionsByTenant.set(entry.tenant, subscriptions);
    }
    if (subscriptions.length === 0) continue;
    for (const payload of await payloadsOf(entry, now, subscriptions, facts)) {
      const body = JSON.stringify(payload);
      const eventId = randomUUID();
      for (const subscription of subscriptions.filter(({ events }) => subscribesTo(events, payload.type))) {
        deliveries.push(pendingDelivery(subscription.id, entry.tenant, eventId, payload.type, body, now));
      }
    }
  }
  if (deliveries.length > 0) await repository.insertDeliveries(deliveries);
}

/** A delivery due now, for the worker to send. */
export function pendingDelivery(
  subscriptionId: string,
  tenant: string,
  eventId: string,
  eventType: string,
  payload: string,
  now: number,
): WebhookDelivery {
  return {
    id: randomUUID(),
    subscriptionId,
    tenant,
    eventId,
    eventType,
    payload,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: now,
    claimToken: null,
    lastAttemptAt: null,
    lastStatusCode: null,
    lastError: null,
    createdAt: now,
    deliveredAt: null,
  };
}

async function payloadsOf(
  entry: AuditEntry,
  now: number,
  subscriptions: Pick<WebhookSubscription, 'events'>[],
  facts: OutboxFacts,
): Promise<WebhookPayload[]> {
  const data: WebhookPayload['data'] = {
    tenant: entry.tenant,
    subjectKind: entry.subjectKind,
    subjectId: entry.subjectId,
    configId: entry.configId,
    actor: entry.actor,
    requestId: entry.requestId,
  };
  const payload = (type: WebhookEventType, extra: Partial<WebhookPayload['data']> = {}): WebhookPayload => ({
    type,
    timestamp: new Date(now).toISOString(),
    data: { ...data, ...extra },
  });
  const wanted = (type: WebhookEventType) => subscriptions.some(({ events }) => subscribesTo(events, type));
  if (entry.event !== 'backup_code.used' || entry.configId === null) {
    return [payload(entry.event as WebhookEventType)];
  }
  // Counted only when someone listens: a backup-code login otherwise costs what it did before.
  if (!wanted('backup_code.used') && !wanted('backup_codes.low')) return [];
  const backupCodesRemaining = await facts.unusedBackupCodes(entry.configId);
  const payloads = [payload('backup_code.used', { backupCodesRemaining })];
  if (backupCodesRemaining <= LOW_BACKUP_CODES) payloads.push(payload('backup_codes.low', { backupCodesRemaining }));
  return payloads;
}
