import request from 'supertest';
import { expectStatus } from './helpers/http';
import { Kind, KINDS } from './helpers/kinds';
import { awaitFreshStep, oathtoolTotp } from './helpers/oathtool';
import { TOTP_SETTINGS, withApp } from './helpers/suite';
import { rawDataSource, testDatabases } from './helpers/test-app';
import { nowSeconds } from './helpers/time';
import { mintToken } from './helpers/tokens';
import { base32Decode } from '../tools/shared/totp';

/**
 * docs/api.md "TOTP and secrets": the database alone never reveals a secret, backup codes are stored only
 * hashed, and the audit trail records every security event without a secret or a code in it.
 */

// testTimeout in jest.config.js is a global option, ignored inside `projects`.
jest.setTimeout(60_000);

const TENANT = 'vault';
const SETTINGS = {
  ...TOTP_SETTINGS,
  TOTP_ISSUER: 'twofa',
  LOCKOUT_MAX_FAILURES: '3',
  LOCKOUT_SECONDS: '60',
};

/** Every form a leaked secret could take in a dump. */
function secretForms(base32: string): string[] {
  const raw = base32Decode(base32);
  return [
    base32,
    base32.toLowerCase(),
    raw.toString('hex'),
    raw.toString('hex').toUpperCase(),
    raw.toString('base64'),
    raw.toString('base64').replace(/=+$/, ''),
    raw.toString('base64url'),
    raw.toString('latin1'),
  ];
}

/** Every form a leaked backup code could take in a dump. */
function backupCodeForms(code: string): string[] {
  const bare = code.replace('-', '');
  return [code, code.toLowerCase(), bare, bare.toLowerCase()];
}

/** A value as text, binary values in every encoding a reader could try. */
function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Buffer.isBuffer(value)) {
    return [value.toString('latin1'), value.toString('hex'), value.toString('base64'), value.toString('utf8')].join(
      ' ',
    );
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return value.toString();
  return JSON.stringify(value) ?? '';
}

describe.each(testDatabases())('secrets at rest on $name', (database) => {
  const running = withApp(database, SETTINGS);
  /** Everything the API ever showed that must never be readable from the database. */
  const secrets: string[] = [];
  const backupCodes: string[] = [];
  const totpCodes: string[] = [];

  const http = () => request(running().url);
  const bearer = async (scope: string) => `Bearer ${await mintToken({ tenant: TENANT, sub: 'vault-admin', scope })}`;
  const admin = async (spec: Kind, method: 'post' | 'put' | 'delete', path: string, body?: object) => {
    const authorization = await bearer(spec.adminScope);
    const client = http();
    const req = client[method](`${spec.prefix}${path}`).set('Authorization', authorization);
    return body ? req.send(body) : req;
  };
  const login = async (spec: Kind, userId: string, code: string) => {
    if (/^\d+$/.test(code)) totpCodes.push(code);
    const res = await http()
      .post(spec.loginPath)
      .set('Authorization', await bearer(spec.loginScope))
      .send({ [spec.idField]: userId, code });
    return res;
  };

  /** Every row of every table, as one string. */
  async function dumpDatabase(): Promise<{ tables: string[]; dump: string }> {
    const raw = rawDataSource(running());
    const tableRows = await raw.query<{ name: string }[]>(
      database.name === 'sqlite'
        ? "SELECT name AS name FROM sqlite_master WHERE type = 'table'"
        : 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
    );
    const tables = tableRows.map((row) => row.name);
    const parts: string[] = [];
    for (const table of tables) {
      const quoted = database.name === 'sqlite' ? `"${table}"` : `\`${table}\``;
      for (const row of await raw.query<Record<string, unknown>[]>(`SELECT * FROM ${quoted}`)) {
        parts.push(`${table}: ${Object.values(row).map(textOf).join(' | ')}`);
      }
    }
    return { tables, dump: parts.join('\n') };
  }

  it('a full lifecycle leaves neither a secret nor a backup code readable anywhere in the database', async () => {
    for (const spec of KINDS) {
      const userId = `vault-${spec.kind}`;
      await awaitFreshStep();
      const created = expectStatus(await admin(spec, 'post', '', { [spec.idField]: userId }), 200).body;
      secrets.push(created.secretKey);
      const at = nowSeconds();
      expect(expectStatus(await login(spec, userId, oathtoolTotp(created.secretKey, { at })), 200).body).toMatchObject({
        result: 'success',
        method: 'totp',
      });
      // A replay, then wrong codes up to the lock, a refused correct code, and an unlock.
      expect(expectStatus(await login(spec, userId, oathtoolTotp(created.secretKey, { at })), 200).body).toEqual({
        result: 'fail',
      });
      for (const wrong of ['000000', '999999']) expectStatus(await login(spec, userId, wrong), 200);
      expectStatus(await login(spec, userId, oathtoolTotp(created.secretKey, { at: at + 30 })), 429);
      expectStatus(await admin(spec, 'put', `/${created.id}`, { unlock: true }), 200);

      const codes = expectStatus(await admin(spec, 'post', `/${created.id}/backupCodes`), 200).body.codes as string[];
      backupCodes.push(...codes);
      expect(expectStatus(await login(spec, userId, codes[0]), 200).body).toMatchObject({ method: 'backup' });
      const renewed = expectStatus(await admin(spec, 'post', `/${created.id}/backupCodes`), 200).body.codes as string[];
      backupCodes.push(...renewed);
      expect(expectStatus(await login(spec, userId, renewed[1].toLowerCase()), 200).body).toMatchObject({
        method: 'backup',
      });

      const rotated = expectStatus(await admin(spec, 'put', `/${created.id}`, { rotateSecret: true }), 200).body;
      secrets.push(rotated.secretKey);
      expect(expectStatus(await login(spec, userId, oathtoolTotp(rotated.secretKey)), 200).body).toMatchObject({
        result: 'success',
      });
      expectStatus(await admin(spec, 'put', `/${created.id}`, { enabled: false }), 200);
      expectStatus(await admin(spec, 'put', `/${created.id}`, { enabled: true }), 200);

      // A second user of the kind that is deleted again: its secret must not linger either.
      const gone = expectStatus(await admin(spec, 'post', '', { [spec.idField]: `${userId}-gone` }), 200).body;
      secrets.push(gone.secretKey);
      backupCodes.push(
        ...(expectStatus(await admin(spec, 'post', `/${gone.id}/backupCodes`), 200).body.codes as string[]),
      );
      expectStatus(await admin(spec, 'delete', `/${gone.id}`), 204);
    }

    const { tables, dump } = await dumpDatabase();
    expect(tables).toEqual(expect.arrayContaining(['two_factor_config', 'backup_code', 'audit_event']));
    // The dump really holds the rows: the stored configs, the hashed codes, the audit trail.
    expect(dump).toContain('vault-partner');
    expect(dump).toContain('vault-agent');
    expect(dump.split('\n').filter((line) => line.startsWith('backup_code:'))).toHaveLength(20);
    expect(dump).toContain('config.created');

    expect(secrets).toHaveLength(6);
    for (const secret of secrets) {
      for (const form of secretForms(secret)) {
        expect({ secret, form, found: dump.includes(form) }).toEqual({ secret, form, found: false });
      }
    }
    expect(backupCodes).toHaveLength(60);
    for (const code of backupCodes) {
      for (const form of backupCodeForms(code)) {
        expect({ code: form, found: dump.includes(form) }).toEqual({ code: form, found: false });
      }
    }
  });

  it('the audit trail records the lifecycle, and none of its values is a code or a secret', async () => {
    const raw = rawDataSource(running());
    const events = await raw.query<Record<string, string | null>[]>(
      'SELECT event, outcome, subject_kind, subject_id, config_id, actor, request_id, tenant FROM audit_event WHERE tenant = ?',
      [TENANT],
    );
    const names = new Set(events.map((event) => event.event));
    for (const expected of [
      'config.created',
      'config.activated',
      'verify.success',
      'verify.fail',
      'verify.replay',
      'lockout.engaged',
      'verify.locked',
      'config.unlocked',
      'backup_code.used',
      'backup_codes.regenerated',
      'config.rotated',
      'config.disabled',
      'config.enabled',
      'config.deleted',
    ]) {
      expect({ event: expected, recorded: names.has(expected) }).toEqual({ event: expected, recorded: true });
    }
    for (const kind of ['partner', 'agent']) {
      const ofUser = events.filter((event) => event.subject_id === `vault-${kind}`);
      expect(ofUser.every((event) => event.subject_kind === kind && event.config_id !== null)).toBe(true);
      expect(ofUser.filter((event) => event.event === 'backup_code.used')).toHaveLength(2);
      expect(ofUser.filter((event) => event.event === 'verify.success')).toHaveLength(4);
      expect(ofUser.filter((event) => event.event === 'verify.locked')).toHaveLength(1);
      expect(ofUser.filter((event) => event.event === 'lockout.engaged')).toHaveLength(1);
    }
    expect(events.filter((event) => event.event === 'verify.fail').every((event) => event.outcome === 'failure')).toBe(
      true,
    );

    const text = events.map((event) => Object.values(event).map(textOf).join(' | ')).join('\n');
    for (const secret of secrets) for (const form of secretForms(secret)) expect(text.includes(form)).toBe(false);
    for (const code of backupCodes) for (const form of backupCodeForms(code)) expect(text.includes(form)).toBe(false);
    // A TOTP code is 6 digits: look for it as a token of its own, not inside a longer run of characters.
    expect(totpCodes.length).toBeGreaterThan(5);
    for (const code of totpCodes) {
      expect({ code, found: new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(text) }).toEqual({
        code,
        found: false,
      });
    }
  });
});
