/** The users the soak drives, and what it knows of each (the service's state as the soak caused it). */
import { Kind } from '../../test/helpers/kinds';
import { stepAt } from '../shared/totp';

export interface SoakUser {
  kind: Kind;
  subjectId: string;
  configId: string;
  key: Buffer;
  /** Incremented on each rotation or re-enrolment: a (user, step) pair is one credential per secret. */
  secretGeneration: number;
  status: 'pending' | 'active';
  /** The highest step accepted for the current secret (the service's last_used_step), null before the first. */
  lastStep: number | null;
  /** Consecutive failures the service has counted (wrong codes and refused replays), reset by a success. */
  failures: number;
  /** Backup codes issued and not yet used. */
  backupCodes: string[];
  /** Taken by a worker: nobody else sends anything for this user meanwhile, so the model stays exact. */
  busy: boolean;
}

/**
 * The next code step this user would accept: newer than the last accepted one and within the ±1
 * window of now, or null when the user's fresh codes are used up until the step turns. `now` is
 * the earliest step the server can see; `now + 1` stays within the window until the request is 30 s old.
 */
export function freshStep(user: SoakUser, nowMs: number = Date.now()): number | null {
  const now = stepAt(nowMs);
  const step = user.lastStep === null ? now : Math.max(user.lastStep + 1, now);
  return step <= now + 1 ? step : null;
}

export class UserPool {
  readonly users: SoakUser[] = [];

  add(user: SoakUser): void {
    this.users.push(user);
  }

  /** A random idle user matching `predicate`, marked busy; release it when done. */
  take(predicate: (user: SoakUser) => boolean = () => true): SoakUser | undefined {
    const count = this.users.length;
    const start = Math.floor(Math.random() * count);
    for (let i = 0; i < count; i++) {
      const user = this.users[(start + i) % count];
      if (!user.busy && predicate(user)) {
        user.busy = true;
        return user;
      }
    }
    return undefined;
  }

  release(user: SoakUser): void {
    user.busy = false;
  }
}
