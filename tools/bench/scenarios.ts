/**
 * Request-body generators. Each is called once per request, in the one bench thread, so the
 * round-robin state needs no locking.
 */
import { randomBytes } from 'node:crypto';
import { Outcome } from './load';
import { BenchUser } from './seed';
import { base32Encode, hotp, stepAt, wrongCode } from '../shared/totp';

/** Below LOCKOUT_MAX_FAILURES=100 with room to spare. */
const MAX_FAILURES_PER_USER = 90;

export interface Generator {
  nextBody: () => string;
  /** Requests sent after every user had used up the codes the ±1 window allows (they replay, so fail). */
  exhausted: () => number;
}

/**
 * login-success: every request a fresh code of the next user, round-robin. A user's code is accepted
 * once per step (the high-water mark), and the ±1 window also takes the next step's code, so a user
 * gets max(lastStep + 1, current) as long as that is ≤ current + 1. When every user is used up in this
 * step the request replays a code (a fail, counted as exhausted) until the step turns.
 */
export function loginSuccessBodies(users: BenchUser[], body: (user: BenchUser, code: string) => string): Generator {
  let cursor = 0;
  let exhausted = 0;
  let exhaustedInStep = -1;
  return {
    exhausted: () => exhausted,
    nextBody() {
      const current = stepAt();
      if (exhaustedInStep !== current) {
        for (let tries = 0; tries < users.length; tries++) {
          const user = users[cursor];
          cursor = (cursor + 1) % users.length;
          const step = Math.max(user.lastStep + 1, current);
          if (step <= current + 1) {
            user.lastStep = step;
            user.failures = 0;
            return body(user, hotp(user.key, step));
          }
        }
        exhaustedInStep = current;
      }
      exhausted++;
      const user = users[cursor];
      cursor = (cursor + 1) % users.length;
      user.failures++;
      return body(user, hotp(user.key, user.lastStep));
    },
  };
}

/** login-wrong: a wrong code, round-robin over users, none taken to the lockout. */
export function loginWrongBodies(users: BenchUser[], body: (user: BenchUser, code: string) => string): Generator {
  let cursor = 0;
  let exhausted = 0;
  return {
    exhausted: () => exhausted,
    nextBody() {
      const current = stepAt();
      for (let tries = 0; tries < users.length; tries++) {
        const user = users[cursor];
        cursor = (cursor + 1) % users.length;
        if (user.failures < MAX_FAILURES_PER_USER) {
          user.failures++;
          return body(user, wrongCode(user.key, current));
        }
      }
      // Every user is near the lockout: keep the load up on the first one (it will answer 429).
      exhausted++;
      return body(users[0], wrongCode(users[0].key, current));
    },
  };
}

export const loginBody = (user: BenchUser, code: string): string => JSON.stringify({ agentid: user.agentId, code });
export const bareVerifyBody = (user: BenchUser, code: string): string =>
  JSON.stringify({ secret: user.secretBase32, token: code });

/** verify-token (and its baseline): one fixed secret and its current code, recomputed when the step turns. */
export function fixedSecretBodies(): Generator {
  const key = randomBytes(20);
  const secret = base32Encode(key);
  let step = -1;
  let cached = '';
  return {
    exhausted: () => 0,
    nextBody() {
      const current = stepAt();
      if (current !== step) {
        step = current;
        cached = JSON.stringify({ secret, token: hotp(key, current) });
      }
      return cached;
    },
  };
}

/** enrol-qr: a new agent id each request. */
export function enrolBodies(prefix: string): Generator {
  let counter = 0;
  return {
    exhausted: () => 0,
    nextBody: () => JSON.stringify({ agentid: `${prefix}-enrol-${counter++}` }),
  };
}

/**
 * The same-statements baseline (tools/bench/baseline-db-server.ts) on users of its own: login-success
 * sends the next user, round-robin, with a step one higher on each round, so every consuming UPDATE
 * matches (it starts at the current step: the seeded rows spent the previous one); login-wrong sends
 * only the user.
 */
export function statementsBaselineBodies(users: BenchUser[], success: boolean): Generator {
  let counter = 0;
  const firstStep = stepAt();
  return {
    exhausted: () => 0,
    nextBody() {
      const user = users[counter % users.length];
      const step = firstStep + Math.floor(counter / users.length);
      counter++;
      return JSON.stringify(success ? { agentid: user.agentId, step } : { agentid: user.agentId });
    },
  };
}

/** The bare verify server's load for login-success (valid current code) or login-wrong (wrong code), round-robin. */
export function bareVerifyBodies(users: BenchUser[], valid: boolean): Generator {
  let cursor = 0;
  const cache = new Map<BenchUser, { step: number; body: string }>();
  return {
    exhausted: () => 0,
    nextBody() {
      const current = stepAt();
      const user = users[cursor];
      cursor = (cursor + 1) % users.length;
      let entry = cache.get(user);
      if (entry?.step !== current) {
        const code = valid ? hotp(user.key, current) : wrongCode(user.key, current);
        entry = { step: current, body: bareVerifyBody(user, code) };
        cache.set(user, entry);
      }
      return entry.body;
    },
  };
}

/** A login answer: `{"result":"success",...}` or `{"result":"fail"}` (the service and the statements baseline). */
export const loginOutcome = (status: number, body: string): Outcome =>
  status === 200 && body.includes('"result":"success"')
    ? 'success'
    : status === 200 && body.includes('"result":"fail"')
      ? 'fail'
      : 'other';
/** A verify answer: `{"valid":true|false,...}` (the service and both verify baselines). */
export const validOutcome = (status: number, body: string): Outcome =>
  status === 200 && body.includes('"valid":true') ? 'success' : status === 200 ? 'fail' : 'other';
export const enrolOutcome = (status: number): Outcome =>
  status === 200 ? 'success' : status === 409 ? 'fail' : 'other';
