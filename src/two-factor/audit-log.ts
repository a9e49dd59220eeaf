import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { driverSqlOf } from '../database/driver-sql';
import type { Actor } from '../common/auth/principal';
import { enqueueWebhookEvents } from '../webhooks/webhook-outbox';
import { countUnusedBackupCodes } from './two-factor-config.repository';

export type AuditEventName =
  | 'config.created'
  | 'config.rotated'
  | 'config.disabled'
  | 'config.enabled'
  | 'config.unlocked'
  | 'config.deleted'
  | 'config.activated'
  | 'verify.success'
  | 'verify.fail'
  | 'verify.replay'
  | 'verify.locked'
  | 'lockout.engaged'
  | 'lockout.hard'
  | 'secret.integrity_error'
  | 'backup_code.used'
  | 'backup_codes.regenerated'
  | 'reset'
  | 'session.created'
  | 'session.updated'
  | 'session.deleted'
  | 'webhook.created'
  | 'webhook.deleted';

export interface AuditEntry {
  tenant: string;
  event: AuditEventName;
  outcome: 'success' | 'failure';
  actor: string | null;
  subjectKind: string | null;
  subjectId: string | null;
  configId: string | null;
  requestId: string | null;
  /** The encryption key id the event is about (secret.integrity_error); never key material. */
  keyId?: string | null;
}

/** An entry about one user's config (or, with a null id, about a user who has none). */
export function auditEntryOf(
  actor: Actor,
  config: { id: string | null; kind: string; subjectId: string },
  event: AuditEventName,
  outcome: AuditEntry['outcome'],
): AuditEntry {
  return {
    tenant: actor.tenant,
    event,
    outcome,
    actor: actor.actorId,
    subjectKind: config.kind,
    subjectId: config.subjectId,
    configId: config.id,
    requestId: actor.requestId,
  };
}

const AUDIT_COLUMNS =
  '(id, tenant, event, outcome, actor, subject_kind, subject_id, config_id, request_id, key_id, created_at)';
const AUDIT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** One fixed text per row count (requests write one to three events), so each is prepared once. */
const insertSqlByRows = new Map<number, string>();

function insertSql(rows: number): string {
  let sql = insertSqlByRows.get(rows);
  if (sql === undefined) {
    sql = `INSERT INTO audit_event ${AUDIT_COLUMNS} VALUES ${Array.from({ length: rows }, () => AUDIT_ROW).join(', ')}`;
    insertSqlByRows.set(rows, sql);
  }
  return sql;
}

/** The one INSERT of `entries` (each with a new id, all at `now`): its text and values. */
export function auditInsert(now: number, entries: AuditEntry[]): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  for (const entry of entries) {
    values.push(
      randomUUID(),
      entry.tenant,
      entry.event,
      entry.outcome,
      entry.actor,
      entry.subjectKind,
      entry.subjectId,
      entry.configId,
      entry.requestId,
      entry.keyId ?? null,
      now,
    );
  }
  return { text: insertSql(entries.length), values };
}

/**
 * Appends audit events through the caller's transaction manager, so an event is stored exactly when
 * the change it records is. Entries carry ids and outcomes only: never a secret or a code. The events
 * that are webhook events go to the webhook outbox in the same transaction.
 */
export async function recordAudit(manager: EntityManager, now: number, ...entries: AuditEntry[]): Promise<void> {
  await driverSqlOf(manager).changes(auditInsert(now, entries));
  await enqueueWebhookEvents(manager, now, entries, {
    unusedBackupCodes: async (configId) => (await countUnusedBackupCodes(manager, [configId]))[0],
  });
}
