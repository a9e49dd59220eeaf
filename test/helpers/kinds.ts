/** The two kinds of user of the per-user 2FA APIs: their admin routes, login route, id field and scopes. */
export const PARTNER = {
  kind: 'partner',
  prefix: '/partnerglobalapi/2faConfig',
  idField: 'partneruserid',
  adminScope: 'partner:admin',
  loginScope: 'partner:login',
  loginPath: '/partnerloginapi/2fa:verify',
} as const;

export const AGENT = {
  kind: 'agent',
  prefix: '/globalapi/2faConfig',
  idField: 'agentid',
  adminScope: 'agent:admin',
  loginScope: 'agent:login',
  loginPath: '/loginapi/2fa:verify',
} as const;

export const KINDS = [PARTNER, AGENT] as const;
export type Kind = (typeof KINDS)[number];
