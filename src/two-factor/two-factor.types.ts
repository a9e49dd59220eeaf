import type { Actor } from '../common/auth/principal';
import type { SubjectKind, TwoFactorStatus } from './entities/two-factor-config.entity';

/** Which user a config belongs to. */
export interface Subject {
  kind: SubjectKind;
  subjectId: string;
}

/** A config as the admin routes show it (entities never leave the service). */
export interface ConfigView {
  id: string;
  subjectId: string;
  status: TwoFactorStatus;
  createdAt: number;
  activatedAt: number | null;
  lockedUntil: number | null;
  /** Locked until an administrator unlocks it (LOCKOUT_HARD_LIMIT consecutive failures). */
  hardLocked: boolean;
  /** Failed codes since the last success or unlock, across lock periods. */
  consecutiveFailures: number;
  backupCodesRemaining: number;
  /** Only while pending: what the user needs to enrol an authenticator app. */
  enrolment?: Enrolment;
}

export interface Enrolment {
  secretKey: string;
  otpauthUrl: string;
  qrcodeUrl: string;
}

export interface ConfigListQuery {
  subjectId?: string;
  status?: TwoFactorStatus;
  page: number;
  perPage: number;
}

export interface ConfigChange {
  rotateSecret?: boolean;
  enabled?: boolean;
  unlock?: boolean;
}

export type { Actor };

export type LoginVerification =
  { result: 'success'; method: 'totp' | 'backup'; sessionId: string } | { result: 'fail' };
