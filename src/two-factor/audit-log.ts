import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AuditEvent } from './entities/audit-event.entity';

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
  | 'backup_code.used'
  | 'backup_codes.regenerated'
  | 'reset'
  | 'session.created'
  | 'session.updated'
  | 'session.deleted';

export interface AuditEntry {
  tenant: string;
  event: AuditEventName;
  outcome: 'success' | 'failure';
  actor: string | null;
  subjectKind: string | null;
  subjectId: string | null;
  configId: string | null;
  requestId: string | null;
}

/**
 * Appends audit events through the caller's transaction manager, so an event is stored exactly when
 * the change it records is. Entries carry ids and outcomes only: never a secret or a code.
 */
export async function recordAudit(manager: EntityManager, now: number, ...entries: AuditEntry[]): Promise<void> {
  await manager.insert(
    AuditEvent,
    entries.map((entry) => ({ id: randomUUID(), createdAt: now, ...entry })),
  );
}
