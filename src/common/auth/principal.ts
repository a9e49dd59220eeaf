import type { SubjectKind } from '../../two-factor/entities/two-factor-config.entity';

/** Who is calling, from a verified token. `tenant` scopes every query made on the caller's behalf. */
export interface Principal {
  sub: string;
  tenant: string;
  scopes: ReadonlySet<string>;
  kind?: SubjectKind;
}

export const SCOPES = [
  'partner:admin',
  'partner:login',
  'agent:admin',
  'agent:login',
  'sessions:admin',
  'user',
  'users:reset',
  'audit:read',
  'metrics:read',
  'webhooks:admin',
] as const;
export type Scope = (typeof SCOPES)[number];

/** Who asks for a change, for the audit trail: the tenant it happens in, the caller, the request. */
export interface Actor {
  tenant: string;
  actorId: string | null;
  requestId: string | null;
}
