/**
 * The mixed traffic: weighted actions, each a short story told through the API (a login, a race of
 * one code on both instances, a lockout and its unlock, a session's life...). A worker takes the users
 * an action needs exclusively, so the soak knows what every answer must be and checks it.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { base32Decode, base32Encode, hotp, stepAt, wrongCode } from '../shared/totp';
import { Kind, KINDS } from '../../test/helpers/kinds';
import { Answer, Request, SoakClient } from './client';
import { backupCredential, Ledger, totpCredential, wrongCodeCredential } from './ledger';
import { freshStep, SoakUser, UserPool } from './users';

/**
 * Given to the service as LOCKOUT_MAX_FAILURES. Above RACE_SIZE - 1, so a race's refused requests
 * (which count as failures) never lock a user by themselves; the lockout action goes all the way,
 * and unlocks, so no user reaches the hard lock (LOCKOUT_HARD_LIMIT, default 20).
 */
export const LOCKOUT_MAX_FAILURES = 10;
/** Identical requests per race, alternating between the instances. */
const RACE_SIZE = 6;
const SESSIONS = '/TwoFactorSession';

type Json = Record<string, unknown>;
const asJson = (value: unknown): Json => (typeof value === 'object' && value !== null ? (value as Json) : {});
const chance = (probability: number): boolean => Math.random() < probability;

interface Action {
  name: string;
  weight: number;
  /** False when no suitable user was free: the worker does something else instead. */
  run: () => Promise<boolean>;
}

export class Traffic {
  readonly pool = new UserPool();
  readonly actionsRun = new Map<string, number>();
  private readonly actions: Action[];
  private readonly totalWeight: number;
  private nextSubject = 0;
  /** The stateless toolkit's secret: any base32 secret works, these routes store nothing. */
  private readonly toolkitKey = randomBytes(20);

  constructor(
    private readonly client: SoakClient,
    private readonly ledger: Ledger,
    private readonly token: string,
    private readonly subjectPrefix: string,
  ) {
    this.actions = [
      { name: 'login', weight: 30, run: () => this.withUser(freshUser, (user) => this.login(user)) },
      { name: 'race-totp', weight: 6, run: () => this.withUser(freshUser, (user) => this.raceTotp(user)) },
      { name: 'wrong-code', weight: 8, run: () => this.withUser(canFailOnce, (user) => this.wrongCode(user)) },
      { name: 'lockout', weight: 2, run: () => this.withUser(freshUser, (user) => this.lockout(user)) },
      { name: 'backup-codes', weight: 3, run: () => this.withUser(needsBackupCodes, (u) => this.newBackupCodes(u)) },
      { name: 'backup-login', weight: 5, run: () => this.withUser(hasBackupCode, (u) => this.backupLogin(u)) },
      { name: 'race-backup', weight: 3, run: () => this.withUser(hasBackupCode, (u) => this.raceBackup(u)) },
      { name: 'enrol', weight: 8, run: () => this.enrolNew().then(() => true) },
      { name: 're-enrol', weight: 2, run: () => this.withUser(anyUser, (user) => this.reEnrol(user)) },
      { name: 'get-config', weight: 5, run: () => this.withUser(anyUser, (user) => this.getConfig(user)) },
      { name: 'list-configs', weight: 3, run: () => this.withUser(anyUser, (user) => this.listConfigs(user)) },
      { name: 'rotate', weight: 2, run: () => this.withUser(anyUser, (user) => this.rotate(user)) },
      { name: 'delete', weight: 1, run: () => this.withUser(anyUser, (user) => this.deleteAndReEnrol(user)) },
      { name: 'sessions', weight: 4, run: () => this.sessionLife().then(() => true) },
      { name: 'audit', weight: 3, run: () => this.withUser(anyUser, (user) => this.audit(user)) },
      { name: 'toolkit', weight: 8, run: () => this.toolkit().then(() => true) },
      { name: 'health', weight: 2, run: () => this.health().then(() => true) },
    ];
    this.totalWeight = this.actions.reduce((sum, action) => sum + action.weight, 0);
  }

  /** Runs weighted random actions until `stop()` says so. */
  async worker(stop: () => boolean): Promise<void> {
    while (!stop()) {
      let action = this.pick();
      if (!(await action.run())) {
        action = this.actions.find((candidate) => candidate.name === 'toolkit')!;
        await action.run();
      }
      this.actionsRun.set(action.name, (this.actionsRun.get(action.name) ?? 0) + 1);
    }
  }

  /** Enrols a new user and activates it with its first code (the warm-up's seeding). */
  async seedUser(): Promise<void> {
    // Taken from the start: a worker must not pick it between its enrolment and its first login.
    const user = await this.enrolNew(true);
    if (!user) return;
    await this.login(user);
    this.pool.release(user);
  }

  // ---- logins ----------------------------------------------------------------------------------

  private async login(user: SoakUser): Promise<void> {
    const step = freshStep(user)!;
    const instance = this.anyInstance();
    const code = hotp(user.key, step);
    const credential = totpCredential(user, step);
    if (!this.succeeded(user, await this.verify(user, code, instance, credential), credential, 'totp')) return;
    this.accepted(user, step);
    if (chance(0.25)) {
      // The same code again, on the other instance: a replay, refused and counted as a failure.
      this.failed(user, await this.verify(user, code, this.otherInstance(instance), credential), 'a refused replay');
    }
  }

  private async raceTotp(user: SoakUser): Promise<void> {
    const step = freshStep(user)!;
    const code = hotp(user.key, step);
    const credential = totpCredential(user, step);
    if ((await this.race(user, code, credential, 'totp')) > 0) {
      // Not accepted(): the losers' failures, counted after the winner's reset, stay.
      user.lastStep = step;
      user.status = 'active';
    }
  }

  private async wrongCode(user: SoakUser): Promise<void> {
    const code = wrongCode(user.key, stepAt());
    this.failed(user, await this.verify(user, code, this.anyInstance(), wrongCodeCredential(user)), 'fail');
  }

  /**
   * Wrong codes alternating between the instances until the lock engages (the counts add up in the
   * database), then a valid code (429: locked, and the code is not spent), the unlock, the same code.
   */
  private async lockout(user: SoakUser): Promise<void> {
    const step = freshStep(user)!;
    const code = hotp(user.key, step);
    const credential = totpCredential(user, step);
    let instance = this.anyInstance();
    while (user.failures < LOCKOUT_MAX_FAILURES) {
      const answer = await this.verify(user, wrongCode(user.key, stepAt()), instance, wrongCodeCredential(user));
      if (!this.failed(user, answer, 'fail')) return;
      instance = this.otherInstance(instance);
    }
    const locked = await this.verify(user, code, instance, credential, [429]);
    if (locked.status === 429 && !locked.headers.get('retry-after')) {
      this.client.reportUnexpected(locked, 'a Retry-After header');
    }
    const unlock = await this.client.send({
      instance: this.otherInstance(instance),
      method: 'PUT',
      path: `${user.kind.prefix}/${user.configId}`,
      route: `PUT ${user.kind.prefix}/:id`,
      token: this.token,
      body: { unlock: true },
      expect: [200],
    });
    if (unlock.status !== 200) return;
    // The service keeps counting across locks; the unlock starts the count again.
    user.failures = 0;
    if (this.succeeded(user, await this.verify(user, code, instance, credential), credential, 'totp')) {
      this.accepted(user, step);
    }
  }

  private async newBackupCodes(user: SoakUser): Promise<void> {
    const answer = await this.client.send({
      instance: this.anyInstance(),
      method: 'POST',
      path: `${user.kind.prefix}/${user.configId}/backupCodes`,
      route: `POST ${user.kind.prefix}/:id/backupCodes`,
      token: this.token,
      expect: [200],
    });
    const codes = asJson(answer.json).codes;
    if (answer.status === 200 && Array.isArray(codes)) user.backupCodes = codes.map(String);
  }

  private async backupLogin(user: SoakUser): Promise<void> {
    const code = user.backupCodes.pop()!;
    const credential = backupCredential(user, code);
    const instance = this.anyInstance();
    if (!this.succeeded(user, await this.verify(user, code, instance, credential), credential, 'backup')) return;
    user.failures = 0;
    if (chance(0.25)) {
      this.failed(user, await this.verify(user, code, this.otherInstance(instance), credential), 'a spent backup code');
    }
  }

  private async raceBackup(user: SoakUser): Promise<void> {
    const code = user.backupCodes.pop()!;
    await this.race(user, code, backupCredential(user, code), 'backup');
  }

  /**
   * RACE_SIZE identical logins at once, alternating instances: exactly one may succeed. The
   * losers queue behind the winner's row lock, so the service counts them as failures after the
   * winner's reset: the user ends with RACE_SIZE - 1 failures.
   */
  private async race(user: SoakUser, code: string, credential: string, kind: 'totp' | 'backup'): Promise<number> {
    const instances = Array.from({ length: RACE_SIZE }, (_, i) => i % this.client.instanceCount);
    const answers = await Promise.all(instances.map((instance) => this.verify(user, code, instance, credential)));
    const winners: number[] = [];
    answers.forEach((answer, i) => {
      if (isResult(answer, 'success')) {
        winners.push(instances[i]);
        this.ledger.success(user, answer.requestId, credential);
      } else if (answer.status === 200 && !isResult(answer, 'fail')) {
        this.client.reportUnexpected(answer, 'success or fail');
      }
    });
    this.ledger.race(kind, winners);
    if (winners.length !== 1) {
      this.client.reportUnexpected(answers[0], `one winner of ${RACE_SIZE} in a ${kind} race, got ${winners.length}`);
    }
    user.failures = winners.length > 0 ? RACE_SIZE - winners.length : user.failures + RACE_SIZE;
    return winners.length;
  }

  private verify(user: SoakUser, code: string, instance: number, credential: string, expect = [200]): Promise<Answer> {
    return this.client
      .send({
        instance,
        method: 'POST',
        path: user.kind.loginPath,
        route: loginRoute(user.kind),
        token: this.token,
        body: { [user.kind.idField]: user.subjectId, code },
        expect,
      })
      .then((answer) => {
        this.ledger.attempt(answer.requestId, credential);
        return answer;
      });
  }

  /** True for `{result: "success", method, sessionId}`; anything else is reported (when not already counted). */
  private succeeded(user: SoakUser, answer: Answer, credential: string, method: 'totp' | 'backup'): boolean {
    const body = asJson(answer.json);
    if (isResult(answer, 'success') && body.method === method && typeof body.sessionId === 'string') {
      this.ledger.success(user, answer.requestId, credential);
      return true;
    }
    if (isResult(answer, 'fail')) user.failures++;
    if (answer.status === 200) {
      this.client.reportUnexpected(answer, `success (${method})`);
    }
    return false;
  }

  /** True for `{result: "fail"}`, which the service counts as a failure. */
  private failed(user: SoakUser, answer: Answer, what: string): boolean {
    if (isResult(answer, 'fail')) {
      user.failures++;
      return true;
    }
    if (answer.status === 200) {
      this.client.reportUnexpected(answer, what);
    }
    return false;
  }

  private accepted(user: SoakUser, step: number): void {
    user.lastStep = step;
    user.failures = 0;
    user.status = 'active';
  }

  // ---- configs -----------------------------------------------------------------------------------

  /**
   * A new user of a random kind; one in five enrolments is a race of the same user on both instances:
   * both answer 200 with the one config made (a create repeated while pending answers that config).
   */
  private async enrolNew(busy = false): Promise<SoakUser | undefined> {
    const kind = KINDS[randomInt(KINDS.length)];
    const subjectId = `${this.subjectPrefix}-${kind.kind}-${(this.nextSubject++).toString(36)}`;
    const racing = chance(0.2);
    const answers = await Promise.all(
      (racing ? [0, 1] : [this.anyInstance()]).map((instance) =>
        this.client.send({
          instance,
          method: 'POST',
          path: kind.prefix,
          route: `POST ${kind.prefix}`,
          token: this.token,
          body: { [kind.idField]: subjectId },
          expect: [200],
        }),
      ),
    );
    const created = answers.filter((answer) => answer.status === 200);
    if (racing && created.length === 2) {
      const [first, second] = created.map((answer) => asJson(answer.json));
      if (first.id !== second.id || first.secretKey !== second.secretKey) {
        this.client.reportUnexpected(answers[1], 'the same config in both answers');
      }
    }
    if (created.length === 0) return undefined;
    const body = asJson(created[0].json);
    const user: SoakUser = {
      kind,
      subjectId,
      configId: String(body.id),
      key: base32Decode(String(body.secretKey)),
      secretGeneration: 0,
      status: 'pending',
      lastStep: null,
      failures: 0,
      backupCodes: [],
      busy,
    };
    this.pool.add(user);
    return user;
  }

  /** A create for a user who has a config: while pending that config again, otherwise 409. */
  private async reEnrol(user: SoakUser): Promise<void> {
    const pending = user.status === 'pending';
    const answer = await this.client.send({
      instance: this.anyInstance(),
      method: 'POST',
      path: user.kind.prefix,
      route: `POST ${user.kind.prefix}`,
      token: this.token,
      body: { [user.kind.idField]: user.subjectId },
      expect: pending ? [200] : [409],
    });
    if (pending && answer.status === 200 && asJson(answer.json).id !== user.configId) {
      this.client.reportUnexpected(answer, 'the pending config');
    }
  }

  /** The stored config must be what the soak's own requests made of it. */
  private async getConfig(user: SoakUser): Promise<void> {
    const answer = await this.client.send({
      instance: this.anyInstance(),
      method: 'GET',
      path: `${user.kind.prefix}/${user.configId}`,
      route: `GET ${user.kind.prefix}/:id`,
      token: this.token,
      expect: [200],
    });
    if (answer.status !== 200) return;
    const body = asJson(answer.json);
    if (body.status !== user.status || body.backupCodesRemaining !== user.backupCodes.length) {
      this.client.reportUnexpected(answer, `status ${user.status} with ${user.backupCodes.length} backup codes`);
    }
  }

  private async listConfigs(user: SoakUser): Promise<void> {
    const route = `GET ${user.kind.prefix}?...`;
    await this.client.send({
      instance: this.anyInstance(),
      method: 'GET',
      path: `${user.kind.prefix}?page=${randomInt(1, 4)}&perPage=20`,
      route,
      token: this.token,
      expect: [200],
    });
    const one = await this.client.send({
      instance: this.anyInstance(),
      method: 'GET',
      path: `${user.kind.prefix}?${user.kind.idField}=${encodeURIComponent(user.subjectId)}`,
      route,
      token: this.token,
      expect: [200],
    });
    if (one.status === 200 && asJson(one.json).total !== 1) {
      this.client.reportUnexpected(one, 'total 1 for one user id');
    }
  }

  /** A new secret: the config is pending again and the old secret's codes are worthless. */
  private async rotate(user: SoakUser): Promise<void> {
    const answer = await this.client.send({
      instance: this.anyInstance(),
      method: 'PUT',
      path: `${user.kind.prefix}/${user.configId}`,
      route: `PUT ${user.kind.prefix}/:id`,
      token: this.token,
      body: { rotateSecret: true },
      expect: [200],
    });
    const body = asJson(answer.json);
    if (answer.status !== 200 || typeof body.secretKey !== 'string') return;
    this.ledger.sessionsRemoved(user);
    user.key = base32Decode(body.secretKey);
    user.secretGeneration++;
    user.status = 'pending';
    user.lastStep = null;
  }

  /** Delete (its backup codes go with it), a login of the gone user fails, then enrol it again. */
  private async deleteAndReEnrol(user: SoakUser): Promise<void> {
    const path = `${user.kind.prefix}/${user.configId}`;
    const removed = await this.client.send({
      instance: this.anyInstance(),
      method: 'DELETE',
      path,
      route: `DELETE ${user.kind.prefix}/:id`,
      token: this.token,
      expect: [204],
    });
    if (removed.status !== 204) return;
    this.ledger.sessionsRemoved(user);
    await this.client.send({
      instance: this.anyInstance(),
      method: 'GET',
      path,
      route: `GET ${user.kind.prefix}/:id`,
      token: this.token,
      expect: [404],
    });
    const step = freshStep(user);
    if (step !== null) {
      const answer = await this.verify(user, hotp(user.key, step), this.anyInstance(), totpCredential(user, step));
      if (!isResult(answer, 'fail') && answer.status === 200) {
        this.client.reportUnexpected(answer, 'fail for a deleted config');
      }
    }
    const enrolled = await this.client.send({
      instance: this.anyInstance(),
      method: 'POST',
      path: user.kind.prefix,
      route: `POST ${user.kind.prefix}`,
      token: this.token,
      body: { [user.kind.idField]: user.subjectId },
      expect: [200],
    });
    const body = asJson(enrolled.json);
    if (enrolled.status !== 200) return;
    Object.assign(user, {
      configId: String(body.id),
      key: base32Decode(String(body.secretKey)),
      secretGeneration: user.secretGeneration + 1,
      status: 'pending',
      lastStep: null,
      failures: 0,
      backupCodes: [],
    });
  }

  // ---- sessions, audit, toolkit, health -----------------------------------------------------------

  /** Create, read, update, list, delete; one in five starts with a race of one public_id on both instances. */
  private async sessionLife(): Promise<void> {
    const userId = `${this.subjectPrefix}-session-user-${randomInt(1000)}`;
    let publicId: string | undefined;
    if (chance(0.2)) {
      publicId = `${this.subjectPrefix}-s-${randomBytes(6).toString('hex')}`;
      const answers = await Promise.all(
        [0, 1].map((instance) =>
          this.client.send({
            instance,
            method: 'POST',
            path: `${SESSIONS}/`,
            route: `POST ${SESSIONS}/`,
            token: this.token,
            body: { user_id: userId, public_id: publicId, bool: true },
            expect: [201, 409],
          }),
        ),
      );
      const created = answers.flatMap((answer, instance) => (answer.status === 201 ? [instance] : []));
      this.ledger.race('session', created);
      if (created.length !== 1) {
        this.client.reportUnexpected(answers[0], 'one 201 and one 409');
      }
      if (created.length === 0) return;
    } else {
      const created = await this.client.send({
        instance: this.anyInstance(),
        method: 'POST',
        path: `${SESSIONS}/`,
        route: `POST ${SESSIONS}/`,
        token: this.token,
        body: { user_id: userId, bool: true },
        expect: [201],
      });
      if (created.status !== 201) return;
      publicId = String(asJson(created.json).public_id);
    }
    const one = (method: Request['method'], expect: number, body?: unknown) =>
      this.client.send({
        instance: this.anyInstance(),
        method,
        path: `${SESSIONS}/${publicId}`,
        route: `${method} ${SESSIONS}/:public_id`,
        token: this.token,
        body,
        expect: [expect],
      });
    await one('GET', 200);
    await one('PUT', 204, { user_id: userId, bool: false });
    const list = await this.client.send({
      instance: this.anyInstance(),
      method: 'GET',
      path: `${SESSIONS}/?order=desc&orderBy=created_at&page=1&responsePerPage=20`,
      route: `GET ${SESSIONS}/?...`,
      token: this.token,
      expect: [200],
    });
    if (list.status === 200 && !list.headers.get('x-total-count')) {
      this.client.reportUnexpected(list, 'an X-Total-Count header');
    }
    await one('DELETE', 204);
    await one('GET', 404);
  }

  private async audit(user: SoakUser): Promise<void> {
    for (const query of [`subject=${encodeURIComponent(user.subjectId)}`, 'event=verify.success']) {
      await this.client.send({
        instance: this.anyInstance(),
        method: 'GET',
        path: `/audit?${query}&perPage=20`,
        route: 'GET /audit',
        token: this.token,
        expect: [200],
      });
    }
  }

  private async toolkit(): Promise<void> {
    const secret = base32Encode(this.toolkitKey);
    const token = hotp(this.toolkitKey, stepAt());
    const post = (path: string, body: unknown) =>
      this.client.send({
        instance: this.anyInstance(),
        method: 'POST',
        path,
        route: `POST ${path}`,
        body,
        expect: [200],
      });
    const verified = await post('/verify/token', { secret, token });
    if (verified.status === 200 && asJson(verified.json).valid !== true) {
      this.client.reportUnexpected(verified, 'valid: true');
    }
    const checked = await post('/2fa/code:verify', { secretKey: secret, code: token });
    if (checked.status === 200 && !isResult(checked, 'success')) {
      this.client.reportUnexpected(checked, 'success');
    }
    await post('/generate/token', { secret });
    // The QR image is the costly one; a quarter of the toolkit visits make one.
    if (chance(0.25)) await post('/2fa/secretkey', { account: 'soak@example.com' });
  }

  private async health(): Promise<void> {
    for (const path of ['/health/ready', '/health/live']) {
      await this.client.send({
        instance: this.anyInstance(),
        method: 'GET',
        path,
        route: `GET ${path}`,
        expect: [200],
      });
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private async withUser(predicate: (user: SoakUser) => boolean, act: (user: SoakUser) => Promise<void>) {
    const user = this.pool.take(predicate);
    if (!user) return false;
    try {
      await act(user);
    } finally {
      this.pool.release(user);
    }
    return true;
  }

  private pick(): Action {
    let ticket = Math.random() * this.totalWeight;
    for (const action of this.actions) {
      ticket -= action.weight;
      if (ticket < 0) return action;
    }
    return this.actions[this.actions.length - 1];
  }

  private anyInstance(): number {
    return randomInt(this.client.instanceCount);
  }

  private otherInstance(instance: number): number {
    return (instance + 1) % this.client.instanceCount;
  }
}

const loginRoute = (kind: Kind): string => `POST ${kind.loginPath}`;
const isResult = (answer: Answer, result: 'success' | 'fail'): boolean =>
  answer.status === 200 && asJson(answer.json).result === result;

const anyUser = (): boolean => true;
const freshUser = (user: SoakUser): boolean => freshStep(user) !== null;
const canFailOnce = (user: SoakUser): boolean => user.failures + 1 < LOCKOUT_MAX_FAILURES;
const needsBackupCodes = (user: SoakUser): boolean => user.status === 'active' && user.backupCodes.length < 3;
const hasBackupCode = (user: SoakUser): boolean =>
  user.status === 'active' && user.backupCodes.length > 0 && user.failures + 1 < LOCKOUT_MAX_FAILURES;
