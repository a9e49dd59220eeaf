import { ConfigView } from '../two-factor.types';
import type { ConfigPageFields, ConfigResponseFields } from './config.dto';

const iso = (epochMs: number | null): string | null => (epochMs === null ? null : new Date(epochMs).toISOString());

/** A config as JSON: the id under the kind's field name, times as ISO strings, the secret only while pending. */
export function toConfigResponse<IdField extends 'partneruserid' | 'agentid'>(
  idField: IdField,
  view: ConfigView,
): ConfigResponseFields & Record<IdField, string> {
  return {
    id: view.id,
    ...({ [idField]: view.subjectId } as Record<IdField, string>),
    status: view.status,
    createdAt: iso(view.createdAt)!,
    activatedAt: iso(view.activatedAt),
    lockedUntil: iso(view.lockedUntil),
    hardLocked: view.hardLocked,
    consecutiveFailures: view.consecutiveFailures,
    backupCodesRemaining: view.backupCodesRemaining,
    ...view.enrolment,
  };
}

/** One page of configs as JSON. */
export function toConfigPage<IdField extends 'partneruserid' | 'agentid'>(
  idField: IdField,
  result: { items: ConfigView[]; total: number },
  paging: { page: number; perPage: number },
): ConfigPageFields & { items: (ConfigResponseFields & Record<IdField, string>)[] } {
  return {
    items: result.items.map((view) => toConfigResponse(idField, view)),
    total: result.total,
    page: paging.page,
    perPage: paging.perPage,
  };
}
