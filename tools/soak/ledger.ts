/**
 * Which credential (a user's TOTP step under one secret, or one backup code) each login request
 * carried, and how often each one succeeded: more than once is a duplicate success. The request ids
 * let the cross-check after the run find the same credentials in the service's audit trail.
 */
import { SoakUser } from './users';

export type RaceKind = 'totp' | 'backup' | 'session';

export interface RaceTally {
  run: number;
  /** Exactly one request won, as it must. */
  oneWinner: number;
  noWinner: number;
  severalWinners: number;
  /** Wins per instance: both must win some, or the race never really crossed instances. */
  winsByInstance: number[];
}

export interface Duplicate {
  credential: string;
  successes: number;
  requestIds: string[];
}

export const totpCredential = (user: SoakUser, step: number): string =>
  `${user.kind.kind}:${user.subjectId}:secret${user.secretGeneration}:step${step}`;
export const backupCredential = (user: SoakUser, code: string): string =>
  `${user.kind.kind}:${user.subjectId}:backup:${code}`;
/** What a deliberately wrong code carries: no success may ever be recorded for it. */
export const wrongCodeCredential = (user: SoakUser): string => `${user.kind.kind}:${user.subjectId}:wrong-code`;
const userKey = (user: SoakUser): string => `${user.kind.kind}:${user.subjectId}`;
export const isBackupCredential = (credential: string): boolean => credential.includes(':backup:');

export class Ledger {
  /** Login request id → the credential it carried. */
  readonly credentialOf = new Map<string, string>();
  private readonly successes = new Map<string, string[]>();
  /** Login sessions each user has now, as the soak's requests made them (a user is one worker's at a time). */
  private readonly loginSessions = new Map<string, number>();
  readonly races = new Map<RaceKind, RaceTally>();

  constructor(private readonly instanceCount: number) {}

  attempt(requestId: string, credential: string): void {
    this.credentialOf.set(requestId, credential);
  }

  /** A login that succeeded: it made one session for its user. */
  success(user: SoakUser, requestId: string, credential: string): void {
    const ids = this.successes.get(credential) ?? [];
    ids.push(requestId);
    this.successes.set(credential, ids);
    this.loginSessions.set(userKey(user), (this.loginSessions.get(userKey(user)) ?? 0) + 1);
  }

  /** The user's config was rotated or deleted: their sessions went with it. */
  sessionsRemoved(user: SoakUser): void {
    this.loginSessions.delete(userKey(user));
  }

  /** The login sessions the database should hold. */
  loginSessionCount(): number {
    let total = 0;
    for (const count of this.loginSessions.values()) total += count;
    return total;
  }

  /** Successes seen, of every credential or of those `which` selects. */
  successCount(which: (credential: string) => boolean = () => true): number {
    let total = 0;
    for (const [credential, ids] of this.successes) if (which(credential)) total += ids.length;
    return total;
  }

  duplicates(): Duplicate[] {
    return [...this.successes]
      .filter(([, ids]) => ids.length > 1)
      .map(([credential, ids]) => ({ credential, successes: ids.length, requestIds: ids }));
  }

  /** `winners`: the instance of each request that won. */
  race(kind: RaceKind, winners: number[]): void {
    const tally = this.races.get(kind) ?? {
      run: 0,
      oneWinner: 0,
      noWinner: 0,
      severalWinners: 0,
      winsByInstance: Array.from({ length: this.instanceCount }, () => 0),
    };
    tally.run++;
    if (winners.length === 1) tally.oneWinner++;
    else if (winners.length === 0) tally.noWinner++;
    else tally.severalWinners++;
    for (const instance of winners) tally.winsByInstance[instance]++;
    this.races.set(kind, tally);
  }
}
