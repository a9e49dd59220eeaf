/** Seeds users with ACTIVE configs through the public API: enrol, then one valid code each. */
import { progress } from './load';
import { base32Decode, hotp, stepAt } from './totp';

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

export async function seedUsers(
  baseUrl: string,
  token: string,
  prefix: string,
  count: number,
  concurrency = 8,
): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array<BenchUser>(count);
  let next = 0;
  let done = 0;
  const started = Date.now();
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      users[index] = await seedOne(baseUrl, token, `${prefix}-${String(index).padStart(6, '0')}`);
      done++;
      if (done % 50 === 0 || done === count) progress(`seeding ${done}/${count}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  progress(`seeding ${count}/${count} done in ${((Date.now() - started) / 1000).toFixed(1)} s`, true);
  return users;
}
