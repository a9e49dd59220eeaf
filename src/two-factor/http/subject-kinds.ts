import type { Scope } from '../../common/auth/principal';
import type { SubjectKind } from '../entities/two-factor-config.entity';

/** What differs between the partner-user and agent APIs: kind, id field, scopes and prefixes. Nothing else. */
export interface SubjectKindSpec {
  kind: SubjectKind;
  /** The JSON field naming the user. */
  idField: 'partneruserid' | 'agentid';
  /** Other field names accepted for the id on create (seed 002 shows partneruserid on the agent route). */
  idAliases: readonly string[];
  /** Used in Swagger tags and DTO class names. */
  label: 'PartnerUser' | 'Agent';
  adminScope: Scope;
  loginScope: Scope;
  adminPrefixes: string[];
  loginPaths: string[];
}

// In paths, `::` is a literal colon for Fastify's router (see app.setup.ts for `%3A`).
export const PARTNER_USERS: SubjectKindSpec = {
  kind: 'partner',
  idField: 'partneruserid',
  idAliases: [],
  label: 'PartnerUser',
  adminScope: 'partner:admin',
  loginScope: 'partner:login',
  adminPrefixes: ['partnerglobalapi/2faConfig', 'partnerglobal/2faConfig'],
  loginPaths: ['partnerloginapi/2fa::verify'],
};

export const AGENTS: SubjectKindSpec = {
  kind: 'agent',
  idField: 'agentid',
  idAliases: ['partneruserid'],
  label: 'Agent',
  adminScope: 'agent:admin',
  loginScope: 'agent:login',
  adminPrefixes: ['globalapi/2faConfig', 'global/2faConfig'],
  loginPaths: ['loginapi/2fa::verify', 'global/2fa::verify'],
};
