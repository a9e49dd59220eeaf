/**
 * The events a tenant can subscribe to. All but `backup_codes.low` are audit events of the same name,
 * reported from the transaction that records them (webhook-outbox.ts); `backup_codes.low` is derived
 * from `backup_code.used`.
 */
export const WEBHOOK_EVENT_TYPES = [
  'config.created',
  'config.activated',
  'config.rotated',
  'config.disabled',
  'config.deleted',
  'backup_codes.regenerated',
  'backup_code.used',
  'backup_codes.low',
  'lockout.engaged',
  'lockout.hard',
  'reset',
  'secret.integrity_error',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent by `POST /webhooks/{id}/test` to that subscription only; nobody subscribes to it. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** `backup_codes.low` follows every use that leaves this many unused codes or fewer. */
export const LOW_BACKUP_CODES = 2;

/**
 * The body of every delivery (Standard Webhooks' recommended shape). Ids and names only: never a
 * secret, a code or an otpauth URI.
 */
export interface WebhookPayload {
  type: WebhookEventType | typeof TEST_EVENT_TYPE;
  /** When the event happened (ISO 8601), not when it is delivered. */
  timestamp: string;
  data: {
    tenant: string;
    subjectKind: string | null;
    subjectId: string | null;
    configId: string | null;
    actor: string | null;
    requestId: string | null;
    /** Unused backup codes left (backup_code.used, backup_codes.low). */
    backupCodesRemaining?: number;
    /** The subscription that asked for a test delivery (webhook.test). */
    subscriptionId?: string;
  };
}

/** A subscription's `events` column: null is every type. */
export function subscribesTo(events: string | null, type: string): boolean {
  return events === null || events.split(' ').includes(type);
}
