/** Seeds users with ACTIVE configs: a few through the public API (enrol, then one valid code), the rest in the database. */
import { randomBytes, randomUUID } from 'node:crypto';
import { progress } from './load';
import { base32Decode, base32Encode, hotp, stepAt } from '../shared/totp';

export interface BenchUser {
  agentId: string;
  secretBase32: string;
  key: Buffer;
  /** The highest step this bench has sent a code of (the service's last_used_step after a success). */
  lastStep: number;
  /** Consecutive non-successes sent to this user, kept below the lockout. */
  failures: number;
}

export const ENROL_PATH = '/globalapi/2faConfig';
export const LOGIN_PATH = '/loginapi/2fa:verify';

async function postJson(url: string, token: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // keep the text for the error message
  }
  return { status: response.status, json };
}

async function seedOne(baseUrl: string, token: string, agentId: string): Promise<BenchUser> {
  const enrol = await postJson(baseUrl + ENROL_PATH, token, { agentid: agentId });
  const secretKey = (enrol.json as { secretKey?: unknown }).secretKey;
  if (enrol.status !== 200 || typeof secretKey !== 'string') {
    throw new Error(`enrol ${agentId}: HTTP ${enrol.status} ${JSON.stringify(enrol.json)}`);
  }
  const key = base32Decode(secretKey);
  // Activate with the previous step's code (the ±1 window accepts it): the high-water mark is then
  // current - 1, which leaves this user two fresh codes (current, current + 1) for login-success.
  // Should the step turn while the request is in flight, the service refuses it; use the current code then.
  let step = stepAt() - 1;
  let verify = await postJson(baseUrl + LOGIN_PATH, token, { agentid: agentId, code: hotp(key, step) });
  if (verify.status === 200 && (verify.json as { result?: unknown }).result !== 'success') {
    step = stepAt();
    verify = await postJson(baseUrl + LOGIN_PATH, token, { agentid: agentId, code: hotp(key, step) });
  }
  if (verify.status !== 200 || (verify.json as { result?: unknown }).result !== 'success') {
    throw new Error(`activate ${agentId}: HTTP ${verify.status} ${JSON.stringify(verify.json)}`);
  }
  return { agentId, secretBase32: secretKey, key, lastStep: step, failures: 0 };
}

async function seedUsersThroughApi(
  baseUrl: string,
  token: string,
  prefix: string,
  count: number,
  concurrency = 8,
): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array<BenchUser>(count);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      users[index] = await seedOne(baseUrl, token, `${prefix}-${String(index).padStart(6, '0')}`);
      done++;
      if (done % 50 === 0 || done === count) progress(`seeding ${done}/${count}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return users;
}

/** Users seeded through the API (enrol, then a login), so every run still proves that path. */
const API_SEEDED_USERS = 50;
const INSERT_BATCH = 500;

/**
 * The bulk of the users, written straight into the service's database: enrolling through the API
 * renders a QR image per user (~8 ms CPU), and a fast login path needs tens of thousands of users to
 * send only fresh codes. The baseline of the login statements gets users of its own this way too.
 */
export async function seedUsers(options: {
  baseUrl: string;
  token: string;
  tenant: string;
  count: number;
  databaseUrl: string;
  encryptionKey: Buffer;
}): Promise<BenchUser[]> {
  const { count, tenant } = options;
  const started = Date.now();
  const viaApi = await seedUsersThroughApi(options.baseUrl, options.token, tenant, Math.min(count, API_SEEDED_USERS));
  const inDatabase =
    count > viaApi.length
      ? await seedInDatabase({ ...options, firstIndex: viaApi.length, count: count - viaApi.length })
      : [];
  progress(
    `seeding ${count}/${count} done in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
      `(${viaApi.length} through the API, the rest in the database)`,
    true,
  );
  return [...viaApi, ...inDatabase];
}

/**
 * `count` users of `tenant` written into the database through the service's own TypeORM options,
 * entity and SecretCipher (the bench chose the key). Each row is what an enrol plus a first login
 * leaves: an active config whose secret is sealed with the service's key and whose spent step is the
 * previous one.
 */
export async function seedInDatabase(options: {
  tenant: string;
  firstIndex: number;
  count: number;
  databaseUrl: string;
  encryptionKey: Buffer;
}): Promise<BenchUser[]> {
  const { tenant, firstIndex, count } = options;
  // Loaded here, not at the top: only this path needs the service's TypeORM setup.
  const { DataSource } = await import('typeorm');
  const { buildDataSourceOptions } = await import('../../src/database/data-source-options');
  const { databaseConfigFrom } = await import('../../src/config/app.config');
  const { SecretCipher } = await import('../../src/two-factor/crypto/secret-cipher');
  const { ConfigSecrets } = await import('../../src/two-factor/config-secrets');
  const { TwoFactorConfig } = await import('../../src/two-factor/entities/two-factor-config.entity');
  const database = databaseConfigFrom({
    DATABASE_URL: options.databaseUrl,
    DATA_DIR: '.',
    DATABASE_POOL_SIZE: 4,
    DATABASE_TIMEOUT_MS: 10_000,
  } as Parameters<typeof databaseConfigFrom>[0]);
  const dataSource = new DataSource({ ...buildDataSourceOptions(database), migrationsRun: false });
  await dataSource.initialize();
  const secrets = new ConfigSecrets(new SecretCipher({ encryptionKeys: [options.encryptionKey] }));
  const users: BenchUser[] = [];
  try {
    while (users.length < count) {
      const now = Date.now();
      const step = stepAt(now) - 1;
      const rows = [];
      const end = Math.min(count, users.length + INSERT_BATCH);
      for (let index = firstIndex + users.length; index < firstIndex + end; index++) {
        const agentId = `${tenant}-${String(index).padStart(6, '0')}`;
        const key = randomBytes(20);
        const identity = { id: randomUUID(), secretVersion: 1, tenant, kind: 'agent' as const, subjectId: agentId };
        rows.push({
          ...identity,
          account: agentId,
          secretCiphertext: secrets.seal(identity, key),
          algorithm: 'SHA1' as const,
          digits: 6 as const,
          period: 30 as const,
          status: 'active' as const,
          lastUsedStep: step,
          failedAttempts: 0,
          lockedUntil: null,
          createdAt: now,
          updatedAt: now,
          activatedAt: now,
        });
        users.push({ agentId, secretBase32: base32Encode(key), key, lastStep: step, failures: 0 });
      }
      await dataSource.manager.insert(TwoFactorConfig, rows);
      progress(`seeding ${tenant}: ${users.length}/${count} in the database`);
    }
  } finally {
    await dataSource.destroy();
  }
  return users;
}
