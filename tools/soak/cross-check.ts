/**
 * After the run, from the database itself: every accepted login must appear exactly once in the audit
 * trail and have made exactly one session (gone again if its user's config was rotated or deleted since), and no credential may have been accepted twice there either
 * (the audit rows carry the soak's request ids, the ledger knows which credential each request carried).
 */
import { SoakDatabase } from './database';
import { isBackupCredential, Ledger } from './ledger';

export interface CrossCheck {
  auditVerifySuccesses: number;
  auditBackupCodesUsed: number;
  loginSessions: number;
  /** One per successful login, less those removed with their user's rotated or deleted config. */
  expectedLoginSessions: number;
  clientSuccesses: number;
  clientBackupSuccesses: number;
  /** Credentials the audit shows accepted more than once. */
  duplicatesInAudit: { credential: string; requestIds: string[] }[];
  problems: string[];
}

export async function crossCheck(database: SoakDatabase, tenant: string, ledger: Ledger): Promise<CrossCheck> {
  const rows = await database.query<{ event: string; request_id: string | null }>(
    "SELECT event, request_id FROM audit_event WHERE tenant = ? AND event IN ('verify.success', 'backup_code.used')",
    [tenant],
  );
  const [{ n: sessions }] = await database.query<{ n: number | string }>(
    "SELECT COUNT(*) AS n FROM two_factor_session WHERE tenant = ? AND origin = 'login'",
    [tenant],
  );
  const problems: string[] = [];
  const acceptedBy = new Map<string, string[]>();
  let backupUsed = 0;
  for (const row of rows) {
    if (row.event === 'backup_code.used') {
      backupUsed++;
      continue;
    }
    const credential = row.request_id === null ? undefined : ledger.credentialOf.get(row.request_id);
    if (credential === undefined) {
      problems.push(`audit: verify.success for request ${row.request_id} that was no login of the soak`);
      continue;
    }
    acceptedBy.set(credential, [...(acceptedBy.get(credential) ?? []), row.request_id!]);
  }
  const verifySuccesses = rows.length - backupUsed;
  const clientSuccesses = ledger.successCount();
  const clientBackupSuccesses = ledger.successCount(isBackupCredential);
  const duplicatesInAudit = [...acceptedBy]
    .filter(([, ids]) => ids.length > 1)
    .map(([credential, requestIds]) => ({ credential, requestIds }));
  if (duplicatesInAudit.length > 0) problems.push(`audit: ${duplicatesInAudit.length} credentials accepted twice`);
  if (verifySuccesses !== clientSuccesses) {
    problems.push(`audit has ${verifySuccesses} verify.success events, the soak saw ${clientSuccesses} successes`);
  }
  if (backupUsed !== clientBackupSuccesses) {
    problems.push(`audit has ${backupUsed} backup_code.used events, ${clientBackupSuccesses} backup logins succeeded`);
  }
  const expectedLoginSessions = ledger.loginSessionCount();
  if (Number(sessions) !== expectedLoginSessions) {
    problems.push(
      `${Number(sessions)} login sessions in the database; the soak's logins, rotations and deletions leave ${expectedLoginSessions}`,
    );
  }
  return {
    auditVerifySuccesses: verifySuccesses,
    auditBackupCodesUsed: backupUsed,
    loginSessions: Number(sessions),
    expectedLoginSessions,
    clientSuccesses,
    clientBackupSuccesses,
    duplicatesInAudit,
    problems,
  };
}
