import { ConfigView } from '../two-factor.types';
import { SubjectKindSpec } from './subject-kinds';

const iso = (epochMs: number | null): string | null => (epochMs === null ? null : new Date(epochMs).toISOString());

/** A config as JSON: the id under the kind's field name, times as ISO strings, the secret only while pending. */
export function toConfigResponse(spec: SubjectKindSpec, view: ConfigView): Record<string, unknown> {
  return {
    id: view.id,
    [spec.idField]: view.subjectId,
    status: view.status,
    createdAt: iso(view.createdAt),
    activatedAt: iso(view.activatedAt),
    lockedUntil: iso(view.lockedUntil),
    backupCodesRemaining: view.backupCodesRemaining,
    ...(view.enrolment ?? {}),
  };
}
