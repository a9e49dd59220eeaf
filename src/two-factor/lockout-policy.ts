import type { AuditEventName } from './audit-log';
import type { TwoFactorConfig } from './entities/two-factor-config.entity';

export interface LockoutSettings {
  /** Every this many consecutive failures, a lock. */
  maxFailures: number;
  /** The first lock's duration. */
  lockSeconds: number;
  /** The cap on a lock's duration, and the Retry-After of a hard lock. */
  maxLockSeconds: number;
  /** Consecutive failures that hard-lock a config until an administrator unlocks it. */
  hardLimit: number;
}

/** What counting one failure did: only counted it, engaged a lock, or hard-locked the config. */
export type FailureCounted = 'counted' | 'locked' | 'hard-locked' | 'already-hard-locked';

/** The audit event a counted failure adds beside the verification's own. */
export const LOCK_EVENT_OF: Readonly<Record<FailureCounted, AuditEventName | null>> = {
  counted: null,
  locked: 'lockout.engaged',
  'hard-locked': 'lockout.hard',
  'already-hard-locked': null,
};

/**
 * The lock policy, derived from the count of consecutive failures alone (`failed_attempts`, reset only
 * by a success or an unlock), so it needs no other state: lock n comes at n x maxFailures failures and
 * lasts lockSeconds x 2^(n-1), capped at maxLockSeconds; at hardLimit failures the config is
 * hard-locked. The repository applies the same rule in SQL (one conditional UPDATE per decision);
 * `lockSecondsAfter` states it in code for the view, the tests and the docs.
 */
export class LockoutPolicy {
  /** The failure count from which a lock lasts maxLockSeconds. */
  readonly cappedFrom: number;

  constructor(readonly settings: LockoutSettings) {
    let lock = 1;
    while (settings.lockSeconds * 2 ** (lock - 1) < settings.maxLockSeconds) lock++;
    this.cappedFrom = lock * settings.maxFailures;
  }

  /** How long the lock that `failures` consecutive failures engage lasts, or null if they engage none. */
  lockSecondsAfter(failures: number): number | null {
    const { maxFailures, lockSeconds, maxLockSeconds, hardLimit } = this.settings;
    if (failures <= 0 || failures >= hardLimit || failures % maxFailures !== 0) return null;
    return Math.min(maxLockSeconds, lockSeconds * 2 ** (failures / maxFailures - 1));
  }

  isHardLocked(config: Pick<TwoFactorConfig, 'failedAttempts'>): boolean {
    return config.failedAttempts >= this.settings.hardLimit;
  }

  /** Seconds until the config takes codes again, or null when it is not locked. */
  retryAfterSeconds(config: Pick<TwoFactorConfig, 'failedAttempts' | 'lockedUntil'>, now: number): number | null {
    if (this.isHardLocked(config)) return this.settings.maxLockSeconds;
    if (config.lockedUntil === null || config.lockedUntil <= now) return null;
    return Math.max(1, Math.ceil((config.lockedUntil - now) / 1000));
  }
}
