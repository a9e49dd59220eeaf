/**
 * The tags of the OpenAPI document, in the order of the README walkthrough. Controllers name theirs from
 * here, so a tag is never used without being declared with its description.
 */
export const API_TAGS = {
  partnerConfigs: {
    name: 'Partner-user configs',
    description:
      "Partner users' 2FA for partner administrators (scope `partner:admin`): enrol (a pending config with its " +
      'secret and QR image), read, list, rotate, disable or enable, unlock, delete, and issue backup codes. ' +
      'Also served under the older prefix `/partnerglobal/2faConfig`.',
  },
  partnerLogin: {
    name: 'Partner-user login',
    description:
      "A partner user's TOTP or backup code at login (scope `partner:login`): single use, lockout after " +
      'repeated failures, a TwoFactorSession on success.',
  },
  sessions: {
    name: 'TwoFactorSession',
    description: 'The session records a successful login creates, and their administration (scope `sessions:admin`).',
  },
  audit: {
    name: 'Audit',
    description: 'Every security event of your tenant (scope `audit:read`). Never a secret or a code.',
  },
  operations: {
    name: 'Operations',
    description: 'Health probes and Prometheus metrics.',
  },
  users: {
    name: 'User self-service',
    description:
      "The caller's own 2FA (scope `user`) and the reset of another user's 2FA (scope `users:reset`), " +
      'for the tenant named in the token.',
  },
  agentConfigs: {
    name: 'Agent configs',
    description:
      "Agents' 2FA for agent administrators (scope `agent:admin`), the same operations as for partner users. " +
      'Also served under the older prefix `/global/2faConfig`.',
  },
  agentLogin: {
    name: 'Agent login',
    description:
      "An agent's TOTP or backup code at login (scope `agent:login`). Also served as `POST /global/2fa:verify`.",
  },
  webhooks: {
    name: 'Webhooks',
    description:
      "Subscriptions to your tenant's security events (scope `webhooks:admin`), delivered as Standard Webhooks " +
      'messages from an outbox: the delivery log of each, and a test event.',
  },
  toolkit: {
    name: 'Toolkit',
    description:
      'Stateless TOTP helpers, public and rate limited per client address: make a secret with its otpauth URI ' +
      'and QR image, compute or check a code, make a backup code. Nothing is stored, so these routes cannot ' +
      'refuse a replayed code: logins go through the login routes.',
  },
} as const satisfies Record<string, { name: string; description: string }>;
